"""`survey backup` / `survey restore`: time and peak memory, streamed against a naive dump.

Run: python benchmarks/bench_backup.py
Builds the demo in a temporary SQLite file, then the same demo plus 250,000 audit events
(about five times the rows). For each it times the streamed backup and the verified
restore into a fresh SQLite file, and measures the Python heap's peak (tracemalloc)
of the backup against a baseline measured in the same run: the naive way, every table
fetched whole (fetchall) and then written. A streamed backup's peak should stay about
the same when the database grows; the naive one grows with it.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from survey.db import make_engine
from survey.models import AuditEvent
from survey.questionnaire import default_folder, load_questionnaire
from survey.schema import load_default_boards, upgrade
from survey.services import backup
from survey.services.demo import build_demo

EXTRA_EVENTS = 250_000


def naive_backup(url: str, path: Path) -> None:
    """The baseline: each table read whole into memory, then written out."""
    engine = make_engine(url)
    with engine.connect() as conn, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for table in backup.tables():
            columns = list(table.columns)
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).fetchall()
            lines = [backup.encode_row(columns, row) for row in rows]
            archive.writestr(f"tables/{table.name}.jsonl", b"".join(lines))
    engine.dispose()


def streamed_backup(url: str, path: Path) -> None:
    engine = make_engine(url)
    backup.write_backup(engine, path)
    engine.dispose()


def peak_mb(work: Callable[[], None]) -> float:
    tracemalloc.start()
    work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def build(folder: Path, extra_events: int) -> tuple[str, int]:
    url = f"sqlite:///{folder / f'demo-{extra_events}.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        load_default_boards(session)
        build_demo(session, load_questionnaire(default_folder()))
        start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        for offset in range(0, extra_events, 10_000):
            session.execute(insert(AuditEvent), [
                {"at": start + dt.timedelta(seconds=offset + i), "actor": "admin@example.org",
                 "action": "export.download", "target": f"board {i % 24:02d} workbook",
                 "detail": {"n": offset + i, "note": "x" * 40}}
                for i in range(min(10_000, extra_events - offset))])
        session.commit()
    with engine.connect() as conn:
        rows = sum(conn.execute(select(func.count()).select_from(table)).scalar_one()
                   for table in backup.tables())
    engine.dispose()
    return url, rows


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        results = []
        for extra in (0, EXTRA_EVENTS):
            url, rows = build(folder, extra)
            archive = folder / f"backup-{extra}.zip"
            backup_s = timed(lambda: streamed_backup(url, archive))  # noqa: B023
            naive_s = timed(lambda: naive_backup(url, folder / "naive.zip"))  # noqa: B023
            stream_peak = peak_mb(lambda: streamed_backup(url, archive))  # noqa: B023
            naive_peak = peak_mb(lambda: naive_backup(url, folder / "naive.zip"))  # noqa: B023
            target = make_engine(f"sqlite:///{folder / f'restored-{extra}.sqlite3'}")
            restore_s = timed(lambda: backup.restore_backup(target, archive))  # noqa: B023
            target.dispose()
            results.append((rows, archive.stat().st_size, backup_s, naive_s, stream_peak,
                            naive_peak, restore_s))
        print(f"{'rows':>8} {'archive':>9} {'backup':>8} {'naive':>8} {'peak':>9} "
              f"{'naive peak':>11} {'ratio':>6} {'restore':>8}")
        for rows, size, backup_s, naive_s, stream_peak, naive_peak, restore_s in results:
            print(f"{rows:>8} {size / 1e6:>7.1f}MB {backup_s:>7.1f}s {naive_s:>7.1f}s "
                  f"{stream_peak:>7.1f}MB {naive_peak:>9.1f}MB {naive_peak / stream_peak:>5.1f}x "
                  f"{restore_s:>7.1f}s")
        (small, *_), (large, *_) = results
        print(json.dumps({
            "rows_growth": round(large / small, 1),
            "streamed_peak_growth": round(results[1][4] / results[0][4], 2),
            "naive_peak_growth": round(results[1][5] / results[0][5], 2)}))


if __name__ == "__main__":
    main()
