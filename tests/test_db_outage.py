"""A PostgreSQL outage reads as "try again in a moment", keeps what the partner typed, and
ends without restarting the app (issue 18 item 2). The test starts a PostgreSQL cluster of
its own, on a free loopback port, so that it can stop it in the middle of a save."""

from __future__ import annotations

import logging
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from survey import create_app
from survey.db import CYCLE_GATE, database_fault, database_problem, db, make_engine
from survey.models import Answer
from survey.questionnaire import Questionnaire
from survey.schema import upgrade
from survey.web import faults
from tests.conftest import ClosingClient, csrf_token
from tests.factories import make_board, make_cycle, make_invitation, make_member, make_partnership
from tests.test_serve import free_port

HIDDEN_RE = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
SURVEY = str(Path(sys.executable).with_name("survey"))
PG_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))


class Cluster:
    """A throwaway PostgreSQL cluster that the test can stop and start."""

    def __init__(self) -> None:
        assert PG_BINS, "PostgreSQL is not installed (./run-tests installs it)"
        self.bin = PG_BINS[-1]
        self.folder = Path(tempfile.mkdtemp(prefix="survey-outage-"))
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        self.run("initdb", "-D", f"{self.folder}/data", "-U", "postgres", "--auth=trust",
                 "-E", "UTF8")
        self.start()
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                 "survey_outage")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/survey_outage"

    def run(self, tool: str, *args: str, check: bool = True) -> None:
        command = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=check, capture_output=True, timeout=120)

    def start(self) -> None:
        self.run("pg_ctl", "-D", f"{self.folder}/data", "-w", "-l", f"{self.folder}/log",
                 "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                 "-c fsync=off", "start")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", f"{self.folder}/data", "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        self.run("pg_ctl", "-D", f"{self.folder}/data", "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    cluster = Cluster()
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def outage_app(cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
               ) -> Iterator[tuple[Flask, str, int, list[str]]]:
    """The app on the cluster, with a partner in an open cycle: (app, token, cycle id,
    item codes of the element the partner saves)."""
    engine = make_engine(cluster.url)
    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({"TESTING": True, "DATABASE_URL": cluster.url, "SECRET_KEY": "outage",
                      "BASE_URL": "http://survey.test", "SMTP_URL": ""})
    app.test_client_class = ClosingClient
    with app.app_context():
        session = db.session
        partnership = make_partnership(session, make_board(session, "15", "Board 15"), "P")
        cycle = make_cycle(session, "2026")
        token = make_invitation(session, cycle, make_member(session, partnership))[1]
        session.commit()
        codes = [item.code for item in
                 Questionnaire.from_dict(cycle.content).element("data").items]
        cycle_id = cycle.id
    yield app, token, cycle_id, codes
    assert db.engine is not None
    db.engine.dispose()


def stored_answers(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Answer)) or 0


def test_postgresql_stopped_mid_save_gives_a_503_keeps_the_answers_and_recovers(
        cluster: Cluster, outage_app, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    app, token, cycle_id, codes = outage_app
    monkeypatch.setattr(faults, "_last_traceback", {})
    caplog.set_level(logging.ERROR, logger="survey")
    partner = app.test_client()
    url = f"/s/{token}/data"
    sent = {"csrf_token": csrf_token(partner, url), "action": "continue",
            "comment": "Employers chair the meetings", **{code: "4" for code in codes}}

    # A save waits on the cycle's gate (held here, as a cycle close would), mid-transaction,
    # when the cluster is stopped under it.
    holder = psycopg.connect(cluster.url.replace("+psycopg", ""), autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s, %s)", (CYCLE_GATE, cycle_id))
    answers: list = []
    saving = threading.Thread(target=lambda: answers.append(partner.post(url, data=sent)))
    saving.start()
    time.sleep(1.5)
    assert saving.is_alive(), "the save did not wait on the gate"
    cluster.stop()
    saving.join(30)
    holder.close()
    later = partner.post(url, data=sent)  # while the cluster is down: no connection at all

    for response in (answers[0], later):
        page = response.get_data(as_text=True)
        assert response.status_code == 503, page[:300]
        assert "Try again in a moment" in page and "Traceback" not in page
        given_back = dict(HIDDEN_RE.findall(page))  # what they typed, ready to resend
        assert given_back.pop("csrf_token")  # a fresh token of the same session
        assert given_back == {k: v for k, v in sent.items() if k != "csrf_token"}
        assert "Employers chair the meetings" in page
    records = [r for r in caplog.records if r.name == "survey"]
    assert len(records) == 2, [r.getMessage() for r in records]
    assert all("database unavailable, request id" in r.getMessage() for r in records)
    assert records[0].exc_info and not records[1].exc_info

    env = {**os.environ, "SURVEY_DATABASE_URL": cluster.url, "SURVEY_SECRET_KEY": "outage",
           "SURVEY_INSTANCE_PATH": str(Path(app.instance_path))}
    down = subprocess.run([SURVEY, "cycle", "list"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert down.returncode == 1 and "Traceback" not in down.stderr
    assert down.stderr.strip() == ("error: the database is unavailable; nothing was changed: "
                                   "try again in a moment")

    cluster.start()  # the same app, not restarted: its pool finds the new server
    given_back = dict(HIDDEN_RE.findall(later.get_data(as_text=True)))
    assert partner.post(url, data=given_back).status_code == 303
    assert stored_answers(app) == len(codes)
    assert partner.get(url).status_code == 200


@pytest.mark.parametrize(("error", "kind"), [
    (psycopg.errors.DiskFull("could not extend file: No space left on device"), "full"),
    (psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
     "unavailable"),
    (psycopg.errors.CannotConnectNow("the database system is starting up"), "unavailable"),
    (psycopg.errors.TooManyConnections("sorry, too many clients already"), "unavailable"),
    (psycopg.OperationalError("connection failed: Connection refused"), "unavailable"),
    (sqlite3.OperationalError("database or disk is full"), "full"),
    (sqlite3.OperationalError("database is locked"), "locked"),
    (sqlite3.OperationalError("unable to open database file"), "unavailable"),
    (sqlite3.OperationalError("no such table: boards"), None),
    (psycopg.errors.UniqueViolation("duplicate key value"), None),
    (psycopg.errors.NumericValueOutOfRange("integer out of range"), None),
])
def test_database_faults_are_told_from_bugs(error: Exception, kind: str | None) -> None:
    """Full, unavailable and locked are the database's state (503, try again); anything
    else is a bug (500, its traceback logged)."""
    driver_error = psycopg.Error if isinstance(error, psycopg.Error) else sqlite3.Error
    wrapped = DBAPIError.instance("SELECT 1", None, error, driver_error)
    assert database_fault(wrapped) == kind
    line = database_problem(wrapped)
    assert "\n" not in line
    if kind == "full":
        assert line.startswith("the database is full")
    if kind == "unavailable":
        assert line.startswith("the database is unavailable")
