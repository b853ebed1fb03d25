"""notice number per county

督办单 numbers are counted per county and year (督办〔2026〕第1号 in every county), so the number
is unique within its county, not across the deployment: a second county's first notice used
to violate the global unique constraint and stop the worker.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Hazard codes are YH-<6-digit county code>-<year>-<seq>: the county that numbered the notice.
BACKFILL = ("UPDATE notice SET county_code = "
            "(SELECT substr(hazard.code, 4, 6) FROM hazard WHERE hazard.id = notice.hazard_id)")


def upgrade() -> None:
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('county_code', sa.String(length=12), nullable=True))
    op.execute(BACKFILL)
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.alter_column('county_code', existing_type=sa.String(length=12), nullable=False)
        batch_op.drop_constraint('uq_notice_number', type_='unique')
        batch_op.create_unique_constraint(
            batch_op.f('uq_notice_county_code_number'), ['county_code', 'number'])


def downgrade() -> None:
    # Fails, as it should, once two counties hold the same number: the old rule cannot
    # represent that data.
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_notice_county_code_number'), type_='unique')
        batch_op.create_unique_constraint('uq_notice_number', ['number'])
        batch_op.drop_column('county_code')
