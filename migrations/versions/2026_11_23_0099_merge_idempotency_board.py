"""merge 0007 (idempotency keys) and 0010 (board indexes)

Joins the two branches' revisions, both made on 0006, so `upgrade head` has one head on this
branch. Drop this file when the revisions are re-chained into one line.

Revision ID: 0099
Revises: 0007, 0010
Create Date: 2026-11-23 04:40:00
"""

from collections.abc import Sequence

revision: str = '0099'
down_revision: str | Sequence[str] | None = ('0007', '0010')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
