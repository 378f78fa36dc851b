"""Revisions (SPEC 4b.2-4b.3): what a board lead has read never changes under them, and a
revision holds back what differencing against earlier releases would give away."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from survey import releases
from survey.models import CycleStatus
from survey.scoring import cycle_by_name
from survey.services.accounts import create_user
from tests.conftest import AuthActions
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
# What may differ between two views of one release: form tokens, and the cycle's status
# in the cycle picker (it is open again; progress is no figure).
VOLATILE = re.compile(rb'name="csrf_token"[^>]*value="[^"]+"|\((?:open|closed)\)</option>')


@pytest.fixture
def world(session: Session) -> dict:
    """Board 15: Manufacturing (3 submitted of 4) and Health care (3); board 16:
    Logistics (3). Cycle 2026 open; a lead of board 15, state staff, an administrator."""
    q = shipped_questionnaire()
    b15 = make_board(session, "15", "CareerSource Heartland")
    b16 = make_board(session, "16", "CareerSource Gulf Coast")
    manufacturing = make_partnership(session, b15, "Manufacturing")
    health = make_partnership(session, b15, "Health Care", sector="Health care")
    logistics = make_partnership(session, b16, "Logistics", sector="Logistics")
    cycle = make_cycle(session, "2026", CycleStatus.OPEN)
    late, tokens = None, []
    for partnership, levels in ((manufacturing, (2, 2, 3, 4)), (health, (3, 3, 4)),
                                (logistics, (1, 2, 2))):
        for n, level in enumerate(levels):
            ptype = ("business", "education", "workforce", "business")[n]
            member = make_member(session, partnership, ptype)
            invitation, token = make_invitation(session, cycle, member)
            tokens.append(token)
            if n == 3:  # the fourth Manufacturing member answers only after the close
                late = (invitation, level)
                continue
            answer(session, invitation, all_answers(q, level))
    create_user(session, "lead@example.org", PASSWORD, "board", board=b15)
    create_user(session, "state@example.org", PASSWORD, "state")
    create_user(session, "admin@example.org", PASSWORD, "admin")
    session.commit()
    return {"late": late, "manufacturing": manufacturing.id, "health": health.id,
            "b16": b16.id, "tokens": tokens}


def login(client: FlaskClient, email: str) -> None:
    """Sign in through the real pages (an administrator's second factor included)."""
    response = AuthActions(client).login(email, PASSWORD)
    assert response.status_code in (302, 303), response.status_code


def lead_outputs(client: FlaskClient, extra: str = "") -> dict[str, bytes]:
    """Everything board 15's lead reads of cycle 2026 (VOLATILE parts blanked)."""
    urls = ["/boards/15?cycle=2026", "/exports/2026/15.xlsx", "/charts/2026/boards/15/radar.svg",
            "/charts/2026/boards/15/partnership-heatmap.svg"]
    found = {}
    for url in urls:
        response = client.get(url + ("&" if "?" in url else "?") + extra if extra else url)
        assert response.status_code == 200, url
        found[url] = VOLATILE.sub(b"", response.get_data())
    return found


def workbook_cells(data: bytes) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return [(sheet.title, *row) for sheet in book for row in sheet.iter_rows(values_only=True)]


def test_reopen_and_a_late_submission_change_nothing_a_lead_reads_until_a_revision(
        app, session: Session, client: FlaskClient, runner: FlaskCliRunner,
        world: dict, tmp_path) -> None:
    assert runner.invoke(args=["cycle", "close", "2026", "--yes"]).exit_code == 0
    login(client, "lead@example.org")
    before = lead_outputs(client)
    # Reopen, one more partner submits, close again: the SPEC 4a attack of issue 16.
    assert runner.invoke(args=["cycle", "open", "2026"]).exit_code == 0
    invitation, level = world["late"]
    answer(session, session.merge(invitation), all_answers(shipped_questionnaire(), level))
    session.commit()
    assert lead_outputs(client) == before  # open again: still release 1, byte for byte
    assert lead_outputs(client, "live=1") == before  # live figures are for stewards only
    assert runner.invoke(args=["cycle", "close", "2026", "--yes"]).exit_code == 0
    assert lead_outputs(client) == before
    cli = runner.invoke(args=["export", str(tmp_path / "b.xlsx"), "--cycle", "2026",
                              "--board", "15"])
    assert cli.exit_code == 0 and "release 1 (Release 1, " in cli.output, cli.output
    assert workbook_cells((tmp_path / "b.xlsx").read_bytes()) == workbook_cells(
        before["/exports/2026/15.xlsx"])

    # Stewards see the release, the count of changes, and the live figures on request.
    client.post("/logout", data={"csrf_token": re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"',
        client.get("/boards/15").get_data(as_text=True)).group(1)})
    login(client, "state@example.org")
    body = client.get("/boards/15?cycle=2026").get_data(as_text=True)
    assert "Not yet published: 1 response changed since release 1." in body
    live = client.get("/boards/15?cycle=2026&live=1").get_data(as_text=True)
    assert "Provisional." in live and "Back to release 1" in live

    # A revision: the Manufacturing scores would differ by one respondent, held back.
    published = runner.invoke(args=["cycle", "publish", "2026", "--note", "a late answer"])
    assert published.exit_code == 0, published.output
    assert "published Release 2, " in published.output and ": a late answer" in published.output
    assert re.search(r"^\d+ figures held back", published.output, re.M)
    assert "partnership Manufacturing, data: 1 respondent differs from release 1" in (
        published.output)
    cycle = cycle_by_name(session, "2026")
    second = releases.release_results(releases.current(session, cycle), "15")
    manufacturing = next(p for p in second.partnerships if p.label == "Manufacturing")
    assert manufacturing.responded == 4  # counts move; figures that would give them away don't
    assert all(s.suppressed and s.value is None for s in manufacturing.elements.values())
    first = releases.release_results(releases.current(session, cycle, 1), "15")
    board_1, board_2 = first.boards[0], second.boards[0]
    assert (board_1.elements["vision"].n, board_2.elements["vision"].n) == (2, 1)
    listing = runner.invoke(args=["cycle", "releases", "2026"])
    assert listing.exit_code == 0 and "a late answer" in listing.output
    assert re.search(r"^\s+1 .*first publication", listing.output, re.M)

    # The lead reads release 2 now, and release 1 still downloads as it was.
    client.post("/logout", data={"csrf_token": re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"',
        client.get("/boards/15").get_data(as_text=True)).group(1)})
    login(client, "lead@example.org")
    now = lead_outputs(client)
    assert now["/exports/2026/15.xlsx"] != before["/exports/2026/15.xlsx"]
    assert "Release 2, " in now["/boards/15?cycle=2026"].decode("latin-1")
    again = lead_outputs(client, "release=1")
    assert workbook_cells(again["/exports/2026/15.xlsx"]) == workbook_cells(
        before["/exports/2026/15.xlsx"])
    assert client.get("/exports/2026/15.xlsx?release=3").status_code == 404


def test_publish_refuses_without_a_note_or_a_first_release(
        runner: FlaskCliRunner, world: dict) -> None:
    early = runner.invoke(args=["cycle", "publish", "2026", "--note", "too soon"])
    assert early.exit_code == 1
    assert "cycle 2026 is not published yet: close it first" in early.output
    assert runner.invoke(args=["cycle", "close", "2026", "--yes"]).exit_code == 0
    blank = runner.invoke(args=["cycle", "publish", "2026", "--note", "  "])
    assert blank.exit_code == 1 and "a revision needs a note" in blank.output
    assert "1 " in runner.invoke(args=["cycle", "releases", "2026"]).output


def token_of(client: FlaskClient, url: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                     client.get(url).get_data(as_text=True)).group(1)


def test_an_administrator_publishes_a_revision_on_the_web_after_a_confirmation(
        session: Session, client: FlaskClient, runner: FlaskCliRunner, world: dict) -> None:
    assert runner.invoke(args=["cycle", "close", "2026", "--yes"]).exit_code == 0
    invitation, level = world["late"]
    answer(session, session.merge(invitation), all_answers(shipped_questionnaire(), level))
    session.commit()
    login(client, "lead@example.org")
    assert client.get("/admin/cycles/2026/publish").status_code == 404
    client.post("/logout", data={"csrf_token": token_of(client, "/boards/15")})
    login(client, "admin@example.org")
    state = client.get("/state?cycle=2026").get_data(as_text=True)
    assert "Not yet published: 1 response changed since release 1." in state
    assert "/admin/cycles/2026/publish" in state
    confirm = client.get("/admin/cycles/2026/publish").get_data(as_text=True)
    assert "Publish release 2 of cycle 2026" in confirm
    assert "1 response changed since release 1" in confirm
    assert "partnership Manufacturing, vision: 1 respondent differs from release 1" in confirm
    token = token_of(client, "/admin/cycles/2026/publish")
    blank = client.post("/admin/cycles/2026/publish", data={"csrf_token": token, "note": " "})
    assert blank.status_code == 422 and "Say what changed" in blank.get_data(as_text=True)
    cycle = cycle_by_name(session, "2026")
    assert [r.number for r in releases.all_releases(session, cycle)] == [1]
    assert client.post("/admin/cycles/2026/publish",
                       data={"note": "no token"}).status_code == 400  # CSRF
    done = client.post("/admin/cycles/2026/publish",
                       data={"csrf_token": token, "note": "a <b>late</b> answer"})
    assert done.status_code == 302
    rows = releases.all_releases(session, cycle)
    assert [(r.number, r.note, r.author) for r in rows][1] == (
        2, "a <b>late</b> answer", "admin@example.org")
    page = client.get("/state?cycle=2026").get_data(as_text=True)
    assert "a &lt;b&gt;late&lt;/b&gt; answer" in page and "<b>late</b>" not in page
    assert "Not yet published" not in page
