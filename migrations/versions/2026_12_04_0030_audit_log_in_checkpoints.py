"""the security audit log's head in the signed checkpoints

Revision ID: 0030
Revises: 0027
Create Date: 2026-12-04 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0030'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ('audit_seq', 'audit_hash', 'audit_base_seq', 'audit_base_hash')


def upgrade() -> None:
    # Null for the checkpoints taken before: they signed no audit log head.
    with op.batch_alter_table('audit_checkpoint', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audit_seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('audit_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('audit_base_seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('audit_base_hash', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_checkpoint', schema=None) as batch_op:
        for column in reversed(COLUMNS):
            batch_op.drop_column(column)
