"""Concurrent partners saving element pages through the real stack on SQLite.

Serves the app with waitress, in a process of its own, on 127.0.0.1 (a free port) over a
temporary SQLite file with N invitations, then fires element saves (the full POST with its
CSRF token, as a browser sends it) from 8 threads, and the same load from 1 thread as a
baseline. Reports requests/second, p50/p95 latency, errors and "database is locked" counts
(which must be 0), and checks the database holds one answer row per saved item. Exits 1 if
any save failed.

    python benchmarks/bench_concurrent_saves.py [--requests 400] [--threads 8] [--invitations 24]
"""

from __future__ import annotations

import argparse
import http.client
import logging
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402
from waitress import create_server  # noqa: E402

from survey import create_app  # noqa: E402
from survey.db import db  # noqa: E402
from survey.models import Answer, Board, Cycle, Member, Partnership, utcnow  # noqa: E402
from survey.questionnaire import Questionnaire, default_folder, load_questionnaire  # noqa: E402
from survey.schema import upgrade  # noqa: E402
from survey.services.invitations import add_token, invitation_for  # noqa: E402

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
VALUES = ("1", "2", "3", "4", "DK", "NA")


def serve(database_url: str, instance: str, threads: int) -> None:
    """The server process: waitress on a free port, printed on stdout; errors to stderr."""
    os.environ["SURVEY_INSTANCE_PATH"] = instance
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench-secret",
                      "BASE_URL": "http://127.0.0.1:5000"})
    server = create_server(app, host="127.0.0.1", port=0, threads=threads)
    print(server.effective_port, flush=True)  # type: ignore[union-attr]
    server.run()


@dataclass
class Run:
    threads: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    client_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return self.statuses.get(303, 0)

    @property
    def failed(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 303) + len(
            self.client_errors
        )

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


def build(app, questionnaire: Questionnaire, invitations: int) -> list[str]:
    """An open cycle and N invitations; returns their link tokens."""
    today = utcnow().date()
    with app.app_context():
        session = db.session
        board = Board(code="01", name="Bench Board")
        partnership = Partnership(board=board, name="Bench Partnership", sector="Manufacturing")
        cycle = Cycle(name="bench", status="open", opens_on=today, closes_on=today.replace(
            year=today.year + 1), content=questionnaire.to_dict(),
            content_hash=questionnaire.content_hash, opened_at=utcnow())
        session.add_all([board, partnership, cycle])
        tokens = []
        for n in range(invitations):
            member = Member(partnership=partnership, partner_type="business",
                            email=f"partner{n}@example.org", name=f"Partner {n}")
            session.add(member)
            session.flush()
            invitation, _ = invitation_for(session, cycle, member)
            tokens.append(add_token(session, invitation))
        session.commit()
    return tokens


def worker(port: int, tokens: list[str], questionnaire: Questionnaire, count: int,
           seed: int, run: Run, lock: threading.Lock) -> None:
    """One browser: fetch a page for its session cookie and CSRF token, then save pages."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", f"/s/{tokens[0]}/{questionnaire.elements[0].key}")
        response = conn.getresponse()
        body = response.read().decode()
        cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
        csrf = CSRF_RE.search(body).group(1)
    except Exception as exc:
        with lock:
            run.client_errors.append(repr(exc))
        return
    for _ in range(count):
        token = rng.choice(tokens)
        element = rng.choice(questionnaire.elements)
        form = {item.code: rng.choice(VALUES) for item in element.items}
        form.update(csrf_token=csrf, action="continue", comment=f"Seen in cycle {seed}")
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        started = time.perf_counter()
        try:
            conn.request("POST", f"/s/{token}/{element.key}", urlencode(form), headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except Exception as exc:
            with lock:
                run.client_errors.append(repr(exc))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        elapsed = time.perf_counter() - started
        with lock:
            run.latencies.append(elapsed)
            run.statuses[status] = run.statuses.get(status, 0) + 1
    conn.close()


def load(port: int, tokens: list[str], questionnaire: Questionnaire, requests: int,
         threads: int) -> Run:
    """Fire `requests` saves spread over `threads` threads; wait for all of them."""
    run = Run(threads)
    lock = threading.Lock()
    shares = [requests // threads + (1 if i < requests % threads else 0) for i in range(threads)]
    pool = [
        threading.Thread(target=worker, args=(port, tokens, questionnaire, share, seed, run, lock))
        for seed, share in enumerate(shares)
    ]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    run.seconds = time.perf_counter() - started
    return run


def report(run: Run) -> str:
    rate = run.ok / run.seconds if run.seconds else 0.0
    return (f"{run.threads} thread{'s' if run.threads != 1 else ' '}: {run.ok} saves in "
            f"{run.seconds:.2f}s = {rate:.1f} req/s, p50 {run.percentile(50):.1f} ms, "
            f"p95 {run.percentile(95):.1f} ms, failed {run.failed}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--invitations", type=int, default=24)
    parser.add_argument("--serve", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--instance", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.instance, args.threads)
        return 0

    questionnaire = load_questionnaire(default_folder())
    with tempfile.TemporaryDirectory() as tmp:
        instance = str(Path(tmp) / "instance")
        os.environ["SURVEY_INSTANCE_PATH"] = instance
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret",
                          "BASE_URL": "http://127.0.0.1:5000"})
        assert db.engine is not None
        upgrade(db.engine)
        tokens = build(app, questionnaire, args.invitations)

        # The server runs in its own process so that client threads do not share its GIL.
        server_log = Path(tmp) / "server.log"
        with server_log.open("w") as log_file:
            server = subprocess.Popen(
                [sys.executable, __file__, "--serve", url, "--instance", instance,
                 "--threads", str(args.threads)],
                stdout=subprocess.PIPE, stderr=log_file, text=True,
            )
            try:
                assert server.stdout is not None
                port = int(server.stdout.readline())
                load(port, tokens, questionnaire, 20, 2)  # warm up
                baseline = load(port, tokens, questionnaire, args.requests, 1)
                concurrent = load(port, tokens, questionnaire, args.requests, args.threads)
            finally:
                server.terminate()
                server.wait(timeout=30)
        server_errors = server_log.read_text()

        with app.app_context():
            rows = db.session.execute(select(func.count(Answer.id))).scalar_one()
            distinct = db.session.execute(
                select(func.count()).select_from(
                    select(Answer.invitation_id, Answer.item_code).distinct().subquery()
                )
            ).scalar_one()
        db.engine.dispose()

    locked = server_errors.count("database is locked")
    logged = server_errors.count("ERROR:")
    print(f"SQLite, waitress ({args.threads} server threads), {args.invitations} invitations, "
          f"{len(questionnaire.items)} items")
    print(report(baseline))
    print(report(concurrent))
    base_rate = baseline.ok / baseline.seconds
    print(f"throughput ratio {args.threads} threads / 1 thread: "
          f"{concurrent.ok / concurrent.seconds / base_rate:.2f}x")
    print(f"server errors logged: {logged}, 'database is locked': {locked}")
    print(f"answer rows: {rows}, distinct (invitation, item): {distinct}")
    for problem in (baseline.client_errors + concurrent.client_errors)[:5]:
        print("client error:", problem)
    good = (locked == 0 and logged == 0 and baseline.failed == 0
            and concurrent.failed == 0 and rows == distinct)
    print("OK" if good else "FAILED")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
