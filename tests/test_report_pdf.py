"""The maturity report as PDF (SPEC 12): what a reader finds in it, checked on the text
pdftotext extracts, against the workbook of the same cycle; fonts, pages, who may
download it, and bad command-line input."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from survey.models import Board, CycleStatus, Partnership
from survey.services import plans
from survey.services.accounts import create_user
from survey.services.dashboard_data import find_cycle
from tests.factories import (
    all_answers,
    answer,
    make_board,
    make_cycle,
    make_invitation,
    make_member,
    make_partnership,
    shipped_questionnaire,
)

PASSWORD = "correct horse battery"
SECRET_NAME = "Wilhelmina Quarterfield"
COMMENT = "Our chair never reads the labour-market brief."
TYPES = ("business", "education", "workforce", "labor")


@dataclass
class World:
    board: Board
    other: Board
    partnerships: list[Partnership]  # board 15: three published, the last suppressed


def build_world(session: Session) -> World:
    """Board 15 with four partnerships (one with a single respondent), board 16 with one;
    cycles 2024 and 2025 closed, 2026 open; a plan for 2025."""
    q = shipped_questionnaire()
    board = make_board(session, "15", "CareerSource Heartland")
    other = make_board(session, "16", "CareerSource Gulf Coast")
    names = ["Advanced Manufacturing", "Health Care Partners", "Logistics & <Trade>",
             "Tiny Tech"]
    ours = [make_partnership(session, board, name) for name in names]
    theirs = make_partnership(session, other, "Gulf Logistics")
    today = dt.date.today()
    cycles = []
    for back, name in ((2, "2024"), (1, "2025"), (0, "2026")):
        cycle = make_cycle(session, name, status=CycleStatus.CLOSED if back else CycleStatus.OPEN,
                           opens_on=today - dt.timedelta(days=365 * back + 7),
                           closes_on=today - dt.timedelta(days=365 * back - 30))
        cycles.append(cycle)
    levels = {0: (2, 3, 3), 1: (1, 2, 2, 3), 2: (4, 3, 3), 3: (2,)}
    for index, partnership in enumerate([*ours, theirs]):
        for n, level in enumerate(levels.get(index, (3, 3, 2))):
            member = make_member(session, partnership, TYPES[n % len(TYPES)],
                                 name=SECRET_NAME if (index, n) == (0, 0) else None)
            for cycle, shift in zip(cycles, (-1, 0, 1), strict=True):
                if cycle.name == "2024" and index > 1:
                    continue
                invitation, _ = make_invitation(session, cycle, member)
                value = min(4, max(1, level + shift))
                comments = {"data": COMMENT} if (index, n) == (3, 0) else None
                answer(session, invitation, all_answers(q, value), comments=comments)
    plans.save_plan(session, ours[0], cycles[1], {
        "data": plans.PlanInput(priority=True, goal="Publish a quarterly data brief",
                                actions="Agree sources", owner="Ana Diaz",
                                due_on=dt.date(2030, 6, 30), status="in_progress"),
        "industry": plans.PlanInput(priority=True, goal="Two new employer co-chairs",
                                    owner="Ben Ortiz")}, "lead@example.org")
    create_user(session, "state@example.org", PASSWORD, "state")
    create_user(session, "lead@example.org", PASSWORD, "board", board=board)
    create_user(session, "lead16@example.org", PASSWORD, "board", board=other)
    session.commit()
    return World(board, other, ours)


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


def pdf_text(path: Path) -> list[str]:
    """The text of each page, as pdftotext lays it out."""
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                         capture_output=True, text=True).stdout
    return out.split("\f")[:-1]


def pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True,
                          text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def section(text: str, name: str) -> str:
    """A partnership's section: from its heading (the line after it says how many partners
    responded) to the next section's heading or the method."""
    pattern = re.compile(r"^ *" + re.escape(name) + r" *\n\s*[^\n]*partners responded \(",
                         re.MULTILINE)
    match = pattern.search(text)
    assert match, f"no section for {name}"
    rest = text[match.end():]
    following = re.search(r"^ *\S[^\n]*\n\s*[^\n]*partners responded \(|^ *Method *$", rest,
                          re.MULTILINE)
    return text[match.start():match.end() + (following.start() if following else len(rest))]


def test_board_report_matches_the_workbook(runner, session, world, tmp_path):
    pdf, xlsx = tmp_path / "board-15.pdf", tmp_path / "board-15.xlsx"
    result = runner.invoke(args=["report", str(pdf), "--cycle", "2025", "--board", "15"])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "board 15" in result.output
    assert runner.invoke(args=["export", str(xlsx), "--cycle", "2025", "--board", "15"]
                         ).exit_code == 0
    text = "\n".join(pdf_text(pdf))
    sheet = load_workbook(xlsx)["Partnerships"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in row), strict=True))
            for row in sheet.iter_rows(min_row=2)]
    assert len(rows) == 4
    suppressed = 0
    for row in rows:
        own = section(text, row["Partnership"])
        if row["Overall"] == "suppressed":
            suppressed += 1
            assert "suppressed" in own
            assert "Overall" not in own.split("Priorities")[0]
        else:
            assert f"Overall {row['Overall']:.2f}" in " ".join(own.split()), row["Partnership"]
    assert suppressed == 1
    # The board's own overall as the Boards sheet has it, on the cover.
    board_row = next(load_workbook(xlsx)["Boards"].iter_rows(min_row=2, values_only=True))
    assert f"Overall score {board_row[-2]:.2f}" in " ".join(text.split())
    # The plan, typed text and the method; never a comment, a name or an answer row.
    flat = " ".join(text.split())
    assert "Publish a quarterly data brief" in flat and "Two new employer co-chairs" in flat
    assert "Logistics & <Trade>" in flat
    assert "Questionnaire content hash" in flat and shipped_questionnaire().content_hash in flat
    assert COMMENT not in flat and SECRET_NAME not in flat and "@example.org" not in flat
    assert "PROVISIONAL" not in flat
    # Letter pages, numbered, fonts embedded, a reasonable length for four partnerships.
    # four partnerships, with SPEC 15's margins, agreement and method text: under 17 pages
    assert 6 <= pages(pdf) < 17
    assert "Page 1 of" in flat
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True,
                           text=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts
    size = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert "612 x 792 pts (letter)" in size


def test_the_suppressed_partnership_gives_no_figure_away(runner, session, world, tmp_path):
    from survey.scoring import cycle_results
    pdf = tmp_path / "r.pdf"
    assert runner.invoke(args=["report", str(pdf), "--cycle", "2025", "--board", "15"]
                         ).exit_code == 0
    text = "\n".join(pdf_text(pdf))
    tiny = section(text, "Tiny Tech")
    assert "scores are suppressed" in tiny
    # Its one respondent answered 2 everywhere: neither "2.00" nor a mean near it appears.
    results = cycle_results(session, find_cycle(session, "2025"), "15")
    assert next(p for p in results.partnerships if p.label == "Tiny Tech").overall.suppressed
    assert "2.00" not in tiny


def test_state_report_of_an_open_cycle_is_provisional_with_a_page_per_board(
        runner, world, tmp_path):
    pdf = tmp_path / "state.pdf"
    result = runner.invoke(args=["report", str(pdf), "--cycle", "2026"])
    assert result.exit_code == 0, result.output
    assert "provisional" in result.output
    texts = pdf_text(pdf)
    assert all("PROVISIONAL" in page for page in texts[1:]), "every page after the cover"
    assert "Provisional" in texts[0]
    starts = [n for n, page in enumerate(texts) if "Board 15 CareerSource Heartland\n" in page
              and "Element scores: the board and the state" in page]
    others = [n for n, page in enumerate(texts) if "Board 16 CareerSource Gulf Coast\n" in page
              and "Element scores: the board and the state" in page]
    assert starts and others and starts[0] != others[0]


def test_who_may_download_which_report(client, auth, world):
    auth.login("lead@example.org", PASSWORD)
    response = client.get("/reports/2025/15.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF-")
    assert "maturity-report-2025-15.pdf" in response.headers["Content-Disposition"]
    for url in ("/reports/2026/15.pdf", "/reports/2025/16.pdf", "/reports/2025.pdf",
                "/reports/1999/15.pdf", "/reports/2025/99.pdf"):
        assert client.get(url).status_code == 404, url
    auth.logout()
    auth.login("state@example.org", PASSWORD)
    assert client.get("/reports/2025/16.pdf").status_code == 200
    response = client.get("/reports/2026.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    auth.logout()
    assert client.get("/reports/2025.pdf").status_code == 302  # sign in first


@pytest.mark.parametrize("args, message", [
    (["report", "{tmp}/r.txt", "--cycle", "2025"], "does not end in .pdf"),
    (["report", "{tmp}/r.pdf", "--cycle", "1999"], "unknown cycle: 1999"),
    (["report", "{tmp}/r.pdf", "--cycle", "2025", "--board", "99"], "unknown board: 99"),
    (["report", "{tmp}/missing/r.pdf", "--cycle", "2025"], "folder does not exist"),
])
def test_bad_command_line_input_writes_nothing(runner, world, tmp_path, args, message):
    result = runner.invoke(args=[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code != 0
    assert message in result.output
    assert not list(tmp_path.glob("**/*.pdf")) and not list(tmp_path.glob("*.txt"))


def test_report_module_needs_neither_flask_nor_a_database():
    code = ("import sys, reports.report_pdf; "
            "assert 'flask' not in sys.modules and 'sqlalchemy' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
