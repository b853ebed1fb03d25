"""photo metadata and authenticity flags

Capture time, GPS, camera, orientation, a perceptual hash and the authenticity flags of each
evidence photo, and the action it was evidence for (backfilled from its timeline event).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 01:47:17.280388
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.add_column(sa.Column('action', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('orientation', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('captured_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('captured_offset_known', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('gps_lat', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('gps_lon', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('camera_make', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('camera_model', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('phash', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('flags', sa.JSON(), nullable=True))
    op.execute(
        "UPDATE photo SET action = (SELECT event.action FROM event WHERE event.id = photo.event_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.drop_column('flags')
        batch_op.drop_column('phash')
        batch_op.drop_column('camera_model')
        batch_op.drop_column('camera_make')
        batch_op.drop_column('gps_lon')
        batch_op.drop_column('gps_lat')
        batch_op.drop_column('captured_offset_known')
        batch_op.drop_column('captured_at')
        batch_op.drop_column('orientation')
        batch_op.drop_column('action')

