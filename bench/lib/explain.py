"""EXPLAIN (ANALYZE, BUFFERS) of a case's captured statements: where its time goes."""

from collections.abc import Callable
from typing import Any

from bench.lib.capture import Statement


def explain(conn: Any, name: str, statements: list[Statement],
            keep: Callable[[str], bool] = lambda _statement: True) -> None:
    """Print the plan of each statement `keep` accepts (writes of many rows never), then roll
    back: EXPLAIN ANALYZE runs the statement."""
    print(f"\n===== {name}")
    with conn.cursor() as cursor:
        for statement, parameters, many in statements:
            if many or not keep(statement):
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters or None)
            print("\n".join(row[0] for row in cursor.fetchall()))
            print("-----")
    conn.rollback()
