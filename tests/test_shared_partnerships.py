"""Partnerships spanning boards (SPEC 16), through every output and role: a partnership
led by board 03 with boards 04 and 05 shows on all three leads' pages, workbooks, PDFs
and reminders, marked with the others, counts in each board's score and once in the
state's; its plan is kept by 03's lead and read by the others; 06's lead gets 404."""

from __future__ import annotations

import csv
import html
import io
import re
import subprocess
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from survey.models import CycleStatus, Participation, Partnership, PartnershipBoard, utcnow
from survey.scoring import cycle_results
from survey.services.accounts import create_user
from survey.services.partnerships import set_participating_boards
from tests.conftest import csrf_token
from tests.factories import make_board, make_cycle, make_partnership
from tests.test_scoring import Q, crowd

PASSWORD = "correct horse battery"
HEADER = ["board", "partnership", "sector", "also_boards"]


def text_of(response) -> str:
    body = response.get_data(as_text=True)
    main = body[body.index("<main"):body.index("</main>")] if "<main" in body else body
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main)).split())


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([HEADER, *rows])
    return path


def test_partnerships_import_names_every_bad_row_and_changes_nothing(runner, session, tmp_path):
    for code in ("03", "04", "05"):
        make_board(session, code, f"Board {code}")
    session.commit()
    bad = write(tmp_path / "p.csv", [
        ["03", "Gulf Ports", "MAR", "04 05"],
        ["03", "Gulf Widgets", "Widgets", "04"],
        ["03", "Gulf Care", "HLT", "03 04"],
        ["99", "Nowhere", "HLT", ""],
        ["04", "Gulf Tech", "IT", "77"],
        ["03", "gulf ports", "MAR", ""],
    ])
    result = runner.invoke(args=["partnerships", "import", str(bad)])
    assert result.exit_code == 1
    out = result.output
    assert "5 bad rows in p.csv, no partnerships imported" in out
    assert "row 3: unknown sector 'Widgets': use a code or name from the sector list" in out
    assert "row 4: board 03 leads the partnership; list only the others in also_boards" in out
    assert "row 5: unknown board '99'" in out
    assert "row 6: unknown board '77' in also_boards" in out
    assert "row 7: partnership 'gulf ports' of board 03 is also on row 2" in out
    assert session.execute(select(Partnership)).first() is None
    good = write(tmp_path / "good.csv", [["03", "Gulf Ports", "MAR", "05 4"],
                                         ["04", "Bay Tech", "Information Technology", ""]])
    result = runner.invoke(args=["partnerships", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "imported 2 partnerships: 2 new, 0 updated, 0 unchanged" in result.output
    session.expire_all()
    ports = session.execute(
        select(Partnership).where(Partnership.name == "Gulf Ports")).scalar_one()
    assert (ports.board.code, ports.sector, [b.code for b in ports.shared_with]) == (
        "03", "Marine", ["04", "05"])
    again = write(tmp_path / "again.csv", [["03", "Gulf Ports", "", "05"]])
    result = runner.invoke(args=["partnerships", "import", str(again)])
    assert "0 new, 1 updated" in result.output
    session.expire_all()
    assert [b.code for b in ports.shared_with] == ["05"] and ports.sector == "Marine"


@pytest.fixture
def world(session):
    """03 leads Ports (shared with 04 and 05); 04 has Tech; 06 has Farms. Closed 2026."""
    boards = {c: make_board(session, c, f"Board {c}") for c in ("03", "04", "05", "06")}
    cycle = make_cycle(session, "2026", status=CycleStatus.OPEN, questionnaire=Q)
    ports = make_partnership(session, boards["03"], "Gulf Ports", sector="Marine")
    set_participating_boards(session, ports, [boards["04"], boards["05"]])
    tech = make_partnership(session, boards["04"], "Bay Tech", sector="Information Technology")
    farms = make_partnership(session, boards["06"], "Farms", sector="Marine")
    crowd(session, cycle, ports, 4, 4, 4)
    crowd(session, cycle, tech, 2, 2, 2)
    crowd(session, cycle, farms, 1, 1, 1)
    cycle.status = CycleStatus.CLOSED
    cycle.published_at = cycle.closed_at = utcnow()
    for code in ("03", "04", "05", "06"):
        create_user(session, f"lead{code}@example.org", PASSWORD, "board", board=boards[code])
    create_user(session, "state@example.org", PASSWORD, "state")
    session.commit()
    return {"cycle": cycle, "ports": ports, "tech": tech, "farms": farms}


def test_the_figures_count_it_in_each_board_and_once_in_the_state(session, world):
    results = cycle_results(session, world["cycle"])
    boards = {b.key: b for b in results.boards}
    assert boards["03"].elements["data"].value == 4.0
    assert boards["04"].elements["data"].value == 3.0 and boards["04"].partnerships == 2
    assert boards["05"].elements["data"].value == 4.0 and boards["05"].partnerships == 1
    assert boards["05"].label == "Board 05"
    assert results.state.partnerships == 3 and results.state.elements["data"].value == \
        pytest.approx(7 / 3)
    assert results.state.invited == 9  # the shared partnership's partners counted once
    marine = next(s for s in results.sectors if s.key == "Marine")
    assert marine.partnerships == 2 and marine.elements["data"].value == 2.5
    assert len(results.partnerships) == 3
    board04 = cycle_results(session, world["cycle"], "04")
    assert {p.label for p in board04.partnerships} == {"Gulf Ports", "Bay Tech"}
    assert {i.partnership for i in board04.item_results} == {"Gulf Ports", "Bay Tech"}
    cells = {(t.scope, t.partner_type) for t in board04.partner_types}
    assert ("04", "business") in cells


def test_every_lead_of_the_boards_it_spans_sees_it_marked_with_the_others(
        client, auth, session, world, tmp_path):
    ports = world["ports"]
    auth.login("lead04@example.org")
    board = text_of(client.get("/boards/04?cycle=2026"))
    assert "Gulf Ports" in board and "Bay Tech" in board
    assert "Shared with 03 Board 03, 05 Board 05" in board
    page = client.get(f"/partnerships/{ports.id}?cycle=2026")
    assert page.status_code == 200
    assert "Led by board 03 Board 03, shared with 04 Board 04, 05 Board 05" in text_of(page)
    for chart in ("radar", "level-distribution", "change"):
        assert client.get(f"/charts/2026/partnerships/{ports.id}/{chart}.svg").status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(client.get("/exports/2026/04.xlsx").data))
    rows = list(book["Partnerships"].iter_rows(values_only=True))
    shared = {r[rows[0].index("Partnership")]: r[rows[0].index("Shared with")] for r in rows[1:]}
    assert shared == {"Gulf Ports": "03 05", "Bay Tech": None}
    items = {r[1] for r in book["Items"].iter_rows(min_row=2, values_only=True)}
    assert items == {"Gulf Ports", "Bay Tech"}
    pdf = client.get("/reports/2026/04.pdf")
    assert pdf.status_code == 200
    path = tmp_path / "04.pdf"
    path.write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert "Gulf Ports" in text and "shared with 03 Board 03, 05 Board 05" in " ".join(
        text.split())
    roster = text_of(client.get("/admin/boards/04/roster"))
    assert "Gulf Ports" in roster and "Led by board 03 Board 03, shared with this board" in roster
    auth.logout()

    auth.login("lead06@example.org")  # a third board: nothing of it
    assert client.get(f"/partnerships/{ports.id}?cycle=2026").status_code == 404
    assert client.get(f"/partnerships/{ports.id}/plan?cycle=2026").status_code == 404
    assert client.get(f"/charts/2026/partnerships/{ports.id}/radar.svg").status_code == 404
    assert "Gulf Ports" not in text_of(client.get("/boards/06?cycle=2026"))
    assert client.get("/exports/2026/04.xlsx").status_code == 404
    auth.logout()

    auth.login("state@example.org")  # once in the state's
    state = text_of(client.get("/state?cycle=2026"))
    assert state.count("Gulf Ports") <= 1
    book = openpyxl.load_workbook(io.BytesIO(client.get("/exports/2026.xlsx").data))
    names = [r[2] for r in book["Partnerships"].iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == ["Bay Tech", "Farms", "Gulf Ports"]


def test_the_lead_board_keeps_the_plan_and_the_others_read_it(client, auth, session, world):
    ports = world["ports"]
    url = f"/partnerships/{ports.id}/plan?cycle=2026"
    auth.login("lead03@example.org")
    token = csrf_token(client, url)
    saved = client.post(url, data={"csrf_token": token, "data-priority": "y",
                                   "data-goal": "Share port hiring data <b>",
                                   "data-status": "planned"})
    assert saved.status_code == 303
    auth.logout()
    auth.login("lead05@example.org")
    page = client.get(url)
    assert page.status_code == 200
    text = text_of(page)
    assert "led by board 03: its lead keeps the plan, and you read it here" in text
    assert "Goal Share port hiring data <b>" in text  # the read-only plan, escaped
    assert "<b>" not in page.get_data(as_text=True)
    assert "Save the plan" not in text
    token = csrf_token(client, url) if 'name="csrf_token"' in page.get_data(as_text=True) \
        else ""
    assert client.post(url, data={"csrf_token": token, "data-goal": "Ours now",
                                  "data-status": "planned"}).status_code == 404


def test_open_cycles_follow_a_change_of_boards_and_closed_ones_keep_theirs(session, world):
    ports, cycle = world["ports"], world["cycle"]
    later = make_cycle(session, "2027", status=CycleStatus.OPEN, questionnaire=Q)
    crowd(session, later, ports, 3, 3, 3)
    set_participating_boards(session, ports, [world["tech"].board])
    session.flush()
    shared = dict(session.execute(select(Participation.cycle_id, Participation.also_boards)
                                  .where(Participation.partnership_id == ports.id)).all())
    assert shared == {cycle.id: "04 05", later.id: "04"}
    assert session.execute(select(PartnershipBoard.board_id).where(
        PartnershipBoard.partnership_id == ports.id)).scalars().all() == [world["tech"].board_id]
