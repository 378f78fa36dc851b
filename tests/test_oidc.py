"""OpenID Connect sign-in (SPEC 17) against a real provider: the npm package
oidc-provider, run by node on loopback (tests/oidc/provider.mjs, installed by
./run-tests with npm ci). The browser's part is played by `requests` on the provider's
side and the Flask test client on ours."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from survey import create_app
from survey.db import db
from survey.models import AuditEvent, StaffSession, User
from survey.services.accounts import create_user
from tests.conftest import ClosingClient, csrf_token
from tests.factories import make_board
from tests.test_mail import free_port

HERE = Path(__file__).parent / "oidc"
CLIENT_ID, CLIENT_SECRET = "sector-survey", "a-client-secret-for-tests-only"
REDIRECT_URI = "http://survey.test/login/oidc/callback"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """The OpenID provider's issuer URL, running for this module."""
    node = shutil.which("node")
    assert node, "node is needed for the OpenID provider (./run-tests installs it)"
    assert (HERE / "node_modules" / "oidc-provider").is_dir(), (
        "run `npm ci --prefix tests/oidc` (./run-tests does)")
    port = free_port()
    process = subprocess.Popen(
        [node, str(HERE / "provider.mjs")], cwd=HERE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
        env={"PATH": "/usr/bin:/bin", "PORT": str(port), "CLIENT_ID": CLIENT_ID,
             "CLIENT_SECRET": CLIENT_SECRET, "REDIRECT_URI": REDIRECT_URI,
             "NODE_ENV": "production"})
    try:
        said = [process.stdout.readline() for _ in range(1)]
        while not said[-1].startswith("ready ") and said[-1] and len(said) < 20:
            said.append(process.stdout.readline())  # warnings first (the Node version)
        assert said[-1].startswith("ready "), f"the provider did not start: {said}"
        yield said[-1].split()[1]
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


@pytest.fixture
def oidc_app(database_url: str, tmp_path: Path, monkeypatch, provider: str) -> Iterator[Flask]:
    """The app, configured with the local provider as the agency's identity provider."""
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({
        "TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret-key",
        "BASE_URL": "http://survey.test", "SMTP_URL": "",
        "OIDC_ISSUER": provider, "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
    })
    app.test_client_class = ClosingClient
    with app.app_context():
        board = make_board(db.session, "15", "CareerSource Heartland")
        create_user(db.session, "lead@example.org", PASSWORD, "board", board)
        create_user(db.session, "admin@example.org", PASSWORD, "admin")
        db.session.commit()
    yield app
    db.engine.dispose()


def through_provider(client: FlaskClient, provider: str, account: str,
                     verified: bool = True, fault: str | None = None):
    """Sign in at the provider as `account`; return our callback's response and URL."""
    requests.post(f"{provider}/__test/next", timeout=10,
                  json={"account": account, "verified": verified, "fault": fault})
    start = client.post("/login/oidc", data={"csrf_token": csrf_token(client, "/login")})
    assert start.status_code == 302
    url = start.headers["Location"]
    assert url.startswith(f"{provider}/auth?") and "nonce=" in url and "state=" in url
    browser = requests.Session()
    while not url.startswith("http://survey.test/"):
        answer = browser.get(url, allow_redirects=False, timeout=10)
        assert answer.status_code in (302, 303), answer.text[:500]
        url = urljoin(url, answer.headers["Location"])
    parts = urlsplit(url)
    callback = f"{parts.path}?{parts.query}"
    return client.get(callback), callback


def signed_in_as(client: FlaskClient) -> str | None:
    page = client.get("/account/password")
    if page.status_code != 200:
        return None
    return "lead" if "lead@example.org" in page.get_data(as_text=True) else "other"


def test_a_board_lead_signs_in_and_lands_on_their_board(oidc_app, provider):
    client = oidc_app.test_client()
    assert "Sign in with your agency account" in client.get("/login").get_data(as_text=True)
    response, _ = through_provider(client, provider, "lead@example.org")
    assert response.status_code == 302
    landing = client.get(response.headers["Location"])
    assert landing.headers["Location"] == "/boards/15"
    assert client.get("/boards/15").status_code == 200
    with oidc_app.app_context():
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "user.sign_in")).scalar_one()
        assert event.actor == "lead@example.org"

    token = csrf_token(client, "/account/password")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert signed_in_as(client) is None, "sign-out ends the local session"
    with oidc_app.app_context():
        live = db.session.execute(select(func.count()).select_from(StaffSession).where(
            StaffSession.revoked_at.is_(None))).scalar_one()
        assert live == 0


@pytest.mark.parametrize(("fault", "reason"), [
    ("audience", "not meant for this site"),
    ("expired", "has expired"),
    ("nonce", "used already"),
])
def test_a_wrong_id_token_is_refused(oidc_app, provider, fault, reason):
    client = oidc_app.test_client()
    through_provider(client, provider, "lead@example.org")  # an earlier sign-in (its nonce)
    token = csrf_token(client, "/account/password")
    client.post("/logout", data={"csrf_token": token})
    response, _ = through_provider(client, provider, "lead@example.org", fault=fault)
    assert response.status_code == 403
    assert reason in response.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_an_unverified_email_is_refused(oidc_app, provider):
    client = oidc_app.test_client()
    response, _ = through_provider(client, provider, "lead@example.org", verified=False)
    assert response.status_code == 403
    assert "has not verified your email" in response.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_a_replayed_state_is_refused(oidc_app, provider):
    client = oidc_app.test_client()
    response, callback = through_provider(client, provider, "lead@example.org")
    assert response.status_code == 302
    token = csrf_token(client, "/account/password")
    client.post("/logout", data={"csrf_token": token})
    again = client.get(callback)  # the same code and state once more
    assert again.status_code == 403
    assert signed_in_as(client) is None
    stranger = oidc_app.test_client()  # or in another browser
    assert stranger.get(callback).status_code == 403
    assert signed_in_as(stranger) is None


def test_sign_in_creates_no_account(oidc_app, provider):
    client = oidc_app.test_client()
    response, _ = through_provider(client, provider, "newcomer@example.org")
    assert response.status_code == 403
    assert "no staff account for newcomer@example.org" in response.get_data(as_text=True)
    with oidc_app.app_context():
        assert db.session.execute(select(func.count()).select_from(User)).scalar_one() == 2


def test_password_sign_in_can_be_turned_off(oidc_app, provider):
    oidc_app.config["PASSWORD_LOGIN"] = False
    client = oidc_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert 'name="password"' not in page and "Reset it by email" not in page
    token = csrf_token(client, "/login")
    refused = client.post("/login", data={"email": "lead@example.org", "password": PASSWORD,
                                          "csrf_token": token})
    assert refused.status_code == 404
    assert client.get("/login/reset").status_code == 404
    response, _ = through_provider(client, provider, "admin@example.org")
    assert response.status_code == 302 and signed_in_as(client) == "other"


def test_without_a_provider_there_is_no_single_sign_on(client):
    assert "agency account" not in client.get("/login").get_data(as_text=True)
    assert client.post("/login/oidc").status_code in (400, 404)
