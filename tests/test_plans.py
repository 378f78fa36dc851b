"""Action plans (SPEC 11): who may keep them, validation, history, the pages that read
them in the next cycle, the workbook's Plans sheet, and results back to partners."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from survey.models import AuditEvent, CycleStatus, PlanChange, PlanEntry
from survey.services import plan_hints, plans
from survey.services.dashboard_data import find_cycle
from tests.conftest import CSRF_RE
from tests.test_dashboards import COMMENT, PASSWORD, World, build_world, text_of


@pytest.fixture
def world(session) -> World:
    """The dashboards' world, with cycle 2026 open and never closed (unpublished)."""
    built = build_world(session)
    find_cycle(session, "2026").published_at = None
    session.commit()
    return built


def plan_url(world: World, partnership=None, cycle: str = "2025") -> str:
    return f"/partnerships/{(partnership or world.strong).id}/plan?cycle={cycle}"


def form_token(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match
    return match.group(1)


def plan_data(token: str, **entries: dict) -> dict:
    """Form fields for some elements: {"data": {"goal": ...}} -> data-goal=..."""
    data = {"csrf_token": token}
    for key, fields in entries.items():
        for name, value in fields.items():
            if name == "priority":
                if value:
                    data[f"{key}-priority"] = "y"
            else:
                data[f"{key}-{name}"] = value
    return data


GOAL = "=HYPERLINK(\"http://x\") Publish a <b>shared</b> labour-market brief"


def write_plan(client, world: World, **entries: dict):
    url = plan_url(world)
    return client.post(url, data=plan_data(form_token(client, url), **entries))


def test_lead_writes_a_plan_and_history_keeps_who_and_what(client, auth, session, world):
    auth.login("lead@example.org", PASSWORD)
    response = write_plan(client, world, data={
        "priority": True, "goal": GOAL, "actions": "Quarterly brief", "owner": "Ana Diaz",
        "due_on": "2026-06-30", "status": "in_progress"})
    assert response.status_code == 303
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Plan saved: 1 element changed." in body
    assert "&lt;b&gt;shared&lt;/b&gt;" in body and "<b>shared</b>" not in body
    entry = session.execute(select(PlanEntry)).scalar_one()
    assert (entry.priority, entry.owner, entry.due_on, entry.status) == (
        True, "Ana Diaz", dt.date(2026, 6, 30), "in_progress")
    assert entry.updated_by == "lead@example.org"
    # A second save changes the status only: one more history row with before and after.
    write_plan(client, world, data={"priority": True, "goal": GOAL, "actions": "Quarterly brief",
                                    "owner": "Ana Diaz", "due_on": "2026-06-30",
                                    "status": "done"})
    session.expire_all()
    changes = session.execute(select(PlanChange).order_by(PlanChange.id)).scalars().all()
    assert len(changes) == 2
    assert changes[1].changes == {"status": ["in_progress", "done"]}
    assert changes[0].changes["goal"] == ["", GOAL]
    assert changes[1].changed_by == "lead@example.org"
    events = session.execute(select(AuditEvent).where(AuditEvent.action == "plan.change"))
    assert len(events.scalars().all()) == 2
    page = text_of(client.get(plan_url(world)).get_data(as_text=True))
    assert "status in progress done" in page and "lead@example.org" in page
    # Saving the same again changes nothing and adds no history.
    write_plan(client, world, data={"priority": True, "goal": GOAL, "actions": "Quarterly brief",
                                    "owner": "Ana Diaz", "due_on": "2026-06-30",
                                    "status": "done"})
    assert session.query(PlanChange).count() == 2


@pytest.mark.parametrize("fields, message", [
    ({"priority": True, "goal": ""}, "Driven by High-Quality Data: a priority needs a goal."),
    ({"goal": "x", "due_on": "30/06/2026"}, "enter the due date as a day, month and year"),
    ({"goal": "x", "status": "finished"}, "Not a valid choice"),
    ({"goal": "x" * (plans.GOAL_MAX + 1)}, "1000 characters"),
    ({"owner": "Ana"}, "write the goal this entry serves"),
])
def test_invalid_plan_gets_an_error_summary_and_writes_nothing(client, auth, session, world,
                                                              fields, message):
    auth.login("lead@example.org", PASSWORD)
    response = write_plan(client, world, data={"actions": "Keep this text", **fields})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "There is a problem" in body and message in text_of(body)
    assert "Keep this text" in body  # nothing typed is lost
    assert session.query(PlanEntry).count() == 0


def test_expired_csrf_token_keeps_the_text(client, auth, session, world):
    auth.login("lead@example.org", PASSWORD)
    response = client.post(plan_url(world), data=plan_data(
        "stale", data={"goal": "A goal I typed for an hour", "actions": "Many actions"}))
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "security token expired" in body
    assert "A goal I typed for an hour" in body and "Many actions" in body
    assert session.query(PlanEntry).count() == 0


def test_plan_roles(client, auth, session, world):
    # A lead of another board, and an anonymous visitor, never see the plan.
    from survey.services.accounts import create_user
    create_user(session, "lead16@example.org", PASSWORD, "board", board=world.other)
    session.commit()
    assert client.get(plan_url(world)).status_code == 302  # to the login page
    auth.login("lead16@example.org", PASSWORD)
    assert client.get(plan_url(world)).status_code == 404
    assert client.post(plan_url(world), data={"data-goal": "x"}).status_code in (400, 404)
    assert client.get(plan_url(world, world.elsewhere)).status_code == 200
    auth.logout()
    for email in ("state@example.org", "admin@example.org", "lead@example.org"):
        auth.login(email, PASSWORD)
        assert client.get(plan_url(world)).status_code == 200, email
        auth.logout()
    assert session.query(PlanEntry).count() == 0


def test_open_cycle_takes_no_plan(client, auth, session, world):
    auth.login("state@example.org", PASSWORD)
    url = plan_url(world, cycle="2026")
    body = client.get(url).get_data(as_text=True)
    assert "no published results yet" in body
    token = form_token(client, plan_url(world))
    response = client.post(url, data=plan_data(token, data={"goal": "x"}))
    assert response.status_code == 400
    assert session.query(PlanEntry).count() == 0
    with pytest.raises(plans.PlanError):
        plans.save_plan(session, world.strong, find_cycle(session, "2026"),
                        {"data": plans.PlanInput(goal="x")}, "someone")


def test_suggestions_name_the_lowest_elements_and_the_widest_gap(session, world):
    from survey.scoring import cycle_results
    cycle = find_cycle(session, "2026")
    found = plan_hints.suggestions(cycle_results(session, cycle, "15"), world.strong.id)
    assert found, "a partnership with three respondents gets suggestions"
    assert any("among the lowest elements" in s.reason for s in found)
    assert not plan_hints.suggestions(cycle_results(session, cycle, "15"), world.small.id) or all(
        "lowest elements" not in s.reason for s in
        plan_hints.suggestions(cycle_results(session, cycle, "15"), world.small.id))


def test_next_cycle_pages_read_the_last_plan(client, auth, session, world):
    cycle_2025 = find_cycle(session, "2025")
    plans.save_plan(session, world.strong, cycle_2025, {
        "data": plans.PlanInput(priority=True, goal="Share one dashboard", status="planned",
                                due_on=dt.date(2020, 1, 1)),
        "vision": plans.PlanInput(goal="A written vision", status="done")}, "lead@example.org")
    session.commit()
    # The partnership page of 2026 shows each element's change beside last cycle's plan.
    auth.login("lead@example.org", PASSWORD)
    page = text_of(client.get(f"/partnerships/{world.strong.id}?cycle=2026").get_data(
        as_text=True))
    assert "Plan of cycle 2025 beside this cycle's change" in page
    assert "Share one dashboard" in page and "overdue" in page
    # The board page lists plans, overdue first; the state page counts them per board.
    board = text_of(client.get("/boards/15?cycle=2026").get_data(as_text=True))
    assert board.index("Share one dashboard") < board.index("A written vision")
    auth.logout()
    auth.login("state@example.org", PASSWORD)
    state = text_of(client.get("/state?cycle=2026").get_data(as_text=True))
    assert "Action plans of cycle 2025" in state
    # board (code and name), planned, in progress, done, dropped, overdue
    assert "15 CareerSource Heartland 1 0 1 0 1" in state


def test_plans_sheet_lists_entries_guarded_against_formulas(session, world):
    from reports.workbook import build_workbook
    from survey.scoring import cycle_results
    cycle = find_cycle(session, "2025")
    plans.save_plan(session, world.strong, cycle, {
        "data": plans.PlanInput(priority=True, goal=GOAL, owner="@owner", status="in_progress",
                                due_on=dt.date(2026, 6, 30))}, "lead@example.org")
    session.commit()
    results = plans.with_plans(cycle_results(session, cycle, "15"), session, cycle)
    wb = load_workbook(io.BytesIO(build_workbook(results)))
    assert wb.sheetnames.index("Plans") == wb.sheetnames.index("About") - 1
    ws = wb["Plans"]
    header = [c.value for c in ws[1]]
    assert header == ["Board code", "Partnership", "Element", "Priority", "Goal", "Actions",
                      "Owner", "Due", "Status", "Updated"]
    row = [c for c in ws[2]]
    assert row[0].value == "15" and row[2].value == "Driven by High-Quality Data"
    assert row[3].value == "yes" and row[4].value == GOAL and row[4].data_type == "s"
    assert row[6].value == "@owner" and row[6].data_type == "s"
    assert row[7].value.date() == dt.date(2026, 6, 30) and row[8].value == "in progress"


def test_partner_reads_results_and_plan_after_the_close(client, session, world):
    from survey.models import Invitation
    from tests.factories import make_invitation
    cycle = find_cycle(session, "2025")
    plans.save_plan(session, world.strong, cycle, {
        "data": plans.PlanInput(priority=True, goal="Share one dashboard", owner="Ana")},
        "lead@example.org")
    plans.save_plan(session, world.elsewhere, cycle, {
        "data": plans.PlanInput(goal="Another partnership's goal")}, "state@example.org")
    member = session.execute(select(Invitation).where(Invitation.cycle_id == cycle.id)
                             ).scalars().first().member
    _, token = make_invitation(session, cycle, member)
    session.commit()
    overview = client.get(f"/s/{token}").get_data(as_text=True)
    assert f"/s/{token}/results" in overview
    page = text_of(client.get(f"/s/{token}/results").get_data(as_text=True))
    assert "Share one dashboard" in page and "Ana" in page
    assert "Overall" in page and "Board" in page and "State" in page
    assert COMMENT not in page and "Wilhelmina" not in page
    assert "Another partnership's goal" not in page  # partners read only their own plan
    # While a cycle is open, the results page is refused.
    open_cycle = find_cycle(session, "2026")
    assert open_cycle.status == CycleStatus.OPEN
    _, open_token = make_invitation(session, open_cycle, member)
    session.commit()
    assert client.get(f"/s/{open_token}/results").status_code == 404


def test_next_cycles_invitation_says_what_changed_since_the_last(session, world):
    from survey.models import Invitation
    from survey.services.invitations import IssuedLink
    from survey.services.mail import MailSettings, compose_invitation
    plans.save_plan(session, world.strong, find_cycle(session, "2025"), {
        "data": plans.PlanInput(priority=True, goal="Share one dashboard")}, "lead@example.org")
    session.commit()
    invitation = session.execute(select(Invitation).where(
        Invitation.cycle_id == find_cycle(session, "2026").id,
        Invitation.participation.has(partnership_id=world.strong.id))).scalars().first()
    settings = MailSettings("", "survey@example.org", "http://survey.test")
    message = compose_invitation(IssuedLink(invitation, "t" * 30), settings)
    text = message.get_body(("plain",)).get_content()
    # 2025: three partners answered 2, 2 and 3 everywhere: overall 2.33.
    assert ("What changed since the last cycle: In cycle 2025 the partnership's overall "
            "score was 2.33") in text
    assert "Its action plan set 1 priority for this cycle." in text
    html = message.get_body(("html",)).get_content()
    assert "overall score was 2.33" in html
    reminder = compose_invitation(IssuedLink(invitation, "t" * 30), settings, reminder=True)
    assert "What changed" not in reminder.get_body(("plain",)).get_content()


def test_dashboards_link_to_the_maturity_reports(client, auth, world):
    auth.login("lead@example.org", PASSWORD)
    assert "/reports/2025/15.pdf" in client.get("/boards/15?cycle=2025").get_data(as_text=True)
    assert "/reports/2026/15.pdf" not in client.get("/boards/15?cycle=2026").get_data(
        as_text=True)  # a lead has no report of an open cycle
    auth.logout()
    auth.login("state@example.org", PASSWORD)
    assert "/reports/2026.pdf" in client.get("/state?cycle=2026").get_data(as_text=True)


def test_web_workbook_shows_a_plan_saved_after_it_was_first_downloaded(client, auth, world):
    auth.login("lead@example.org", PASSWORD)
    before = load_workbook(io.BytesIO(client.get("/exports/2025/15.xlsx").data))["Plans"]
    assert before.max_row == 1  # the header only
    write_plan(client, world, data={"goal": "Meet every quarter", "owner": "Ana"})
    after = load_workbook(io.BytesIO(client.get("/exports/2025/15.xlsx").data))["Plans"]
    assert [c.value for c in after[2]][4] == "Meet every quarter"
