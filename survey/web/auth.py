"""Staff sign-in, sign-out and password change."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from survey.db import db
from survey.models import User
from survey.services import accounts
from survey.web.access import StaffUser, staff_required
from survey.web.staff_forms import LoginForm, PasswordChangeForm

bp = Blueprint("auth", __name__)

WRONG_CREDENTIALS = "Email or password is wrong."


class AddressLimiter:
    """Failed sign-ins per client address in a sliding window (in memory, per process)."""

    def __init__(self, limit: int = 20, window_seconds: float = 600) -> None:
        self.limit = limit
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        failures = self._failures[address]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def blocked(self, address: str) -> bool:
        """True when this address has failed too often lately."""
        with self._lock:
            return len(self._recent(address, time.monotonic())) >= self.limit

    def failed(self, address: str) -> None:
        """Count one failed sign-in from this address."""
        with self._lock:
            self._recent(address, time.monotonic()).append(time.monotonic())


def address_limiter() -> AddressLimiter:
    """The app's limiter (one per app, so tests do not share counts)."""
    return current_app.extensions.setdefault("survey_login_limiter", AddressLimiter())


def safe_next(target: str | None) -> str | None:
    """A same-site path to go to after sign-in, or None for anything else."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ord(ch) < 32 or ch == "\\" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def fresh_session() -> None:
    """Drop everything in the session, including this request's cached CSRF token."""
    session.clear()
    g.pop("csrf_token", None)


def sign_in(user: User) -> None:
    """Start a fresh session for this account."""
    fresh_session()
    login_user(StaffUser(user, user.board.code if user.board else None))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """The sign-in form; on success go to a safe `next` or to the role's start page."""
    form = LoginForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
        form.next.data = safe_next(request.args.get("next")) or ""
    problem = None
    if form.validate_on_submit():
        address = request.remote_addr or "-"
        if address_limiter().blocked(address):
            abort(429)
        try:
            user = accounts.authenticate(db.session, form.email.data, form.password.data)
        except accounts.AccountLocked as exc:
            user, problem = None, str(exc)
        db.session.commit()  # the failure count (or its reset) is kept either way
        if user is not None:
            sign_in(user)
            return redirect(safe_next(form.next.data) or url_for("main.index"))
        address_limiter().failed(address)
        problem = problem or WRONG_CREDENTIALS
    status = 200 if problem is None and not form.errors else 422
    return render_template("auth/login.html", form=form, problem=problem), status


@bp.post("/logout")
def logout() -> Response:
    """Sign out (POST only, with the CSRF token)."""
    logout_user()
    fresh_session()
    flash("You are signed out.", "success")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@staff_required()
def change_password() -> Response | str | tuple[str, int]:
    """Change one's own password; other sessions of the account end, this one stays."""
    form = PasswordChangeForm()
    problem = None
    if form.validate_on_submit():
        user = db.session.execute(
            select(User).where(User.id == current_user.user_id)
        ).scalar_one()
        try:
            accounts.change_password(
                db.session, user, form.current_password.data, form.new_password.data)
        except accounts.AccountError as exc:
            db.session.rollback()
            problem = str(exc)
        else:
            db.session.commit()
            sign_in(user)
            flash("Your password is changed. Other sessions of your account have ended.",
                  "success")
            return redirect(url_for("auth.change_password"))
    status = 200 if problem is None and not form.errors else 422
    return render_template("auth/password.html", form=form, problem=problem), status
