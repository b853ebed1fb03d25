"""quarterly statistics: indexes and the tally of ended quarters

季度统计分析 at province scale (bench/bench_quarterly.py). The figures are read per hazard in
scope: an enterprise's hazards reported before the quarter's end from a covering index
(PostgreSQL INCLUDE; SQLite gets the plain columns), each hazard's first entry into a done
state or into 不予受理 from a partial index of those events only, and a quarter's 签收 (accept)
events by hazard from another. An ended quarter's figures never change, so they are tallied
once per (enterprise, township) in quarterly_tally_cell, marked done in quarterly_tally
(app/services/quarterly.py says why that is exact).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-23 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MILESTONE_SQL = ("to_state IN ('verified', 'spot_checked', 'closed', 'rejected') "
                 "AND from_state NOT IN ('verified', 'spot_checked', 'closed')")
ACCEPT_SQL = "action = 'accept'"


def upgrade() -> None:
    op.create_index('ix_event_milestone', 'event', ['hazard_id', 'at'],
                    postgresql_include=['to_state'], postgresql_where=sa.text(MILESTONE_SQL),
                    sqlite_where=sa.text(MILESTONE_SQL))
    op.create_index('ix_event_accept', 'event', ['hazard_id', 'at'],
                    postgresql_where=sa.text(ACCEPT_SQL), sqlite_where=sa.text(ACCEPT_SQL))
    op.create_index('ix_hazard_enterprise_reported', 'hazard', ['enterprise_id', 'reported_at'],
                    postgresql_include=['id', 'level', 'region_id'])
    op.create_table(
        'quarterly_tally',
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('quarter', sa.Integer(), nullable=False),
        sa.Column('built_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('year', 'quarter', name=op.f('pk_quarterly_tally')),
    )
    counts = [sa.Column(f'{level}_{name}', sa.Integer(), nullable=False)
              for level in ('general', 'major')
              for name in ('found', 'rectified', 'outstanding', 'carried_over')]
    op.create_table(
        'quarterly_tally_cell',
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('quarter', sa.Integer(), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        *counts,
        sa.Column('major_planned', sa.Integer(), nullable=False),
        sa.Column('funds_planned', sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint('year', 'quarter', 'enterprise_id', 'region_id',
                                name=op.f('pk_quarterly_tally_cell')),
    )


def downgrade() -> None:
    op.drop_table('quarterly_tally_cell')
    op.drop_table('quarterly_tally')
    op.drop_index('ix_hazard_enterprise_reported', table_name='hazard')
    op.drop_index('ix_event_accept', table_name='event')
    op.drop_index('ix_event_milestone', table_name='event')
