"""Staff sign-in, sign-out and password change."""

from __future__ import annotations

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

from survey.db import db, writes_late
from survey.models import User
from survey.services import accounts
from survey.web import second_factor
from survey.web.access import SESSION_TOKEN_KEY, StaffUser, staff_required
from survey.web.staff_forms import LoginForm, PasswordChangeForm

bp = Blueprint("auth", __name__)

WRONG_CREDENTIALS = "Email or password is wrong."


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


def sign_in(user: User, token: str) -> None:
    """Start a fresh cookie session for this account's new server-side session `token`."""
    board_code = user.board.code if user.board else None
    fresh_session()
    session[SESSION_TOKEN_KEY] = token
    login_user(StaffUser(user, board_code))


def client_address() -> str:
    """The client's address (the proxy's unless SURVEY_TRUSTED_PROXIES says otherwise)."""
    return request.remote_addr or "-"


@bp.route("/login", methods=["GET", "POST"])
@writes_late  # the password hash runs before the write lock is taken
def login() -> Response | str | tuple[str, int]:
    """The sign-in form; on success go to a safe `next` or to the role's start page."""
    if not current_app.config.get("PASSWORD_LOGIN", True) and request.method == "POST":
        abort(404)  # SURVEY_PASSWORD_LOGIN=0: the agency's identity provider only
    form = LoginForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
        form.next.data = safe_next(request.args.get("next")) or ""
    problem, status = None, 200
    if form.validate_on_submit():
        attempt = accounts.check_credentials(
            db.session, form.email.data, form.password.data, client_address())
        try:
            with db.writing() as writing:  # the failure count (or its reset) is kept
                user = accounts.settle(writing, attempt)
                step = second_factor.second_step(user) if user else None
                token = accounts.start_session(writing, user) if user and not step else ""
        except accounts.LoginThrottled as exc:
            problem, status = str(exc), 429
        else:
            if user is not None and step:  # a code next (SPEC 17), then the session
                return second_factor.await_code(user, step, safe_next(form.next.data))
            if user is not None:
                sign_in(user, token)
                return redirect(safe_next(form.next.data) or url_for("main.index"))
            problem, status = WRONG_CREDENTIALS, 422
    if form.errors:
        status = 422
    from survey.web import oidc

    return render_template("auth/login.html", form=form, problem=problem,
                           oidc_enabled=oidc.enabled(),
                           password_login=current_app.config.get("PASSWORD_LOGIN", True)), status


@bp.post("/logout")
def logout() -> Response:
    """Sign out (POST only, with the CSRF token): the server-side session ends too."""
    accounts.end_session(db.session, session.get(SESSION_TOKEN_KEY))
    db.session.commit()
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
            token = accounts.start_session(db.session, user)
            db.session.commit()
            sign_in(user, token)
            flash("Your password is changed. Other sessions of your account have ended.",
                  "success")
            return redirect(url_for("auth.change_password"))
    status = 200 if problem is None and not form.errors else 422
    return render_template("auth/password.html", form=form, problem=problem), status
