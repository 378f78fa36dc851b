"""Sectors from a list shipped as data (SPEC 16): imports and forms take a code or a name,
an unknown sector is a row error naming the list, and the upgrade maps today's free
text by name and leaves the rest for an administrator to map on the web."""

from __future__ import annotations

import csv
from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy import MetaData, Table, create_engine, insert, select, text
from sqlalchemy.orm import Session

from survey import create_app
from survey.db import db, make_engine
from survey.models import AuditEvent, Participation, Partnership
from survey.sectors import SECTORS_FILE, find_sector, sectors
from survey.services.accounts import create_user
from tests.conftest import csrf_token
from tests.factories import make_board, make_cycle, make_partnership
from tests.test_upgrade import migrate_to, old_database  # noqa: F401  (a fixture)

ROSTER_HEADER = ["board", "partnership", "sector", "name", "email", "organization", "partner_type"]
PASSWORD = "correct horse battery"


def test_the_list_covers_the_industries_florida_boards_target():
    with SECTORS_FILE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["code", "name", "naics"]
    codes = [s.code for s in sectors()]
    assert len(codes) == len(set(codes)) == len(rows)
    assert all(s.naics and all(p.isdigit() and 2 <= len(p) <= 6 for p in s.naics)
               for s in sectors())
    for wanted in ("Advanced Manufacturing", "Healthcare", "Information Technology",
                   "Logistics and Distribution", "Construction", "Financial Services",
                   "Hospitality and Tourism", "Aviation and Aerospace", "Agriculture", "Energy",
                   "Life Sciences", "Marine", "Defense and Homeland Security"):
        assert find_sector(wanted) is not None, wanted
    assert find_sector("mfg").name == "Advanced Manufacturing"  # a code, any case
    assert find_sector("Health care").name == "Healthcare"  # spacing ignored
    assert find_sector("Logistics & Distribution").name == "Logistics and Distribution"
    assert find_sector("Widgets") is None


def test_a_roster_takes_a_code_or_a_name_and_names_the_list_for_an_unknown_one(
        runner: FlaskCliRunner, session: Session, tmp_path: Path):
    make_board(session, "15")
    session.commit()
    path = tmp_path / "roster.csv"
    rows = [["15", "Tampa Tech", "IT", "Ana", "ana@example.org", "Acme", "business"],
            ["15", "Tampa Ships", "Shipbuilding", "Bo", "bo@example.org", "Acme", "business"],
            ["15", "Tampa Care", "healthcare", "Cy", "cy@example.org", "Acme", "business"],
            ["15", "Tampa Fun", "Fun", "Di", "di@example.org", "Acme", "business"]]
    with path.open("w", newline="") as f:
        csv.writer(f).writerows([ROSTER_HEADER, *rows])
    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 1
    assert "2 bad rows in roster.csv, no members imported" in result.output
    assert "row 3: unknown sector 'Shipbuilding': use a code or name from the sector list " \
        "survey/data/sectors.csv (MFG, HLT," in result.output
    assert "row 5: unknown sector 'Fun'" in result.output
    assert session.execute(select(Partnership)).first() is None
    with path.open("w", newline="") as f:
        csv.writer(f).writerows([ROSTER_HEADER, rows[0], rows[2]])
    assert runner.invoke(args=["roster", "import", str(path)]).exit_code == 0
    session.expire_all()
    assert dict(session.execute(select(Partnership.name, Partnership.sector)).all()) == {
        "Tampa Tech": "Information Technology", "Tampa Care": "Healthcare"}


def test_an_administrator_maps_a_sector_typed_before_the_list(client, auth, session):
    board = make_board(session, "15")
    cycle = make_cycle(session, "2025")
    ports = make_partnership(session, board, "Port Alliance", sector="Blue economy <b>")
    session.add(Participation(cycle=cycle, partnership=ports, board=board, board_code="15",
                              board_name=board.name, partnership_name=ports.name,
                              sector="Blue economy <b>"))
    create_user(session, "admin@example.org", PASSWORD, "admin")
    create_user(session, "lead@example.org", PASSWORD, "board", board=board)
    session.commit()
    auth.login("lead@example.org")
    assert client.get("/admin/sectors").status_code == 404
    auth.logout()
    auth.login("admin@example.org")
    assert "1 sectors typed before it wait to be mapped" in client.get("/admin/").get_data(
        as_text=True)
    page = client.get("/admin/sectors").get_data(as_text=True)
    assert "Blue economy &lt;b&gt;" in page and "Blue economy <b>" not in page
    token = csrf_token(client, "/admin/sectors")
    assert client.post("/admin/sectors/map", data={"text": "Blue economy <b>", "sector": "",
                                                   "csrf_token": token}).status_code == 302
    assert session.execute(select(Partnership.sector)).scalar() == "Blue economy <b>"
    assert client.post("/admin/sectors/map", data={"text": "Blue economy <b>", "sector": "MAR"}
                       ).status_code == 400  # no CSRF token
    response = client.post("/admin/sectors/map", data={
        "text": "Blue economy <b>", "sector": "MAR", "csrf_token": token})
    assert response.status_code == 302
    session.expire_all()
    assert session.execute(select(Partnership.sector)).scalar() == "Marine"
    assert session.execute(select(Participation.sector)).scalar() == "Marine"
    assert session.execute(select(AuditEvent.action)).scalars().all()[-1] == "sector.map"
    assert "Every partnership's sector is on the list" in client.get(
        "/admin/sectors").get_data(as_text=True)


def copy_rows(source: str, target: str, tables: list[str]) -> dict[str, int]:
    """Every row of `tables`, in the columns the target (schema 0002) has."""
    src, dst = create_engine(source), create_engine(target)
    counts = {}
    try:
        old, new = MetaData(), MetaData()
        old.reflect(dst)
        new.reflect(src)
        with src.connect() as read, dst.begin() as write:
            for name in tables:
                table: Table = old.tables[name]
                rows = [dict(r) for r in read.execute(
                    select(*(new.tables[name].c[c.name] for c in table.columns))).mappings()]
                if rows:
                    write.execute(insert(table), rows)
                counts[name] = len(rows)
            if dst.dialect.name == "postgresql":
                for name in tables:
                    write.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                       f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"))
    finally:
        src.dispose()
        dst.dispose()
    return counts


def test_the_upgrade_maps_a_copy_of_the_demo_data(
        app, runner, old_database, tmp_path, monkeypatch, request):  # noqa: F811
    """`survey demo` data as schema 0002 holds it, with sectors typed a few ways, upgraded."""
    assert runner.invoke(args=["demo"]).exit_code == 0
    engine = make_engine(old_database)
    request.addfinalizer(engine.dispose)
    migrate_to(engine, "0002")
    tables = ["boards", "partnerships", "members", "cycles", "participations", "invitations",
              "invitation_tokens", "answers", "comments", "users"]
    counts = copy_rows(app.config["DATABASE_URL"], old_database, tables)
    assert counts["partnerships"] > 40 and counts["answers"] > 10_000
    with engine.begin() as conn:  # today's free text, typed as people type it
        conn.execute(text("UPDATE partnerships SET sector = 'health care' "
                          "WHERE sector = 'Healthcare'"))
        conn.execute(text("UPDATE participations SET sector = 'Logistics & distribution' "
                          "WHERE sector = 'Logistics and Distribution'"))
        conn.execute(text("UPDATE partnerships SET sector = 'Space industry' WHERE id = "
                          "(SELECT MIN(id) FROM partnerships WHERE sector = 'Aviation and "
                          "Aerospace')"))
        before = dict(conn.execute(text("SELECT sector, count(*) FROM partnerships "
                                        "GROUP BY sector")).all())
    assert before["health care"] > 5 and before["Space industry"] == 1

    db.engine.dispose()  # `db` is one object: the next app replaces the demo's engine
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path / "old-instance"))
    upgraded = create_app({"TESTING": True, "DATABASE_URL": old_database,
                           "SECRET_KEY": "test-secret-key", "SMTP_URL": ""})
    with upgraded.app_context():
        request.addfinalizer(db.engine.dispose)
        result = upgraded.test_cli_runner().invoke(args=["init"])
        assert result.exit_code == 0, result.output
        assert "1 sectors are not on the sector list; map them at /admin/sectors: " \
            "'Space industry'" in result.output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0005"
        after = dict(conn.execute(text("SELECT sector, count(*) FROM partnerships "
                                       "GROUP BY sector")).all())
        cycles = set(conn.execute(text("SELECT DISTINCT sector FROM participations")).scalars())
        assert conn.execute(text("SELECT count(*) FROM answers")).scalar() == counts["answers"]
    assert after["Healthcare"] == before["health care"] and "health care" not in after
    assert after["Space industry"] == 1
    assert all(find_sector(s) is not None and find_sector(s).name == s
               for s in after if s != "Space industry")
    assert "Logistics and Distribution" in cycles and "Logistics & distribution" not in cycles
    assert sum(after.values()) == counts["partnerships"]

