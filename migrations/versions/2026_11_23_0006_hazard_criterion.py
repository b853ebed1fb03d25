"""hazard criterion

A hazard may cite the catalogue entry (重大事故隐患判定标准) it matches.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 02:48:36.761276
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('hazard', schema=None) as batch_op:
        batch_op.add_column(sa.Column('criterion_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_hazard_criterion_id'), ['criterion_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_hazard_criterion_id_criterion'), 'criterion', ['criterion_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('hazard', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_hazard_criterion_id_criterion'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_hazard_criterion_id'))
        batch_op.drop_column('criterion_id')

