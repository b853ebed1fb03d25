"""board indexes

The committee's board and township ranking (app/services/board.py, ranking.py) read hazards
by report time and timeline events of one kind by time: a month's submissions and
spot-checks, a period's write-offs and rejections (bench/bench_board.py).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 04:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_hazard_reported_at', 'hazard', ['reported_at'])
    op.create_index('ix_event_action_at', 'event', ['action', 'at'])


def downgrade() -> None:
    op.drop_index('ix_event_action_at', table_name='event')
    op.drop_index('ix_hazard_reported_at', table_name='hazard')
