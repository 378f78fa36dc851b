"""`survey backup` / `survey restore` (SPEC 14): a portable, consistent, verified archive.

The suite's database (SQLite, or PostgreSQL when SURVEY_TEST_DATABASE_URL is set) is one
end of each trip and a fresh SQLite file the other, so the run on PostgreSQL moves the
demo from SQLite to PostgreSQL and back.
"""

from __future__ import annotations

import datetime as dt
import json
import struct
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import Result
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert, select

from survey import create_app
from survey.db import db, make_engine
from survey.models import AuditEvent, Board, BoardStatus, Member, PlanEntry, User
from survey.services import backup
from tests.conftest import on_postgres
from tests.factories import make_board, make_cycle, make_member, make_partnership


def cli(url: str, *args: str) -> Result:
    """Run a `survey` command against the database at `url`; the test's own app gets its
    database back afterwards (`db` is bound to one app at a time)."""
    bound = dict(vars(db))
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test-secret-key",
                      "BASE_URL": "http://survey.test", "SMTP_URL": ""})
    try:
        with app.app_context():  # else a test's own app context would serve the command
            return app.test_cli_runner().invoke(args=list(args))
    finally:
        assert db.engine is not None
        db.engine.dispose()
        vars(db).update(bound)


def rows(url: str, table: Any) -> list[tuple[Any, ...]]:
    """Every row of a table in id order, datetimes as aware UTC (SQLite hands back naive)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(select(table).order_by(table.c.id)).all()
    finally:
        engine.dispose()
    return [tuple(v.replace(tzinfo=dt.UTC) if isinstance(v, dt.datetime) and v.tzinfo is None
                  else v for v in row) for row in found]


def workbook_cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every cell of every sheet, except the generated time."""
    book = openpyxl.load_workbook(path)
    return {ws.title: [row for row in ws.iter_rows(values_only=True)
                       if not str(row[0] or "").startswith("Generated")]
            for ws in book.worksheets}


def one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file with no schema at all (the other end of each trip)."""
    return f"sqlite:///{tmp_path / 'other.sqlite3'}"


@pytest.mark.parametrize("direction", ["into_suite_database", "out_of_suite_database"])
def test_demo_restored_elsewhere_gives_the_same_state_workbook(
        direction: str, database_url: str, sqlite_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    if direction == "out_of_suite_database" and not on_postgres():
        pytest.skip("SQLite to SQLite is the other direction already")
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path / "instance"))
    source, target = ((sqlite_url, database_url) if direction == "into_suite_database"
                      else (database_url, sqlite_url))
    archive = tmp_path / "survey-backup.zip"
    assert cli(source, "demo").exit_code == 0
    made = cli(source, "backup", str(archive))
    assert made.exit_code == 0, made.output
    assert cli(source, "export", str(tmp_path / "before.xlsx"), "--cycle", "2025").exit_code == 0

    restored = cli(target, "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert "counts and content hashes checked" in restored.output
    after = cli(target, "export", str(tmp_path / "after.xlsx"), "--cycle", "2025")
    assert after.exit_code == 0, after.output

    before_cells = workbook_cells(tmp_path / "before.xlsx")
    after_cells = workbook_cells(tmp_path / "after.xlsx")
    assert list(before_cells) == list(after_cells)
    for sheet, cells in before_cells.items():
        assert cells == after_cells[sheet], f"sheet {sheet} differs"
    assert sum(len(c) for c in before_cells.values()) > 500
    # The restored database goes on: new rows get fresh ids (PostgreSQL sequences reset).
    created = cli(target, "cycle", "create", "2030", "--opens", "2030-01-06",
                  "--closes", "2030-03-01")
    assert created.exit_code == 0, created.output


def test_values_of_every_kind_round_trip_exactly(
        session, database_url: str, sqlite_url: str, tmp_path: Path) -> None:
    # A board merged into one created after it (a self-reference to a larger id), NULLs,
    # booleans, dates, times with microseconds, nested JSON with non-ASCII text.
    older = make_board(session, "91", "Old Board")
    newer = make_board(session, "92", "Nüevo Board — “merged”")
    older.status, older.merged_into = BoardStatus.MERGED, newer
    partnership = make_partnership(session, newer, "Café & Co", sector="")
    partnership.active = False
    member = make_member(session, partnership, email=None, name="Zoë\tO'Neil")
    member.email, member.respondent_key, member.language = None, "paper-7", "es"
    cycle = make_cycle(session, "2026")
    session.add(PlanEntry(partnership=partnership, cycle=cycle, element_key="vision",
                          priority=True, goal="=SUM(A1)", due_on=dt.date(2027, 2, 28),
                          updated_by="lead@example.org"))
    session.add(PlanEntry(partnership=partnership, cycle=cycle, element_key="data",
                          due_on=None))
    session.execute(insert(AuditEvent).values(
        at=dt.datetime(2026, 3, 1, 23, 59, 59, 999_999, tzinfo=dt.UTC), actor="a@example.org",
        action="cycle.close", target="cycle 2026",
        detail={"n": 3, "ok": True, "none": None, "list": [1.5, "ü"], "nested": {"a": "b"}}))
    session.commit()

    source_events = rows(database_url, AuditEvent.__table__)
    archive = tmp_path / "b.zip"
    assert cli(database_url, "backup", str(archive)).exit_code == 0
    restored = cli(sqlite_url, "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    for model in (Board, Member, PlanEntry, User):
        assert rows(sqlite_url, model.__table__) == rows(database_url, model.__table__)
    # The restore adds its own audit entry after the archived ones.
    restored_events = rows(sqlite_url, AuditEvent.__table__)
    assert restored_events[:len(source_events)] == source_events
    assert [e[3] for e in restored_events[len(source_events):]] == ["backup.restore"]
    assert source_events[0][5]["list"] == [1.5, "ü"]


def test_backup_is_one_consistent_snapshot(
        session, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_board(session, "01", "Before")
    session.commit()
    writer = make_engine(database_url)
    real_lines = backup.table_lines
    wrote: list[str] = []

    def lines_then_write(connection: Any, table: Any):  # another process writes mid-backup
        yield from real_lines(connection, table)
        if not wrote:
            with writer.begin() as conn:
                conn.execute(insert(Board).values(code="02", name="During",
                                                  created_at=dt.datetime.now(dt.UTC)))
            wrote.append(table.name)

    monkeypatch.setattr(backup, "table_lines", lines_then_write)
    archive = tmp_path / "snap.zip"
    reader = make_engine(database_url)
    backup.write_backup(reader, archive)
    reader.dispose()
    writer.dispose()
    assert wrote == ["audit_events"]  # boards were read after the other write committed
    with zipfile.ZipFile(archive) as z:
        boards = [json.loads(line) for line in z.read("tables/boards.jsonl").splitlines()]
    assert [b[2] for b in boards] == ["Before"]


def test_restore_refuses_a_database_with_rows(
        runner, session, database_url: str, tmp_path: Path) -> None:
    make_board(session, "01", "Somewhere")
    session.commit()
    archive = tmp_path / "b.zip"
    assert runner.invoke(args=["backup", str(archive)]).exit_code == 0
    line = one_line_error(runner.invoke(args=["restore", str(archive)]))
    assert "not empty" in line
    assert len(rows(database_url, Board.__table__)) == 1


@pytest.fixture
def small_archive(session, runner, tmp_path: Path) -> Path:
    board = make_board(session, "07", "Seven")
    make_member(session, make_partnership(session, board, "Health"), email="a@example.org")
    session.commit()
    archive = tmp_path / "small.zip"
    result = runner.invoke(args=["backup", str(archive)])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "schema revision" in result.output
    assert archive.stat().st_mode & 0o077 == 0  # password hashes and emails: owner only
    return archive


def assert_nothing_written(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert backup.database_rows(conn) is None
            assert backup.schema_revision(conn) is None  # not even the schema
    finally:
        engine.dispose()


def rewrite(archive: Path, target: Path, change: dict[str, bytes]) -> None:
    """Copy an archive with some members' contents replaced (zip checksums stay valid)."""
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(target, "w") as out:
        for info in src.infolist():
            out.writestr(info.filename, change.get(info.filename, src.read(info.filename)))


@pytest.mark.parametrize("damage", ["truncated", "byte_flipped", "row_edited", "row_dropped",
                                    "manifest_garbled", "not_a_zip", "missing",
                                    "other_revision"])
def test_damaged_archive_gets_one_line_and_writes_nothing(
        damage: str, small_archive: Path, sqlite_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path / "instance"))
    bad = tmp_path / "bad.zip"
    data = small_archive.read_bytes()
    with zipfile.ZipFile(small_archive) as z:
        members = z.read("tables/members.jsonl")
    if damage == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "byte_flipped":
        with zipfile.ZipFile(small_archive) as z:
            info = z.getinfo("tables/members.jsonl")
        name_length, extra_length = struct.unpack(
            "<HH", data[info.header_offset + 26:info.header_offset + 30])
        at = info.header_offset + 30 + name_length + extra_length + 5  # in the deflated data
        bad.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:])
    elif damage == "row_edited":
        rewrite(small_archive, bad, {"tables/members.jsonl": members.replace(b"a@ex", b"b@ex")})
    elif damage == "row_dropped":
        rewrite(small_archive, bad, {"tables/members.jsonl": b""})
    elif damage == "manifest_garbled":
        rewrite(small_archive, bad, {"manifest.json": b"{\"format\": 1"})
    elif damage == "not_a_zip":
        bad.write_text("code,name\n01,Somewhere\n")
    elif damage == "other_revision":
        with zipfile.ZipFile(small_archive) as z:
            manifest = json.loads(z.read("manifest.json"))
        manifest["schema_revision"] = "0001"
        rewrite(small_archive, bad, {"manifest.json": json.dumps(manifest).encode()})
    result = cli(sqlite_url, "restore", str(bad))
    line = one_line_error(result)
    assert bad.name in line or "no such file" in line
    assert_nothing_written(sqlite_url)


def test_backup_and_restore_are_in_the_audit_log(
        small_archive: Path, sqlite_url: str, database_url: str) -> None:
    assert cli(sqlite_url, "restore", str(small_archive)).exit_code == 0
    source = cli(database_url, "audit")
    assert "\tbackup.create\tsmall.zip\t" in source.output
    restored = cli(sqlite_url, "audit")
    assert "\tbackup.restore\tsmall.zip\t" in restored.output
    assert "cli:" in restored.output


def test_backup_refuses_a_database_without_the_schema(sqlite_url: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path / "instance"))
    line = one_line_error(cli(sqlite_url, "backup", str(tmp_path / "b.zip")))
    assert "run `survey init` first" in line
    assert not (tmp_path / "b.zip").exists()
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


def test_backup_refuses_a_missing_folder(runner, tmp_path: Path) -> None:
    line = one_line_error(runner.invoke(args=["backup", str(tmp_path / "nope" / "b.zip")]))
    assert "folder does not exist" in line


# --- the portable form of a value, for any value a column may hold ------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)
ZONES = st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-5)),
                         dt.timezone(dt.timedelta(hours=5, minutes=30))])


@given(at=st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1),
                       timezones=ZONES),
       naive=st.datetimes(min_value=dt.datetime(1900, 1, 1)),
       day=st.dates(), detail=JSON_VALUES, flag=st.booleans(), text=st.text())
def test_every_value_survives_the_archive_form(at, naive, day, detail, flag, text) -> None:
    columns = {c.name: c for c in [*AuditEvent.__table__.columns, *PlanEntry.__table__.columns]}
    row = [(columns["at"], at), (columns["due_on"], day), (columns["detail"], detail),
           (columns["priority"], flag), (columns["goal"], text), (columns["due_on"], None)]
    line = backup.encode_row([c for c, _ in row], [v for _, v in row])
    decoded = [backup.decode_value(c, v) for (c, _), v in zip(row, json.loads(line), strict=True)]
    assert decoded == [v for _, v in row]  # an aware datetime is equal across zones
    assert decoded[0].utcoffset() == dt.timedelta(0)  # written in UTC
    # SQLite hands back stored UTC times without a zone: they are read as UTC.
    stored = backup.encode_value(columns["at"], naive)
    assert backup.decode_value(columns["at"], stored) == naive.replace(tzinfo=dt.UTC)
