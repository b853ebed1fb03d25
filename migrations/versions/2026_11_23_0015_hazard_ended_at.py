"""hazard ended_at

The committee's board counts, per township and industry, what was open when a period began
and what was written off in it: both need when each hazard ended (its close or reject event).
Read from the timeline, that is one lookup per hazard (29,757 major hazards of the generated
province: 0.3-2 s, bench/bench_board.py --explain). The hazard row now keeps that time, set
with the state change that appends the ending event (services/actions.perform_action), so the
board reads every figure from one covering index (PostgreSQL INCLUDE; the listing too, for
挂牌督办).

It is exact by construction: events are append-only, a hazard has at most one ending event
(closed and rejected are final states), and the column is written in the same transaction, at
the same instant, as that event. Existing rows are filled from the timeline here.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-23 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('hazard', sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE hazard SET ended_at = (SELECT min(event.at) FROM event"
        " WHERE event.hazard_id = hazard.id AND event.action IN ('close', 'reject'))"
        " WHERE state IN ('closed', 'rejected')"
    )
    op.drop_index('ix_hazard_level_region', table_name='hazard')
    op.create_index('ix_hazard_level_region', 'hazard', ['level', 'region_id'],
                    postgresql_include=['state', 'deadline', 'reported_at', 'ended_at',
                                        'enterprise_id', 'listing'])


def downgrade() -> None:
    op.drop_index('ix_hazard_level_region', table_name='hazard')
    op.create_index('ix_hazard_level_region', 'hazard', ['level', 'region_id'],
                    postgresql_include=['state', 'deadline', 'reported_at', 'enterprise_id'])
    with op.batch_alter_table('hazard') as batch:
        batch.drop_column('ended_at')
