"""Invitations by email, through a real SMTP server on localhost (aiosmtpd), read back."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from survey.db import db
from survey.models import Invitation, InvitationToken, utcnow
from survey.services import accounts, mail, sending
from survey.services.invitations import find_invitation
from tests.conftest import csrf_token
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

pytestmark = pytest.mark.smtp
PASSWORD = "correct horse battery"
LINK_RE = re.compile(r"http://survey\.test/s/([A-Za-z0-9_-]+)")


@dataclass
class Received:
    """One message as the server got it."""

    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()

    @property
    def token(self) -> str:
        return LINK_RE.search(self.text)[1]


@dataclass
class Mailbox:
    """Collects every message delivered to the test server."""

    messages: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append(Received(list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def to(self, address: str) -> Received:
        matches = [m for m in self.messages if address in m.rcpt_tos]
        assert len(matches) == 1, f"{len(matches)} messages to {address}"
        return matches[0]

    def recipients(self) -> list[str]:
        return sorted(r for m in self.messages for r in m.rcpt_tos)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(app) -> Iterator[Mailbox]:
    """A real SMTP server on 127.0.0.1; the app sends through it (with a login)."""
    mailbox = Mailbox()

    def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
        login = (auth_data.login.decode(), auth_data.password.decode())
        mailbox.logins.append(login)
        return AuthResult(success=login == ("mailer", "p@ss word"))

    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port,
                            authenticator=authenticate, auth_require_tls=False)
    controller.start()
    app.config["SMTP_URL"] = f"smtp://mailer:p%40ss%20word@127.0.0.1:{port}"
    app.config["MAIL_FROM"] = "Sector Survey <survey@example.org>"
    try:
        yield mailbox
    finally:
        controller.stop()


@dataclass
class Roster:
    cycle: object
    submitted: object  # member who has submitted
    started: object  # member with a draft
    fresh: object  # member not started
    no_email: object  # member without an email address
    elsewhere: object  # member of board 04


def build_roster(session: Session) -> Roster:
    board = make_board(session, "03", "CareerSource <Central>")
    partnership = make_partnership(session, board, "Health & Care")
    other = make_partnership(session, make_board(session, "04", "Board four"), "Logistics")
    cycle = make_cycle(session, "2026")
    q = shipped_questionnaire()
    submitted = make_member(session, partnership, email="done@example.org", name="Dana Done")
    started = make_member(session, partnership, email="draft@example.org", name="Sam <Draft>")
    fresh = make_member(session, partnership, email="fresh@example.org", name="Fay Fresh")
    no_email = make_member(session, partnership, name="Paper Only")
    no_email.email = None
    elsewhere = make_member(session, other, email="far@example.org", name="Far Away")
    answer(session, make_invitation(session, cycle, submitted)[0], all_answers(q, 3))
    answer(session, make_invitation(session, cycle, started)[0], all_answers(q, 2), submit=False)
    session.commit()
    return Roster(cycle, submitted, started, fresh, no_email, elsewhere)


@pytest.fixture
def roster(session: Session) -> Roster:
    return build_roster(session)


def admin_client(session: Session, client, auth):
    accounts.create_user(session, "admin@example.org", PASSWORD, "admin")
    session.commit()
    auth.login("admin@example.org")
    return client


# --- sending ------


def test_invitations_sent_from_the_web_arrive_with_a_working_link(session, client, auth,
                                                                   smtp_server, roster):
    admin_client(session, client, auth)
    token = csrf_token(client, "/admin/cycles")
    response = client.post("/admin/cycles/2026/send",
                           data={"board": "03", "invite": "y", "csrf_token": token},
                           follow_redirects=True)
    assert ("3 invitations sent, 1 member without an email address skipped"
            in response.get_data(as_text=True))
    assert smtp_server.recipients() == ["done@example.org", "draft@example.org",
                                        "fresh@example.org"]
    assert smtp_server.logins == [("mailer", "p@ss word")]

    received = smtp_server.to("fresh@example.org")
    assert received.message["Subject"] == "Your invitation: Health & Care self-assessment 2026"
    assert received.message["From"] == "Sector Survey <survey@example.org>"
    assert "Fay Fresh" in received.message["To"]
    deadline = roster.cycle.closes_on
    assert f"Please submit by: {deadline:%B} {deadline.day}, {deadline.year}" in received.text
    assert "Board: CareerSource <Central>" in received.text
    assert "CareerSource &lt;Central&gt;" in received.html
    assert "Sam &lt;Draft&gt;" in smtp_server.to("draft@example.org").html

    invitation = find_invitation(session, received.token)
    assert invitation.member.email == "fresh@example.org"
    assert client.get(f"/s/{received.token}").status_code == 200
    session.expire_all()
    emailed = session.execute(
        select(func.count()).where(Invitation.emailed_at.is_not(None))).scalar_one()
    assert emailed == 3

    # A member added later gets the first invitation; the others are not emailed twice.
    smtp_server.messages.clear()
    make_member(session, roster.fresh.partnership, email="new@example.org", name="New One")
    session.commit()
    response = client.post("/admin/cycles/2026/send",
                           data={"board": "", "invite": "y", "csrf_token": token},
                           follow_redirects=True)
    assert smtp_server.recipients() == ["far@example.org", "new@example.org"]


def test_survey_invite_send_emails_every_board(session, runner, smtp_server, roster):
    result = runner.invoke(args=["invite", "--cycle", "2026", "--send"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "4 invitations sent, 1 member without an email address skipped")
    assert smtp_server.recipients() == ["done@example.org", "draft@example.org",
                                        "far@example.org", "fresh@example.org"]
    far = smtp_server.to("far@example.org")
    assert find_invitation(session, far.token).member.name == "Far Away"
    assert "Logistics" in far.message["Subject"]

    # Sending the invitations again emails nobody twice.
    smtp_server.messages.clear()
    again = runner.invoke(args=["invite", "--cycle", "2026", "--send"])
    assert again.exit_code == 0
    assert again.output.startswith("0 invitations sent")
    assert smtp_server.messages == []


def test_reminders_go_only_to_those_who_have_not_submitted(session, runner, client, auth,
                                                           smtp_server, roster):
    result = runner.invoke(args=["invite", "--cycle", "2026", "--board", "03", "--send",
                                 "--reminders"])
    assert result.exit_code == 0, result.output
    assert smtp_server.recipients() == ["draft@example.org", "fresh@example.org"]
    assert smtp_server.to("draft@example.org").message["Subject"].startswith("Reminder: ")
    session.expire_all()
    reminded = {i.member.email for i in session.execute(select(Invitation)).scalars()
                if i.reminded_at is not None}
    assert reminded == {"draft@example.org", "fresh@example.org"}

    # A board lead reminds their own board from the web; the same rule holds.
    smtp_server.messages.clear()
    accounts.create_user(session, "lead@example.org", PASSWORD, "board",
                         roster.fresh.partnership.board)
    session.commit()
    auth.login("lead@example.org")
    token = csrf_token(client, "/admin/boards/03/roster")
    response = client.post("/admin/boards/03/remind", data={"csrf_token": token},
                           follow_redirects=True)
    assert ("0 reminders sent, 1 member without an email address skipped, 2 emailed in the "
            "last 24 hours left out" in response.get_data(as_text=True)), "once a day at most"
    assert smtp_server.messages == []

    a_day_ago = utcnow() - dt.timedelta(hours=25)
    session.execute(update(Invitation).values(emailed_at=a_day_ago, reminded_at=a_day_ago))
    session.commit()
    response = client.post("/admin/boards/03/remind", data={"csrf_token": token},
                           follow_redirects=True)
    assert "2 reminders sent" in response.get_data(as_text=True)
    assert smtp_server.recipients() == ["draft@example.org", "fresh@example.org"]


# --- failures ------


def tokens(session: Session) -> int:
    session.expire_all()
    return session.execute(select(func.count(InvitationToken.id))).scalar_one()


def test_no_smtp_url_is_a_clear_error_and_changes_nothing(app, session, runner, roster):
    before = tokens(session)
    result = runner.invoke(args=["invite", "--cycle", "2026", "--send"])
    assert result.exit_code == 1
    assert "SURVEY_SMTP_URL is not set" in result.output
    assert tokens(session) == before
    with pytest.raises(mail.MailError, match="SURVEY_SMTP_URL is not set"):
        sending.send_batch(db.writing, sending.Recipients(roster.cycle.id), mail.MailSettings(
            "", "x@example.org", "http://survey.test"))


def test_an_unreachable_server_marks_nothing_as_sent(app, session, runner, roster):
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"
    before = tokens(session)
    result = runner.invoke(args=["invite", "--cycle", "2026", "--send"])
    assert result.exit_code == 1
    assert "Cannot reach the mail server 127.0.0.1" in result.output
    assert tokens(session) == before
    assert session.execute(
        select(func.count()).where(Invitation.emailed_at.is_not(None))).scalar_one() == 0


def test_smtp_url_forms_are_checked(roster):
    with pytest.raises(mail.MailError, match="must look like smtp://"):
        mail.connect("http://mail.example.org")


# --- the links as CSV ------


def test_survey_invite_prints_links_as_csv(session, runner, roster):
    result = runner.invoke(args=["invite", "--cycle", "2026", "--board", "03"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "board,partnership,name,email,partner_type,status,link"
    assert len(lines) == 5
    assert any(line.startswith("03,Health & Care,Dana Done,done@example.org,business,submitted,"
                               "http://survey.test/s/") for line in lines)
    token = LINK_RE.search(next(line for line in lines if "fresh@" in line))[1]
    assert find_invitation(session, token).member.email == "fresh@example.org"


@pytest.mark.parametrize("args, message", [
    (["--cycle", "1999"], "unknown cycle 1999"),
    (["--cycle", "2026", "--board", "77"], "unknown board 77"),
])
def test_survey_invite_refuses_unknown_names(session, runner, roster, args, message):
    before = tokens(session)
    result = runner.invoke(args=["invite", *args])
    assert result.exit_code == 1
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert tokens(session) == before
