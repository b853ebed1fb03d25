"""usernames unique case-insensitively

`Admin` and `admin` are one username: the services store and look usernames up lower-cased
(services/accounts/users.py: normalise_username), and a unique index on lower(username) holds
that against any other way in. Usernames that differ only in case cannot be merged by a
migration (two people, two passwords): the upgrade refuses to run while any exist and names
them, to be renamed or removed first. Existing usernames are then stored lower-case (login
lower-cases what is typed, so every user still signs in as before).

The downgrade drops the index; usernames stay lower-case (their original case is not kept,
and the older code's case-sensitive login would then want them typed lower-case).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        'SELECT username FROM "user" WHERE lower(username) IN ('
        ' SELECT lower(username) FROM "user" GROUP BY lower(username) HAVING COUNT(*) > 1)'
        ' ORDER BY lower(username), username'
    )).scalars().all()
    if rows:
        groups: dict[str, list[str]] = {}
        for name in rows:
            groups.setdefault(name.lower(), []).append(name)
        listed = "; ".join(" / ".join(names) for names in groups.values())
        raise RuntimeError(
            "用户名只差大小写的账号须先改名或删除，才能升级（usernames differing only in case: "
            f"rename or remove all but one of each first): {listed}"
        )
    connection.execute(sa.text(
        'UPDATE "user" SET username = lower(username) WHERE username <> lower(username)'))
    op.create_index('uq_user_username_lower', 'user', [sa.text('lower(username)')],
                    unique=True)


def downgrade() -> None:
    op.drop_index('uq_user_username_lower', table_name='user')
