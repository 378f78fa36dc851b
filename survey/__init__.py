"""Sector partnership maturity self-assessment: the Flask application."""

from __future__ import annotations

import logging
import os
import uuid
from typing import Any

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from survey.config import load_config
from survey.db import MAX_ROW_ID, db, takes_lock_early

csrf = CSRFProtect()
log = logging.getLogger("survey")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


class RowIdConverter(IntegerConverter):
    """`<int:...>` in a URL: a row id. One larger than the id columns hold (32-bit INTEGER
    on PostgreSQL, where it failed with NumericValueOutOfRange) is a 404 on every method,
    from `_bound_row_ids` (a converter that refused it would make Werkzeug answer 405
    where another method's rule shares the path)."""


def _bound_row_ids(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """404 for a row id in the URL that no id column can hold."""
    rule = request.url_rule
    if rule is None or not values:
        return
    for name, converter in rule._converters.items():
        if isinstance(converter, RowIdConverter) and not 0 <= values.get(name, 0) <= MAX_ROW_ID:
            raise NotFound()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Application factory: defaults, then the environment, then the test override."""
    instance_path = os.environ.get("SURVEY_INSTANCE_PATH") or None
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.url_map.converters["int"] = RowIdConverter
    app.url_value_preprocessor(_bound_row_ids)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(load_config(app.instance_path))
    if test_config is not None:
        app.config.from_mapping(test_config)

    trust_proxies(app)
    register_extensions(app)
    register_request_hooks(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def trust_proxies(app: Flask) -> None:
    """Behind N trusted proxies, take the client's address, scheme and host from them."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    csrf.init_app(app)
    from survey.web.access import init_login

    init_login(app)
    from survey.i18n import init_i18n

    init_i18n(app)  # partners' pages and emails in English or Spanish (SPEC 13)


def register_blueprints(app: Flask) -> None:
    from survey.web import register_blueprints as register

    register(app)


def register_commands(app: Flask) -> None:
    from survey.cli import register_commands as register

    register(app)


def register_request_hooks(app: Flask) -> None:
    """Request ids, write transactions that take the lock first, and security headers."""

    @app.before_request
    def _start_request() -> None:
        current_request_id()
        if _carries_nul():  # no database stores it (PostgreSQL refuses it outright)
            abort_with(400, "The address or form holds a character that is not allowed.")
        if request.method not in ("GET", "HEAD", "OPTIONS") and takes_lock_early(
            app.view_functions.get(request.endpoint or "")
        ):
            db.begin_write()  # a @writes_late view takes it later, in db.writing()

    @app.after_request
    def _security_headers(response: Any) -> Any:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Request-Id"] = current_request_id()
        if request.path.startswith(("/s/", "/login", "/admin")):
            response.headers["Cache-Control"] = "no-store"
        elif response.mimetype == "text/html" and "Cache-Control" not in response.headers:
            # Staff pages carry a CSRF token and confidential figures: once signed out,
            # the back button must not bring them back from the browser's cache.
            response.headers["Cache-Control"] = "no-store"
        return response


def current_request_id() -> str:
    """This request's id: the proxy's X-Request-Id, else a new one. Set on first use, as
    an error may come before our own hooks run (a body too large for CSRFProtect's)."""
    if "request_id" not in g:
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex[:16]
    return str(g.request_id)


def _carries_nul() -> bool:
    """True when the path, query or form text holds a NUL character."""
    texts = [request.path, *request.args.values()]
    if request.method == "POST":
        texts += request.form.values()
    return any("\x00" in text for text in texts)


ERROR_MESSAGES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Forbidden", "You do not have access to this page."),
    404: ("Page not found", "There is no page at this address, or it is not yours to see."),
    405: ("Not allowed", "This page cannot be used that way."),
    413: ("Too large", "The upload or form is larger than the 5 MB limit."),
    429: ("Too many attempts", "Please wait a minute and try again."),
    500: ("Something went wrong", "The error was logged. Please try again later."),
}


def register_errorhandlers(app: Flask) -> None:
    """Errors as pages in the site's look with a request id; details only in the log."""

    def render_error(code: int, message: str | None = None) -> tuple[str, int]:
        title, default = ERROR_MESSAGES.get(code, ("Error", "The request failed."))
        from survey.i18n import translate  # a partner's error page is in their language

        body = render_template(
            "error.html", code=code, title=translate(title),
            message=translate(message or default),
            request_id=current_request_id(),
        )
        return body, code

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> tuple[str, int]:
        return render_error(
            400, "This form has expired or was not sent by this site. "
            "Go back, reload the page and send it again.",
        )

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        if exc.code is None or exc.code < 400:
            return exc
        message = exc.description if getattr(exc, "survey_message", False) else None
        return render_error(exc.code, message)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[str, int]:
        log.exception("unhandled error, request id %s", g.get("request_id", "-"))
        db.session.rollback()
        return render_error(500)

    from survey.web.faults import register_database_faults

    register_database_faults(app, _unexpected)  # full, unavailable, locked: 503, entries kept


def abort_with(code: int, message: str) -> None:
    """Abort with an error page that shows this plain message to the user."""
    from werkzeug.exceptions import default_exceptions

    exc = default_exceptions[code](description=message)
    exc.survey_message = True  # type: ignore[attr-defined]
    raise exc
