"""What an intruder with database access does, for the tamper-evidence tests: drop the
append-only triggers, then edit, truncate, rewrite or delete, covering tracks where they can."""

from datetime import date
from typing import Any

from sqlalchemy import Connection, Table, delete, select, text, update

from app.core.db import Base
from app.models import Event, Hazard
from app.services.hazards.timeline import compute_hash


def drop_append_only_triggers(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("DROP TRIGGER IF EXISTS event_append_only ON event"))
    else:
        conn.execute(text("DROP TRIGGER IF EXISTS event_no_update"))
        conn.execute(text("DROP TRIGGER IF EXISTS event_no_delete"))


def events(conn: Connection, hazard_id: int) -> list[Any]:
    return list(conn.execute(select(*Event.__table__.c).where(Event.hazard_id == hazard_id)
                             .order_by(Event.seq)))


def truncate(conn: Connection, hazard_id: int, keep: int, *, cover: bool) -> None:
    """Delete the hazard's events after seq `keep`; `cover` makes its row agree with what is
    left (head, state, deadline), as a careful intruder would."""
    _delete_referring(conn, Event.__table__, Event.__table__.c.id.in_(
        select(Event.id).where(Event.hazard_id == hazard_id, Event.seq > keep)))
    conn.execute(delete(Event).where(Event.hazard_id == hazard_id, Event.seq > keep))
    if cover:
        last = events(conn, hazard_id)[-1]
        deadline = None
        for event in events(conn, hazard_id):
            if isinstance(event.data.get("deadline"), str):
                deadline = date.fromisoformat(event.data["deadline"])
        conn.execute(update(Hazard.__table__).where(Hazard.__table__.c.id == hazard_id)
                     .values(head_seq=last.seq, head_hash=last.hash, state=last.to_state,
                             deadline=deadline))


def rewrite_note(conn: Connection, hazard_id: int, seq: int, note: str) -> None:
    """Edit one event and recompute every hash after it, and the row's head: a chain that
    holds together by itself."""
    prev = None
    for event in events(conn, hazard_id):
        values = dict(event._mapping)
        if event.seq == seq:
            values["note"] = note
        if prev is not None:
            values["prev_hash"] = prev
        values["hash"] = compute_hash(values["prev_hash"], _Obj(values))
        conn.execute(update(Event.__table__).where(Event.__table__.c.id == event.id)
                     .values(note=values["note"], prev_hash=values["prev_hash"],
                             hash=values["hash"]))
        prev = values["hash"]
    conn.execute(update(Hazard.__table__).where(Hazard.__table__.c.id == hazard_id)
                 .values(head_hash=prev))


class _Obj:
    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def delete_hazard(conn: Connection, hazard_id: int) -> None:
    """The hazard and every row that refers to it, however indirectly."""
    hazard = Hazard.__table__
    _delete_referring(conn, hazard, hazard.c.id == hazard_id)
    conn.execute(delete(hazard).where(hazard.c.id == hazard_id))


def _delete_referring(conn: Connection, table: Table, condition: Any) -> None:
    """Delete, deepest first, every row of every table that refers to `table`'s rows
    matching `condition` (the audit checkpoint's heads refer to nothing)."""
    for other in Base.metadata.sorted_tables:
        for key in other.foreign_keys:
            if key.column.table is not table:
                continue
            ids = select(key.column).where(condition)
            column = key.parent
            if other.primary_key.columns.keys() == ["id"]:
                _delete_referring(conn, other, column.in_(ids))
            conn.execute(delete(other).where(column.in_(ids)))
