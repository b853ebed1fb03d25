"""scale indexes

Indexes for a province's million hazards (bench/bench_scale.py): the hazard list's keyset
pages with each filter leading an index that ends in id, partial indexes for open and listed
hazards, the unit filter read from the assignment index alone, and when a hazard ended (the
ledger's write-off time, the board's periods) from a partial index on close/reject events.
Single-column indexes that became prefixes of these (or of a unique constraint) are dropped.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECTIFICATION_OPEN = "state IN ('assigned', 'rectifying')"


def _where(condition: str) -> dict[str, object]:
    return {"postgresql_where": sa.text(condition), "sqlite_where": sa.text(condition)}


def upgrade() -> None:
    op.create_index('ix_hazard_state_keyset', 'hazard', ['state', 'id'])
    op.create_index('ix_hazard_region_keyset', 'hazard', ['region_id', 'id'])
    op.create_index('ix_hazard_region_state_keyset', 'hazard', ['region_id', 'state', 'id'])
    op.create_index('ix_hazard_rectification_open', 'hazard', ['deadline', 'id'],
                    **_where(RECTIFICATION_OPEN))
    op.create_index('ix_hazard_listed', 'hazard', ['id'], **_where("listing IS NOT NULL"))
    op.drop_index('ix_hazard_state', table_name='hazard')
    op.drop_index('ix_hazard_region_id', table_name='hazard')
    op.create_index('ix_assignment_party_hazard', 'assignment',
                    ['party_type', 'party_id', 'hazard_id'])
    op.drop_index('ix_assignment_party', table_name='assignment')
    op.drop_index('ix_assignment_hazard_id', table_name='assignment')
    op.create_index('ix_event_ending', 'event', ['hazard_id', 'at'],
                    **_where("action IN ('close', 'reject')"))
    op.drop_index('ix_event_hazard_id', table_name='event')


def downgrade() -> None:
    op.create_index('ix_event_hazard_id', 'event', ['hazard_id'])
    op.drop_index('ix_event_ending', table_name='event')
    op.create_index('ix_assignment_hazard_id', 'assignment', ['hazard_id'])
    op.create_index('ix_assignment_party', 'assignment', ['party_type', 'party_id'])
    op.drop_index('ix_assignment_party_hazard', table_name='assignment')
    op.create_index('ix_hazard_region_id', 'hazard', ['region_id'])
    op.create_index('ix_hazard_state', 'hazard', ['state'])
    op.drop_index('ix_hazard_listed', table_name='hazard')
    op.drop_index('ix_hazard_rectification_open', table_name='hazard')
    op.drop_index('ix_hazard_region_state_keyset', table_name='hazard')
    op.drop_index('ix_hazard_region_keyset', table_name='hazard')
    op.drop_index('ix_hazard_state_keyset', table_name='hazard')
