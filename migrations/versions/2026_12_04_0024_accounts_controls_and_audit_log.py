"""accounts controls (token version, password history and expiry, TOTP, recovery codes) and
the security audit log

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 21:14:26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

GENESIS = '0' * 64

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_chain',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('base_seq', sa.BigInteger(), nullable=False),
    sa.Column('base_hash', sa.String(length=64), nullable=False),
    sa.Column('purging', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain'))
    )
    op.create_table('audit_entry',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=True),
    sa.Column('source_ip', sa.String(length=45), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('object', sa.String(length=200), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_entry'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_username'), ['username'], unique=False)

    op.create_table('password_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('set_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_password_history_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_history'))
    )
    with op.batch_alter_table('password_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_history_user_id'), ['user_id'], unique=False)

    op.create_table('recovery_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=255), nullable=False),
    sa.Column('used_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_recovery_code_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code'))
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_user_id'), ['user_id'], unique=False)

    # One row, the chain's head, which every writer locks first (models/audit.py).
    op.bulk_insert(sa.table('audit_chain', sa.column('id', sa.Integer),
                            sa.column('seq', sa.BigInteger), sa.column('hash', sa.String),
                            sa.column('base_seq', sa.BigInteger),
                            sa.column('base_hash', sa.String)),
                   [{'id': 1, 'seq': 0, 'hash': GENESIS, 'base_seq': 0, 'base_hash': GENESIS}])
    _create_append_only_triggers()
    op.add_column('user', sa.Column('token_version', sa.Integer(), server_default='0', nullable=False))
    op.add_column('user', sa.Column('password_changed_at', app.core.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('user', sa.Column('password_change_required', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('user', sa.Column('otp_secret', sa.String(length=255), nullable=True))
    op.add_column('user', sa.Column('otp_enabled', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('user', sa.Column('otp_last_step', sa.BigInteger(), nullable=True))
    _phone_widths(user=128, tip=128)


def _phone_widths(*, user: int, tip: int) -> None:
    """The phone columns' widths: 128 holds an SM4 ciphertext (CRYPTO_PROFILE=gm). On SQLite
    the change copies the table, which drops the lower(username) index (SQLite cannot reflect
    it), so that index is dropped first and made again after."""
    op.drop_index('uq_user_username_lower', table_name='user')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('phone', type_=sa.String(length=user), existing_nullable=True)
    op.create_index('uq_user_username_lower', 'user', [sa.text('lower(username)')], unique=True)
    with op.batch_alter_table('tip', schema=None) as batch_op:
        batch_op.alter_column('phone', type_=sa.String(length=tip), existing_nullable=True)


REFUSED = 'audit log entries are never edited, and deleted only by bihuan audit purge'


def _create_append_only_triggers() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            "CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "  # noqa: S608
            "BEGIN IF TG_OP = 'DELETE' AND (SELECT purging FROM audit_chain WHERE id = 1) "
            f"THEN RETURN OLD; END IF; RAISE EXCEPTION '{REFUSED}'; END $$")
        op.execute("CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
                   "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()")
    else:
        op.execute("CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
                   f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END")
        op.execute("CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "  # noqa: S608
                   "WHEN NOT (SELECT purging FROM audit_chain WHERE id = 1) "
                   f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END")


def _drop_append_only_triggers() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry')
        op.execute('DROP FUNCTION IF EXISTS audit_entry_append_only()')
    else:
        op.execute('DROP TRIGGER IF EXISTS audit_entry_no_update')
        op.execute('DROP TRIGGER IF EXISTS audit_entry_no_delete')


def downgrade() -> None:
    _drop_append_only_triggers()
    # A phone longer than the old width (an SM4 ciphertext) cannot go back: decrypt first
    # (`bihuan crypto rekey`, docs/integrity.md).
    _phone_widths(user=20, tip=32)
    # drop_column copies the table on SQLite: the lower(username) index again.
    op.drop_index('uq_user_username_lower', table_name='user')
    with op.batch_alter_table('user', schema=None) as batch_op:
        for column in ('otp_last_step', 'otp_enabled', 'otp_secret', 'password_change_required',
                       'password_changed_at', 'token_version'):
            batch_op.drop_column(column)
    op.create_index('uq_user_username_lower', 'user', [sa.text('lower(username)')], unique=True)

    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_user_id'))

    op.drop_table('recovery_code')
    with op.batch_alter_table('password_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_history_user_id'))

    op.drop_table('password_history')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_username'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_user_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_at'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_action'))

    op.drop_table('audit_entry')
    op.drop_table('audit_chain')
