"""The database layer: SQLite writers take the lock first, so concurrent partners never
see "database is locked" and no read-then-write update is lost."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from survey.db import make_engine
from survey.models import Board
from tests.conftest import on_postgres


def _increment(engine, begin: str, times: int, errors: list[str]) -> None:
    for _ in range(times):
        try:
            with Session(engine) as session:
                session.connection(execution_options={"sqlite_begin": begin})
                name = session.execute(select(Board.name).where(Board.code == "01")).scalar_one()
                session.execute(
                    update(Board).where(Board.code == "01").values(name=str(int(name) + 1))
                )
                session.commit()
        except Exception as exc:  # collected: the assertion below names them
            errors.append(type(exc).__name__ + ": " + str(exc).splitlines()[0])


@pytest.mark.skipif(on_postgres(), reason="SQLite locking behaviour")
def test_concurrent_read_then_write_transactions_lose_nothing(database_url):
    engine = make_engine(database_url)
    with Session(engine) as session:
        session.add(Board(code="01", name="0"))
        session.commit()
    errors: list[str] = []
    threads = [
        threading.Thread(target=_increment, args=(engine, "IMMEDIATE", 25, errors))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with Session(engine) as session:
        final = int(session.execute(select(Board.name)).scalar_one())
    engine.dispose()
    assert errors == []
    assert final == 100


def test_sqlite_engine_uses_wal_and_a_busy_timeout(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
