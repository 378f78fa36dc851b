"""Imports at statewide scale, each against a bare baseline measured in the same run.

Run: python benchmarks/bench_import.py [--database-url URL] [--boards 24]
     [--partnerships 10] [--respondents 25] [--json out.json]

Generates the statewide set (24 boards x 10 partnerships x 25 respondents x 36 items =
216,000 answers) as CSV, and a roster of the same 6,000 people, then times, each as
its own `survey` process (wall time and the child's peak memory, ru_maxrss):

- `survey responses import` into a fresh database (members, participations,
  invitations and answers all created), against a bare `sqlite3` script that reads
  the same CSV with `csv.reader` and inserts every row with one `executemany` in one
  transaction (the floor for "read these rows and store them"); a second baseline
  does the same into a table with the two indexes the app's answers table has;
- `survey roster import` of the 6,000 members, and `survey cycle open` creating their
  6,000 invitations, into a second database;
- `survey cycle list` on an empty database: the fixed cost of starting the command
  (Python, Flask, SQLAlchemy), included in every figure above.

Peak memory is also measured on a file with half the respondents: flat memory means
the two figures are close, not proportional. With --database-url (PostgreSQL) the
`survey` commands run there (the database is emptied first) and a third baseline,
psycopg's executemany into a PostgreSQL table in one transaction, is added.
Other benchmarks call `run(...)`, which returns the figures as a dict.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from survey.models import PARTNER_TYPE_LABELS  # noqa: E402
from survey.questionnaire import default_folder, load_questionnaire  # noqa: E402

RESPONSE_HEADER = ["cycle", "board", "partnership", "respondent", "partner_type", "element",
                   "item", "score"]
ROSTER_HEADER = ["board", "partnership", "sector", "name", "email", "organization",
                 "partner_type"]
CYCLE = "2031"
SECTORS = ["Health Care", "Manufacturing", "Logistics", "Construction", "IT", "Finance"]

BASELINE_SCRIPT = r"""
import csv, sqlite3, sys
connection = sqlite3.connect(sys.argv[2], isolation_level=None)
connection.execute("PRAGMA journal_mode=WAL")
connection.execute("CREATE TABLE answers (id INTEGER PRIMARY KEY, cycle TEXT, board TEXT, "
                   "partnership TEXT, respondent TEXT, partner_type TEXT, element TEXT, "
                   "item TEXT, score TEXT)")
if sys.argv[3] == "indexed":  # the indexes the app's answers table has
    connection.execute("CREATE UNIQUE INDEX answer_item ON answers (respondent, item)")
    connection.execute("CREATE INDEX answer_respondent ON answers (respondent)")
with open(sys.argv[1], newline="", encoding="utf-8") as handle:
    rows = csv.reader(handle)
    next(rows)
    connection.execute("BEGIN")
    connection.executemany("INSERT INTO answers (cycle, board, partnership, respondent, "
                           "partner_type, element, item, score) VALUES (?,?,?,?,?,?,?,?)", rows)
    connection.execute("COMMIT")
"""

PG_BASELINE_SCRIPT = r"""
import csv, sys, psycopg
with psycopg.connect(sys.argv[2]) as connection:
    connection.execute("DROP TABLE IF EXISTS bench_baseline")
    connection.execute("CREATE TABLE bench_baseline (id serial PRIMARY KEY, cycle text, "
                       "board text, partnership text, respondent text, partner_type text, "
                       "element text, item text, score text)")
    connection.commit()
    with open(sys.argv[1], newline="", encoding="utf-8") as handle, \
            connection.cursor() as cursor:
        rows = csv.reader(handle)
        next(rows)
        cursor.executemany("INSERT INTO bench_baseline (cycle, board, partnership, respondent, "
                           "partner_type, element, item, score) VALUES "
                           "(%s, %s, %s, %s, %s, %s, %s, %s)", rows)
    connection.commit()
    connection.execute("DROP TABLE bench_baseline")
"""


@dataclass(frozen=True)
class Measure:
    """One process: wall seconds, peak resident memory, CPU seconds (user + system).

    On a shared machine the CPU figure is the steadier one: wall time includes waiting
    for a core.
    """

    seconds: float
    peak_mb: float
    cpu_seconds: float

    def as_dict(self) -> dict[str, float]:
        return {"seconds": round(self.seconds, 3), "peak_mb": round(self.peak_mb, 1),
                "cpu_seconds": round(self.cpu_seconds, 3)}


LAUNCHER = r"""
import os, sys
pid = os.fork()
if pid == 0:
    os.execvpe(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as report:
    report.write(f"{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measure(args: list[str], env: dict[str, str]) -> Measure:
    """Run a process to its end; its wall time and peak memory (fails loudly on exit != 0).

    A small launcher forks the process, so that its peak memory (ru_maxrss) starts from
    the launcher's few MB, not from a copy of this benchmark's memory.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".maxrss") as report:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, report.name, *args],
                              env=env, capture_output=True, check=False)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): "
                               f"{(done.stderr or done.stdout).decode(errors='replace')[:2000]}")
        maxrss, cpu = report.read().split()
        return Measure(seconds, int(maxrss) / 1024, float(cpu))


def write_files(folder: Path, boards: int, partnerships: int, respondents: int,
                seed: int = 31) -> tuple[Path, Path, int]:
    """The responses CSV and the matching roster CSV; (responses, roster, answers)."""
    questionnaire = load_questionnaire(default_folder())
    items = [(item.element_key, item.code) for item in questionnaire.items]
    levels = [str(level.value) for level in questionnaire.scale.levels]
    scores = levels * 6 + ["DK", "NA", ""]
    types = list(PARTNER_TYPE_LABELS)
    rng = random.Random(seed)
    responses, roster = folder / "responses.csv", folder / "roster.csv"
    answers = 0
    with open(responses, "w", newline="", encoding="utf-8") as r_handle, \
            open(roster, "w", newline="", encoding="utf-8") as m_handle:
        r_out, m_out = csv.writer(r_handle), csv.writer(m_handle)
        r_out.writerow(RESPONSE_HEADER)
        m_out.writerow(ROSTER_HEADER)
        for b in range(1, boards + 1):
            board = f"{b:02d}"
            for p in range(partnerships):
                name = f"{SECTORS[p % len(SECTORS)]} Partnership {b}-{p}"
                for n in range(respondents):
                    email = f"partner{n}.p{p}.b{board}@example.org"
                    kind = types[(b + p + n) % len(types)]
                    m_out.writerow([board, name, SECTORS[p % len(SECTORS)], f"Partner {n}",
                                    email, "Acme", kind])
                    for element, code in items:
                        r_out.writerow([CYCLE, board, name, email, kind, element, code,
                                        rng.choice(scores)])
                        answers += 1
    return responses, roster, answers


def _half(source: Path, target: Path) -> Path:
    """The first half of a responses file (whole respondents), for the memory check."""
    with open(source, encoding="utf-8") as handle:
        lines = handle.readlines()
    body = lines[1:]
    target.write_text(lines[0] + "".join(body[: len(body) // 2]), encoding="utf-8")
    return target


class Survey:
    """`survey` commands against one database, each in its own process."""

    def __init__(self, folder: Path, url: str | None) -> None:
        self.folder = folder
        self.url = url or f"sqlite:///{folder / 'survey.sqlite3'}"
        self.env = {**os.environ, "SURVEY_DATABASE_URL": self.url,
                    "SURVEY_INSTANCE_PATH": str(folder / "instance"),
                    "SURVEY_SECRET_KEY": "bench"}
        self.exe = str(Path(sys.executable).with_name("survey"))

    def __call__(self, *args: str) -> Measure:
        return measure([self.exe, *args], self.env)

    def fresh(self) -> None:
        """An empty, migrated database with the 24 boards and a draft cycle."""
        if self.url.startswith("postgresql"):
            from sqlalchemy import create_engine, text

            engine = create_engine(self.url)
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            engine.dispose()
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.url.removeprefix('sqlite:///')}{suffix}").unlink(missing_ok=True)
        self("init")
        self("cycle", "create", CYCLE, "--opens", "2031-01-05", "--closes", "2031-03-01")


def run(boards: int = 24, partnerships: int = 10, respondents: int = 25,
        database_url: str | None = None, folder: Path | None = None,
        responses_too: bool = True) -> dict[str, Any]:
    """Every import figure and its baseline, as a dict (seconds, MB, ratios).

    responses_too=False times only the roster import and `cycle open` (e.g. 40,000
    members on PostgreSQL without importing 1.8 million answers first).
    """
    own = folder is None
    work = Path(tempfile.mkdtemp(prefix="bench-import-")) if folder is None else folder
    try:
        responses, roster, answers = write_files(work, boards, partnerships, respondents)
        survey = Survey(work, database_url)
        members = boards * partnerships * respondents
        figures: dict[str, Any] = {
            "answers": answers, "members": members,
            "database": "postgresql" if survey.url.startswith("postgresql") else "sqlite"}
        if responses_too:
            figures.update(_responses_figures(work, survey, responses))
        survey.fresh()
        figures["roster_import"] = survey("roster", "import", str(roster)).as_dict()
        figures["cycle_open"] = survey("cycle", "open", CYCLE).as_dict()
        return figures
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)


def _responses_figures(work: Path, survey: Survey, responses: Path) -> dict[str, Any]:
    """The responses import against its baselines, the command's start-up, memory growth."""
    half = _half(responses, work / "half.csv")

    startup_db = Survey(work / "empty", None)
    (work / "empty").mkdir(exist_ok=True)
    startup_db("init")
    startup = startup_db("cycle", "list")

    baseline = measure([sys.executable, "-c", BASELINE_SCRIPT, str(responses),
                        str(work / "baseline.sqlite3"), "bare"], dict(os.environ))
    indexed = measure([sys.executable, "-c", BASELINE_SCRIPT, str(responses),
                       str(work / "indexed.sqlite3"), "indexed"], dict(os.environ))
    postgres: dict[str, Any] = {}
    if survey.url.startswith("postgresql"):
        libpq = survey.url.replace("postgresql+psycopg://", "postgresql://", 1)
        pg = measure([sys.executable, "-c", PG_BASELINE_SCRIPT, str(responses), libpq],
                     dict(os.environ))
        postgres = {"baseline_executemany_postgresql": pg.as_dict()}

    survey.fresh()
    half_import = survey("responses", "import", str(half), "--cycle", CYCLE)
    survey.fresh()
    full_import = survey("responses", "import", str(responses), "--cycle", CYCLE)
    reimport = survey("responses", "import", str(responses), "--cycle", CYCLE)

    figures = {
        "startup": startup.as_dict(),
        "baseline_executemany": baseline.as_dict(),
        "baseline_executemany_indexed": indexed.as_dict(),
        "responses_import": full_import.as_dict(),
        "responses_import_ratio": round(full_import.seconds / baseline.seconds, 2),
        "responses_import_ratio_net_of_startup": round(
            (full_import.seconds - startup.seconds) / baseline.seconds, 2),
        "responses_import_cpu_ratio": round(full_import.cpu_seconds / baseline.cpu_seconds, 2),
        "responses_import_cpu_ratio_net_of_startup": round(
            (full_import.cpu_seconds - startup.cpu_seconds) / baseline.cpu_seconds, 2),
        "memory_above_startup_mb": {
            "half_file": round(half_import.peak_mb - startup.peak_mb, 1),
            "full_file": round(full_import.peak_mb - startup.peak_mb, 1)},
        "responses_reimport": reimport.as_dict(),
        "responses_import_half_file": half_import.as_dict(),
        **postgres,
    }
    if postgres:
        pg_seconds = postgres["baseline_executemany_postgresql"]["seconds"]
        figures["responses_import_ratio_postgresql"] = round(full_import.seconds / pg_seconds, 2)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--boards", type=int, default=24)
    parser.add_argument("--partnerships", type=int, default=10)
    parser.add_argument("--respondents", type=int, default=25)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--no-responses", action="store_true",
                        help="time only the roster import and cycle open")
    options = parser.parse_args()
    figures = run(options.boards, options.partnerships, options.respondents,
                  options.database_url, responses_too=not options.no_responses)
    print(f"{figures['answers']:,} answers, {figures['members']:,} members, "
          f"{figures['database']}")
    print(f"{'figure':<38} {'seconds':>8} {'CPU s':>8} {'peak MB':>8}")
    for key in ("startup", "baseline_executemany", "baseline_executemany_indexed",
                "baseline_executemany_postgresql",
                "responses_import", "responses_reimport",
                "responses_import_half_file", "roster_import", "cycle_open"):
        if key not in figures:
            continue
        value = figures[key]
        print(f"{key:<38} {value['seconds']:>8.2f} {value['cpu_seconds']:>8.2f} "
              f"{value['peak_mb']:>8.1f}")
    if "responses_import" not in figures:
        return _save(figures, options.json)
    print(f"responses import / baseline, wall: {figures['responses_import_ratio']}x "
          f"({figures['responses_import_ratio_net_of_startup']}x without the command's "
          f"start-up); CPU: {figures['responses_import_cpu_ratio']}x "
          f"({figures['responses_import_cpu_ratio_net_of_startup']}x)")
    if "responses_import_ratio_postgresql" in figures:
        print(f"responses import / psycopg executemany baseline (wall): "
              f"{figures['responses_import_ratio_postgresql']}x")
    above = figures["memory_above_startup_mb"]
    print(f"peak memory above start-up: half file {above['half_file']} MB, "
          f"full file {above['full_file']} MB")
    _save(figures, options.json)


def _save(figures: dict[str, Any], path: Path | None) -> None:
    if path is not None:
        path.write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
