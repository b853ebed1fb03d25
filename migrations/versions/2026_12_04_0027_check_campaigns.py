"""the 排查 side: campaigns, inspections, overdue reminders, 正常 photos, on-time records

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('check_campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'],
                            name=op.f('fk_check_campaign_created_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_campaign'))
    )
    with op.batch_alter_table('check_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('campaign_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('inspector_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_check_task_campaign_id_check_campaign'),
                                    'check_campaign', ['campaign_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_check_task_inspector_id_user'),
                                    'user', ['inspector_id'], ['id'])
        batch_op.create_unique_constraint(
            batch_op.f('uq_check_task_campaign_id_enterprise_id'),
            ['campaign_id', 'enterprise_id'])
    with op.batch_alter_table('check_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_time', sa.Boolean(), nullable=True))
    op.create_table('check_item_photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('orientation', sa.Integer(), nullable=True),
    sa.Column('captured_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('captured_offset_known', sa.Boolean(), nullable=True),
    sa.Column('gps_lat', sa.Double(), nullable=True),
    sa.Column('gps_lon', sa.Double(), nullable=True),
    sa.Column('camera_make', sa.String(length=100), nullable=True),
    sa.Column('camera_model', sa.String(length=100), nullable=True),
    sa.Column('phash', sa.String(length=16), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['check_item.id'],
                            name=op.f('fk_check_item_photo_item_id_check_item')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'],
                            name=op.f('fk_check_item_photo_uploaded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_item_photo'))
    )
    op.create_index(op.f('ix_check_item_photo_item_id'), 'check_item_photo', ['item_id'])
    op.create_index(op.f('ix_check_item_photo_sha256'), 'check_item_photo', ['sha256'])


def downgrade() -> None:
    op.drop_index(op.f('ix_check_item_photo_sha256'), table_name='check_item_photo')
    op.drop_index(op.f('ix_check_item_photo_item_id'), table_name='check_item_photo')
    op.drop_table('check_item_photo')
    with op.batch_alter_table('check_item', schema=None) as batch_op:
        batch_op.drop_column('on_time')
    with op.batch_alter_table('check_task', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_check_task_campaign_id_enterprise_id'),
                                 type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_check_task_inspector_id_user'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_check_task_campaign_id_check_campaign'),
                                 type_='foreignkey')
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('inspector_id')
        batch_op.drop_column('campaign_id')
    op.drop_table('check_campaign')
