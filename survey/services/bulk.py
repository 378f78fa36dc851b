"""Set-based writes shared by the imports: IN lists in chunks, rows straight to the driver.

Used inside the caller's transaction (services flush, never commit). These bypass the
ORM: callers bump results versions and expire the session themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Connection, Table

T = TypeVar("T")
ROW_CHUNK = 20_000


def chunks(values: Sequence[T], size: int = 1000) -> Iterator[Sequence[T]]:
    """Slices of at most `size` values (IN lists stay within every database's limits)."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


def insert_rows(connection: Connection, table: Table, columns: Sequence[str],
                rows: Iterable[tuple[Any, ...]], stamp_column: str, stamp: Any) -> int:
    """Insert many rows fast, each with `stamp` in `stamp_column`; return how many.

    PostgreSQL: one COPY (psycopg), streamed. Elsewhere: the driver's executemany in
    chunks of ROW_CHUNK, the stamp converted once (SQLAlchemy's per-row parameter
    processing cost more than SQLite's own work, profiled at 216k rows).
    """
    names = [*columns, stamp_column]
    if connection.dialect.name == "postgresql":
        return _copy(connection, table.name, names, rows, stamp)
    dialect = connection.dialect
    marks = ", ".join(["?" if dialect.paramstyle == "qmark" else "%s"] * len(names))
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})"
    process = table.c[stamp_column].type.dialect_impl(dialect).bind_processor(dialect)
    value = process(stamp) if process is not None else stamp
    iterator = iter(rows)
    total = 0
    while batch := [(*row, value) for row in islice(iterator, ROW_CHUNK)]:
        connection.exec_driver_sql(sql, batch)
        total += len(batch)
    return total


def _copy(connection: Connection, table: str, names: Sequence[str],
          rows: Iterable[tuple[Any, ...]], stamp: Any) -> int:
    """COPY rows into a PostgreSQL table in the connection's transaction."""
    driver = connection.connection.driver_connection
    assert driver is not None
    total = 0
    with driver.cursor() as cursor, \
            cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row((*row, stamp))
            total += 1
    return total
