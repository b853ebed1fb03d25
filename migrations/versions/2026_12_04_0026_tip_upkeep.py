"""public tips' upkeep: due-date steps, refusals on record, township boundaries

The worker's reminder and overdue steps of a tip (one per tip, kind and due date), the
record of every refused tip, a flag kept once a tip went overdue, the Idempotency-Key an
offline draft was sent with, and a township's GeoJSON boundary for placing tips by their GPS.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 21:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('tip_refusal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tip_refusal'))
    )
    with op.batch_alter_table('tip_refusal', schema=None) as batch_op:
        batch_op.create_index('ix_tip_refusal_at', ['at'], unique=False)

    op.create_table('tip_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tip_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('taken_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tip_id'], ['tip.id'], name=op.f('fk_tip_step_tip_id_tip')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tip_step')),
    sa.UniqueConstraint('tip_id', 'kind', 'due_on',
                        name=op.f('uq_tip_step_tip_id_kind_due_on'))
    )
    with op.batch_alter_table('tip_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tip_step_tip_id'), ['tip_id'], unique=False)

    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.add_column(sa.Column('boundary', sa.JSON(), nullable=True))

    with op.batch_alter_table('tip', schema=None) as batch_op:
        batch_op.add_column(sa.Column('was_overdue', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('client_key', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('client_fingerprint', sa.String(length=64),
                                      nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_tip_client_key'), ['client_key'])



def downgrade() -> None:
    with op.batch_alter_table('tip', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_tip_client_key'), type_='unique')
        batch_op.drop_column('client_fingerprint')
        batch_op.drop_column('client_key')
        batch_op.drop_column('was_overdue')

    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.drop_column('boundary')

    with op.batch_alter_table('tip_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tip_step_tip_id'))

    op.drop_table('tip_step')
    with op.batch_alter_table('tip_refusal', schema=None) as batch_op:
        batch_op.drop_index('ix_tip_refusal_at')

    op.drop_table('tip_refusal')
