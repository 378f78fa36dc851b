"""Uploads that try to hurt: broken, hostile and huge workbooks, on the web and the CLI.

Each bad file is generated here from a good roster workbook. Every one must get a
one-line reason (a 422 page on the web, `error:` and exit 1 from the CLI), never a
500 or a traceback, and write nothing. Also: rows past a wrong `<dimension>` tag are
read, a CLI import that finds the database locked says so in one line, and a slow
upload does not make partners' saves fail (the upload takes the write lock late).
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import sqlite3
import sys
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.db import db
from survey.models import Member, Partnership
from survey.services import accounts, rosters
from survey.services.tabular import WEB_LIMITS, ImportProblem, Limits, read_table
from tests.conftest import csrf_token, on_postgres
from tests.factories import make_board
from tests.test_partner_web import make_partner, save, stored

PASSWORD = "correct horse battery"
HEADER = ["board", "partnership", "sector", "name", "email", "organization", "partner_type"]
SHEET = "xl/worksheets/sheet1.xml"


def good_workbook(members: int = 5) -> bytes:
    """A valid roster workbook for board 03, made by openpyxl as a spreadsheet would."""
    workbook = Workbook()
    workbook.properties.created = workbook.properties.modified = dt.datetime(2026, 1, 5)
    sheet = workbook.active
    sheet.append(HEADER)
    for n in range(members):
        sheet.append(["03", "Health Care", "Healthcare", f"Member {n}", f"m{n}@example.org", "Port",
                      "business"])
    data = io.BytesIO()
    workbook.save(data)
    return data.getvalue()


def rezip(data: bytes, changes: dict[str, Callable[[bytes], bytes] | bytes | None]) -> bytes:
    """A copy of a zip with some entries replaced (bytes), rewritten (a function) or dropped."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            change = changes.get(info.filename, content)
            if change is None:
                continue
            target.writestr(info.filename, change(content) if callable(change) else change)
    return out.getvalue()


def sub(pattern: str, replacement: str) -> Callable[[bytes], bytes]:
    def rewrite(content: bytes) -> bytes:
        changed, count = re.subn(pattern.encode(), replacement.encode(), content, count=1)
        assert count == 1, f"{pattern!r} not found"
        return changed
    return rewrite


D2 = r'<c r="D2" t="inlineStr"><is><t>[^<]*</t></is></c>'  # row 2's name, as openpyxl writes it


def with_doctype(doctype: str, entity_cell: str) -> Callable[[bytes], bytes]:
    """The sheet with a DOCTYPE and row 2's name cell holding an entity reference."""
    def rewrite(content: bytes) -> bytes:
        text = re.sub(r"^<\?xml[^>]*\?>", "", content.decode())
        text, count = re.subn(D2, f'<c r="D2" t="inlineStr"><is><t>{entity_cell}</t></is></c>',
                              text)
        assert count == 1
        return f'<?xml version="1.0"?>{doctype}{text}'.encode()
    return rewrite


def with_shared_strings(data: bytes, sst: bytes) -> bytes:
    """The workbook with a shared-strings part, row 2's name pointing at its first string."""
    sst_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
    rel_type = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
                "sharedStrings")
    data = rezip(data, {
        SHEET: sub(D2, '<c r="D2" t="s"><v>0</v></c>'),
        "[Content_Types].xml": sub("</Types>", f'<Override PartName="/xl/sharedStrings.xml" '
                                               f'ContentType="{sst_type}"/></Types>'),
        "xl/_rels/workbook.xml.rels": sub("</Relationships>", f'<Relationship Id="rIdSst" '
                                          f'Type="{rel_type}" Target="sharedStrings.xml"/>'
                                          "</Relationships>"),
    })
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a") as archive:
        archive.writestr("xl/sharedStrings.xml", sst)
    return out.getvalue()


SST = ('<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
       'uniqueCount="1"><si><t>{}</t></si></sst>')


LAUGHS = ("<!DOCTYPE worksheet [<!ENTITY lol \"lol\">"
          + "".join(f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10}">'
                    for n in range(1, 10)).replace("&lol0;", "&lol;")
          + "]>")


def many_files(data: bytes) -> bytes:
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a") as archive:
        for n in range(300):
            archive.writestr(f"xl/media/padding{n}.txt", b"x")
    return out.getvalue()


def unpacks_huge(data: bytes) -> bytes:
    """A small file that declares 80 MB unpacked (zeros compress a thousandfold)."""
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as archive, \
            archive.open("xl/media/zeros.bin", "w", force_zip64=True) as entry:
        chunk = bytes(1 << 20)
        for _ in range(80):
            entry.write(chunk)
    return out.getvalue()


def too_many_rows(rows: int) -> Callable[[bytes], bytes]:
    """The sheet's header, then `rows` rows of one cell each (compresses to almost nothing)."""
    def rewrite(content: bytes) -> bytes:
        head = content[:content.index(b'<row r="2"')]
        return head + b"<row><c><v>3</v></c></row>" * rows + b"</sheetData></worksheet>"
    return rewrite


BROKEN: dict[str, Callable[[bytes], bytes]] = {
    "bad shared-string index": lambda d: rezip(with_shared_strings(d, SST.format("A").encode()),
                                              {SHEET: sub(r'<v>0</v>', "<v>99999</v>")}),
    "cell ZZZZZZ1": lambda d: rezip(d, {SHEET: sub(r'r="D2"', 'r="ZZZZZZ2"')}),
    "broken styles XML": lambda d: rezip(d, {"xl/styles.xml": b"<styleSheet><numFmts"}),
    "broken workbook XML": lambda d: rezip(d, {"xl/workbook.xml": b"<workbook><sheets><sheet"}),
    "rels to /etc/passwd": lambda d: rezip(d, {"xl/_rels/workbook.xml.rels": sub(
        r'Target="[^"]*sheet1.xml"', 'Target="/etc/passwd"')}),
    "truncated sheet": lambda d: rezip(d, {SHEET: lambda c: c[:len(c) * 2 // 3]}),
    "truncated file": lambda d: d[: len(d) // 2],
    "no sheet at all": lambda d: rezip(d, {SHEET: None}),
    "XXE": lambda d: rezip(d, {SHEET: with_doctype(
        '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "&xxe;")}),
    "billion laughs": lambda d: rezip(d, {SHEET: with_doctype(LAUGHS, "&lol9;")}),
    "billion laughs in shared strings": lambda d: with_shared_strings(d, (
        '<?xml version="1.0"?>' + LAUGHS.replace("worksheet", "sst") + SST.format("&lol9;")
    ).encode()),
    "not a zip": lambda d: b"PK\x03\x04 this is not really a zip file",
    "300 files in the zip": many_files,
    "80 MB unpacked": unpacks_huge,
    "2 million rows": lambda d: rezip(d, {SHEET: too_many_rows(2_000_000)}),
}


class Admin:
    """A signed-in administrator who uploads rosters as a browser would."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token = csrf_token(client, "/admin/roster/import")

    def upload(self, data: bytes, filename: str = "roster.xlsx"):
        return self.client.post(
            "/admin/roster/import", content_type="multipart/form-data",
            data={"file": (io.BytesIO(data), filename), "csrf_token": self.token})


@pytest.fixture
def admin(session: Session, client: FlaskClient, auth) -> Admin:
    make_board(session, "03")
    accounts.create_user(session, "admin@example.org", PASSWORD, "admin")
    session.commit()
    assert auth.login("admin@example.org").status_code == 302
    return Admin(client)


def members(session: Session) -> int:
    session.expire_all()
    return session.execute(select(func.count(Member.id))).scalar_one()


def problem_lines(html: str) -> list[str]:
    return re.findall(r"<li>(.*?)</li>", html.split('class="import-problems"', 1)[-1]
                      .split("</ul>", 1)[0], re.S)


def cli_import(runner: FlaskCliRunner, tmp_path: Path, data: bytes, name: str = "roster.xlsx"):
    path = tmp_path / name
    path.write_bytes(data)
    return runner.invoke(args=["roster", "import", str(path)])


def assert_one_line_cli_failure(result) -> str:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


@pytest.mark.parametrize("kind", list(BROKEN))
def test_a_broken_or_hostile_workbook_gets_one_line_on_the_web_and_writes_nothing(
    session: Session, admin: Admin, kind: str
) -> None:
    good = good_workbook()
    assert read_table(good, "roster.xlsx", HEADER)  # the starting point is a good file
    response = admin.upload(BROKEN[kind](good))
    assert response.status_code == 422, kind
    html = response.get_data(as_text=True)
    problems = problem_lines(html)
    assert len(problems) == 1 and "\n" not in problems[0].strip(), problems
    assert "Traceback" not in html and "root:x:0:0" not in html
    assert members(session) == 0
    assert session.execute(select(func.count(Partnership.id))).scalar_one() == 0


BOUNDS = {"300 files in the zip", "80 MB unpacked", "2 million rows"}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_a_broken_or_hostile_workbook_gets_one_line_from_the_cli_and_writes_nothing(
    session: Session, runner: FlaskCliRunner, tmp_path: Path, kind: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_board(session, "03")
    session.commit()
    if kind in BOUNDS:  # the command line's bounds are larger (national files): same checks
        monkeypatch.setattr(sys.modules["survey.cli.data"], "CLI_LIMITS", WEB_LIMITS)
    line = assert_one_line_cli_failure(cli_import(runner, tmp_path, BROKEN[kind](good_workbook())))
    assert "roster.xlsx" in line and "root:x:0:0" not in line
    assert members(session) == 0


def test_the_row_limit_stops_a_long_sheet_with_a_reason(session: Session, admin: Admin) -> None:
    data = rezip(good_workbook(), {SHEET: too_many_rows(100_001)})
    response = admin.upload(data)
    assert response.status_code == 422
    assert problem_lines(response.get_data(as_text=True)) == [
        "the file has more than 100,000 rows, the limit for one import; "
        "split it into smaller files"]
    assert members(session) == 0


def test_limits_on_rows_cells_and_unpacked_size() -> None:
    csv = ("code,name\n" + "".join(f"{n},Board {n}\n" for n in range(11))).encode()
    assert len(read_table(csv, "b.csv", ["code"], Limits(rows=11, cells=100, unpacked_bytes=1)))
    with pytest.raises(ImportProblem, match="more than 10 rows"):
        read_table(csv, "b.csv", ["code"], Limits(rows=10, cells=100, unpacked_bytes=1))
    with pytest.raises(ImportProblem, match="more than 20 cells"):
        read_table(csv, "b.csv", ["code"], Limits(rows=100, cells=20, unpacked_bytes=1))
    good = good_workbook()
    with pytest.raises(ImportProblem, match="unpacks to"):
        read_table(good, "r.xlsx", HEADER, Limits(rows=100, cells=1000, unpacked_bytes=1000))


def wrong_dimension(data: bytes) -> bytes:
    return rezip(data, {SHEET: sub(r'<dimension ref="[^"]+"/>', '<dimension ref="A1:G2"/>')})


def test_rows_beyond_a_wrong_dimension_tag_are_imported_on_the_web(
    session: Session, admin: Admin
) -> None:
    response = admin.upload(wrong_dimension(good_workbook(5)))
    assert response.status_code == 302, problem_lines(response.get_data(as_text=True))
    assert members(session) == 5


def test_rows_beyond_a_wrong_dimension_tag_are_imported_by_the_cli(
    session: Session, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    make_board(session, "03")
    session.commit()
    result = cli_import(runner, tmp_path, wrong_dimension(good_workbook(5)))
    assert result.exit_code == 0, result.output
    assert "imported 5 members: 5 new" in result.output
    assert members(session) == 5


def flipped_copies(count: int, seed: int = 9) -> list[bytes]:
    """Copies of a good workbook with 1 to 8 random bytes changed."""
    good = good_workbook()
    rng = random.Random(seed)
    copies = []
    for _ in range(count):
        data = bytearray(good)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        copies.append(bytes(data))
    return copies


def test_200_byte_flipped_workbooks_never_get_a_500_on_the_web(
    session: Session, admin: Admin
) -> None:
    statuses = [admin.upload(data).status_code for data in flipped_copies(200)]
    assert set(statuses) <= {302, 422}, statuses
    assert statuses.count(422) > 0


def test_200_byte_flipped_workbooks_never_get_a_traceback_from_the_cli(
    session: Session, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    make_board(session, "03")
    session.commit()
    failures = 0
    for data in flipped_copies(200):
        result = cli_import(runner, tmp_path, data)
        assert result.exit_code in (0, 1), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception)
        assert "Traceback" not in result.output
        if result.exit_code == 1:
            failures += 1
            assert result.output.startswith("error: ")
    assert failures > 0


@pytest.mark.skipif(on_postgres(), reason="SQLite's file lock")
def test_a_cli_import_that_finds_the_database_locked_says_so_in_one_line(
    app: Flask, session: Session, runner: FlaskCliRunner, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_board(session, "03")
    session.commit()
    assert db.engine is not None
    db.engine.dispose()  # new connections get the short timeout below
    monkeypatch.setattr(sys.modules["survey.db"], "SQLITE_BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(db.engine.url.database or "", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        line = assert_one_line_cli_failure(cli_import(runner, tmp_path, good_workbook()))
    finally:
        holder.rollback()
        holder.close()
    assert line == ("error: no members imported: the database is locked by another program "
                    "(waited 0.2 s); try again when it has finished")
    assert members(session) == 0


@pytest.mark.skipif(on_postgres(), reason="SQLite's single writer")
def test_partners_save_while_an_upload_is_being_checked(
    app: Flask, admin: Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The upload holds no write lock while it checks: a partner's save goes through at once.

    The busy timeout is cut to 0.3 s, so a save that had to wait for the upload's lock
    (the check is held open until the save is done) would fail with a 500.
    """
    partner = make_partner(app)
    assert db.engine is not None
    db.engine.dispose()
    monkeypatch.setattr(sys.modules["survey.db"], "SQLITE_BUSY_TIMEOUT_MS", 300)
    checking, saved = threading.Event(), threading.Event()
    real_check = rosters.check_roster

    def slow_check(session: Session, rows):  # type: ignore[no-untyped-def]
        plan = real_check(session, rows)
        checking.set()
        assert saved.wait(20), "the partner's save did not finish"
        return plan

    monkeypatch.setattr(rosters, "check_roster", slow_check)
    result: dict[str, int] = {}

    def partner_saves() -> None:
        try:
            assert checking.wait(20)
            key = partner.questionnaire.elements[0].key
            code = partner.element_codes(key)[0]
            with app.test_client() as client:
                result["status"] = save(client, partner, key, {code: "3"}).status_code
        finally:
            saved.set()

    thread = threading.Thread(target=partner_saves)
    thread.start()
    response = admin.upload(good_workbook(5))
    thread.join(30)
    assert result.get("status") in (302, 303), result
    assert response.status_code == 302
    code = partner.element_codes(partner.questionnaire.elements[0].key)[0]
    assert stored(app, partner.invitation_id).answers[code] == "3"
    with app.app_context():
        assert members(db.session) == 6  # the partner and the five uploaded
