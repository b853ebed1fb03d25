"""the database's crypto state (chain profile, personal data key) and tips' phone blind index

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04 21:50:00

A database that holds chain links records the default profile (SHA-256): every release
before this one chained with SHA-256 unless CRYPTO_PROFILE=gm was set on the foundation of
revision 0024 alone, which encrypted nothing and was never a gm deployment. An empty one
records the profile CRYPTO_PROFILE names now (the migration-free switch for a new database).
Personal data is in plaintext (nothing encrypted it yet): `bihuan crypto rekey` encrypts it.
"""

import hashlib
import os
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = '0031'
down_revision: str | None = '0030'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    state = op.create_table('crypto_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chain_profile', sa.String(length=8), nullable=False),
    sa.Column('epochs', sa.JSON(), nullable=False),
    sa.Column('personal_key_id', sa.String(length=16), nullable=True),
    sa.Column('updated_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crypto_state'))
    )
    conn = op.get_bind()
    chained = any(conn.execute(sa.select(sa.literal(1)).select_from(sa.table(name))
                               .limit(1)).first()
                  for name in ('event', 'tip_event', 'audit_entry'))
    profile = 'default' if chained else os.environ.get('CRYPTO_PROFILE', 'default')
    op.bulk_insert(state, [{'id': 1, 'chain_profile': 'gm' if profile == 'gm' else 'default',
                            'epochs': [], 'personal_key_id': None,
                            'updated_at': datetime.now(UTC)}])
    with op.batch_alter_table('tip', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_index', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_tip_phone_index'), ['phone_index'], unique=False)
    # The default profile's blind index (app/core/crypto.blind_index) of the plaintext phones.
    tip = sa.table('tip', sa.column('id', sa.Integer), sa.column('phone', sa.String),
                   sa.column('phone_index', sa.String))
    rows = conn.execute(sa.select(tip.c.id, tip.c.phone).where(tip.c.phone.is_not(None))).all()
    for row in rows:
        index = hashlib.sha256(f'bihuan blind index|{row.phone}'.encode()).hexdigest()
        conn.execute(sa.update(tip).where(tip.c.id == row.id).values(phone_index=index))


def downgrade() -> None:
    with op.batch_alter_table('tip', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tip_phone_index'))
        batch_op.drop_column('phone_index')
    op.drop_table('crypto_state')
