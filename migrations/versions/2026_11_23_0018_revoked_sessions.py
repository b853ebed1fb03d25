"""revoked page sessions

Logout revokes the page session's id on the server, so a copy of the signed cookie stops
working at once instead of at its idle timeout; rows go once the cookie has expired anyway.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-23 07:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('revoked_session',
    sa.Column('sid', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'],
                            name=op.f('fk_revoked_session_user_id_user')),
    sa.PrimaryKeyConstraint('sid', name=op.f('pk_revoked_session'))
    )
    op.create_index(op.f('ix_revoked_session_expires_at'), 'revoked_session', ['expires_at'])


def downgrade() -> None:
    op.drop_index(op.f('ix_revoked_session_expires_at'), table_name='revoked_session')
    op.drop_table('revoked_session')
