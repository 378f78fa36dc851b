"""When the database cannot take work (full, unavailable, locked too long): a 503 page that
says so and gives back what the user sent, and one log line per failure.

The page re-sends the form as it came (every field but files, as hidden inputs, with the
same CSRF token) when the user presses "Try again", and shows the text they typed, so a
partner who saved a page while PostgreSQL was restarting loses nothing. It needs no
database: the failure may have come before the view read anything.

The log takes one line per failure, with the request id; a traceback at most once a
minute per kind of fault and process, so an outage under load is not thousands of them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from flask import Flask, current_app, g, render_template, request
from flask_login import current_user
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from survey.db import database_fault, db

log = logging.getLogger("survey")

TRACEBACK_EVERY_SECONDS = 60
RETRY_AFTER_SECONDS = 5
# Fields never shown back on the page (they are still re-sent, as hidden inputs).
NOT_SHOWN = ("csrf_token", "password", "current_password", "new_password",
             "confirm_password", "action", "next")

MESSAGES = {
    "full": ("The database is full",
             "Nothing was saved: the disk the database is on has no space left. "
             "Your entries are below; the site's administrator has been told in the log. "
             "Try again once space has been freed."),
    "unavailable": ("Try again in a moment",
                    "The database is not answering just now, so nothing was saved. "
                    "Your entries are kept below: press Try again in a moment."),
    "locked": ("Try again in a moment",
               "The database is busy with other work, so nothing was saved. "
               "Your entries are kept below: press Try again in a moment."),
}

_last_traceback: dict[str, float] = {}
_lock = threading.Lock()


def log_database_fault(exc: BaseException, kind: str) -> None:
    """One line for this failure; the traceback too when this kind had none this minute."""
    now = time.monotonic()
    with _lock:
        with_traceback = now - _last_traceback.get(kind, -TRACEBACK_EVERY_SECONDS) \
            >= TRACEBACK_EVERY_SECONDS
        if with_traceback:
            _last_traceback[kind] = now
    orig = getattr(exc, "orig", None) or exc
    first = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    from survey import current_request_id

    log.error("database %s, request id %s, %s %s: %s", kind, current_request_id(),
              request.method, request.endpoint or "-", first,
              exc_info=exc if with_traceback else None)


def register_database_faults(app: Flask, otherwise: Callable[[Exception], Any]) -> None:
    """Answer database faults with the 503 page; any other database error goes to
    `otherwise` (the 500 page, its traceback logged)."""

    def _fault(exc: Exception) -> Any:
        kind = database_fault(exc)
        if kind is None:
            return otherwise(exc)  # a bug, not an outage
        with suppress(Exception):  # the connection may be gone: nothing left to undo then
            db.session.rollback()
        log_database_fault(exc, kind)
        _signed_in_or_anonymous()
        from survey import current_request_id
        from survey.i18n import translate

        title, message = MESSAGES[kind]
        sent = [(name, value) for name, values in request.form.lists() for value in values] \
            if request.method == "POST" else []
        shown = [(name, value) for name, value in sent
                 if name not in NOT_SHOWN and value.strip() and not value.isdigit()
                 and len(value) > 2]
        body = render_template(
            "database_fault.html", code=503, title=translate(title),
            message=translate(message), request_id=current_request_id(),
            sent=sent, shown=shown, files=bool(request.files) if sent else False,
            action=request.path, kind=kind)
        return body, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}

    for error in (OperationalError, InterfaceError, PoolTimeout):
        app.register_error_handler(error, _fault)


def _signed_in_or_anonymous() -> None:
    """Load the signed-in account for the page's header, or treat the visitor as signed
    out when that needs the database that just failed."""
    try:
        current_user.is_authenticated  # noqa: B018 (loads the account from the database)
    except Exception:
        with suppress(Exception):
            db.session.rollback()
        g._login_user = current_app.login_manager.anonymous_user()  # type: ignore[attr-defined]
