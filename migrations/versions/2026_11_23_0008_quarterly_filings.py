"""quarterly filings

季度统计上报: each filing of an enterprise's or a unit's quarterly statistics, versioned.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 03:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('quarterly_filing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('party_type', sa.String(length=16), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('filed_by_id', sa.Integer(), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['filed_by_id'], ['user.id'],
                            name=op.f('fk_quarterly_filing_filed_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarterly_filing')),
    sa.UniqueConstraint('party_type', 'party_id', 'year', 'quarter', 'version',
                        name=op.f('uq_quarterly_filing_party_type_party_id_year_quarter_version'))
    )
    op.create_index('ix_quarterly_filing_quarter', 'quarterly_filing', ['year', 'quarter'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_quarterly_filing_quarter', table_name='quarterly_filing')
    op.drop_table('quarterly_filing')
