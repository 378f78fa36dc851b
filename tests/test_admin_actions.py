"""Administration offers only what a cycle's state allows; the roster shows each
partnership's progress ("x of y submitted")."""

from __future__ import annotations

import html
import re

from sqlalchemy.orm import Session

from survey.models import CycleStatus, InvitationStatus
from survey.services.accounts import create_user
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


def text_of(body: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def buttons(body: str) -> list[tuple[str, str]]:
    """Each submit button's (class, visible label) on a page."""
    found = re.findall(r'<button type="submit"(?: [^>]*?class="([^"]*)")?[^>]*>(.*?)</button>',
                       body, re.S)
    return [(cls, text_of(re.sub(r'<span class="visually-hidden">.*?</span>', "", label)))
            for cls, label in found]


def test_closed_cycles_offer_no_sending_and_reopen_is_secondary(client, auth, session: Session):
    make_cycle(session, "2024", status=CycleStatus.CLOSED)
    make_cycle(session, "2026", status=CycleStatus.OPEN)
    make_cycle(session, "2027", status=CycleStatus.DRAFT)
    create_user(session, "admin@example.org", PASSWORD, "admin")
    session.commit()
    auth.login("admin@example.org")
    body = client.get("/admin/cycles").get_data(as_text=True)
    rows = {name: row for name, row in re.findall(
        r"<tr>\s*<td>(\d{4})</td>(.*?)</tr>", body, re.S)}
    assert set(rows) == {"2024", "2026", "2027"}
    assert buttons(rows["2024"]) == [("secondary", "Reopen")]
    # Close asks first and is not the page's main button (SPEC 6 guardrails).
    assert buttons(rows["2026"]) == [("secondary", "Close…")]
    # A draft never opened can also be deleted (a mistake), after a confirmation.
    assert buttons(rows["2027"]) == [("", "Open and create invitations"), ("secondary", "Delete")]
    # Sending and links only for the open cycle.
    assert "Invitations for cycle 2026" in body
    assert "Invitations for cycle 2024" not in body
    assert body.count("Send invitations") == 1
    assert body.count("Download links CSV") == 1
    assert 'action="/admin/cycles/2024/send"' not in body
    assert 'action="/admin/cycles/2024/links"' not in body
    assert "Closed: 2024." in text_of(body)


def test_roster_shows_each_partnerships_progress(client, auth, session: Session):
    q = shipped_questionnaire()
    board = make_board(session, "15", "CareerSource Heartland")
    busy = make_partnership(session, board, "Advanced Manufacturing")
    quiet = make_partnership(session, board, "Health Care Partners")
    cycle = make_cycle(session, "2026")
    for status in ("submitted", "submitted", "in_progress", "none"):
        invitation, _ = make_invitation(session, cycle, make_member(session, busy))
        if status == "submitted":
            answer(session, invitation, all_answers(q, 3))
        elif status == "in_progress":
            invitation.status = InvitationStatus.IN_PROGRESS
    make_invitation(session, cycle, make_member(session, quiet))
    create_user(session, "lead@example.org", PASSWORD, "board", board=board)
    session.commit()
    auth.login("lead@example.org")
    text = text_of(client.get("/admin/boards/15/roster").get_data(as_text=True))
    assert "Advanced Manufacturing 2 of 4 submitted, 1 in progress" in text
    assert "Health Care Partners 0 of 1 submitted" in text
