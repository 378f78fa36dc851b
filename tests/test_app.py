"""The application shell: schema, init, health, headers, error pages, limits."""

from __future__ import annotations

import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from survey import create_app
from survey.db import Base, db
from survey.models import Board


def test_migrations_match_the_models(app):
    """Alembic's schema is exactly the models' schema: nothing left to autogenerate."""
    with app.app_context(), db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diffs == []


def test_init_loads_florida_boards_once(app, runner):
    first = runner.invoke(args=["init"])
    assert first.exit_code == 0, first.output
    assert "loaded 24 boards" in first.output
    second = runner.invoke(args=["init"])
    assert second.exit_code == 0, second.output
    with app.app_context():
        codes = db.session.execute(select(Board.code).order_by(Board.code)).scalars().all()
    assert codes == [f"{n:02d}" for n in range(1, 25)]


def test_init_on_a_new_sqlite_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path / "instance"))
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    app = create_app({"TESTING": True, "DATABASE_URL": url})
    result = app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.execute(select(func.count(Board.id))).scalar() == 24
        mode = db.session.connection().exec_driver_sql("PRAGMA journal_mode").scalar()
    assert mode == "wal"
    db.engine.dispose()


def test_secret_key_is_generated_once_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("SURVEY_SECRET_KEY", raising=False)
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    first = create_app({"DATABASE_URL": url}).config["SECRET_KEY"]
    second = create_app({"DATABASE_URL": url}).config["SECRET_KEY"]
    assert first == second and len(first) >= 64
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_security_headers(client):
    response = client.get("/healthz")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Request-Id"]


def test_not_found_is_a_page_in_the_site_look(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Page not found" in html
    assert "Sector Partnership Self-Assessment" in html  # the site header
    assert "request id" in html


def test_unexpected_error_shows_no_stack_trace(app, caplog):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Something went wrong" in html
    assert "secret internals" not in html and "Traceback" not in html
    assert "secret internals" in caplog.text  # the details are in the server log


def test_request_body_limit_answers_413(client):
    response = client.post("/login", data=b"x" * (6 * 1024 * 1024),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert "5 MB" in response.get_data(as_text=True)


def test_session_cookie_is_secure_outside_development(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path / "instance"))
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    monkeypatch.setenv("SURVEY_BASE_URL", "https://survey.example.org")
    assert create_app({"DATABASE_URL": url}).config["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("SURVEY_BASE_URL", "http://127.0.0.1:5000")
    assert create_app({"DATABASE_URL": url}).config["SESSION_COOKIE_SECURE"] is False


def test_reports_import_neither_flask_nor_the_database_layer():
    code = (
        "import sys, reports.results, reports.charts, reports.workbook;"
        "bad = [m for m in ('flask', 'sqlalchemy', 'survey') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_nul_character_anywhere_in_a_request_is_a_400_page(client):
    """PostgreSQL refuses NUL in text: it must never reach a query (it was a 500)."""
    for url in ("/boards/%00", "/s/abc%00def", "/state?cycle=20%0026"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "not allowed" in response.get_data(as_text=True)
    response = client.post("/login", data={"email": "a\x00@example.org", "password": "x"})
    assert response.status_code == 400
