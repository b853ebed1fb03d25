"""board indexes

The committee's board (app/services/board.py) counts one level's hazards of a region: the
major ones are 3 % of the table, scattered over all its pages, so it reads them from a
covering index (PostgreSQL INCLUDE; SQLite gets the plain index). The township ranking
(app/services/ranking.py) reads timeline events of one kind by time: a month's submissions
and spot-checks, and write-offs and rejections since a month began (bench/bench_board.py).

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
    op.create_index('ix_hazard_level_region', 'hazard', ['level', 'region_id'],
                    postgresql_include=['state', 'deadline', 'reported_at', 'enterprise_id'])
    op.create_index('ix_event_action_at', 'event', ['action', 'at'],
                    postgresql_include=['hazard_id'])


def downgrade() -> None:
    op.drop_index('ix_event_action_at', table_name='event')
    op.drop_index('ix_hazard_level_region', table_name='hazard')
