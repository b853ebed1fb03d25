"""ranking covering indexes

The township ranking (app/services/ranking.py) reads, for a county's townships, the hazards'
township, state, report time and reporter role, and a month's submissions with their place
in the timeline (seq, to find the deadline then in force). At 1,000,000 hazards those rows lie
scattered over the tables' pages; PostgreSQL now reads them from covering indexes (INCLUDE)
instead (bench/bench_board.py). SQLite gets the plain index columns.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 05:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_event_action_at', table_name='event')
    op.create_index('ix_event_action_at', 'event', ['action', 'at'],
                    postgresql_include=['hazard_id', 'seq'])
    op.create_index('ix_hazard_region_state_ranking', 'hazard', ['region_id', 'state'],
                    postgresql_include=['id', 'reported_at', 'reporter_role'])


def downgrade() -> None:
    op.drop_index('ix_hazard_region_state_ranking', table_name='hazard')
    op.drop_index('ix_event_action_at', table_name='event')
    op.create_index('ix_event_action_at', 'event', ['action', 'at'],
                    postgresql_include=['hazard_id'])
