"""supervision: notices, steps, extensions, inbox

督办单 with their numbering, the worker's idempotency keys, 延期申请, the in-app inbox, and on
hazards the provisional-deadline, was-overdue and 挂牌督办 columns.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 02:16:41.761155
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notice_counter',
    sa.Column('county_code', sa.String(length=12), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'year', name=op.f('pk_notice_counter'))
    )
    op.create_table('extension',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hazard_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('current_deadline', sa.Date(), nullable=False),
    sa.Column('requested_deadline', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('interim_measures', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_extension_decided_by_id_user')),
    sa.ForeignKeyConstraint(['hazard_id'], ['hazard.id'], name=op.f('fk_extension_hazard_id_hazard')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], name=op.f('fk_extension_requested_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extension'))
    )
    with op.batch_alter_table('extension', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_extension_hazard_id'), ['hazard_id'], unique=False)

    op.create_table('inbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_type', sa.String(length=16), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('hazard_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['hazard_id'], ['hazard.id'], name=op.f('fk_inbox_message_hazard_id_hazard')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox_message'))
    )
    with op.batch_alter_table('inbox_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbox_message_hazard_id'), ['hazard_id'], unique=False)
        batch_op.create_index('ix_inbox_recipient', ['recipient_type', 'recipient_id'], unique=False)

    op.create_table('notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('hazard_id', sa.Integer(), nullable=False),
    sa.Column('recipient_type', sa.String(length=16), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('days_overdue', sa.Integer(), nullable=False),
    sa.Column('requirement', sa.Text(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['user.id'], name=op.f('fk_notice_acknowledged_by_id_user')),
    sa.ForeignKeyConstraint(['hazard_id'], ['hazard.id'], name=op.f('fk_notice_hazard_id_hazard')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice')),
    sa.UniqueConstraint('hazard_id', 'deadline', 'recipient_type', 'recipient_id', name=op.f('uq_notice_hazard_id_deadline_recipient_type_recipient_id')),
    sa.UniqueConstraint('number', name=op.f('uq_notice_number'))
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_hazard_id'), ['hazard_id'], unique=False)
        batch_op.create_index('ix_notice_recipient', ['recipient_type', 'recipient_id'], unique=False)

    op.create_table('supervision_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hazard_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['hazard_id'], ['hazard.id'], name=op.f('fk_supervision_step_hazard_id_hazard')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_step')),
    sa.UniqueConstraint('hazard_id', 'kind', 'deadline', name=op.f('uq_supervision_step_hazard_id_kind_deadline'))
    )
    with op.batch_alter_table('supervision_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_step_hazard_id'), ['hazard_id'], unique=False)

    with op.batch_alter_table('hazard', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deadline_provisional', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('was_overdue', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('listing', sa.JSON(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('hazard', schema=None) as batch_op:
        batch_op.drop_column('listing')
        batch_op.drop_column('was_overdue')
        batch_op.drop_column('deadline_provisional')

    with op.batch_alter_table('supervision_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_step_hazard_id'))

    op.drop_table('supervision_step')
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index('ix_notice_recipient')
        batch_op.drop_index(batch_op.f('ix_notice_hazard_id'))

    op.drop_table('notice')
    with op.batch_alter_table('inbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_recipient')
        batch_op.drop_index(batch_op.f('ix_inbox_message_hazard_id'))

    op.drop_table('inbox_message')
    with op.batch_alter_table('extension', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_extension_hazard_id'))

    op.drop_table('extension')
    op.drop_table('notice_counter')
