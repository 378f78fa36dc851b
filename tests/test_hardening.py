"""Issue 9's reproductions: typed names in charts, login limits, sessions, proxies, reminders."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import importlib
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from reports import charts, sample
from reports.charts import base
from survey import create_app
from survey.config import load_config
from survey.db import db
from survey.models import (
    Invitation,
    InvitationToken,
    LoginThrottle,
    Member,
    StaffSession,
    utcnow,
)
from survey.services import accounts, audit, login_limits
from tests.conftest import CSRF_RE, AuthActions
from tests.factories import (
    make_board,
    make_cycle,
    make_invitation,
    make_member,
    make_partnership,
    shipped_questionnaire,
)
from tests.test_mail import Mailbox, free_port

# --- item 4: a "$" in a name is a dollar sign, not maths ------

MATH_NAMES = (r"$\frac{X9}$", "X10 $x^2$ $$")


@pytest.fixture
def dollar_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sample results whose partnership, sector and board names hold mathtext."""
    renamed = tuple(
        dataclasses.replace(p, name=MATH_NAMES[i % 2], sector=f"{MATH_NAMES[(i + 1) % 2]} {i}")
        for i, p in enumerate(sample._PARTNERSHIPS)
    )
    monkeypatch.setattr(sample, "_PARTNERSHIPS", renamed)
    for code, name in zip(sorted(sample.BOARDS), MATH_NAMES, strict=True):
        monkeypatch.setitem(sample.BOARDS, code, name)
    # Real text in the SVG (not glyph paths), so that the test can read what was drawn.
    monkeypatch.setitem(base._STYLE, "svg.fonttype", "none")


def svg_texts(svg: bytes) -> list[str]:
    """The text runs of an SVG drawn with svg.fonttype none, unescaped."""
    import html

    return [html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg.decode(), re.S)]


@pytest.mark.parametrize("board_code", [None, "01", "02"])
def test_dollar_signs_in_names_are_drawn_literally_in_every_chart(dollar_names, board_code):
    results = sample.sample_results(board_code)
    drawn: set[str] = set()
    for chart in charts.all_charts(results):
        chart.png()
        texts = svg_texts(chart.svg())
        drawn.update(name for name in MATH_NAMES if any(name in text for text in texts))
    # Mathtext would have refused \frac{X9} (a ValueError) and drawn x^2 as a formula.
    assert drawn == set(MATH_NAMES)


def test_dollar_names_appear_literally_in_the_heatmap_and_sector_comparison(dollar_names):
    results = sample.sample_results()
    heatmap = svg_texts(charts.partnership_heatmap(results).svg())
    assert "01 · X10 $x^2$ $$" in heatmap and r"02 · $\frac{X9}$" in heatmap
    boards = svg_texts(charts.board_heatmap(results).svg())
    assert any(r"$\frac{X9}$" in text for text in boards)
    sectors = svg_texts(charts.sector_comparison(results).svg())
    assert any(text.startswith("X10 $x^2$ $$ ") for text in sectors)


# --- item 5: login limits per email and address, the same answer for every email ------

PASSWORD = "correct horse battery"


def add_staff(app: Flask, email: str, role: str = "admin") -> int:
    with app.app_context():
        user = accounts.create_user(db.session, email, PASSWORD, role)
        db.session.commit()
        return user.id


def login_from(client: FlaskClient, address: str, email: str, password: str = PASSWORD,
               headers: dict[str, str] | None = None):
    """Post the real login form as a client at this address."""
    environ = {"REMOTE_ADDR": address}
    page = client.get("/login", environ_base=environ, headers=headers)
    match = CSRF_RE.search(page.get_data(as_text=True))
    token = match[1] if match else ""  # none when the app runs without CSRF
    response = client.post("/login", data={"email": email, "password": password,
                                           "csrf_token": token},
                           environ_base=environ, headers=headers)
    where = response.headers.get("Location", "") if response.status_code == 302 else ""
    if where == "/login/enrol":  # an administrator's second factor (SPEC 17), as a person
        return AuthActions(client).enrol(email.strip().lower())
    if where == "/login/code":
        return AuthActions(client).give_code(email.strip().lower())
    return response


def answer_text(response, email: str) -> str:
    """The page without its CSRF token and the typed email, to compare two answers."""
    return CSRF_RE.sub("", response.get_data(as_text=True)).replace(email, "EMAIL")


def test_a_stranger_cannot_lock_the_administrator_out(app):
    add_staff(app, "admin@example.org")
    stranger = app.test_client()
    for _ in range(login_limits.FREE_ATTEMPTS + 3):
        login_from(stranger, "198.51.100.7", "admin@example.org", "guess guess")
    refused = login_from(stranger, "198.51.100.7", "admin@example.org")
    assert refused.status_code == 429, "the stranger's address is slowed down"
    # The administrator, from their own address, signs in at once.
    response = login_from(app.test_client(), "10.1.2.3", "admin@example.org")
    assert response.status_code == 302 and not response.headers["Location"].startswith("/login")


def test_unknown_email_wrong_password_and_slowed_account_answer_alike(app):
    add_staff(app, "admin@example.org")
    client = app.test_client()
    wrong = login_from(client, "10.0.0.1", "admin@example.org", "guess guess")
    unknown = login_from(client, "10.0.0.1", "nobody@example.org", "guess guess")
    assert (wrong.status_code, answer_text(wrong, "admin@example.org")) == (
        unknown.status_code, answer_text(unknown, "nobody@example.org"))
    for _ in range(login_limits.FREE_ATTEMPTS):
        login_from(client, "10.0.0.1", "admin@example.org", "guess guess")
        login_from(client, "10.0.0.1", "nobody@example.org", "guess guess")
    slowed = login_from(client, "10.0.0.1", "admin@example.org", "guess guess")
    slowed_unknown = login_from(client, "10.0.0.1", "nobody@example.org", "guess guess")
    assert slowed.status_code == slowed_unknown.status_code == 429
    assert answer_text(slowed, "admin@example.org") == answer_text(
        slowed_unknown, "nobody@example.org")


def test_every_sign_in_path_runs_exactly_one_password_hash(app, monkeypatch):
    add_staff(app, "admin@example.org")
    with app.app_context():
        accounts.deactivate_user(db.session, accounts.create_user(
            db.session, "gone@example.org", PASSWORD, "state"))
        db.session.commit()
    calls: list[str] = []
    real = accounts.check_password_hash

    def counting(stored: str, password: str) -> bool:
        calls.append(stored)
        return real(stored, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    client = app.test_client()
    for _ in range(login_limits.FREE_ATTEMPTS):  # slow down one unknown email first
        login_from(client, "10.0.0.2", "slowed@example.org", "guess guess")
    cases = [("admin@example.org", PASSWORD, 302), ("admin@example.org", "guess guess", 422),
             ("nobody@example.org", PASSWORD, 422), ("gone@example.org", PASSWORD, 422),
             ("slowed@example.org", PASSWORD, 429)]
    for email, password, status in cases:
        calls.clear()
        assert login_from(app.test_client(), "10.0.0.2", email, password).status_code == status
        assert len(calls) == 1, f"{email}: {len(calls)} hashes"
        assert calls[0].startswith("scrypt:"), "the dummy hash costs what a real one does"


def test_many_failures_from_one_address_refuse_that_address_only(app, monkeypatch):
    monkeypatch.setattr(login_limits, "ADDRESS_LIMIT", 4)
    add_staff(app, "admin@example.org")
    client = app.test_client()
    for n in range(4):
        login_from(client, "192.0.2.50", f"someone{n}@example.org", "guess guess")
    refused = login_from(client, "192.0.2.50", "admin@example.org")
    assert refused.status_code == 429
    assert "Too many failed attempts; try again in" in refused.get_data(as_text=True)
    assert login_from(client, "192.0.2.51", "admin@example.org").status_code == 302


OTHER_WORKER = """
import re, sys
from survey import create_app
app = create_app({"TESTING": True, "DATABASE_URL": sys.argv[1], "SECRET_KEY": "k",
                  "BASE_URL": "http://survey.test"})
client = app.test_client()
environ = {"REMOTE_ADDR": "10.9.9.9"}
page = client.get("/login", environ_base=environ).get_data(as_text=True)
token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
response = client.post("/login", environ_base=environ, data={
    "email": "admin@example.org", "password": sys.argv[2], "csrf_token": token})
print(response.status_code)
"""


def test_limits_are_shared_by_every_process(app, database_url, tmp_path):
    add_staff(app, "admin@example.org")
    for _ in range(login_limits.FREE_ATTEMPTS):
        login_from(app.test_client(), "10.9.9.9", "admin@example.org", "guess guess")
    # Another worker process on the same database slows the same pair down too.
    other = subprocess.run(
        [sys.executable, "-c", OTHER_WORKER, database_url, PASSWORD], capture_output=True,
        text=True, timeout=120, cwd=Path(__file__).parent.parent,
        env={**os.environ, "SURVEY_INSTANCE_PATH": str(tmp_path / "other")})
    assert other.stdout.strip() == "429", other.stderr[-2000:]


# --- SPEC 14: behind a proxy ------


def test_forwarded_for_is_ignored_without_trusted_proxies(app):
    add_staff(app, "admin@example.org")
    for _ in range(login_limits.FREE_ATTEMPTS):
        login_from(app.test_client(), "10.0.0.1", "admin@example.org", "guess guess",
                   headers={"X-Forwarded-For": "203.0.113.5"})
    # Claiming another client address changes nothing: the limit is on 10.0.0.1.
    response = login_from(app.test_client(), "10.0.0.1", "admin@example.org",
                          headers={"X-Forwarded-For": "203.0.113.99"})
    assert response.status_code == 429


def test_behind_a_trusted_proxy_limits_apply_per_client(app):
    app.config["TRUSTED_PROXIES"] = 1
    from survey import trust_proxies

    trust_proxies(app)
    add_staff(app, "admin@example.org")
    proxy = "10.0.0.1"  # every request arrives from the proxy
    for _ in range(login_limits.FREE_ATTEMPTS):
        login_from(app.test_client(), proxy, "admin@example.org", "guess guess",
                   headers={"X-Forwarded-For": "203.0.113.5"})
    slowed = login_from(app.test_client(), proxy, "admin@example.org",
                        headers={"X-Forwarded-For": "203.0.113.5"})
    assert slowed.status_code == 429
    other = login_from(app.test_client(), proxy, "admin@example.org",
                       headers={"X-Forwarded-For": "203.0.113.6"})
    assert other.status_code == 302
    with app.app_context():
        keys = set(db.session.execute(select(LoginThrottle.key)).scalars())
    assert login_limits.address_key("203.0.113.5") in keys
    assert login_limits.address_key(proxy) not in keys


def test_trusted_proxies_setting_is_checked(monkeypatch, tmp_path):
    monkeypatch.setenv("SURVEY_TRUSTED_PROXIES", "two")
    with pytest.raises(ValueError, match="SURVEY_TRUSTED_PROXIES must be a whole number"):
        load_config(str(tmp_path))
    monkeypatch.setenv("SURVEY_TRUSTED_PROXIES", "2")
    assert load_config(str(tmp_path))["TRUSTED_PROXIES"] == 2
    monkeypatch.delenv("SURVEY_TRUSTED_PROXIES")
    assert load_config(str(tmp_path))["TRUSTED_PROXIES"] == 0


# --- item 7: logout ends the session on the server ------


def test_a_copied_cookie_is_dead_after_logout(app):
    add_staff(app, "admin@example.org")
    client = app.test_client()
    assert login_from(client, "127.0.0.1", "admin@example.org").status_code == 302
    stolen = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/admin/users").status_code == 200, "the copy works while signed in"

    token = CSRF_RE.search(client.get("/account/password").get_data(as_text=True))[1]
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    response = replay.get("/admin/users")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    with app.app_context():
        rows = db.session.execute(select(StaffSession)).scalars().all()
        assert len(rows) == 1 and rows[0].revoked_at is not None


def test_a_password_reset_ends_every_session_of_the_account(app):
    user_id = add_staff(app, "lead@example.org", "state")
    clients = [app.test_client(), app.test_client()]
    for client in clients:
        assert login_from(client, "127.0.0.1", "lead@example.org").status_code == 302
    result = app.test_cli_runner().invoke(args=["user", "reset", "lead@example.org"])
    assert result.exit_code == 0
    for client in clients:
        assert client.get("/account/password").status_code == 302
    with app.app_context():
        sessions = db.session.execute(
            select(StaffSession).where(StaffSession.user_id == user_id)).scalars().all()
        assert len(sessions) == 2 and all(s.revoked_at is not None for s in sessions)


# --- audit: accounts created and reset ------


def test_user_create_and_reset_are_audited_with_who_did_them(app):
    add_staff(app, "admin@example.org")
    runner = app.test_cli_runner()
    created = runner.invoke(args=["user", "create", "state@example.org", "--role", "state"],
                            input=PASSWORD + "\n")
    assert created.exit_code == 0, created.output
    client = app.test_client()
    login_from(client, "127.0.0.1", "admin@example.org")
    with app.app_context():
        state_id = accounts.find_user(db.session, "state@example.org").id
    token = CSRF_RE.search(client.get("/admin/users").get_data(as_text=True))[1]
    assert client.post(f"/admin/users/{state_id}/reset",
                       data={"csrf_token": token}).status_code == 200
    with app.app_context():
        events = [(e.action, e.target, e.actor) for e in audit.events(db.session)
                  if e.target == "state@example.org"]
    assert events[0] == ("user.reset", "state@example.org", "admin@example.org")
    assert events[1][:2] == ("user.create", "state@example.org")
    assert events[1][2].startswith("cli")


# --- items 1 and 9: reminders sent with no write lock held, throttled, by the right people ---


class SlowMailbox(Mailbox):
    """A mail server that takes its time over every message, noting when each arrived."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.arrived: list[float] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        await asyncio.sleep(self.seconds)
        self.arrived.append(time.monotonic())
        return await super().handle_DATA(server, session, envelope)


@contextmanager
def mail_server(app: Flask, mailbox: Mailbox) -> Iterator[Mailbox]:
    """A real SMTP server on 127.0.0.1 (no login) that the app sends through."""
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    app.config["MAIL_FROM"] = "survey@example.org"
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def impatient_app(database_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The app with a 1.5 s SQLite busy timeout: a save waiting longer for the lock fails,
    as it would after 15 s against a mail server slow enough (issue 9: 165 s)."""
    db_module = importlib.import_module("survey.db")  # `survey.db` is the Database object
    monkeypatch.setattr(db_module, "SQLITE_BUSY_TIMEOUT_MS", 1500)
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path / "impatient"))
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "k",
                      "BASE_URL": "http://survey.test", "WTF_CSRF_ENABLED": False})
    yield app
    assert db.engine is not None
    db.engine.dispose()


def partners_save_while(app: Flask, tokens: list[str], busy: threading.Event,
                        ) -> tuple[threading.Thread, list[int], list[float]]:
    """Partners saving pages in a loop until `busy` is cleared: (thread, statuses, times)."""
    elements = list(shipped_questionnaire().elements)
    statuses: list[int] = []
    finished: list[float] = []

    def save_loop() -> None:
        clients = [app.test_client() for _ in tokens]
        round_ = 0
        while busy.is_set():
            for client, token in zip(clients, tokens, strict=True):
                element = elements[round_ % len(elements)]
                form = {item.code: str(1 + round_ % 4) for item in element.items}
                statuses.append(client.post(f"/s/{token}/{element.key}", data=form).status_code)
                finished.append(time.monotonic())
            round_ += 1
            time.sleep(0.05)  # people, not a tight loop

    return threading.Thread(target=save_loop), statuses, finished


def roster_to_remind(app: Flask, members: int) -> tuple[list[str], str]:
    """A board 03 with `members` members to email and three partners with links."""
    with app.app_context():
        session = db.session
        board = make_board(session, "03", "Board three")
        partnership = make_partnership(session, board, "Health")
        cycle = make_cycle(session, "2026")
        for n in range(members):
            make_member(session, partnership, email=f"m{n}@example.org", name=f"Member {n}")
        tokens = [make_invitation(session, cycle, make_member(session, partnership))[1]
                  for _ in range(3)]
        accounts.create_user(session, "admin@example.org", PASSWORD, "admin")
        session.commit()
        return tokens, cycle.name


@pytest.mark.smtp
@pytest.mark.parametrize("how", ["web", "cli"])
def test_partners_save_while_a_slow_mail_server_takes_the_invitations(impatient_app, how):
    app = impatient_app
    tokens, cycle_name = roster_to_remind(app, members=6)
    with mail_server(app, SlowMailbox(0.4)) as mailbox:
        admin = app.test_client()
        assert login_from(admin, "127.0.0.1", "admin@example.org").status_code == 302
        busy = threading.Event()
        busy.set()
        saver, statuses, saved_at = partners_save_while(app, tokens, busy)
        saver.start()
        try:
            if how == "web":
                response = admin.post(f"/admin/cycles/{cycle_name}/send",
                                      data={"board": "03", "invite": "y"}, follow_redirects=True)
                assert "9 invitations sent" in response.get_data(as_text=True)
            else:
                result = app.test_cli_runner().invoke(
                    args=["invite", "--cycle", cycle_name, "--send"])
                assert result.output.strip() == "9 invitations sent", result.output
        finally:
            busy.clear()
            saver.join(30)
    assert len(mailbox.messages) == 9
    assert statuses and set(statuses) == {303}, f"saves failed: {sorted(set(statuses))}"
    # Saves went through while the server was still taking messages (3.6 s or more).
    first, last = mailbox.arrived[0], mailbox.arrived[-1]
    assert sum(first < moment < last for moment in saved_at) >= 3
    with app.app_context():
        marked = db.session.execute(select(func.count()).where(
            Invitation.emailed_at.is_not(None))).scalar_one()
        assert marked == 9


@pytest.mark.smtp
def test_a_lost_connection_unmarks_and_drops_the_links_of_messages_not_sent(app):
    tokens, cycle_name = roster_to_remind(app, members=4)

    class Dropping(Mailbox):
        async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
            if len(self.messages) == 2:
                server.transport.close()  # the server goes away after two messages
                return "421 closing"
            return await super().handle_DATA(server, session, envelope)

    with app.app_context():
        links_before = db.session.execute(select(func.count(InvitationToken.id))).scalar_one()
    with mail_server(app, Dropping()) as mailbox:
        result = app.test_cli_runner().invoke(args=["invite", "--cycle", cycle_name, "--send"])
    assert result.exit_code == 1
    assert "The mail server stopped answering after 2 messages." in result.output
    assert len(mailbox.messages) == 2
    with app.app_context():
        marked = db.session.execute(select(Invitation).where(
            Invitation.emailed_at.is_not(None))).scalars().all()
        assert sorted(i.member.email for i in marked) == sorted(mailbox.recipients())
        links_after = db.session.execute(select(func.count(InvitationToken.id))).scalar_one()
        assert links_after == links_before + 2, "links of unsent messages are not kept"


# --- item 10: email addresses checked, names kept out of the headers ------

BAD_ADDRESSES = ["a,b@ex.org", "eve@ex.org\r\nBcc: x@evil", "no-at-sign.example.org",
                 "two@@ex.org"]


@pytest.mark.parametrize("address", BAD_ADDRESSES)
def test_bad_member_emails_are_refused_on_the_admin_forms(app, address):
    add_staff(app, "admin@example.org")
    with app.app_context():
        partnership = make_partnership(db.session, make_board(db.session, "05"), "Ports")
        member = make_member(db.session, partnership, email="kept@example.org")
        db.session.commit()
        partnership_id, member_id = partnership.id, member.id
    client = app.test_client()
    login_from(client, "127.0.0.1", "admin@example.org")
    token = CSRF_RE.search(client.get(f"/admin/partnerships/{partnership_id}")
                           .get_data(as_text=True))[1]
    added = client.post(f"/admin/partnerships/{partnership_id}/members", data={
        "csrf_token": token, "name": "New One", "email": address, "partner_type": "business"})
    assert added.status_code == 422
    assert "Enter an email address like name@example.org." in added.get_data(as_text=True)
    edited = client.post(f"/admin/members/{member_id}", data={
        "csrf_token": token, "name": "Kept", "email": address, "partner_type": "business"})
    assert edited.status_code == 422
    with app.app_context():
        emails = db.session.execute(select(Member.email)).scalars().all()
        assert emails == ["kept@example.org"], "nothing written"


@pytest.mark.parametrize("address", BAD_ADDRESSES)
def test_bad_staff_emails_are_refused_on_the_web_and_the_cli(app, address):
    add_staff(app, "admin@example.org")
    result = app.test_cli_runner().invoke(args=["user", "create", address, "--role", "state"],
                                          input=PASSWORD + "\n")
    assert result.exit_code == 1
    assert "is not an email address" in result.output
    assert len(result.output.strip().splitlines()) == 1
    client = app.test_client()
    login_from(client, "127.0.0.1", "admin@example.org")
    token = CSRF_RE.search(client.get("/admin/users").get_data(as_text=True))[1]
    response = client.post("/admin/users", data={"csrf_token": token, "email": address,
                                                 "role": "state", "board": ""})
    assert response.status_code == 422
    with app.app_context():
        assert [u.email for u in accounts.list_users(db.session)] == ["admin@example.org"]


@pytest.mark.smtp
def test_a_typed_name_never_adds_a_recipient_or_a_header(app):
    with app.app_context():
        session = db.session
        partnership = make_partnership(session, make_board(session, "06"), "Ports")
        make_member(session, partnership, email="eve@example.org", name="Eve\r\nBcc: x@evil")
        make_member(session, partnership, email="nul@example.org", name="Nu\x07l\x1b[31m \u202eLi")
        legacy = make_member(session, partnership, email="ok@example.org", name="Legacy")
        legacy.email = "a,b@ex.org"  # stored before addresses were checked
        make_cycle(session, "2026")
        session.commit()
    with mail_server(app, Mailbox()) as mailbox:
        result = app.test_cli_runner().invoke(args=["invite", "--cycle", "2026", "--send"])
    assert result.exit_code == 1, "one address could not be used"
    assert result.output.strip() == "2 invitations sent, 1 failed (a,b@ex.org)"
    assert mailbox.recipients() == ["eve@example.org", "nul@example.org"]
    eve = mailbox.to("eve@example.org").message
    assert "Bcc" not in eve and eve.get_all("To") == ['"Eve Bcc: x@evil" <eve@example.org>']
    assert eve["To"].addresses[0].addr_spec == "eve@example.org"
    assert len(eve["To"].addresses) == 1
    nul = mailbox.to("nul@example.org").message
    assert nul["To"].addresses[0].display_name == "Nu l [31m Li"
    with app.app_context():
        legacy_invitation = db.session.execute(select(Invitation).join(Member).where(
            Member.email == "a,b@ex.org")).scalar_one()
        assert legacy_invitation.emailed_at is None and legacy_invitation.tokens == []


@dataclasses.dataclass
class Board3:
    cycle_id: int
    health: int  # partnership ids
    ports: int
    elsewhere: int  # a partnership of board 04
    fay: int  # member ids: Fay (Health, not started), Sam (Health), Pat (Ports)
    sam: int
    pat: int
    far: int  # a member of board 04


def two_boards(app: Flask) -> Board3:
    with app.app_context():
        session = db.session
        board = make_board(session, "03", "Board three")
        health = make_partnership(session, board, "Health")
        ports = make_partnership(session, board, "Ports")
        other = make_partnership(session, make_board(session, "04", "Board four"), "Far")
        cycle = make_cycle(session, "2026")
        fay = make_member(session, health, email="fay@example.org", name="Fay")
        sam = make_member(session, health, email="sam@example.org", name="Sam")
        pat = make_member(session, ports, email="pat@example.org", name="Pat")
        far = make_member(session, other, email="far@example.org", name="Far")
        accounts.create_user(session, "admin@example.org", PASSWORD, "admin")
        accounts.create_user(session, "state@example.org", PASSWORD, "state")
        accounts.create_user(session, "lead@example.org", PASSWORD, "board", board)
        session.commit()
        return Board3(cycle.id, health.id, ports.id, other.id, fay.id, sam.id, pat.id, far.id)


def signed_in_as(app: Flask, email: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    assert login_from(client, "127.0.0.1", email).status_code == 302
    page = client.get("/admin/boards/03/roster")
    return client, CSRF_RE.search(page.get_data(as_text=True))[1]


@pytest.mark.smtp
def test_state_staff_cannot_send_reminders(app):
    two_boards(app)
    with mail_server(app, Mailbox()) as mailbox:
        client, token = signed_in_as(app, "state@example.org")
        page = client.get("/admin/boards/03/roster").get_data(as_text=True)
        assert "/admin/boards/03/remind" not in page, "no buttons for state staff"
        assert client.post("/admin/boards/03/remind",
                           data={"csrf_token": token}).status_code == 404
        lead, lead_token = signed_in_as(app, "lead@example.org")
        assert lead.post("/admin/boards/04/remind",
                         data={"csrf_token": lead_token}).status_code == 404
    assert mailbox.messages == []


@pytest.mark.smtp
def test_a_lead_reminds_one_partnership_or_one_member_of_their_own_board(app):
    ids = two_boards(app)
    with mail_server(app, Mailbox()) as mailbox:
        lead, token = signed_in_as(app, "lead@example.org")
        page = lead.get("/admin/boards/03/roster").get_data(as_text=True)
        assert "A member is emailed at most once every 24 hours." in page
        assert f'name="member" value="{ids.pat}"' in page
        assert f'name="partnership" value="{ids.health}"' in page

        def remind(**target: int):
            return lead.post("/admin/boards/03/remind", data={"csrf_token": token, **target},
                             follow_redirects=True)

        assert "1 reminder sent" in remind(member=ids.pat).get_data(as_text=True)
        assert mailbox.recipients() == ["pat@example.org"]
        mailbox.messages.clear()
        assert "2 reminders sent" in remind(partnership=ids.health).get_data(as_text=True)
        assert mailbox.recipients() == ["fay@example.org", "sam@example.org"]
        mailbox.messages.clear()
        again = remind(member=ids.fay).get_data(as_text=True)
        assert "0 reminders sent, 1 emailed in the last 24 hours left out" in again
        # Another board's partnership or member, or a made-up id: 404, nothing sent.
        for target in ({"member": ids.far}, {"partnership": ids.elsewhere},
                       {"member": 999999}):
            assert lead.post("/admin/boards/03/remind",
                             data={"csrf_token": token, **target}).status_code == 404
        assert lead.post("/admin/boards/03/remind",
                         data={"csrf_token": token, "member": "1 OR 1=1"}).status_code == 400
    assert mailbox.messages == []
    with app.app_context():
        sends = [(e.actor, e.target, e.detail["sent"]) for e in audit.events(
            db.session, action="reminders.send")]
    assert sends == [("lead@example.org", f"member {ids.fay}", 0),
                     ("lead@example.org", f"partnership {ids.health}", 2),
                     ("lead@example.org", f"member {ids.pat}", 1)]


def test_a_session_ends_two_weeks_after_sign_in_and_old_rows_are_pruned(app):
    add_staff(app, "admin@example.org")
    client = app.test_client()
    assert login_from(client, "127.0.0.1", "admin@example.org").status_code == 302
    assert client.get("/admin/users").status_code == 200
    with app.app_context():
        old = utcnow() - accounts.SESSION_MAX_AGE - dt.timedelta(minutes=1)
        db.session.execute(update(StaffSession).values(created_at=old))
        db.session.commit()
    response = client.get("/admin/users")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert login_from(client, "127.0.0.1", "admin@example.org").status_code == 302
    with app.app_context():
        rows = db.session.execute(select(StaffSession)).scalars().all()
        assert len(rows) == 1 and rows[0].revoked_at is None, "the old row is gone"
