"""PostgreSQL COPY in text format: rows turned into tab-separated lines, written in blocks.

psycopg's `copy.write_row` adapts every value on its own (about 1 µs each); building the
lines here and handing psycopg one string per block is several times faster, and the rows
the generator makes hold only ints, strings, booleans and None.
"""

import json
import queue
import threading
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Any

import psycopg

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def text(value: str) -> str:
    """A string as a COPY text field (backslash, tab and line breaks escaped)."""
    return value.translate(_ESCAPES)


def field(value: Any) -> str:
    if value is None:
        return NULL
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict | list):
        return json_field(value)
    return text(str(value))


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def json_field(value: Any) -> str:
    """A JSON column: the same document json.loads gives back when the row is read."""
    if value is None:
        return NULL
    if not value:
        return "{}" if isinstance(value, dict) else "[]"
    return text(_JSON.encode(value))


def line(values: Sequence[Any]) -> str:
    return "\t".join([field(v) for v in values]) + "\n"


def copy_lines(cursor: psycopg.Cursor[Any], table: str, columns: Sequence[str],
               lines: Iterable[str]) -> None:
    """COPY already formatted lines (see `line`) into `table`."""
    quoted = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
        block: list[str] = []
        size = 0
        for item in lines:
            block.append(item)
            size += len(item)
            if size > 1 << 20:
                copy.write("".join(block))
                block, size = [], 0
        if block:
            copy.write("".join(block))


def copy_rows(cursor: psycopg.Cursor[Any], table: str, columns: Sequence[str],
              rows: Iterable[Sequence[Any]]) -> None:
    copy_lines(cursor, table, columns, (line(row) for row in rows))


class BackgroundCopy:
    """COPY blocks on a thread of their own, so that the database digests one batch while
    Python builds the next (psycopg releases the GIL while it waits on the server)."""

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._cursor = cursor
        self._queue: queue.Queue[tuple[str, Sequence[str], list[str]] | None] = queue.Queue(2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="scale-copy", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            if self._error is None:
                try:
                    copy_lines(self._cursor, *job)
                except BaseException as error:  # handed to the producer in put/close
                    self._error = error

    def put(self, table: str, columns: Sequence[str], lines: list[str]) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put((table, columns, lines))

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def __enter__(self) -> "BackgroundCopy":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
