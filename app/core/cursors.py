"""Keyset cursors: the id (or seq) a page continues from, opaque to the client.

A cursor is URL-safe base64 of `<kind>:<id>` (the kind tells one list's cursor from another's:
`h` hazards, `c` criteria, `a` the audit log), or of the bare id for the lists that began so
(risk points, check tasks, administration): cursors already handed out keep working.
"""

import base64
import binascii

from app.core.db import valid_id
from app.core.errors import Unprocessable


def encode_cursor(row_id: int, kind: str = "") -> str:
    raw = f"{kind}:{row_id}" if kind else str(row_id)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str = "") -> int:
    """The id a cursor of this kind carries; 422 for one this server did not hand out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.rpartition(":")
        if prefix != kind or not valid_id(int(value)):
            raise ValueError(raw)
        return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Unprocessable([{"loc": ["query", "cursor"], "msg": "无效的分页游标",
                              "type": "value_error"}]) from None
