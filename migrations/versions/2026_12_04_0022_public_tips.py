"""public tips (群众举报)

The tip, its photos, its own hash-chained timeline and the per-address rate window; a
hazard records where it came from (source "report" or "public") and its tip.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('tip_submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tip_submission'))
    )
    with op.batch_alter_table('tip_submission', schema=None) as batch_op:
        batch_op.create_index('ix_tip_submission_address_at', ['address', 'at'], unique=False)

    op.create_table('tip',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('location', sa.String(length=300), nullable=False),
    sa.Column('lat', sa.Double(), nullable=True),
    sa.Column('lon', sa.Double(), nullable=True),
    sa.Column('enterprise_name', sa.String(length=200), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('category', sa.String(length=100), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('county_id', sa.Integer(), nullable=True),
    sa.Column('hazard_id', sa.Integer(), nullable=True),
    sa.Column('reject_reason', sa.Text(), nullable=True),
    sa.Column('received_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('reward_amount', sa.Integer(), nullable=True),
    sa.Column('reward_rule', sa.String(length=200), nullable=True),
    sa.Column('reward_fine', sa.Integer(), nullable=True),
    sa.Column('reward_note', sa.Text(), nullable=True),
    sa.Column('reward_decided_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reward_claim_by', sa.Date(), nullable=True),
    sa.Column('reward_paid_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('head_seq', sa.Integer(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['county_id'], ['region.id'], name=op.f('fk_tip_county_id_region')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_tip_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['hazard_id'], ['hazard.id'], name=op.f('fk_tip_hazard_id_hazard')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_tip_region_id_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tip')),
    sa.UniqueConstraint('receipt', name=op.f('uq_tip_receipt'))
    )
    with op.batch_alter_table('tip', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tip_county_id'), ['county_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tip_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tip_hazard_id'), ['hazard_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tip_region_id'), ['region_id'], unique=False)
        batch_op.create_index('ix_tip_status_keyset', ['status', 'id'], unique=False)

    op.create_table('tip_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tip_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.String(length=16), nullable=False),
    sa.Column('at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_tip_event_actor_id_user')),
    sa.ForeignKeyConstraint(['tip_id'], ['tip.id'], name=op.f('fk_tip_event_tip_id_tip')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tip_event')),
    sa.UniqueConstraint('hash', name=op.f('uq_tip_event_hash')),
    sa.UniqueConstraint('tip_id', 'seq', name=op.f('uq_tip_event_tip_id_seq'))
    )
    op.create_table('tip_photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tip_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('orientation', sa.Integer(), nullable=True),
    sa.Column('captured_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('captured_offset_known', sa.Boolean(), nullable=True),
    sa.Column('gps_lat', sa.Double(), nullable=True),
    sa.Column('gps_lon', sa.Double(), nullable=True),
    sa.Column('camera_make', sa.String(length=100), nullable=True),
    sa.Column('camera_model', sa.String(length=100), nullable=True),
    sa.Column('phash', sa.String(length=16), nullable=True),
    sa.Column('uploaded_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tip_id'], ['tip.id'], name=op.f('fk_tip_photo_tip_id_tip')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tip_photo'))
    )
    with op.batch_alter_table('tip_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tip_photo_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_tip_photo_tip_id'), ['tip_id'], unique=False)

    with op.batch_alter_table('hazard', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=16), server_default='report', nullable=False))
        batch_op.add_column(sa.Column('tip_id', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('hazard', schema=None) as batch_op:
        batch_op.drop_column('tip_id')
        batch_op.drop_column('source')

    with op.batch_alter_table('tip_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tip_photo_tip_id'))
        batch_op.drop_index(batch_op.f('ix_tip_photo_sha256'))

    op.drop_table('tip_photo')
    op.drop_table('tip_event')
    with op.batch_alter_table('tip', schema=None) as batch_op:
        batch_op.drop_index('ix_tip_status_keyset')
        batch_op.drop_index(batch_op.f('ix_tip_region_id'))
        batch_op.drop_index(batch_op.f('ix_tip_hazard_id'))
        batch_op.drop_index(batch_op.f('ix_tip_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_tip_county_id'))

    op.drop_table('tip')
    with op.batch_alter_table('tip_submission', schema=None) as batch_op:
        batch_op.drop_index('ix_tip_submission_address_at')

    op.drop_table('tip_submission')
