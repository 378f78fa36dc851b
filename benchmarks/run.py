"""The one benchmark command: every figure of issue 8 against its baseline, in one run.

Run: python benchmarks/run.py [--postgres | --national] [--json PATH] [--profile DIR]

Generates the statewide set (24 boards x 10 partnerships x 25 respondents x 36 items,
216,000 answers) on SQLite, or with --national 24 x 67 x 25 (40,200 respondents, 1.45M
answers) on PostgreSQL (SURVEY_BENCH_PG_URL, or a throwaway cluster it starts and stops;
--postgres: the statewide set there), then measures, each against a baseline measured
in the same run:

- imports (benchmarks/bench_import.py's run(): `survey responses import` against a bare
  executemany, roster import, `survey cycle open`);
- the state workbook (`survey export X.xlsx`) against one GROUP BY per sheet written with
  openpyxl's write-only mode, and the answers CSV (`survey export X.csv`) against one
  SELECT through csv.writer (benchmarks/baselines.py);
- a partner's element page served by `survey serve --workers 2`, requests per second from
  wrk in its own process, against a hello-world Flask app under `gunicorn -w 2`;
- saves by 20 partners at once through the served app (p95), against the element GET
  under the same load; cold and cached /state and the workbook download for state staff.

Prints the table (figure, now, baseline, ratio, target, met?) and writes it as JSON to
benchmarks/results/ (or --json). --profile DIR records the server under the save load
with py-spy (collapsed stacks, for flamegraph.pl or speedscope).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import baselines  # noqa: E402
import bench_import  # noqa: E402
import web_load  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from survey.questionnaire import default_folder, load_questionnaire  # noqa: E402

STATEWIDE = {"boards": 24, "partnerships": 10, "respondents": 25}
NATIONAL = {"boards": 24, "partnerships": 67, "respondents": 25}
STAFF_EMAIL, STAFF_PASSWORD = "state@bench.example", "bench password 1234"
SAVERS = 20
# A partner reads and answers a page between saves; 20 partners each saving about once a
# second is a heavy, realistic load. The closed loop with no pause is reported as well.
THINK_SECONDS = 1.0


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A PostgreSQL cluster in a folder of its own on a free port (as the postgres user
    when root), removed afterwards."""
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    folder = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_pg:
        shutil.chown(folder, "postgres")
    port = web_load.free_port()
    data = folder / "data"
    try:
        subprocess.run([*as_pg, str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                        "--auth=trust"], check=True, capture_output=True)
        subprocess.run([*as_pg, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l",
                        str(folder / "log"), "-o", f"-p {port} -k {folder} -c "
                        "listen_addresses=127.0.0.1 -c fsync=off", "start"], check=True,
                       capture_output=True)
        subprocess.run([*as_pg, str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port),
                        "-U", "postgres", "bench"], check=True, capture_output=True)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/bench"
    finally:
        subprocess.run([*as_pg, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast",
                        "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def prepare(survey: bench_import.Survey, folder: Path) -> dict[str, Any]:
    """The state's database: roster, answers, 20 partners yet to answer, cycle open, a
    state staff account; their links."""
    roster, responses = folder / "roster.csv", folder / "responses.csv"
    survey.fresh()
    survey("roster", "import", str(roster))
    survey("responses", "import", str(responses), "--cycle", bench_import.CYCLE)
    extra = folder / "extra.csv"
    with extra.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(bench_import.ROSTER_HEADER)
        sector = bench_import.SECTORS[0]
        for n in range(SAVERS):
            out.writerow(["01", f"{sector} Partnership 1-0", sector, f"New {n}",
                          f"new{n}@bench.example", "Acme", "business"])
    survey("roster", "import", str(extra))
    survey("cycle", "open", bench_import.CYCLE)
    subprocess.run([survey.exe, "user", "create", STAFF_EMAIL, "--role", "state"],
                   input=STAFF_PASSWORD + "\n", text=True, env=survey.env, check=True,
                   capture_output=True)

    def links(*args: str) -> list[dict[str, str]]:
        done = subprocess.run([survey.exe, "invite", "--cycle", bench_import.CYCLE, *args],
                              env=survey.env, check=True, capture_output=True, text=True)
        return list(csv.DictReader(io.StringIO(done.stdout)))

    pages = [row["link"].split("/s/", 1)[1] for row in links("--board", "02")]
    savers = [row["link"].split("/s/", 1)[1] for row in links("--reminders")
              if row["email"].endswith("@bench.example")]
    return {"page_tokens": pages, "saver_tokens": savers[:SAVERS]}


def cli_exports(survey: bench_import.Survey, folder: Path) -> dict[str, Any]:
    """`survey export` (workbook and CSV) against their bare baselines, as processes."""
    python = sys.executable
    cycle = bench_import.CYCLE
    book = survey("export", str(folder / "state.xlsx"), "--cycle", cycle)
    book_base = bench_import.measure(
        [python, "-c", baselines.WORKBOOK_SCRIPT, survey.url, cycle, str(folder / "b.xlsx")],
        survey.env)
    answers = survey("export", str(folder / "state.csv"), "--cycle", cycle)
    answers_base = bench_import.measure(
        [python, "-c", baselines.CSV_SCRIPT, survey.url, cycle, str(folder / "b.csv")],
        survey.env)
    return {"workbook": book.as_dict(), "workbook_baseline": book_base.as_dict(),
            "csv": answers.as_dict(), "csv_baseline": answers_base.as_dict()}


def web(survey: bench_import.Survey, folder: Path, tokens: dict[str, Any],
        profile: Path | None) -> dict[str, Any]:
    """Pages, saves, /state and the workbook download through `survey serve --workers 2`."""
    (folder / "hello.py").write_text(baselines.HELLO_APP)
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    hello = web_load.Served([gunicorn, "-w", "2", "-b", "127.0.0.1:{port}",
                             "--no-control-socket", "hello:app"],
                            dict(os.environ), folder / "hello.log", folder, health="/")
    with hello:
        hello_rate = web_load.wrk(hello.port, ["/"], folder)
    print(f"  hello world: {hello_rate}", flush=True)
    questionnaire = load_questionnaire(default_folder())
    elements = [e.key for e in questionnaire.elements]
    items = {e.key: [item.code for item in e.items] for e in questionnaire.elements}
    paths = [f"/s/{t}/{elements[n % len(elements)]}"
             for n, t in enumerate(tokens["page_tokens"])]
    engine = create_engine(survey.url)

    def bump() -> None:
        with engine.begin() as conn:
            conn.execute(text("UPDATE cycles SET results_version = results_version + 1"))

    threads = os.environ.get("SURVEY_BENCH_THREADS")  # try other thread counts
    served = web_load.Served([survey.exe, "serve", "--port", "{port}", "--workers", "2",
                              *(["--threads", threads] if threads else [])],
                             survey.env, folder / "serve.log", folder)
    with served, _log_tail_on_error(folder / "serve.log"):
        page = web_load.wrk(served.port, paths, folder)
        print(f"  element page: {page}", flush=True)
        spy = None
        if profile is not None:
            profile.mkdir(parents=True, exist_ok=True)
            assert served.process is not None
            spy = subprocess.Popen(
                [str(Path(sys.executable).with_name("py-spy")), "record", "--subprocesses",
                 "--pid", str(served.process.pid), "--duration", "12", "--nonblocking",
                 "--format", "raw",
                 "-o", str(profile / f"saves-{survey.url.split(':')[0]}.txt")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        saves = web_load.partner_saves(served.port, tokens["saver_tokens"], items, 10,
                                       think=THINK_SECONDS)
        print(f"  saves: {saves}", flush=True)
        saturated = web_load.partner_saves(served.port, tokens["saver_tokens"], items, 8)
        print(f"  saves, no pause: {saturated}", flush=True)
        if spy is not None:
            spy.wait(60)
        try:
            staff = web_load.staff_timings(served.port, STAFF_EMAIL, STAFF_PASSWORD,
                                           bench_import.CYCLE, bump)
        except Exception as exc:  # keep the other figures; the table shows the failure
            staff = {"error": f"{type(exc).__name__}: {exc}"[:300], "state_cold_s": -1.0,
                     "state_cached_s": -1.0, "workbook_download_s": -1.0}
        print(f"  state staff: {staff}", flush=True)
    engine.dispose()
    return {"hello": hello_rate, "page": page, "saves": saves, "saves_saturated": saturated,
            "staff": staff}


@contextlib.contextmanager
def _log_tail_on_error(log: Path) -> Iterator[None]:
    try:
        yield
    except Exception:
        print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
        raise


def table(f: dict[str, Any], national: bool) -> list[dict[str, Any]]:
    """The issue's table: figure, now, baseline, ratio, target, met."""
    imp, exp, w = f["imports"], f["exports"], f["web"]

    def row(figure: str, now: float, base: float | None, unit: str, target: str,
            met: bool, ratio: float | None = None) -> dict[str, Any]:
        if ratio is None and base:
            ratio = round(now / base, 2)
        return {"figure": figure, "now": f"{now:,.2f} {unit}",
                "baseline": "" if base is None else f"{base:,.2f} {unit}", "ratio": ratio,
                "target": target, "met": met}

    imp_s, base_s = imp["responses_import"]["seconds"], imp["baseline_executemany"]["seconds"]
    start_s = imp["startup"]["seconds"]
    memory = imp.get("memory_above_startup_mb", {})
    wb, wb_base = exp["workbook"]["seconds"], exp["workbook_baseline"]["seconds"]
    csv_s, csv_base = exp["csv"]["seconds"], exp["csv_baseline"]["seconds"]
    page, hello = w["page"]["req_per_s"], w["hello"]["req_per_s"]
    save, get = w["saves"]["save_ms"], w["saves"]["get_ms"]
    staff = w["staff"]
    rows = [
        row("responses import", imp_s, base_s, "s", "<= 2x", imp_s <= 2 * base_s),
        row("  the same, net of command start-up", imp_s - start_s, base_s, "s", "<= 2x",
            imp_s - start_s <= 2 * base_s),
        row("  import memory above start-up, full file", memory.get("full_file", 0),
            memory.get("half_file"), "MB", "flat (vs half file)",
            memory.get("full_file", 0) <= 1.5 * memory.get("half_file", 0) + 10),
        row("cycle open", imp["cycle_open"]["seconds"], None, "s", "< 10 s",
            imp["cycle_open"]["seconds"] < 10),
        row("state workbook (survey export)", wb, wb_base, "s", "<= 2x and < 5 s",
            wb <= 2 * wb_base and wb < 5),
        row("answers CSV (survey export)", csv_s, csv_base, "s", "<= 2x",
            csv_s <= 2 * csv_base),
        row("element page, req/s", page, hello, "req/s", ">= 0.25", page / hello >= 0.25,
            round(page / hello, 3)),
        row(f"save p95, {SAVERS} partners saving ~1/s", save["p95"], get["p95"], "ms", "< 50 ms",
            save["p95"] < 50 and w["saves"]["failures"] == 0),
        row(f"  save p95, {SAVERS} partners with no pause", w["saves_saturated"]["save_ms"]["p95"],
            w["saves_saturated"]["get_ms"]["p95"], "ms", "(saturated: shown)", True),
        row("/state cold", staff["state_cold_s"], None, "s", "< 2 s",
            0 <= staff["state_cold_s"] < 2),
        row("/state cached", staff["state_cached_s"], staff["state_cold_s"], "s",
            "flat at any scale", True),
        row("state workbook download (web, cold)", staff["workbook_download_s"], None, "s",
            "< 5 s", 0 <= staff["workbook_download_s"] < 5),
    ]
    if national:
        rows.append(row("national export memory", exp["workbook"]["peak_mb"], None, "MB",
                        "< 300 MB", exp["workbook"]["peak_mb"] < 300))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--national", action="store_true",
                        help="40,200 respondents on PostgreSQL (SURVEY_BENCH_PG_URL or a "
                        "throwaway cluster)")
    parser.add_argument("--postgres", action="store_true",
                        help="the statewide set on PostgreSQL instead of SQLite")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--profile", type=Path, default=None,
                        help="record the server under the save load with py-spy into DIR")
    options = parser.parse_args()
    size = NATIONAL if options.national else STATEWIDE
    work = Path(tempfile.mkdtemp(prefix="bench-run-"))
    started = dt.datetime.now(dt.UTC)
    try:
        with contextlib.ExitStack() as stack:
            url = None
            if options.national or options.postgres:
                url = os.environ.get("SURVEY_BENCH_PG_URL") or stack.enter_context(
                    throwaway_postgres())
            imports_dir, state_dir = work / "import", work / "state"
            imports_dir.mkdir()
            state_dir.mkdir()
            print(f"imports ({size})...", flush=True)
            figures: dict[str, Any] = {"size": size, "started": started.isoformat()}
            figures["imports"] = bench_import.run(**size, database_url=url,
                                                  folder=imports_dir)
            print(f"  {figures['imports']}", flush=True)
            for name in ("responses.csv", "roster.csv"):
                shutil.copy(imports_dir / name, state_dir / name)
            survey = bench_import.Survey(state_dir, url)
            print("building the state's database...", flush=True)
            tokens = prepare(survey, state_dir)
            print("exports...", flush=True)
            figures["exports"] = cli_exports(survey, state_dir)
            print(f"  {figures['exports']}", flush=True)
            print("served pages and saves...", flush=True)
            figures["web"] = web(survey, state_dir, tokens, options.profile)
            figures["database"] = "postgresql" if url else "sqlite"
    finally:
        shutil.rmtree(work, ignore_errors=True)
    figures["seconds"] = round((dt.datetime.now(dt.UTC) - started).total_seconds(), 1)
    rows = table(figures, options.national)
    figures["table"] = rows
    print(f"\n{figures['database']}, {figures['imports']['answers']:,} answers, "
          f"{figures['seconds']} s in all")
    print(f"{'figure':<40} {'now':>14} {'baseline':>14} {'ratio':>7}  {'target':<18} met")
    for r in rows:
        ratio = "" if r["ratio"] is None else f"{r['ratio']}"
        print(f"{r['figure']:<40} {r['now']:>14} {r['baseline']:>14} {ratio:>7}  "
              f"{r['target']:<18} {'yes' if r['met'] else 'NO'}")
    out = options.json or HERE / "results" / (
        f"{'national' if options.national else 'statewide'}-{figures['database']}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
