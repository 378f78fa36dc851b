"""A full disk says so in one line and loses nothing (issue 18 item 2): the SQLite database
on a small tmpfs filled to the last byte, for the command-line imports, the web import, a
partner's save and `survey backup`; and everything works again once space is freed."""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from survey import create_app
from survey.db import db, make_engine
from survey.models import Answer, Member
from survey.schema import upgrade
from survey.services.accounts import create_user
from survey.web import faults
from tests.conftest import AuthActions, ClosingClient, csrf_token
from tests.factories import (
    make_board,
    make_cycle,
    make_invitation,
    make_member,
    make_partnership,
    shipped_questionnaire,
)
from tests.test_imports import RESPONSES_HEADER, ROSTER_HEADER, write_csv

SURVEY = str(Path(sys.executable).with_name("survey"))
PASSWORD = "correct horse battery"
HIDDEN_RE = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@dataclass
class Disk:
    """A small tmpfs; `fill()` takes its last byte, `free()` gives the space back."""

    path: Path

    def fill(self) -> None:
        fd = os.open(self.path / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        chunk = b"\0" * 65536
        try:
            while True:
                try:
                    os.write(fd, chunk)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    if len(chunk) == 1:
                        return
                    chunk = chunk[: len(chunk) // 16 or 1]
        finally:
            os.close(fd)

    def free(self) -> None:
        (self.path / "filler").unlink()


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Disk]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs",
                           str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"a tmpfs cannot be mounted here ({done.stderr.strip()})")
    try:
        yield Disk(mount)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("full-disk") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@dataclass
class World:
    app: Flask
    url: str
    env: dict[str, str]
    token: str
    codes: list[str]


@pytest.fixture
def on_full_disk(disk: Disk, sqlite_template: Path, tmp_path: Path) -> Iterator[World]:
    """An app whose SQLite database lives on `disk`: a board, a partner in an open cycle
    and an administrator, committed and checkpointed (the write-ahead log emptied), so
    that the next write needs space the disk will not have."""
    database = disk.path / "survey.sqlite3"
    shutil.copyfile(sqlite_template, database)
    url = f"sqlite:///{database}"
    env = {**os.environ, "SURVEY_INSTANCE_PATH": str(tmp_path / "instance"),
           "SURVEY_DATABASE_URL": url, "SURVEY_SECRET_KEY": "test-secret-key"}
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test-secret-key",
                      "BASE_URL": "http://survey.test", "SMTP_URL": ""})
    app.test_client_class = ClosingClient
    with app.app_context():
        session = db.session
        board = make_board(session, "15", "CareerSource Tampa Bay")
        partnership = make_partnership(session, board, "Tampa Bay Healthcare Collaborative")
        make_member(session, partnership, "business", email="ana.garcia@example.org")
        cycle = make_cycle(session, "2026")
        token = make_invitation(session, cycle, make_member(session, partnership))[1]
        create_user(session, "admin@example.org", PASSWORD, "admin")
        session.commit()
        session.connection().exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        session.commit()
    codes = [item.code for item in shipped_questionnaire().element("data").items]
    yield World(app, url, env, token, codes)
    assert db.engine is not None
    db.engine.dispose()


def counts(app: Flask) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Member)) or 0,
                db.session.scalar(select(func.count()).select_from(Answer)) or 0)


def survey(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SURVEY, *args], env=world.env, capture_output=True, text=True,
                          timeout=120)


def assert_one_line_full(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "the database is full" in lines[0]


def roster_file(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "roster.csv", ROSTER_HEADER, [
        ["15", "Tampa Bay Healthcare Collaborative", "Healthcare", f"Member {n}",
         f"member{n}@example.org", "Bayside Health", "education"] for n in range(40)])


def test_roster_import_on_a_full_disk_is_one_line_and_imports_nothing(
        on_full_disk: World, disk: Disk, tmp_path: Path) -> None:
    roster = roster_file(tmp_path)
    before = counts(on_full_disk.app)
    disk.fill()
    assert_one_line_full(survey(on_full_disk, "roster", "import", str(roster)))
    assert counts(on_full_disk.app) == before
    disk.free()
    again = survey(on_full_disk, "roster", "import", str(roster))
    assert again.returncode == 0, again.stderr
    assert counts(on_full_disk.app)[0] == before[0] + 40


def test_responses_import_on_a_full_disk_is_one_line_and_imports_nothing(
        on_full_disk: World, disk: Disk, tmp_path: Path) -> None:
    questionnaire = shipped_questionnaire()
    rows = [["2026", "15", "Tampa Bay Healthcare Collaborative", f"paper-{n}", "education",
             item.element_key, item.code, "3"] for n in range(30) for item in questionnaire.items]
    responses = write_csv(tmp_path / "responses.csv", RESPONSES_HEADER, rows)
    before = counts(on_full_disk.app)
    disk.fill()
    assert_one_line_full(survey(on_full_disk, "responses", "import", str(responses),
                                "--cycle", "2026"))
    assert counts(on_full_disk.app) == before
    disk.free()
    again = survey(on_full_disk, "responses", "import", str(responses), "--cycle", "2026")
    assert again.returncode == 0, again.stderr
    assert counts(on_full_disk.app)[1] == before[1] + len(rows)


def test_the_web_roster_import_on_a_full_disk_is_a_503_that_says_so(
        on_full_disk: World, disk: Disk, tmp_path: Path) -> None:
    admin = on_full_disk.app.test_client()
    assert AuthActions(admin).login("admin@example.org", PASSWORD).status_code in (302, 303)
    token = csrf_token(admin, "/admin/roster/import")
    before = counts(on_full_disk.app)
    disk.fill()
    with roster_file(tmp_path).open("rb") as f:
        response = admin.post("/admin/roster/import", data={"csrf_token": token,
                                                            "file": (f, "roster.csv")})
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "the database is full" in page and "Traceback" not in page
    assert counts(on_full_disk.app) == before
    disk.free()
    with roster_file(tmp_path).open("rb") as f:
        assert admin.post("/admin/roster/import", data={"csrf_token": token, "file": (
            f, "roster.csv")}).status_code == 302
    assert counts(on_full_disk.app)[0] == before[0] + 40


def test_a_save_on_a_full_disk_is_a_503_that_keeps_the_answers(
        on_full_disk: World, disk: Disk, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faults, "_last_traceback", {})  # no traceback yet this minute
    partner = on_full_disk.app.test_client()
    url = f"/s/{on_full_disk.token}/data"
    sent = {"csrf_token": csrf_token(partner, url), "action": "continue",
            "comment": "We meet the employers\nevery month",
            **{code: "3" for code in on_full_disk.codes}}
    disk.fill()
    caplog.set_level(logging.ERROR, logger="survey")
    failed = [partner.post(url, data=sent) for _ in range(2)]
    for response in failed:
        page = response.get_data(as_text=True)
        assert response.status_code == 503 and response.headers["Retry-After"]
        assert "The database is full" in page
        given_back = dict(HIDDEN_RE.findall(page))
        assert given_back.pop("csrf_token")  # a fresh token of the same session
        assert given_back == {k: v for k, v in sent.items() if k != "csrf_token"}
        assert "We meet the employers\nevery month" in page  # shown, not only hidden
    records = [r for r in caplog.records if r.name == "survey"]
    assert len(records) == 2
    assert all("database full, request id" in r.getMessage() for r in records)
    assert [r.getMessage().split("request id ")[1].split(",")[0] for r in records] == [
        r.headers["X-Request-Id"] for r in failed]
    assert records[0].exc_info and not records[1].exc_info  # one traceback a minute
    assert counts(on_full_disk.app)[1] == 0

    disk.free()
    given_back = dict(HIDDEN_RE.findall(failed[-1].get_data(as_text=True)))
    assert partner.post(url, data=given_back).status_code == 303  # "Try again"
    assert counts(on_full_disk.app)[1] == len(on_full_disk.codes)


def test_a_backup_onto_a_full_disk_is_one_line_and_leaves_no_archive(
        app: Flask, disk: Disk, tmp_path: Path, database_url: str) -> None:
    from tests.conftest import TEST_DATABASE_URL, on_postgres

    env = {**os.environ, "SURVEY_INSTANCE_PATH": str(tmp_path / "instance"),
           "SURVEY_DATABASE_URL": TEST_DATABASE_URL if on_postgres() else database_url,
           "SURVEY_SECRET_KEY": "test-secret-key"}
    with app.app_context():
        for n in range(3):
            make_board(db.session, f"9{n}", f"Board {n}")
        db.session.commit()
    disk.fill()
    result = subprocess.run([SURVEY, "backup", str(disk.path / "backup.zip")], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0], result.stderr
    assert sorted(p.name for p in disk.path.iterdir()) == ["filler"]
    disk.free()
    again = subprocess.run([SURVEY, "backup", str(disk.path / "backup.zip")], env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert (disk.path / "backup.zip").stat().st_size > 0
