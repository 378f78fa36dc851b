"""Password reset by email (SPEC 17): through the tests' real SMTP server, end to end."""

from __future__ import annotations

import asyncio
import re
import statistics
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from aiosmtpd.controller import Controller
from sqlalchemy import select
from werkzeug.serving import make_server

from survey.db import db
from survey.models import AuditEvent, StaffSession, User
from survey.services import password_reset
from survey.services.accounts import create_user
from tests.conftest import CSRF_RE, AuthActions, csrf_token
from tests.test_mail import Mailbox, free_port, smtp_server  # noqa: F401 (a fixture)

pytestmark = pytest.mark.smtp
PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new password"
RESET_RE = re.compile(r"http://survey\.test(/login/reset/[A-Za-z0-9_.-]+)")


@pytest.fixture
def lead_id(app) -> int:
    """A board lead, created in an app context of its own so that requests do not share `g`."""
    from tests.factories import make_board

    with app.app_context():
        user = create_user(db.session, "lead@example.org", PASSWORD, "board",
                           make_board(db.session, "15"))
        db.session.commit()
        return user.id


@pytest.fixture
def lead(session, lead_id):
    return session.get(User, lead_id)


def ask_for_reset(client, email: str):
    token = csrf_token(client, "/login/reset")
    return client.post("/login/reset", data={"email": email, "csrf_token": token})


def reset_link(mailbox: Mailbox, address: str) -> str:
    return RESET_RE.search(mailbox.to(address).text)[1]


def test_a_forgotten_password_is_reset_from_the_email(app, client, auth, lead_id,
                                                      smtp_server):  # noqa: F811
    other = app.test_client()
    assert "/login/reset" in other.get("/login").get_data(as_text=True)
    AuthActions(other).login("lead@example.org")  # a session the reset must end
    assert other.get("/account/password").status_code == 200

    answer = ask_for_reset(client, "Lead@Example.org ")
    assert answer.status_code == 200
    assert "If an account exists for that address" in answer.get_data(as_text=True)
    message = smtp_server.to("lead@example.org")
    assert "Set a new password" in message.message["Subject"]
    link = reset_link(smtp_server, "lead@example.org")

    page = client.get(link)
    assert page.status_code == 200 and "lead@example.org" in page.get_data(as_text=True)
    token = CSRF_RE.search(page.get_data(as_text=True))[1]
    done = client.post(link, data={"new_password": NEW_PASSWORD,
                                   "confirm_password": NEW_PASSWORD, "csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"] == "/login"

    assert other.get("/account/password").status_code == 302  # the session has ended
    assert auth.login("lead@example.org", PASSWORD).status_code == 422
    assert auth.login("lead@example.org", NEW_PASSWORD).status_code == 302
    assert client.get("/account/password").status_code == 200
    with app.app_context():
        actions = [e.action for e in db.session.execute(select(AuditEvent)).scalars()]
    assert actions == ["user.create", "user.password_reset_requested", "user.password_reset"]

    used = client.get(link)  # once only
    assert used.status_code == 400
    assert "used already" in used.get_data(as_text=True)


def test_an_unknown_address_gets_the_same_page_and_no_email(client, lead_id,
                                                            smtp_server):  # noqa: F811
    def visible(response) -> str:
        return CSRF_RE.sub("", response.get_data(as_text=True))

    known = ask_for_reset(client, "lead@example.org")
    unknown = ask_for_reset(client, "nobody@example.org")
    assert (known.status_code, unknown.status_code) == (200, 200)
    assert visible(known) == visible(unknown)
    assert smtp_server.recipients() == ["lead@example.org"]


def test_a_link_past_its_hour_or_tampered_with_is_refused(app, session, lead):
    key = app.config["SECRET_KEY"]
    token = password_reset.reset_token(lead, key)
    assert password_reset.user_for_token(session, token, key).id == lead.id
    with pytest.raises(password_reset.ResetLinkInvalid, match="expired"):
        password_reset.user_for_token(session, token, key, now=time.time() + 3601)
    with pytest.raises(password_reset.ResetLinkInvalid, match="not valid"):
        password_reset.user_for_token(session, token[:-2] + "xy", key)
    with pytest.raises(password_reset.ResetLinkInvalid, match="not valid"):
        password_reset.user_for_token(session, token, "another instance's key")


def test_a_tampered_link_gets_a_clear_page(client, lead_id):
    page = client.get("/login/reset/not-a-real-token")
    assert page.status_code == 400
    assert "not valid" in page.get_data(as_text=True)
    assert "Traceback" not in page.get_data(as_text=True)


def test_a_short_new_password_is_refused_and_the_link_still_works(app, session, client, lead):
    link = "/login/reset/" + password_reset.reset_token(lead, app.config["SECRET_KEY"])
    token = csrf_token(client, link)
    short = client.post(link, data={"new_password": "short", "confirm_password": "short",
                                    "csrf_token": token})
    assert short.status_code == 422 and "at least 10" in short.get_data(as_text=True)
    assert client.get(link).status_code == 200


def test_reset_is_off_when_password_sign_in_is(app, client, lead_id):
    app.config["PASSWORD_LOGIN"] = False
    assert client.get("/login/reset").status_code == 404


class SlowMailbox(Mailbox):
    """A mail server that takes a second to accept each message."""

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        await asyncio.sleep(1.0)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def served(app) -> Iterator[str]:
    """The app behind a real threaded WSGI server on loopback."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join()


def test_the_answer_does_not_wait_for_the_mail_server(app, lead_id, served):
    """Timing: a slow mail server delays only the email, so an address with an account
    is answered as fast as one without (the mail goes out after the answer)."""
    mailbox = SlowMailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    try:
        timings: dict[str, list[float]] = {"lead@example.org": [], "nobody@example.org": []}
        for _ in range(3):
            for address, seconds in timings.items():
                browser = requests.Session()
                form = browser.get(f"{served}/login/reset", timeout=10).text
                token = CSRF_RE.search(form)[1]
                started = time.perf_counter()
                answer = browser.post(f"{served}/login/reset", timeout=10,
                                      data={"email": address, "csrf_token": token})
                seconds.append(time.perf_counter() - started)
                assert answer.status_code == 200
        known = statistics.median(timings["lead@example.org"])
        unknown = statistics.median(timings["nobody@example.org"])
        assert known < 0.5 and unknown < 0.5, timings  # the mail takes 1 s each
        deadline = time.monotonic() + 10
        while len(mailbox.messages) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert mailbox.recipients() == ["lead@example.org"] * 3
    finally:
        controller.stop()


def test_sessions_of_the_account_end_on_reset(app, session, lead):
    from survey.services import accounts

    accounts.start_session(session, lead)
    session.commit()
    password_reset.complete_reset(session, lead, NEW_PASSWORD)
    session.commit()
    live = session.execute(select(StaffSession).where(StaffSession.revoked_at.is_(None)))
    assert list(live.scalars()) == []
    assert db.session is session
