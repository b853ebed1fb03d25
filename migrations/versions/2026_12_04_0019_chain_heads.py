"""chain heads on hazards, signed audit checkpoints

Each hazard row carries the head of its timeline chain (last event's seq and hash), so that
deleting a hazard's newest events is seen by `bihuan audit verify`; existing rows get the head
of the chain they have. `audit_checkpoint` keeps the signed checkpoints of every chain's head
(`bihuan audit checkpoint`), `audit_checkpoint_head` the heads each one signed.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64


def upgrade() -> None:
    with op.batch_alter_table('hazard', schema=None) as batch_op:
        batch_op.add_column(sa.Column('head_seq', sa.Integer(), server_default=sa.text('0'),
                                      nullable=False))
        batch_op.add_column(sa.Column('head_hash', sa.String(length=64),
                                      server_default=GENESIS, nullable=False))
    # Backfill: the head of the chain each hazard has now (its highest seq).
    op.execute(
        "UPDATE hazard SET "
        "head_seq = COALESCE((SELECT max(e.seq) FROM event e WHERE e.hazard_id = hazard.id), 0), "
        "head_hash = COALESCE((SELECT e.hash FROM event e WHERE e.hazard_id = hazard.id "
        "ORDER BY e.seq DESC LIMIT 1), head_hash)"
    )
    op.create_table('audit_checkpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hazards', sa.Integer(), nullable=False),
    sa.Column('events', sa.BigInteger(), nullable=False),
    sa.Column('heads_digest', sa.String(length=64), nullable=False),
    sa.Column('previous_digest', sa.String(length=64), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('copied_to', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoint'))
    )
    op.create_table('audit_checkpoint_head',
    sa.Column('checkpoint_id', sa.Integer(), nullable=False),
    sa.Column('hazard_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['audit_checkpoint.id'],
                            name=op.f('fk_audit_checkpoint_head_checkpoint_id_audit_checkpoint'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('checkpoint_id', 'hazard_id', name=op.f('pk_audit_checkpoint_head'))
    )


def downgrade() -> None:
    op.drop_table('audit_checkpoint_head')
    op.drop_table('audit_checkpoint')
    with op.batch_alter_table('hazard', schema=None) as batch_op:
        batch_op.drop_column('head_hash')
        batch_op.drop_column('head_seq')
