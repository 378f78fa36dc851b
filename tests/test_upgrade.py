"""Upgrading a database of the previous release (schema 0001) with its data in it.

`survey init` runs the migrations: every row survives, the new columns get the values
the new release expects (a cycle closed before the upgrade is published: published_at
= closed_at), and the app serves the old data. Runs on SQLite, and on PostgreSQL when
SURVEY_TEST_DATABASE_URL is set (in a database of its own, created and dropped here).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url

from survey import create_app
from survey.db import db, make_engine
from survey.schema import alembic_config
from survey.services.accounts import hash_password
from tests.conftest import TEST_DATABASE_URL, csrf_token, on_postgres
from tests.factories import shipped_questionnaire

PASSWORD = "correct horse battery"
TOKEN = "old-release-partner-token-0123456789abcdef"
CLOSED_AT = dt.datetime(2024, 4, 27, 3, 59, 59, 123456, tzinfo=dt.UTC)
CREATED = dt.datetime(2024, 1, 15, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def old_database(tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of its own (SQLite file, or a new PostgreSQL database)."""
    if not on_postgres():
        yield f"sqlite:///{tmp_path / 'old-release.sqlite3'}"
        return
    base = make_url(TEST_DATABASE_URL)
    name = f"{base.database}_upgrade"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def migrate_to(engine: Engine, revision: str) -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def stamp(conn: Connection, value: dt.datetime | None) -> Any:
    """A time as the previous release stored it: aware on PostgreSQL, UTC text on SQLite."""
    if value is None or conn.dialect.name == "postgresql":
        return value
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def fill_previous_release(conn: Connection) -> dict[str, int]:
    """Realistic rows of schema 0001, written with plain SQL; returns rows per table."""
    questionnaire = shipped_questionnaire()
    content = json.dumps(questionnaire.to_dict())
    t = lambda value: stamp(conn, value)  # noqa: E731
    sql = lambda statement, rows: conn.execute(text(statement), rows)  # noqa: E731
    sql("INSERT INTO boards (id, code, name, status, merged_into_id, created_at) "
        "VALUES (:id, :code, :name, :status, :merged, :at)", [
            {"id": 1, "code": "15", "name": "CareerSource Tampa Bay", "status": "active",
             "merged": None, "at": t(CREATED)},
            {"id": 2, "code": "16", "name": "CareerSource Pinellas", "status": "active",
             "merged": None, "at": t(CREATED)},
            {"id": 3, "code": "99", "name": "Old Board", "status": "merged", "merged": 1,
             "at": t(CREATED)}])
    sql("INSERT INTO partnerships (id, board_id, name, sector, active, created_at) "
        "VALUES (:id, :board, :name, :sector, :active, :at)", [
            {"id": 1, "board": 1, "name": "Tampa Bay Manufacturing", "sector": "Manufacturing",
             "active": True, "at": t(CREATED)},
            {"id": 2, "board": 2, "name": "Pinellas Health Care", "sector": "Health care",
             "active": True, "at": t(CREATED)}])
    members = [{"id": i, "partnership": 1 if i <= 4 else 2, "name": f"Partner {i}",
                "email": f"partner{i}@example.org", "org": "Acme", "type":
                "business" if i % 2 else "education", "key": None, "active": i != 6,
                "at": t(CREATED)} for i in range(1, 7)]
    sql("INSERT INTO members (id, partnership_id, name, email, organization, partner_type, "
        "respondent_key, active, created_at) VALUES (:id, :partnership, :name, :email, :org, "
        ":type, :key, :active, :at)", members)
    sql("INSERT INTO cycles (id, name, opens_on, closes_on, status, content, content_hash, "
        "opened_at, closed_at, created_at) VALUES (:id, :name, :opens, :closes, :status, "
        ":content, :hash, :opened, :closed, :at)", [
            {"id": 1, "name": "2024", "opens": dt.date(2024, 3, 4), "closes": dt.date(2024, 4, 26),
             "status": "closed", "content": content, "hash": questionnaire.content_hash,
             "opened": t(CREATED), "closed": t(CLOSED_AT), "at": t(CREATED)},
            {"id": 2, "name": "2025", "opens": dt.date(2025, 3, 3),
             "closes": dt.date(2099, 4, 25), "status": "open", "content": content,
             "hash": questionnaire.content_hash, "opened": t(CREATED), "closed": None,
             "at": t(CREATED)}])
    if conn.dialect.name == "sqlite":  # dates as the previous release stored them
        conn.execute(text("UPDATE cycles SET opens_on = substr(opens_on, 1, 10), "
                          "closes_on = substr(closes_on, 1, 10)"))
    participations, invitations, answers, comments = [], [], [], []
    for cycle_id in (1, 2):
        for partnership_id, board_id, code, board_name, pname, sector in (
                (1, 1, "15", "CareerSource Tampa Bay", "Tampa Bay Manufacturing", "Manufacturing"),
                (2, 2, "16", "CareerSource Pinellas", "Pinellas Health Care", "Health care")):
            participations.append({
                "id": len(participations) + 1, "cycle": cycle_id, "partnership": partnership_id,
                "board": board_id, "code": code, "bname": board_name, "pname": pname,
                "sector": sector})
    sql("INSERT INTO participations (id, cycle_id, partnership_id, board_id, board_code, "
        "board_name, partnership_name, sector) VALUES (:id, :cycle, :partnership, :board, "
        ":code, :bname, :pname, :sector)", participations)
    for member in members[:5]:
        for cycle_id in (1, 2):
            invitation_id = len(invitations) + 1
            participation = (cycle_id - 1) * 2 + member["partnership"]
            submitted = cycle_id == 1 and member["partnership"] == 1
            invitations.append({
                "id": invitation_id, "cycle": cycle_id, "member": member["id"],
                "participation": participation, "type": member["type"],
                "status": "submitted" if submitted else
                ("in_progress" if member["id"] == 5 else "not_started"),
                "at": t(CREATED), "started": t(CREATED) if submitted or member["id"] == 5 else None,
                "submitted": t(CLOSED_AT - dt.timedelta(days=2)) if submitted else None})
            if submitted:
                for n, item in enumerate(questionnaire.items):
                    level = None if n % 7 == 6 else 1 + (member["id"] + n) % 4
                    answers.append({"inv": invitation_id, "el": item.element_key,
                                    "item": item.code, "level": level,
                                    "special": "DK" if level is None else None,
                                    "at": t(CLOSED_AT - dt.timedelta(days=3))})
                comments.append({"inv": invitation_id, "el": "vision",
                                 "text": f"Evidence from partner {member['id']}: “quoted” café"})
    sql("INSERT INTO invitations (id, cycle_id, member_id, participation_id, status, "
        "partner_type, source, invited_at, started_at, updated_at, submitted_at) VALUES (:id, "
        ":cycle, :member, :participation, :status, :type, 'web', :at, :started, :started, "
        ":submitted)", invitations)
    sql("INSERT INTO answers (invitation_id, element_key, item_code, level, special, updated_at) "
        "VALUES (:inv, :el, :item, :level, :special, :at)", answers)
    sql("INSERT INTO comments (invitation_id, element_key, text) VALUES (:inv, :el, :text)",
        comments)
    open_invitation = next(i["id"] for i in invitations if i["cycle"] == 2 and i["member"] == 1)
    sql("INSERT INTO invitation_tokens (invitation_id, token_hash, created_at) "
        "VALUES (:inv, :hash, :at)", [{"inv": open_invitation, "at": t(CREATED),
                                       "hash": hashlib.sha256(TOKEN.encode()).hexdigest()}])
    sql("INSERT INTO users (email, password_hash, role, board_id, active, failed_logins, "
        "locked_until, session_version, created_at) VALUES (:email, :hash, :role, :board, "
        "true, 0, NULL, 1, :at)", [
            {"email": "admin@example.org", "hash": hash_password(PASSWORD), "role": "admin",
             "board": None, "at": t(CREATED)},
            {"email": "lead15@example.org", "hash": hash_password(PASSWORD), "role": "board",
             "board": 1, "at": t(CREATED)}])
    if conn.dialect.name == "postgresql":  # explicit ids: move the sequences on
        for table in ("boards", "partnerships", "members", "cycles", "participations",
                      "invitations"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT MAX(id) FROM {table}))"))
    return {"boards": 3, "partnerships": 2, "members": 6, "cycles": 2, "participations": 4,
            "invitations": len(invitations), "answers": len(answers),
            "comments": len(comments), "invitation_tokens": 1, "users": 2}


def test_survey_init_upgrades_a_previous_release_database_with_its_data(
        old_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        request: pytest.FixtureRequest) -> None:
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path / "instance"))
    engine = make_engine(old_database)
    request.addfinalizer(engine.dispose)
    migrate_to(engine, "0001")
    with engine.begin() as conn:
        counts = fill_previous_release(conn)
        before = {table: conn.execute(text(f"SELECT * FROM {table} ORDER BY id")).all()
                  for table in counts}

    app = create_app({"TESTING": True, "DATABASE_URL": old_database,
                      "SECRET_KEY": "test-secret-key", "BASE_URL": "http://survey.test",
                      "SMTP_URL": ""})
    request.addfinalizer(db.engine.dispose)  # type: ignore[union-attr]
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert "loaded" not in result.output  # the board map is there: no Florida boards added

    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0005"
        mapped = {"Health care": "Healthcare"}  # on the sector list (SPEC 16); the rest kept
        for table, rows in before.items():  # every old column of every row, unchanged
            after = conn.execute(text(f"SELECT * FROM {table} ORDER BY id")).mappings().all()
            assert len(after) == counts[table]
            assert [tuple(r[c] for c in rows[0]._fields) for r in after] == [
                tuple(mapped.get(v, v) if c == "sector" else v
                      for c, v in zip(rows[0]._fields, r, strict=True)) for r in rows], table
        assert conn.execute(text("SELECT sector FROM partnerships ORDER BY id")).scalars(
            ).all() == ["Manufacturing", "Healthcare"]
        cycles = conn.execute(text("SELECT name, status, closed_at, published_at, "
                                   "results_version FROM cycles ORDER BY id")).all()
        (_, _, closed_at, published_2024, version_2024), (_, _, _, published_2025, version_2025) \
            = cycles
        assert published_2024 == closed_at and published_2024 is not None
        assert published_2025 is None
        assert version_2024 == version_2025 == 0
        assert conn.execute(text("SELECT count(*) FROM members WHERE language IS NOT NULL")
                            ).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM invitations WHERE language IS NOT NULL")
                            ).scalar() == 0
        for table in ("plan_entries", "plan_changes", "audit_events", "staff_sessions",
                      "login_throttles"):
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0, table

    with app.app_context():
        client = app.test_client()
        # A board lead sees the closed (so published) 2024 results of their board...
        token = csrf_token(client, "/login")
        assert client.post("/login", data={"email": "lead15@example.org", "password": PASSWORD,
                                           "csrf_token": token}).status_code == 302
        page = client.get("/boards/15?cycle=2024")
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        assert "Tampa Bay Manufacturing" in body and "CareerSource Tampa Bay" in body
        assert "Partnerships: stage, change in the overall score" in body  # results shown
        assert "Response progress" not in body  # not withheld as an unpublished cycle
        assert client.get("/boards/16?cycle=2024").status_code == 404
        # ...and a partner's link from the previous release still opens their survey.
        partner = app.test_client()
        assert partner.get(f"/s/{TOKEN}").status_code == 200
        exported = app.test_cli_runner().invoke(
            args=["export", str(tmp_path / "2024.xlsx"), "--cycle", "2024"])
        assert exported.exit_code == 0, exported.output
        assert "2 partnerships" in exported.output


def test_survey_init_from_schema_0002_gives_every_published_cycle_its_release_1(
        old_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        request: pytest.FixtureRequest) -> None:
    from survey import releases
    from survey.scoring import cycle_by_name

    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path / "instance"))
    engine = make_engine(old_database)
    request.addfinalizer(engine.dispose)
    migrate_to(engine, "0001")
    with engine.begin() as conn:
        fill_previous_release(conn)
    migrate_to(engine, "0002")  # the release before this one: closed cycles published_at
    app = create_app({"TESTING": True, "DATABASE_URL": old_database,
                      "SECRET_KEY": "test-secret-key", "BASE_URL": "http://survey.test",
                      "SMTP_URL": ""})
    request.addfinalizer(db.engine.dispose)  # type: ignore[union-attr]
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert "cycle 2024: release 1 published from the data as it stands" in result.output
    assert "2025" not in result.output  # open, never published: no release
    with app.app_context():
        session = db.session
        row = releases.current(session, cycle_by_name(session, "2024"))
        assert row is not None and row.number == 1 and row.note == releases.UPGRADE_NOTE
        assert releases.stamp(row).published_at == CLOSED_AT  # published when it closed
        results = releases.release_results(row, "15")
        assert [(p.label, p.responded) for p in results.partnerships] == [
            ("Tampa Bay Manufacturing", 4)]
        assert releases.current(session, cycle_by_name(session, "2025")) is None
        again = app.test_cli_runner().invoke(args=["init"])
        assert again.exit_code == 0 and "release 1" not in again.output
        assert [r.number for r in releases.all_releases(
            session, cycle_by_name(session, "2024"))] == [1]
