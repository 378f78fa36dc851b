"""The TOTP second factor of password sign-in (SPEC 17): enrolment (forced for
administrators), sign-in with a code, a wrong code, a reused code, recovery codes, and
an administrator's reset of another account's factor."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from survey.db import db
from survey.models import AuditEvent, RecoveryCode, SecondFactor, User
from survey.services import accounts, second_factor
from tests.conftest import AUTHENTICATORS, CSRF_RE, AuthActions, csrf_token

PASSWORD = "correct horse battery"
SECRET_RE = re.compile(r'class="factor-secret">([A-Z2-7]+)<')
CODES_RE = re.compile(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>")


def add_users(app: Flask, *specs: tuple[str, str]) -> list[int]:
    """Accounts made in an app context of their own (requests must not share `g`)."""
    with app.app_context():
        users = [accounts.create_user(db.session, email, PASSWORD, role)
                 for email, role in specs]
        db.session.commit()
        return [u.id for u in users]


def signed_in(client: FlaskClient) -> bool:
    return client.get("/account/password").status_code == 200


def password_step(client: FlaskClient, email: str):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": PASSWORD,
                                       "csrf_token": token})


def send_code(client: FlaskClient, code: str):
    token = csrf_token(client, "/login/code")
    return client.post("/login/code", data={"code": code, "csrf_token": token})


def audit_actions(app: Flask) -> list[str]:
    with app.app_context():
        return [e.action for e in db.session.execute(
            select(AuditEvent).order_by(AuditEvent.id)).scalars()]


def test_an_administrator_enrols_at_the_first_sign_in(app, client):
    add_users(app, ("admin@example.org", "admin"))
    response = password_step(client, "admin@example.org")
    assert response.headers["Location"] == "/login/enrol"
    assert not signed_in(client), "no session before the second factor"

    page = client.get("/login/enrol")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    qr = re.search(r'<img src="(data:image/svg\+xml[^"]+)"', html)
    assert qr, "the QR code is an SVG data URI"
    assert "img-src 'self' data:" in page.headers["Content-Security-Policy"]
    secret = SECRET_RE.search(html).group(1)
    uri = second_factor.provisioning_uri(secret, "admin@example.org")
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
    assert html_lib.unescape(qr.group(1)) == second_factor.qr_data_uri(uri), "the QR is the key"

    wrong = client.post("/login/enrol", data={"code": "000000",
                                              "csrf_token": CSRF_RE.search(html).group(1)})
    assert wrong.status_code == 422 and "The code is wrong" in wrong.get_data(as_text=True)
    assert not signed_in(client)

    done = client.post("/login/enrol", data={"code": pyotp.TOTP(secret).now(),
                                             "csrf_token": CSRF_RE.search(html).group(1)})
    codes = CODES_RE.findall(done.get_data(as_text=True))
    assert done.status_code == 200 and len(set(codes)) == 10
    assert signed_in(client)
    with app.app_context():
        stored = list(db.session.execute(select(RecoveryCode.code_hash)).scalars())
        assert len(stored) == 10 and not set(codes) & set(stored), "stored hashed"
        factor = db.session.execute(select(SecondFactor)).scalar_one()
        assert factor.secret == secret
    assert "user.factor_enrol" in audit_actions(app)


def test_sign_in_takes_a_right_code_and_refuses_a_wrong_one(app, client):
    add_users(app, ("admin@example.org", "admin"))
    auth = AuthActions(client)
    auth.login("admin@example.org")  # enrols
    auth.logout()
    phone = AUTHENTICATORS["admin@example.org"]

    assert password_step(client, "admin@example.org").headers["Location"] == "/login/code"
    assert not signed_in(client)
    wrong = send_code(client, "123456" if phone.next_code() != "123456" else "654321")
    assert wrong.status_code == 422
    assert "The code is wrong" in wrong.get_data(as_text=True)
    assert not signed_in(client)
    right = send_code(client, pyotp.TOTP(phone.secret).at(
        dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)))
    assert right.status_code == 302 and right.headers["Location"] == "/"
    assert signed_in(client)


def test_a_code_is_accepted_once(app, client):
    add_users(app, ("admin@example.org", "admin"))
    auth = AuthActions(client)
    auth.login("admin@example.org")
    auth.logout()
    secret = AUTHENTICATORS["admin@example.org"].secret
    code = pyotp.TOTP(secret).at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30))
    password_step(client, "admin@example.org")
    assert send_code(client, code).status_code == 302
    auth.logout()
    password_step(client, "admin@example.org")
    reused = send_code(client, code)
    assert reused.status_code == 422, "a code seen once is refused after"
    assert not signed_in(client)


def test_a_recovery_code_signs_in_once(app, client):
    add_users(app, ("admin@example.org", "admin"))
    auth = AuthActions(client)
    auth.login("admin@example.org")
    auth.logout()
    recovery = AUTHENTICATORS["admin@example.org"].recovery_codes[0]

    password_step(client, "admin@example.org")
    used = send_code(client, recovery.upper())  # as typed, case and dash aside
    assert used.status_code == 302
    landing = client.get(used.headers["Location"], follow_redirects=True)
    assert "9 are left" in landing.get_data(as_text=True)
    assert signed_in(client)
    auth.logout()
    password_step(client, "admin@example.org")
    assert send_code(client, recovery).status_code == 422
    assert "user.recovery_code_used" in audit_actions(app)


def test_wrong_codes_slow_down_like_wrong_passwords(app, client):
    add_users(app, ("admin@example.org", "admin"))
    auth = AuthActions(client)
    auth.login("admin@example.org")
    auth.logout()
    password_step(client, "admin@example.org")
    statuses = [send_code(client, "000000").status_code for _ in range(6)]
    assert statuses[:5] == [422] * 5 and statuses[5] == 429


def test_others_sign_in_without_a_code_until_they_enrol(app, client):
    add_users(app, ("state@example.org", "state"))
    auth = AuthActions(client)
    assert auth.login("state@example.org").headers["Location"] == "/"
    page = client.get("/account/second-factor").get_data(as_text=True)
    secret = SECRET_RE.search(page).group(1)
    done = client.post("/account/second-factor", data={
        "code": pyotp.TOTP(secret).now(), "csrf_token": CSRF_RE.search(page).group(1)})
    assert len(CODES_RE.findall(done.get_data(as_text=True))) == 10
    auth.logout()
    assert password_step(client, "state@example.org").headers["Location"] == "/login/code"
    later = pyotp.TOTP(secret).at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30))
    assert send_code(client, later).status_code == 302
    # and off again, with a code
    token = csrf_token(client, "/account/second-factor")
    off = client.post("/account/second-factor/off", data={"code": "000000", "csrf_token": token})
    assert off.status_code == 422
    auth.logout()


def test_an_administrator_resets_another_accounts_factor(app, client):
    _, lead_id = add_users(app, ("admin@example.org", "admin"), ("second@example.org", "admin"))
    other = app.test_client()
    AuthActions(other).login("second@example.org")  # enrols; the phone is then lost
    assert signed_in(other)
    AuthActions(client).login("admin@example.org")
    users_page = client.get("/admin/users").get_data(as_text=True)
    assert f"/admin/users/{lead_id}/second-factor/reset" in users_page
    token = csrf_token(client, "/admin/users")
    response = client.post(f"/admin/users/{lead_id}/second-factor/reset",
                           data={"csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.execute(select(SecondFactor).where(
            SecondFactor.user_id == lead_id)).first() is None
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "user.factor_reset")).scalar_one()
        assert (event.actor, event.target) == ("admin@example.org", "second@example.org")
    assert not signed_in(other), "the account's sessions end with the reset"
    # an administrator enrols again at the next sign-in
    assert password_step(other, "second@example.org").headers["Location"] == "/login/enrol"


def test_only_administrators_reset_factors(app, client):
    state_id, = add_users(app, ("state@example.org", "state"))
    AuthActions(client).login("state@example.org")
    token = csrf_token(client, "/account/password")
    response = client.post(f"/admin/users/{state_id}/second-factor/reset",
                           data={"csrf_token": token})
    assert response.status_code == 404


def test_codes_a_step_apart_and_beyond(session):
    user = accounts.create_user(session, "admin@example.org", PASSWORD, "admin")
    secret = second_factor.new_secret()
    now = dt.datetime(2026, 12, 3, 12, 0, 10, tzinfo=dt.UTC)
    totp = pyotp.TOTP(secret)
    assert second_factor.enrol(session, user, secret, totp.at(now), now) is not None
    later = now + dt.timedelta(seconds=60)
    assert second_factor.check_code(session, user, totp.at(later - dt.timedelta(seconds=90)),
                                    later) is None, "two steps old"
    assert second_factor.check_code(session, user, totp.at(later), later) == "totp"
    assert second_factor.check_code(session, user, totp.at(later), later) is None
    assert second_factor.check_code(session, user, "12345", later) is None
    assert session.get(User, user.id) is not None


@pytest.mark.parametrize("code", ["", " ", "abcdef"])
def test_a_code_that_is_not_a_code_is_refused(session, code):
    user = accounts.create_user(session, "admin@example.org", PASSWORD, "admin")
    secret = second_factor.new_secret()
    second_factor.enrol(session, user, secret, pyotp.TOTP(secret).now())
    assert second_factor.check_code(session, user, code) is None
