"""The audit log (SPEC 14): who did what and when, at /admin/audit and by `survey audit`."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from survey.models import AuditEvent, CycleStatus
from survey.services import accounts
from tests.conftest import csrf_token
from tests.factories import make_board, make_cycle, make_member, make_partnership

PASSWORD = "correct horse battery"


def text_of(response) -> str:
    body = response.get_data(as_text=True)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def audit_rows(session: Session) -> list[tuple[str, str, str]]:
    """(actor, action, target) of every event, oldest first, as committed."""
    session.commit()  # end the test's read transaction: see what requests committed since
    return [tuple(r) for r in session.execute(
        select(AuditEvent.actor, AuditEvent.action, AuditEvent.target).order_by(AuditEvent.id))]


@pytest.fixture
def admin(session: Session, client: FlaskClient, auth) -> FlaskClient:
    accounts.create_user(session, "chief@example.org", PASSWORD, "admin")
    session.commit()
    assert auth.login("chief@example.org").status_code == 302
    session.execute(delete(AuditEvent))  # start each test with an empty log
    session.commit()
    return client


def post(client: FlaskClient, url: str, data: dict | None = None, **kwargs):
    token = csrf_token(client, "/admin/")
    return client.post(url, data={**(data or {}), "csrf_token": token}, **kwargs)


def test_the_audit_log_shows_who_closed_the_cycle_on_the_web(session, admin):
    make_cycle(session, "2026", status=CycleStatus.OPEN)
    session.commit()
    assert post(admin, "/admin/cycles/2026/close", {"confirm": "yes"}).status_code == 302

    page = admin.get("/admin/audit")
    assert page.status_code == 200
    text = text_of(page)
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d E[SD]T chief@example\.org cycle\.close "
                     r"cycle 2026", text), text
    assert ("chief@example.org", "cycle.close", "cycle 2026") in audit_rows(session)


def test_the_audit_log_shows_who_closed_the_cycle_from_the_command_line(session, runner):
    make_cycle(session, "2026", status=CycleStatus.OPEN)
    session.commit()
    assert runner.invoke(args=["cycle", "close", "2026", "--yes"]).exit_code == 0
    result = runner.invoke(args=["audit"])
    assert result.exit_code == 0, result.output
    (line,) = [x for x in result.output.splitlines() if "cycle.close" in x]
    when, actor, action, target, detail = line.split("\t")
    assert actor.startswith("cli") and action == "cycle.close" and target == "cycle 2026"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d E[SD]T", when)  # SURVEY_TIMEZONE


def test_cycle_board_partnership_and_member_changes_are_recorded(session, admin):
    board = make_board(session, "03", "Old name")
    make_board(session, "04", "Other")
    partnership = make_partnership(session, board, "Health")
    member = make_member(session, partnership, name="Ana Diaz")
    session.commit()
    steps = [
        ("/admin/cycles", {"name": "2027", "opens_on": "2027-01-04", "closes_on": "2027-03-01"}),
        ("/admin/cycles/2027/open", {}),
        ("/admin/cycles/2027/close", {"confirm": "yes"}),
        ("/admin/cycles/2027/open", {}),
        ("/admin/boards/03/rename", {"name": "New name"}),
        (f"/admin/partnerships/{partnership.id}", {"name": "Health care", "sector": "Healthcare"}),
        (f"/admin/partnerships/{partnership.id}/move", {"board": "04"}),
        (f"/admin/members/{member.id}/remove", {}),
        ("/admin/boards/03/retire", {}),
    ]
    for url, data in steps:
        assert post(admin, url, data).status_code == 302, url
    links = post(admin, "/admin/cycles/2027/links.csv", {"board": ""})
    assert links.status_code == 200 and links.mimetype == "text/csv"
    actions = [(action, target) for actor, action, target in audit_rows(session)
               if actor == "chief@example.org"]
    assert [a for a, _ in actions] == [
        "cycle.create", "cycle.open", "cycle.close", "cycle.reopen", "board.rename",
        "partnership.edit", "partnership.move", "member.remove", "board.retire",
        "export.download"]
    assert actions[-1][1] == "partner links, cycle 2027"
    assert actions[4][1] == "board 03"
    detail = session.execute(select(AuditEvent.detail)
                             .where(AuditEvent.action == "board.rename")).scalar_one()
    assert detail == {"before": "Old name", "after": "New name"}


def test_a_rejected_action_leaves_no_entry(session, admin):
    make_board(session, "03")
    session.commit()
    response = post(admin, "/admin/boards/03/merge", {"target": "03"})
    assert response.status_code in (302, 422)
    assert audit_rows(session) == []


def test_workbook_and_report_downloads_are_recorded_with_the_reader(session, admin):
    make_cycle(session, "2026", status=CycleStatus.OPEN)
    make_board(session, "15")
    session.commit()
    assert admin.get("/exports/2026.xlsx").status_code == 200
    assert admin.get("/exports/2026/15.xlsx").status_code == 200
    assert admin.get("/reports/2026.pdf").status_code == 200
    assert admin.get("/state").status_code == 200  # pages are not downloads
    assert audit_rows(session) == [
        ("chief@example.org", "export.download", "state workbook, cycle 2026"),
        ("chief@example.org", "export.download", "board 15 workbook, cycle 2026"),
        ("chief@example.org", "export.download", "state report PDF, cycle 2026")]


@pytest.mark.parametrize("role", ["board", "state"])
def test_only_administrators_see_the_audit_log(session, client, auth, role):
    board = make_board(session, "15")
    accounts.create_user(session, "staff@example.org", PASSWORD, role,
                         board if role == "board" else None)
    session.commit()
    auth.login("staff@example.org")
    assert client.get("/admin/audit").status_code == 404


def add_events(session: Session, count: int, start: dt.datetime, action: str = "cycle.open",
               step: dt.timedelta = dt.timedelta(hours=1)) -> None:
    session.execute(insert(AuditEvent), [
        {"at": start + i * step, "actor": "someone@example.org", "action": action,
         "target": f"event {i}", "detail": {}} for i in range(count)])
    session.commit()


def test_the_log_is_newest_first_in_pages_of_fifty(session, admin):
    add_events(session, 120, dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC))
    first = text_of(admin.get("/admin/audit"))
    assert first.index("event 119") < first.index("event 118")
    assert "event 70 " in first and "event 69 " not in first
    page_three = admin.get("/admin/audit?page=3")
    text = text_of(page_three)
    assert "event 19 " in text and "event 0 " in text and "event 20 " not in text
    assert "Older events" not in text and "Newer events" in text


def test_filter_by_action_and_local_dates(session, admin):
    # 2026-01-10 04:30 UTC is still 9 January in Florida (EST, UTC-5).
    add_events(session, 1, dt.datetime(2026, 1, 10, 4, 30, tzinfo=dt.UTC), "board.rename")
    add_events(session, 1, dt.datetime(2026, 1, 10, 15, 0, tzinfo=dt.UTC), "board.rename")
    add_events(session, 1, dt.datetime(2026, 1, 10, 16, 0, tzinfo=dt.UTC), "cycle.close")
    page = admin.get("/admin/audit?action=board.rename&since=2026-01-10&until=2026-01-10")
    rows = text_of(page).split("Detail", 1)[1]
    assert page.status_code == 200
    assert rows.count("someone@example.org board.rename") == 1
    assert "2026-01-10 10:00:00 EST" in rows and "cycle.close" not in rows
    ninth = text_of(admin.get("/admin/audit?since=2026-01-09&until=2026-01-09"))
    rows = ninth.split("Detail", 1)[1]
    assert "2026-01-09 23:30:00 EST" in rows and "cycle.close" not in rows


@pytest.mark.parametrize("query", ["since=2026-13-01", "action=drop.tables", "page=0",
                                   "page=abc"])
def test_bad_filters_get_a_reason_in_the_sites_look(session, admin, query):
    add_events(session, 1, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    page = admin.get(f"/admin/audit?{query}")
    assert page.status_code == 400
    body = page.get_data(as_text=True)
    assert "There is a problem" in body and "<h1>Audit log</h1>" in body


def test_typed_text_is_escaped_on_the_page_and_kept_on_one_line_in_the_terminal(
        session, admin, runner):
    session.execute(insert(AuditEvent).values(
        at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), actor="x@example.org",
        action="board.rename", target="board 03",
        detail={"after": "<script>alert(1)</script>\nsecond line"}))
    session.commit()
    body = admin.get("/admin/audit").get_data(as_text=True)
    assert "<script>alert(1)" not in body and "&lt;script&gt;" in body
    lines = [x for x in runner.invoke(args=["audit"]).output.splitlines() if "board.rename" in x]
    assert len(lines) == 1 and "second line" in lines[0]


def test_survey_audit_since_a_day(session, runner):
    add_events(session, 3, dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC),
               step=dt.timedelta(days=1))
    result = runner.invoke(args=["audit", "--since", "2026-05-02"])
    assert result.exit_code == 0
    assert [line.split("\t")[3] for line in result.output.splitlines()] == ["event 1", "event 2"]
    bad = runner.invoke(args=["audit", "--since", "May 2"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_no_audit_entries_without_a_change(session, admin):
    # Renaming to the same name, retiring a retired board: nothing happened, nothing logged.
    make_board(session, "03", "Same")
    session.commit()
    assert post(admin, "/admin/boards/03/rename", {"name": "Same"}).status_code == 302
    assert session.execute(select(func.count(AuditEvent.id))).scalar_one() == 0


def test_a_board_map_import_from_the_command_line_is_recorded(session, runner, tmp_path):
    make_board(session, "03", "Old name")
    session.commit()
    boards = tmp_path / "boards.csv"
    boards.write_text("code,name\n03,New name\n30,A new board\n")
    assert runner.invoke(args=["boards", "import", str(boards)]).exit_code == 0
    (line,) = [x for x in runner.invoke(args=["audit", "--action", "boards.import"]
                                        ).output.splitlines()]
    _, actor, action, target, detail = line.split("\t")
    assert actor.startswith("cli") and target == "2 boards"
    assert json.loads(detail) == {"created": 1, "renamed": 1, "unchanged": 0}
