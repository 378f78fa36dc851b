"""Fixtures: a fresh database per test (SQLite, or PostgreSQL when
SURVEY_TEST_DATABASE_URL is set), the app / client / runner trio, and helpers."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from survey import create_app
from survey.db import Base, db, make_engine
from survey.releases import forget as forget_releases
from survey.schema import upgrade


def _database_of_this_worker(url: str) -> str:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own (name_gw0, ...):
    tests empty the database with TRUNCATE, which must not reach another worker's test."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url.startswith("postgresql") or not worker:
        return url
    base = make_url(url)
    return base.set(database=f"{base.database}_{worker}").render_as_string(hide_password=False)


TEST_DATABASE_URL = _database_of_this_worker(os.environ.get("SURVEY_TEST_DATABASE_URL", ""))
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def on_postgres() -> bool:
    return TEST_DATABASE_URL.startswith("postgresql")


def _create_database(url: str) -> None:
    """Create the worker's PostgreSQL database when it does not exist yet."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                  {"name": target.database}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The migrated schema, built once per test session with Alembic."""
    if on_postgres():
        _create_database(TEST_DATABASE_URL)
        engine = make_engine(TEST_DATABASE_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade(engine)
        engine.dispose()
        yield TEST_DATABASE_URL
        return
    path = tmp_path_factory.mktemp("template") / "survey.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    yield str(path)


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> str:
    """An empty, migrated database for one test."""
    forget_releases()  # its releases reuse the ids of the last test's
    if on_postgres():
        engine = make_engine(database_template)
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return database_template
    path = tmp_path / "survey.sqlite3"
    shutil.copyfile(database_template, path)
    return f"sqlite:///{path}"


class ClosingClient(FlaskClient):
    """A test client that reads every response whole and closes it, as a WSGI server
    does: a streamed download left unread would otherwise keep its request's database
    transaction (a PostgreSQL cursor) open, and the next test's TRUNCATE would wait on it."""

    def open(self, *args: Any, buffered: bool = True, **kwargs: Any) -> Any:
        return super().open(*args, buffered=buffered, **kwargs)


@pytest.fixture
def app(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The application on a fresh database, with an instance folder of its own."""
    instance = tmp_path / "instance"
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(instance))
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key",
            "BASE_URL": "http://survey.test",
            "SMTP_URL": "",
        }
    )
    app.test_client_class = ClosingClient
    yield app
    assert db.engine is not None
    db.engine.dispose()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """The app's database session, inside an application context."""
    with app.app_context():
        yield db.session


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def csrf_token(client: FlaskClient, url: str) -> str:
    """Fetch a page and return the CSRF token of its first form."""
    response = client.get(url)
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {url} (status {response.status_code})"
    return match.group(1)


SECRET_RE = re.compile(r'class="factor-secret">([A-Z2-7]+)<')
RECOVERY_RE = re.compile(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>")


@dataclass
class Authenticator:
    """What a staff member's phone knows: the TOTP secret, and the recovery codes."""

    secret: str
    recovery_codes: list[str]
    last_step: int = -1

    def next_code(self) -> str:
        """A code the server has not accepted yet: this time step's, then the next one's
        (clock drift is allowed one step), then the recovery codes one by one."""
        import pyotp

        totp = pyotp.TOTP(self.secret)
        now = totp.timecode(dt.datetime.now(dt.UTC))
        for step in (now, now + 1):
            if step > self.last_step:
                self.last_step = step
                return totp.generate_otp(step)
        return self.recovery_codes.pop()


# Secrets of the accounts enrolled through AuthActions, by email (the latest enrolment).
AUTHENTICATORS: dict[str, Authenticator] = {}


class AuthActions:
    """Sign in and out through the real login form (and the second factor's pages: an
    administrator enrols at the first sign-in, as a person would, with pyotp as the app)."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, email: str, password: str = "correct horse battery"):
        token = csrf_token(self._client, "/login")
        response = self._client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}
        )
        where = response.headers.get("Location", "") if response.status_code == 302 else ""
        if where == "/login/enrol":
            return self.enrol(email.strip().lower())
        if where == "/login/code":
            return self.give_code(email.strip().lower())
        return response

    def enrol(self, email: str):
        """Scan the QR code (read the key off the page) and confirm with the first code."""
        import pyotp

        page = self._client.get("/login/enrol").get_data(as_text=True)
        secret = SECRET_RE.search(page).group(1)
        phone = AUTHENTICATORS[email] = Authenticator(secret, [])
        code = pyotp.TOTP(secret).now()
        phone.last_step = pyotp.TOTP(secret).timecode(dt.datetime.now(dt.UTC))
        form_token = CSRF_RE.search(page)  # none when the app runs without CSRF
        response = self._client.post("/login/enrol", data={
            "code": code, "csrf_token": form_token.group(1) if form_token else ""})
        codes_page = response.get_data(as_text=True)
        phone.recovery_codes = RECOVERY_RE.findall(codes_page)
        onward = re.search(r'<a href="([^"]+)">Continue</a>', codes_page)
        assert onward, f"enrolment of {email} failed (status {response.status_code})"
        return self._client.get(onward.group(1))  # on past the codes, as a person would

    def give_code(self, email: str):
        form_token = CSRF_RE.search(self._client.get("/login/code").get_data(as_text=True))
        token = form_token.group(1) if form_token else ""
        return self._client.post("/login/code", data={
            "code": AUTHENTICATORS[email].next_code(), "csrf_token": token})

    def logout(self):
        token = csrf_token(self._client, "/account/password")
        return self._client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)
