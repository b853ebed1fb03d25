"""outbox messages without a hazard

An outbox message was always a timeline event (hazard_id and event_id required). A signed
audit checkpoint (topic audit_checkpoint, services/integrity/checkpoints.py) is about every
hazard and is sent to webhooks too, so both columns become nullable, and a check constraint
keeps them set or unset together.

The downgrade deletes the messages without a hazard, with their webhook deliveries (the
older schema cannot hold them; the checkpoints themselves stay in audit_checkpoint), then
makes both columns required again.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_message', reflect_kwargs={'resolve_fks': False}) as batch:
        batch.alter_column('hazard_id', existing_type=sa.Integer(), nullable=True)
        batch.alter_column('event_id', existing_type=sa.Integer(), nullable=True)
        batch.create_check_constraint(op.f('ck_outbox_message_hazard_with_event'),
                                      '(hazard_id IS NULL) = (event_id IS NULL)')


def downgrade() -> None:
    op.execute('DELETE FROM webhook_delivery WHERE message_id IN '
               '(SELECT id FROM outbox_message WHERE hazard_id IS NULL)')
    op.execute('DELETE FROM outbox_message WHERE hazard_id IS NULL')
    with op.batch_alter_table('outbox_message', reflect_kwargs={'resolve_fks': False}) as batch:
        batch.drop_constraint(op.f('ck_outbox_message_hazard_with_event'), type_='check')
        batch.alter_column('event_id', existing_type=sa.Integer(), nullable=False)
        batch.alter_column('hazard_id', existing_type=sa.Integer(), nullable=False)
