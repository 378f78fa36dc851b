"""Staff accounts: sign-in, throttling, sign-out, passwords, cookies, `survey user`."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey import create_app
from survey.db import db
from survey.models import LoginThrottle, User, utcnow
from survey.services import accounts, login_limits
from tests.conftest import AuthActions, csrf_token
from tests.factories import make_board

PASSWORD = "correct horse battery"


def add_user(session: Session, email: str, role: str = "state", board=None) -> User:
    user = accounts.create_user(session, email, PASSWORD, role, board)
    session.commit()
    return user


def signed_in(client: FlaskClient) -> bool:
    """True when the client's session opens a staff page."""
    return client.get("/account/password").status_code == 200


def body(response) -> str:
    return response.get_data(as_text=True)


# --- signing in ------


def test_login_with_the_right_password_goes_to_the_start_page(session, client, auth):
    add_user(session, "State@Example.org")
    response = auth.login("state@example.ORG ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert signed_in(client)
    assert "state@example.org" in body(client.get("/account/password"))


@pytest.mark.parametrize("email, password", [
    ("state@example.org", "not the password"),
    ("nobody@example.org", PASSWORD),
])
def test_wrong_password_and_unknown_email_get_the_same_message(session, client, auth, email,
                                                               password):
    add_user(session, "state@example.org")
    response = auth.login(email, password)
    assert response.status_code == 422
    assert "Email or password is wrong." in body(response)
    assert not signed_in(client)


def test_login_goes_to_a_same_site_next_only(session, client):
    add_user(session, "state@example.org", "state")
    token = csrf_token(client, "/login?next=/admin/users")
    assert 'value="/admin/users"' in body(client.get("/login?next=/admin/users"))
    response = client.post("/login", data={"email": "state@example.org", "password": PASSWORD,
                                           "next": "/admin/users", "csrf_token": token})
    assert response.headers["Location"] == "/admin/users"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example",
                                    "javascript:alert(1)"])
def test_login_ignores_an_offsite_next(session, client, target):
    add_user(session, "state@example.org", "state")
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": "state@example.org", "password": PASSWORD,
                                           "next": target, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_anonymous_staff_page_redirects_to_login_with_next(client):
    response = client.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_login_without_csrf_token_is_refused(session, client):
    add_user(session, "state@example.org")
    response = client.post("/login", data={"email": "state@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert not signed_in(client)


def test_deactivated_account_cannot_sign_in(session, client, auth):
    user = add_user(session, "state@example.org")
    add_user(session, "admin@example.org", "admin")
    accounts.deactivate_user(session, user)
    session.commit()
    assert "Email or password is wrong." in body(auth.login("state@example.org"))
    assert not signed_in(client)


# --- throttling ------


def test_repeated_failures_slow_down_that_email_even_for_the_right_password(session, client,
                                                                            auth):
    add_user(session, "state@example.org")
    for _ in range(login_limits.FREE_ATTEMPTS):
        assert "Email or password is wrong." in body(auth.login("state@example.org", "guess 1234"))
    response = auth.login("state@example.org", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed attempts; try again in 15 seconds." in body(response)
    assert not signed_in(client)

    # Once the delay has passed, the right password works and the count starts again.
    row = session.execute(select(LoginThrottle).where(LoginThrottle.key == login_limits.pair_key(
        "state@example.org", "127.0.0.1"))).scalar_one()
    assert row.failures == login_limits.FREE_ATTEMPTS
    row.blocked_until = utcnow() - dt.timedelta(seconds=1)
    session.commit()
    assert auth.login("state@example.org", PASSWORD).status_code == 302
    session.expire_all()
    assert session.execute(select(func.count(LoginThrottle.id)).where(
        LoginThrottle.key.startswith("pair:"))).scalar_one() == 0


def test_each_further_failure_doubles_the_delay_up_to_a_cap(session):
    user = add_user(session, "state@example.org")
    now = utcnow()
    waits = []
    for _ in range(login_limits.FREE_ATTEMPTS + 2):
        assert accounts.authenticate(session, user.email, "wrong password", "10.0.0.9",
                                     now=now) is None
        throttled = login_limits.check(session, user.email, "10.0.0.9", now)
        waits.append(throttled.wait.total_seconds() if throttled else 0)
        now += throttled.wait if throttled else dt.timedelta(0)  # wait it out each time
    assert waits == [0, 0, 0, 0, 15, 30, 60]
    assert login_limits.delay_after(100) == login_limits.MAX_DELAY
    with pytest.raises(accounts.LoginThrottled, match="try again in 60 seconds"):
        accounts.authenticate(session, user.email, PASSWORD, "10.0.0.9", now=now - dt.timedelta(
            seconds=60))


# --- signing out and passwords ------


def test_logout_is_post_only(session, client, auth):
    add_user(session, "state@example.org")
    auth.login("state@example.org")
    assert client.get("/logout").status_code == 405
    assert signed_in(client)
    response = auth.logout()
    assert response.headers["Location"] == "/login"
    assert not signed_in(client)


def test_change_password(session, client, auth):
    add_user(session, "state@example.org")
    auth.login("state@example.org")
    token = csrf_token(client, "/account/password")

    def change(current: str, new: str, again: str):
        return client.post("/account/password", data={
            "current_password": current, "new_password": new, "confirm_password": again,
            "csrf_token": token})

    assert "The current password is wrong." in body(change("wrong one!!", "a new long secret",
                                                          "a new long secret"))
    assert "The two new passwords differ." in body(change(PASSWORD, "a new long secret",
                                                          "another secret"))
    assert "at least 10 characters" in body(change(PASSWORD, "short", "short"))
    response = change(PASSWORD, "a new long secret", "a new long secret")
    assert response.status_code == 302
    assert signed_in(client), "the session that changed the password stays signed in"
    auth.logout()
    assert auth.login("state@example.org", PASSWORD).status_code == 422
    assert auth.login("state@example.org", "a new long secret").status_code == 302


def setup_users(app: Flask, *specs: tuple) -> list[int]:
    """Create accounts in an app context of their own, so that requests do not share `g`."""
    with app.app_context():
        board = make_board(db.session, "07")
        users = [add_user(db.session, email, role, board if role == "board" else None)
                 for email, role in specs]
        return [user.id for user in users]


def test_password_change_ends_the_other_sessions(app, client, auth):
    setup_users(app, ("state@example.org", "state"))
    other = app.test_client()
    AuthActions(other).login("state@example.org")
    auth.login("state@example.org")
    token = csrf_token(client, "/account/password")
    client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "a new long secret",
        "confirm_password": "a new long secret", "csrf_token": token})
    assert signed_in(client)
    assert not signed_in(other)


def test_admin_reset_shows_a_new_password_once_and_ends_old_sessions(app, client, auth):
    _, lead_id = setup_users(app, ("admin@example.org", "admin"), ("lead@example.org", "board"))
    lead_client = app.test_client()
    AuthActions(lead_client).login("lead@example.org")
    assert signed_in(lead_client)

    auth.login("admin@example.org")
    token = csrf_token(client, "/admin/users")
    response = client.post(f"/admin/users/{lead_id}/reset", data={"csrf_token": token})
    assert response.status_code == 200
    new_password = re.search(r'class="new-password">([^<]+)<', body(response)).group(1)
    assert len(new_password) >= accounts.MIN_PASSWORD_LENGTH
    assert new_password not in body(client.get("/admin/users")), "shown only once"

    assert not signed_in(lead_client), "the lead's old session ended"
    assert AuthActions(lead_client).login("lead@example.org").status_code == 422
    assert AuthActions(lead_client).login("lead@example.org", new_password).status_code == 302


def test_password_is_stored_as_a_scrypt_hash(session):
    user = add_user(session, "state@example.org")
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash


# --- cookies ------


def session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, "no session cookie set"
    return cookies[-1]


def test_session_cookie_is_httponly_and_samesite_lax(session, auth):
    add_user(session, "state@example.org")
    cookie = session_cookie(auth.login("state@example.org"))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie, "plain http on a developer's machine"


def test_session_cookie_is_secure_when_base_url_is_https(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("SURVEY_BASE_URL", "https://survey.example.org")
    app: Flask = create_app({"TESTING": True, "DATABASE_URL": database_url,
                             "SECRET_KEY": "test-secret-key"})
    try:
        with app.app_context():
            add_user(db.session, "state@example.org")
        cookie = session_cookie(AuthActions(app.test_client()).login("state@example.org"))
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    finally:
        assert db.engine is not None
        db.engine.dispose()


# --- survey user ------


def count_users(session: Session) -> int:
    session.expire_all()
    return session.execute(select(func.count(User.id))).scalar_one()


def test_cli_user_create_reads_the_password_from_stdin(session, runner, client, auth):
    make_board(session, "05")
    session.commit()
    result = runner.invoke(args=["user", "create", "Lead@Example.org", "--role", "board",
                                 "--board", "05"], input="a long enough secret\n")
    assert result.exit_code == 0, result.output
    assert "created board account lead@example.org for board 05" in result.output
    assert auth.login("lead@example.org", "a long enough secret").status_code == 302


@pytest.mark.parametrize("args, stdin, message", [
    (["--role", "chief"], PASSWORD, "Unknown role 'chief'"),
    (["--role", "board"], PASSWORD, "A board lead needs a board."),
    (["--role", "board", "--board", "99"], PASSWORD, "unknown board 99"),
    (["--role", "state", "--board", "05"], PASSWORD, "Only board leads are bound to a board."),
    (["--role", "state"], "short", "at least 10 characters"),
    (["--role", "state"], "", "at least 10 characters"),
])
def test_cli_user_create_refuses_bad_input_and_changes_nothing(session, runner, args, stdin,
                                                               message):
    make_board(session, "05")
    session.commit()
    result = runner.invoke(args=["user", "create", "x@example.org", *args], input=stdin + "\n")
    assert result.exit_code == 1
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert count_users(session) == 0


def test_cli_user_create_refuses_a_duplicate(session, runner):
    add_user(session, "state@example.org")
    result = runner.invoke(args=["user", "create", "STATE@example.org", "--role", "admin"],
                           input=PASSWORD + "\n")
    assert result.exit_code == 1
    assert "An account for state@example.org already exists." in result.output
    assert count_users(session) == 1


def test_cli_user_list_and_reset(session, runner, auth):
    add_user(session, "state@example.org")
    listing = runner.invoke(args=["user", "list"])
    assert "state@example.org\tstate\t-\tactive" in listing.output
    result = runner.invoke(args=["user", "reset", "state@example.org"])
    assert result.exit_code == 0
    new_password = result.output.strip().rsplit(" ", 1)[-1]
    assert auth.login("state@example.org", PASSWORD).status_code == 422
    assert auth.login("state@example.org", new_password).status_code == 302
    assert runner.invoke(args=["user", "reset", "nobody@example.org"]).exit_code == 1
