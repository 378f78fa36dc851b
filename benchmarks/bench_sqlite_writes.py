"""Concurrent read-then-write transactions on SQLite: BEGIN IMMEDIATE against DEFERRED.

Run: python benchmarks/bench_sqlite_writes.py
Four threads each increment one counter 100 times (read, then write). The baseline is
the same work with SQLite's default deferred BEGIN, measured in the same run.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from survey.db import make_engine

THREADS, PER_THREAD = 4, 100


def run(begin: str) -> tuple[float, int, int]:
    """Return (seconds, final counter, failed transactions)."""
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER)")
            conn.exec_driver_sql("INSERT INTO counter VALUES (1, 0)")
        failures = [0]

        def work() -> None:
            for _ in range(PER_THREAD):
                try:
                    with Session(engine) as session:
                        session.connection(execution_options={"sqlite_begin": begin})
                        value = session.execute(text("SELECT value FROM counter")).scalar_one()
                        session.execute(text("UPDATE counter SET value = :v"), {"v": value + 1})
                        session.commit()
                except Exception:
                    failures[0] += 1

        threads = [threading.Thread(target=work) for _ in range(THREADS)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - start
        with engine.connect() as conn:
            final = conn.exec_driver_sql("SELECT value FROM counter").scalar_one()
        engine.dispose()
    return seconds, final, failures[0]


def main() -> None:
    expected = THREADS * PER_THREAD
    base_s, base_final, base_failed = run("DEFERRED")
    imm_s, imm_final, imm_failed = run("IMMEDIATE")
    print(f"{THREADS} threads x {PER_THREAD} read-then-write transactions ({expected} in all)")
    print(f"DEFERRED (baseline): {base_s:.2f} s, {base_failed} failed "
          f"('database is locked'), counter {base_final}/{expected}")
    print(f"IMMEDIATE:           {imm_s:.2f} s, {imm_failed} failed, "
          f"counter {imm_final}/{expected}")
    print(f"committed transactions: {imm_final} vs {base_final} "
          f"({imm_final / max(base_final, 1):.1f}x); time ratio {imm_s / base_s:.2f}")


if __name__ == "__main__":
    main()
