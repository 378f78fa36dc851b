"""Target industries (SPEC 16): `survey targets import`, the admin page, the state and
board pages and the state workbook's Coverage sheet."""

from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path

import openpyxl
from sqlalchemy import select

from survey.models import BoardTarget, CycleStatus, utcnow
from survey.services.accounts import create_user
from survey.services.partnerships import set_participating_boards
from tests.conftest import csrf_token
from tests.factories import make_board, make_cycle, make_partnership
from tests.test_scoring import Q, crowd

PASSWORD = "correct horse battery"


def text_of(response) -> str:
    body = response.get_data(as_text=True)
    main = body[body.index("<main"):body.index("</main>")] if "<main" in body else body
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main)).split())


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["board", "sector"], *rows])
    return path


def world(session):
    boards = {c: make_board(session, c, f"Board {c}") for c in ("03", "04")}
    cycle = make_cycle(session, "2026", status=CycleStatus.OPEN, questionnaire=Q)
    ports = make_partnership(session, boards["03"], "Gulf Ports", sector="Marine")
    set_participating_boards(session, ports, [boards["04"]])
    farms = make_partnership(session, boards["03"], "Farms", sector="Agriculture")
    crowd(session, cycle, ports, 4, 4, 3)
    crowd(session, cycle, farms, 2, 2, 2)
    cycle.status = CycleStatus.CLOSED
    cycle.published_at = cycle.closed_at = utcnow()
    create_user(session, "state@example.org", PASSWORD, "state")
    create_user(session, "admin@example.org", PASSWORD, "admin")
    create_user(session, "lead04@example.org", PASSWORD, "board", board=boards["04"])
    session.commit()
    return boards


def test_targets_import_names_every_bad_row_then_replaces_each_boards_list(
        runner, session, tmp_path):
    world(session)
    bad = write(tmp_path / "t.csv", [["03", "MAR"], ["99", "ENR"], ["03", "Shipping"],
                                     ["04", ""]])
    result = runner.invoke(args=["targets", "import", str(bad)])
    assert result.exit_code == 1
    assert "3 bad rows in t.csv, no target industries imported" in result.output
    assert "row 3: unknown board '99'" in result.output
    assert "row 4: unknown sector 'Shipping': use a code or name from the sector list" \
        in result.output
    assert "row 5: empty sector" in result.output
    assert session.execute(select(BoardTarget)).first() is None
    good = write(tmp_path / "good.csv", [["03", "MAR"], ["03", "Energy"], ["04", "marine"],
                                         ["04", "IT"]])
    result = runner.invoke(args=["targets", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "imported 4 target industries for 2 boards" in result.output
    again = write(tmp_path / "again.csv", [["04", "HLT"]])
    assert runner.invoke(args=["targets", "import", str(again)]).exit_code == 0
    session.expire_all()
    codes = sorted((t.board.code, t.sector_code) for t in
                   session.execute(select(BoardTarget)).scalars())
    assert codes == [("03", "ENR"), ("03", "MAR"), ("04", "HLT")]


def test_the_state_page_board_page_and_coverage_sheet_show_targets_without_partnerships(
        client, auth, session, runner, tmp_path):
    world(session)
    assert runner.invoke(args=["targets", "import", str(write(tmp_path / "t.csv", [
        ["03", "MAR"], ["03", "ENR"], ["04", "MAR"], ["04", "IT"]]))]).exit_code == 0
    auth.login("state@example.org")
    state = text_of(client.get("/state?cycle=2026"))
    assert "Targeted industries with no partnership in cycle 2026: board 03 (Energy); " \
        "board 04 (Information Technology)." in state
    assert "03 Board 03 Agriculture no: outside the targets 1 2.00" in state
    assert "04 Board 04 Marine yes 1" in state  # the partnership 03 shares with 04
    book = openpyxl.load_workbook(io.BytesIO(client.get("/exports/2026.xlsx").data))
    rows = list(book["Coverage"].iter_rows(values_only=True))
    assert rows[0] == ("Board code", "Board", "Sector", "Targeted", "Partnerships",
                       "Median overall")
    assert rows[1:] == [
        ("03", "Board 03", "Energy", "yes", 0, None),
        ("03", "Board 03", "Marine", "yes", 1, rows[2][5]),
        ("03", "Board 03", "Agriculture", "no", 1, 2.0),
        ("04", "Board 04", "Information Technology", "yes", 0, None),
        ("04", "Board 04", "Marine", "yes", 1, rows[2][5]),
    ]
    assert abs(rows[2][5] - 11 / 3) < 1e-12
    auth.logout()
    auth.login("lead04@example.org")
    board = text_of(client.get("/boards/04?cycle=2026"))
    assert "Target industries" in board and "board 04 (Information Technology)" in board
    assert "Energy" not in board  # board 03's targets are not board 04's page
    board_book = openpyxl.load_workbook(io.BytesIO(client.get("/exports/2026/04.xlsx").data))
    assert "Coverage" not in board_book.sheetnames


def test_an_administrator_uploads_targets_on_the_web(client, auth, session):
    world(session)
    auth.login("lead04@example.org")
    assert client.get("/admin/targets").status_code == 404
    auth.logout()
    auth.login("admin@example.org")
    token = csrf_token(client, "/admin/targets")
    bad = client.post("/admin/targets", data={
        "csrf_token": token, "file": (io.BytesIO(b"board,sector\n03,MAR\n03,=cmd()\n"), "t.csv")},
        content_type="multipart/form-data")
    assert bad.status_code == 422
    assert "Nothing was saved: 1 problem in the file" in text_of(bad)
    assert "row 3: unknown sector '=cmd()'" in text_of(bad)
    assert session.execute(select(BoardTarget)).first() is None
    good = client.post("/admin/targets", data={
        "csrf_token": token, "file": (io.BytesIO(b"board,sector\n03,MAR\n04,IT\n"), "t.csv")},
        content_type="multipart/form-data")
    assert good.status_code == 302
    page = text_of(client.get("/admin/targets"))
    assert "03 Board 03 Marine" in page and "04 Board 04 Information Technology" in page
