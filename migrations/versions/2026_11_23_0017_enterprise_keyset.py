"""enterprise keyset indexes

An enterprise user's hazard list (every enterprise user's home, with or without a state) as
one backward index range scan: (enterprise_id, id) and (enterprise_id, state, id), like the
township's in 0011. The single-column enterprise index is a prefix of the first and goes.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-23 07:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_hazard_enterprise_keyset', 'hazard', ['enterprise_id', 'id'])
    op.create_index('ix_hazard_enterprise_state_keyset', 'hazard',
                    ['enterprise_id', 'state', 'id'])
    op.drop_index('ix_hazard_enterprise_id', table_name='hazard')


def downgrade() -> None:
    op.create_index('ix_hazard_enterprise_id', 'hazard', ['enterprise_id'])
    op.drop_index('ix_hazard_enterprise_state_keyset', table_name='hazard')
    op.drop_index('ix_hazard_enterprise_keyset', table_name='hazard')
