"""EXPLAIN (ANALYZE, BUFFERS) of a case's captured statements: where its time goes."""

from collections.abc import Callable
from typing import Any

from bench.lib.capture import Statement


def loads_actor(statement: str) -> bool:
    """A statement that loads the actor (user, region path): the same in every case."""
    return statement.lstrip().startswith(('SELECT "user"', "SELECT region.path"))


def explain(conn: Any, name: str, statements: list[Statement],
            keep: Callable[[str], bool] = lambda statement: not loads_actor(statement)) -> None:
    """Print the plan of each statement `keep` accepts (by default all but the actor's
    loading; writes of many rows never), then roll back: EXPLAIN ANALYZE runs the statement."""
    print(f"\n===== {name}")
    with conn.cursor() as cursor:
        for statement, parameters, many in statements:
            if many or not keep(statement):
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters or None)
            print("\n".join(row[0] for row in cursor.fetchall()))
            print("-----")
    conn.rollback()
