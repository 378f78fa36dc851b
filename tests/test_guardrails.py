"""Issue 17's guardrails without a browser: cycles that ask before they open or close, a
mistaken draft deleted, links that take answers only from the opening date (in
SURVEY_TIMEZONE), no empty submission, and a lead's default cycle."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from survey.models import Cycle, CycleStatus, Invitation, InvitationStatus, Participation
from survey.services.accounts import create_user
from survey.services.dashboard_data import choose_cycle, cycle_progress
from tests.conftest import AuthActions, csrf_token
from tests.factories import (
    answer,
    make_board,
    make_cycle,
    make_invitation,
    make_member,
    make_partnership,
)
from tests.test_admin import text_of

PASSWORD = "correct horse battery"


def sign_in(client, email: str) -> None:
    """Through the real pages, an administrator's second factor included (SPEC 17)."""
    response = AuthActions(client).login(email, PASSWORD)
    assert response.status_code in (302, 303), email


@pytest.fixture
def world(session):
    return build_world(session)


def build_world(session):
    """Board 15 with two partnerships of three members; 2025 closed (published), 2026 open
    with one submission, 2027 a draft; an administrator and the board's lead."""
    board = make_board(session, "15", "CareerSource Heartland")
    other = make_board(session, "16", "CareerSource Other")
    members = []
    for name, where in (("Health Care Partners", board), ("Logistics", board),
                        ("Elsewhere", other)):
        partnership = make_partnership(session, where, name)
        members += [make_member(session, partnership) for _ in range(3)]
    old = make_cycle(session, "2025", status=CycleStatus.CLOSED,
                     opens_on=dt.date(2025, 1, 6), closes_on=dt.date(2025, 3, 1))
    current = make_cycle(session, "2026")
    make_cycle(session, "2027", status=CycleStatus.DRAFT, opens_on=dt.date(2027, 1, 4),
               closes_on=dt.date(2027, 3, 1))
    invitations = [make_invitation(session, current, m)[0] for m in members]
    for m in members:
        make_invitation(session, old, m)
    answer(session, invitations[0], {"data-1": 3})
    answer(session, invitations[1], {"data-1": "DK"}, submit=False)
    create_user(session, "chief@example.org", PASSWORD, "admin")
    create_user(session, "lead@example.org", PASSWORD, "board", board=board)
    session.commit()
    return invitations


def cycle_status(session, name: str) -> str:
    session.expire_all()
    return session.execute(select(Cycle.status).where(Cycle.name == name)).scalar_one()


# --- the web -----------------------------------------------------------------------------


def test_closing_on_the_web_says_who_can_no_longer_answer_then_closes(session, client, world):
    sign_in(client, "chief@example.org")
    token = csrf_token(client, "/admin/cycles")
    page = client.post("/admin/cycles/2026/close", data={"csrf_token": token})
    text = text_of(page)
    assert page.status_code == 200 and "Close cycle 2026?" in text
    assert "8 partners who have not submitted (1 of them started) can no longer answer" in text
    assert "1 of 9 submitted" in text
    assert cycle_status(session, "2026") == CycleStatus.OPEN  # nothing happened yet
    done = client.post("/admin/cycles/2026/close", data={"csrf_token": token, "confirm": "yes"},
                       follow_redirects=True)
    assert "Cycle 2026 is closed: partners can no longer answer" in text_of(done)
    assert cycle_status(session, "2026") == CycleStatus.CLOSED


def test_opening_a_second_cycle_is_stopped_with_the_consequence(session, client, world):
    sign_in(client, "chief@example.org")
    token = csrf_token(client, "/admin/cycles")
    page = client.post("/admin/cycles/2027/open", data={"csrf_token": token})
    text = text_of(page)
    assert "Open cycle 2027?" in text
    assert "Cycle 2026 is still open until" in text and "8 partners there have not" in text
    assert "Opening cycle 2027 invites 9 roster members" in text
    assert "from 2027-01-04 to 2027-03-01" in text
    assert cycle_status(session, "2027") == CycleStatus.DRAFT
    assert session.execute(select(func.count(Invitation.id)).join(Cycle)
                           .where(Cycle.name == "2027")).scalar_one() == 0
    client.post("/admin/cycles/2027/open", data={"csrf_token": token, "confirm": "yes"})
    assert cycle_status(session, "2027") == CycleStatus.OPEN


def test_a_mistaken_draft_is_deleted_and_an_opened_cycle_cannot_be(session, client, world):
    sign_in(client, "chief@example.org")
    listing = text_of(client.get("/admin/cycles"))
    assert "Delete draft cycle 2027" in listing and "Delete draft cycle 2026" not in listing
    token = csrf_token(client, "/admin/cycles")
    page = client.post("/admin/cycles/2027/delete", data={"csrf_token": token})
    assert "Delete cycle 2027?" in text_of(page) and "cannot be undone" in text_of(page)
    assert session.execute(select(Cycle.id).where(Cycle.name == "2027")).first()
    client.post("/admin/cycles/2027/delete", data={"csrf_token": token, "confirm": "yes"})
    session.expire_all()
    assert not session.execute(select(Cycle.id).where(Cycle.name == "2027")).first()
    picker = client.get("/state").get_data(as_text=True)
    assert 'value="2026"' in picker and 'value="2027"' not in picker  # gone from the picker
    refused = client.post("/admin/cycles/2026/delete",
                          data={"csrf_token": token, "confirm": "yes"}, follow_redirects=True)
    assert "Cycle 2026 was opened, so it cannot be deleted" in text_of(refused)
    assert cycle_status(session, "2026") == CycleStatus.OPEN


def test_an_administrator_lands_on_administration(client, world):
    sign_in(client, "chief@example.org")
    assert client.get("/").headers["Location"].endswith("/admin/")


def test_the_leads_default_cycle_is_the_latest_published_with_progress_beside(
        session, client, world):
    assert choose_cycle(session, None).current.name == "2026"  # stewards: the open one
    assert choose_cycle(session, None, published_first=True).current.name == "2025"
    sign_in(client, "lead@example.org")
    text = text_of(client.get("/boards/15"))
    assert "cycle 2025" in text
    assert "Cycle 2026 is open until" in text and "1 of 6 partners have submitted (17%)" in text
    progress = cycle_progress(session, session.execute(
        select(Cycle).where(Cycle.name == "2026")).scalar_one(), "15")
    assert (progress.invited, progress.in_progress, progress.submitted) == (6, 1, 1)
    # The open cycle's progress: each partnership's name opens its page.
    html = client.get("/boards/15?cycle=2026").get_data(as_text=True)
    ids = session.execute(select(Participation.partnership_id).join(Cycle)
                          .where(Cycle.name == "2026", Participation.board_code == "15")
                          ).scalars().all()
    for pid in ids:
        assert f'href="/partnerships/{pid}?cycle=2026"' in html


def test_results_not_yet_published_say_when(client, world):
    sign_in(client, "lead@example.org")
    response = client.get("/exports/2026/15.xlsx")
    text = text_of(response)
    assert response.status_code == 404 and "Not available yet" in text
    assert "Page not found" not in text
    assert "appear here when the cycle closes on" in text


def test_a_lead_without_email_is_told_what_to_do_not_to_download(client, world):
    sign_in(client, "lead@example.org")
    text = text_of(client.get("/admin/boards/15/roster"))
    assert "Email is not set up on this site yet" in text
    assert "SURVEY_SMTP_URL" not in text and "Remind" not in text
    token = csrf_token(client, "/admin/boards/15/roster")
    after = client.post("/admin/boards/15/remind", data={"csrf_token": token},
                        follow_redirects=True)
    assert "SURVEY_SMTP_URL" not in text_of(after)
    assert "Ask your administrator" in text_of(after)


# --- the partner's link --------------------------------------------------------------------


def test_a_link_before_its_opening_date_says_when_in_the_sites_time_zone(
        app, session, client, monkeypatch):
    """A cycle opening on 5 January: at 04:00 UTC that day it is still 4 January in
    Florida (no answers, "opens on January 5"); at 06:00 UTC it is open."""
    member = make_member(session, make_partnership(session, make_board(session, "01")))
    cycle = make_cycle(session, opens_on=dt.date(2027, 1, 5), closes_on=dt.date(2027, 2, 1))
    _, token = make_invitation(session, cycle, member)
    session.commit()

    def at(utc_hour: int) -> None:
        moment = dt.datetime(2027, 1, 5, utc_hour, 0, tzinfo=dt.UTC)
        frozen = type("Frozen", (dt.datetime,), {
            "now": classmethod(lambda cls, tz=None: moment.astimezone(tz))})
        monkeypatch.setattr("survey.config.dt.datetime", frozen)

    at(4)
    page = client.get(f"/s/{token}")
    assert page.status_code == 403
    assert "It opens on January 5, 2027; come back to this link then." in text_of(page)
    assert client.post(f"/s/{token}/data", data={"data-1": "3"}).status_code == 403
    at(6)
    page = client.get(f"/s/{token}")
    assert page.status_code == 200 and "Start:" in text_of(page)


def test_an_empty_response_cannot_be_submitted_and_dont_know_counts(session, client, world):
    token = make_invitation(session, world[2].cycle, world[2].member)[1]
    session.commit()
    review = text_of(client.get(f"/s/{token}/review"))
    assert "You have not answered any item yet, so there is nothing to submit" in review
    assert "Submit your answers" not in review
    refused = client.post(f"/s/{token}/submit",
                          data={"csrf_token": csrf_token(client, f"/s/{token}/review")})
    assert refused.status_code == 422
    assert "choosing “Don't know” or “Not applicable” counts as an answer" in text_of(refused)
    session.expire_all()
    assert world[2].status == InvitationStatus.NOT_STARTED
    form = {"csrf_token": csrf_token(client, f"/s/{token}/data"), "data-1": "DK"}
    assert client.post(f"/s/{token}/data", data=form).status_code == 303
    assert "Submit your answers" in text_of(client.get(f"/s/{token}/review"))
    done = client.post(f"/s/{token}/submit",
                       data={"csrf_token": csrf_token(client, f"/s/{token}/review")})
    assert done.status_code == 303
    session.expire_all()
    assert world[2].status == InvitationStatus.SUBMITTED


# --- the command line --------------------------------------------------------------------


def test_the_cli_asks_for_yes_where_there_is_no_terminal(session, runner, world):
    result = runner.invoke(args=["cycle", "close", "2026"])
    assert result.exit_code == 1
    line = result.output.strip().splitlines()
    assert len(line) == 1 and line[0].startswith("error: close cycle 2026 needs a confirmation")
    assert "8 partners who have not submitted" in line[0] and "Pass --yes" in line[0]
    assert cycle_status(session, "2026") == CycleStatus.OPEN

    result = runner.invoke(args=["cycle", "open", "2027"])
    assert result.exit_code == 1 and "Cycle 2026 is still open" in result.output
    assert cycle_status(session, "2027") == CycleStatus.DRAFT

    result = runner.invoke(args=["cycle", "close", "2026", "--yes"])
    assert result.exit_code == 0 and "cycle 2026 is now closed" in result.output
    result = runner.invoke(args=["cycle", "open", "2027"])  # no other cycle open: no question
    assert result.exit_code == 0, result.output
    assert "open from 2027-01-04 until 2027-03-01 (America/New_York)" in result.output


def test_cycle_delete_removes_a_draft_only(session, runner, world):
    result = runner.invoke(args=["cycle", "delete", "2026", "--yes"])
    assert result.exit_code == 1
    assert "error: cycle 2026 was opened, so it cannot be deleted" in result.output
    assert runner.invoke(args=["cycle", "delete", "2027"]).exit_code == 1  # asks first
    assert session.execute(select(Cycle.id).where(Cycle.name == "2027")).first()
    result = runner.invoke(args=["cycle", "delete", "2027", "--yes"])
    assert result.exit_code == 0 and "cycle 2027 deleted" in result.output
    session.expire_all()
    assert not session.execute(select(Cycle.id).where(Cycle.name == "2027")).first()
    listed = [line.split()[0] for line in runner.invoke(args=["cycle", "list"]).output
              .splitlines()[1:]]
    assert listed == ["2025", "2026"]
    result = runner.invoke(args=["cycle", "delete", "1999", "--yes"])
    assert result.exit_code == 1 and "no cycle named '1999'" in result.output


def test_an_invitation_sent_before_the_opening_says_when_the_link_works(app, session):
    from survey.services import mail
    from survey.services.invitations import IssuedLink

    member = make_member(session, make_partnership(session, make_board(session, "01")))
    early = make_cycle(session, "2030", opens_on=dt.date(2030, 1, 7),
                       closes_on=dt.date(2030, 3, 1))
    invitation, token = make_invitation(session, early, member)
    settings = mail.MailSettings("", "board@example.org", "http://survey.test")
    text = mail.compose_invitation(IssuedLink(invitation, token), settings).get_body(
        ("plain",)).get_content()
    assert "Your link works from: January 7, 2030" in text
    assert "Please submit by: March 1, 2030" in text
