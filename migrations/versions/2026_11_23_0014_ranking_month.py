"""ranking month

The township ranking's raw counts per township and ended month (亮晒排名), kept once
computed: at 1,000,000 hazards a province's month takes seconds to count from the timeline,
and an ended month's counts never change (app/services/ranking.py). Only counts are kept;
scores, index and ranks are computed when read.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = ('base', 'rectified', 'overdue', 'found', 'self_found', 'submitted', 'on_time',
          'spot_checks', 'spot_check_failures')


def upgrade() -> None:
    op.create_table('ranking_month',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'],
                            name=op.f('fk_ranking_month_region_id_region')),
    sa.PrimaryKeyConstraint('month', 'region_id', name=op.f('pk_ranking_month'))
    )


def downgrade() -> None:
    op.drop_table('ranking_month')
