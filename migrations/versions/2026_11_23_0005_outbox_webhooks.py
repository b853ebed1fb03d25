"""outbox, webhooks

The transactional outbox (one message per timeline event, written in its transaction), webhook
subscriptions scoped to a region subtree, and their deliveries: retry state and attempt log.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 02:34:34.216963
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('webhook',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_webhook_created_by_id_user')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_webhook_region_id_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook'))
    )
    with op.batch_alter_table('webhook', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_region_id'), ['region_id'], unique=False)

    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=32), nullable=False),
    sa.Column('hazard_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_outbox_message_event_id_event')),
    sa.ForeignKeyConstraint(['hazard_id'], ['hazard.id'], name=op.f('fk_outbox_message_hazard_id_hazard')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message')),
    sa.UniqueConstraint('event_id', name=op.f('uq_outbox_message_event_id'))
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_message_dispatched_at'), ['dispatched_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_hazard_id'), ['hazard_id'], unique=False)

    op.create_table('webhook_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('webhook_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('log', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['outbox_message.id'], name=op.f('fk_webhook_delivery_message_id_outbox_message')),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhook.id'], name=op.f('fk_webhook_delivery_webhook_id_webhook')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery')),
    sa.UniqueConstraint('message_id', 'webhook_id', name=op.f('uq_webhook_delivery_message_id_webhook_id'))
    )
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_delivery_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_delivery_webhook_id'), ['webhook_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_delivery_webhook_id'))
        batch_op.drop_index('ix_webhook_delivery_due')

    op.drop_table('webhook_delivery')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_hazard_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_message_dispatched_at'))

    op.drop_table('outbox_message')
    with op.batch_alter_table('webhook', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_region_id'))

    op.drop_table('webhook')
