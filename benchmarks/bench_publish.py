"""Publishing a release and reading one back, at 1x, 2x and 4x the partnerships (SPEC 4b).

Builds bench_scoring's world (24 boards x 4 partnerships x 12 respondents x every item,
two cycles) scaled by the number of partnerships per board, on SQLite (or PostgreSQL:
--url), and measures, each in a fresh process (peak memory: the process's VmHWM):

- publish: release 1 of the closed cycle (survey.releases.publish_first: every figure
  through the gate, the respondents' basis, stored), against its baseline in the same
  run: one `cycle_results` of the state (what every page used to recompute);
- release read: a board's results from the stored release in a cold process (decode and
  filter), against a live `cycle_results` of that board: the cost a page pays.

    python benchmarks/bench_publish.py [--scales 1,2,4] [--url postgresql://...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_scoring  # noqa: E402
from sqlalchemy import select, text, update  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from survey.db import Base, make_engine  # noqa: E402
from survey.models import Cycle  # noqa: E402
from survey.questionnaire import default_folder, load_questionnaire  # noqa: E402
from survey.schema import upgrade  # noqa: E402


def build(url: str, scale: int) -> int:
    """A fresh database of `scale` x 4 partnerships per board; returns its answer rows."""
    engine = make_engine(url)
    if url.startswith("postgresql"):
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    bench_scoring.PARTNERSHIPS = 4 * scale
    answers = bench_scoring.build(engine, load_questionnaire(default_folder()))
    with engine.begin() as conn:
        conn.execute(update(Cycle).values(status="closed",
                                          published_at=dt.datetime.now(dt.UTC)))
    engine.dispose()
    assert Base.metadata.tables["releases"] is not None
    return answers


def measure(kind: str, url: str) -> dict[str, float]:
    """One measurement in this process: seconds and peak MB."""
    from survey import releases
    from survey.scoring import cycle_results

    engine = make_engine(url)
    with Session(engine) as session:
        cycle = session.execute(select(Cycle).where(Cycle.name == "2026")).scalar_one()
        started = time.perf_counter()
        if kind == "publish":
            releases.publish_first(session, cycle, "bench")
            session.commit()
        elif kind == "recompute":
            cycle_results(session, cycle)
        elif kind == "read":
            row = releases.current(session, cycle)
            assert row is not None, "publish first"
            releases.release_results(row, "05", session)  # the board's stored part
        elif kind == "live-board":
            cycle_results(session, cycle, "05")
        seconds = time.perf_counter() - started
    engine.dispose()
    return {"seconds": seconds, "peak_mb": peak_mb()}


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM: ru_maxrss would carry the parent's
    peak across exec on Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_in_child(kind: str, url: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--measure", kind, "--url", url],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,2,4")
    parser.add_argument("--url", default="")
    parser.add_argument("--measure", default="")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.url)))
        return
    print(f"{'scale':>5} {'answers':>8} {'publish s':>9} {'MB':>6} {'recompute s':>11} "
          f"{'MB':>6} {'read s':>7} {'MB':>6} {'live board s':>12} {'MB':>6}")
    with tempfile.TemporaryDirectory() as folder:
        for scale in (int(s) for s in args.scales.split(",")):
            url = args.url or f"sqlite:///{Path(folder) / f'publish-{scale}.sqlite3'}"
            answers = build(url, scale)
            row = [run_in_child(kind, url)
                   for kind in ("recompute", "publish", "read", "live-board")]
            recompute, publish, read, live = row
            print(f"{scale:>4}x {answers:>8} {publish['seconds']:>9.2f} "
                  f"{publish['peak_mb']:>6.0f} {recompute['seconds']:>11.2f} "
                  f"{recompute['peak_mb']:>6.0f} {read['seconds']:>7.3f} "
                  f"{read['peak_mb']:>6.0f} {live['seconds']:>12.2f} {live['peak_mb']:>6.0f}",
                  flush=True)


if __name__ == "__main__":
    main()
