"""The second step of password sign-in (a TOTP or recovery code), enrolment, and an
administrator's reset of another account's factor (SPEC 17).

Between the password and the code the browser holds only a signed note of who is half
signed in (`factor_pending`, ten minutes); the server-side session starts after the code.
"""

from __future__ import annotations

import time
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from survey.db import db
from survey.models import Role, SecondFactor, User
from survey.services import accounts, audit, login_limits, second_factor
from survey.web.access import staff_required
from survey.web.signin_forms import CodeForm
from survey.web.staff_forms import ActionForm

bp = Blueprint("factor", __name__)

PENDING_KEY = "factor_pending"
ENROL_SECRET_KEY = "factor_enrol_secret"
PENDING_SECONDS = 600
WRONG_CODE = "The code is wrong, or was used already. Enter the newest code from your app."
Page = Response | str | tuple[str, int]


def second_step(user: User) -> str | None:
    """Where a right password goes next: the code page, the enrolment page, or None
    (no second factor for this account: sign in at once)."""
    factor = second_factor.factor_of(db.session, user)
    if factor is not None:
        return "factor.code"
    if second_factor.must_enrol(user, factor):
        return "factor.enrol"
    return None


def enrolled_user_ids() -> set[int]:
    """The accounts that have a second factor (for the administrators' accounts page)."""
    return set(db.session.execute(select(SecondFactor.user_id)).scalars())


def await_code(user: User, endpoint: str, next_path: str | None) -> Response:
    """Remember who gave the right password (in a fresh cookie) and ask for the code."""
    from survey.web.auth import fresh_session

    fresh_session()
    session[PENDING_KEY] = {"user": user.id, "version": user.session_version,
                            "at": int(time.time()), "next": next_path or ""}
    return redirect(url_for(endpoint))


def _pending() -> tuple[User, dict[str, Any]]:
    """The half-signed-in account, or a redirect to sign in again (raised as abort)."""
    note = session.get(PENDING_KEY)
    if not isinstance(note, dict) or time.time() - note.get("at", 0) > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        flash("Please sign in again.", "error")
        abort(redirect(url_for("auth.login")))
    user = db.session.get(User, note.get("user"))
    if user is None or not user.active or user.session_version != note.get("version"):
        session.pop(PENDING_KEY, None)
        abort(redirect(url_for("auth.login")))
    return user, note


def _finish(user: User, note: dict[str, Any]) -> Response:
    """The code was right: start the server-side session and go on."""
    from survey.web.auth import safe_next, sign_in

    token = accounts.start_session(db.session, user)
    db.session.commit()
    sign_in(user, token)
    return redirect(safe_next(note.get("next")) or url_for("main.index"))


@bp.route("/login/code", methods=["GET", "POST"])
def code() -> Page:
    """The code from the authenticator app (or a recovery code) after the password."""
    from survey.web.auth import client_address

    user, note = _pending()
    form = CodeForm()
    problem, status = None, 200
    if form.validate_on_submit():
        address = client_address()
        throttled = login_limits.check(db.session, user.email, address)
        if throttled is not None:
            problem, status = throttled.message, 429
        elif (kind := second_factor.check_code(db.session, user, form.code.data)) is not None:
            login_limits.succeeded(db.session, user.email, address)
            left = second_factor.remaining_recovery_codes(db.session, user)
            response = _finish(user, note)
            if kind == "recovery":  # after sign-in, which starts a fresh cookie
                flash(f"You used a recovery code; {left} are left. New ones are on your "
                      "second-factor page.", "success")
            return response
        else:
            login_limits.failed(db.session, user.email, address)
            db.session.commit()
            problem, status = WRONG_CODE, 422
    if form.errors:
        status = 422
    return render_template("signin/code.html", form=form, problem=problem), status


def _enrolment_secret() -> str:
    """The secret being enrolled, kept in the signed cookie until a code confirms it."""
    secret = session.get(ENROL_SECRET_KEY)
    if not isinstance(secret, str) or len(secret) != 32:
        secret = second_factor.new_secret()
        session[ENROL_SECRET_KEY] = secret
    return secret


def _enrolment_page(email: str, form: CodeForm, action: str, problem: str | None,
                    status: int, forced: bool) -> tuple[str, int]:
    secret = _enrolment_secret()
    uri = second_factor.provisioning_uri(secret, email)
    return render_template("signin/enrol.html", form=form, problem=problem, secret=secret,
                           qr=second_factor.qr_data_uri(uri), action=action,
                           forced=forced), status


def _confirm(user: User, form: CodeForm) -> list[str] | None:
    codes = second_factor.enrol(db.session, user, _enrolment_secret(), form.code.data)
    if codes is not None:
        session.pop(ENROL_SECRET_KEY, None)
    return codes


@bp.route("/login/enrol", methods=["GET", "POST"])
def enrol() -> Page:
    """An administrator's first sign-in with a password: enrol a second factor first."""
    user, note = _pending()
    form = CodeForm()
    problem = None
    if form.validate_on_submit():
        codes = _confirm(user, form)
        if codes is not None:
            response = _finish(user, note)
            return render_template("signin/recovery_codes.html", codes=codes,
                                   next=response.headers["Location"])
        problem = WRONG_CODE
    status = 422 if problem or form.errors else 200
    return _enrolment_page(user.email, form, url_for("factor.enrol"), problem, status, True)


def _me() -> User:
    return db.session.execute(select(User).where(User.id == current_user.user_id)).scalar_one()


@bp.route("/account/second-factor", methods=["GET", "POST"])
@staff_required()
def account() -> Page:
    """One's own second factor: enrol (optional except for administrators), new recovery
    codes, or turn it off (not administrators)."""
    user = _me()
    factor = second_factor.factor_of(db.session, user)
    form = CodeForm()
    if factor is None:
        problem = None
        if form.validate_on_submit():
            codes = _confirm(user, form)
            if codes is not None:
                db.session.commit()
                return render_template("signin/recovery_codes.html", codes=codes,
                                       next=url_for("factor.account"))
            problem = WRONG_CODE
        status = 422 if problem or form.errors else 200
        return _enrolment_page(user.email, form, url_for("factor.account"), problem, status,
                               False)
    return render_template(
        "signin/factor.html", form=form, action_form=ActionForm(), is_admin=user.role == Role.ADMIN,
        remaining=second_factor.remaining_recovery_codes(db.session, user), problem=None)


@bp.post("/account/second-factor/<any(recovery, off):change>")
@staff_required()
def change(change: str) -> Page:
    """New recovery codes, or the factor off; either takes a current code."""
    user = _me()
    form = CodeForm()
    if second_factor.factor_of(db.session, user) is None:
        return redirect(url_for("factor.account"))
    if change == "off" and user.role == Role.ADMIN:
        abort(404)
    if not form.validate_on_submit() or second_factor.check_code(
            db.session, user, form.code.data) is None:
        db.session.rollback()
        return render_template(
            "signin/factor.html", form=form, action_form=ActionForm(),
            is_admin=user.role == Role.ADMIN, problem=WRONG_CODE,
            remaining=second_factor.remaining_recovery_codes(db.session, user)), 422
    if change == "off":
        second_factor.remove_own_factor(db.session, user)
        db.session.commit()
        flash("The second factor is off: signing in takes your password only.", "success")
        return redirect(url_for("factor.account"))
    codes = second_factor.new_recovery_codes(db.session, user)
    audit.record(db.session, "user.recovery_codes_renew", user.email)
    db.session.commit()
    return render_template("signin/recovery_codes.html", codes=codes,
                           next=url_for("factor.account"))


@bp.post("/admin/users/<int:user_id>/second-factor/reset")
@staff_required(Role.ADMIN)
def reset(user_id: int) -> Response:
    """An administrator removes another account's second factor (audited)."""
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    user = db.session.get(User, user_id) or abort(404)
    if user.id == current_user.user_id:
        flash("Your own second factor cannot be reset here; ask another administrator.",
              "error")
        return redirect(url_for("admin.user_list"))
    second_factor.reset_factor(db.session, user)
    db.session.commit()
    flash(f"The second factor of {user.email} is removed; "
          + ("they enrol again at their next sign-in." if user.role == Role.ADMIN
             else "they may enrol again from their account."), "success")
    return redirect(url_for("admin.user_list"))
