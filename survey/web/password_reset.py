"""Password reset by email at /login/reset (SPEC 17)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request
from werkzeug.wrappers import Response

from survey.db import db
from survey.services import accounts, mail, password_reset
from survey.web.signin_forms import NewPasswordForm, ResetRequestForm

bp = Blueprint("reset", __name__)


def _password_login_on() -> None:
    if not current_app.config.get("PASSWORD_LOGIN", True):
        abort(404)


@bp.route("/login/reset", methods=["GET", "POST"])
def request_reset() -> Response | str | tuple[str, int]:
    """Ask for a reset link: the same answer, at the same speed, for every address."""
    _password_login_on()
    form = ResetRequestForm()
    if not form.validate_on_submit():
        status = 422 if form.errors else 200
        return render_template("signin/reset_request.html", form=form, sent=False), status
    settings = mail.MailSettings.from_config(current_app.config)
    send = password_reset.request_reset(db.session, form.email.data, settings,
                                        current_app.config["SECRET_KEY"])
    db.session.commit()
    response = current_app.make_response(
        render_template("signin/reset_request.html", form=None, sent=True))
    response.call_on_close(send)  # the mail goes out after the answer, not before
    return response


@bp.route("/login/reset/<token>", methods=["GET", "POST"])
def choose_password(token: str) -> Response | str | tuple[str, int]:
    """Set a new password from the emailed link (once, within the hour)."""
    _password_login_on()
    try:
        user = password_reset.user_for_token(db.session, token,
                                             current_app.config["SECRET_KEY"])
    except password_reset.ResetLinkInvalid as exc:
        return render_template("signin/reset_invalid.html", message=str(exc)), 400
    form = NewPasswordForm()
    problem = None
    if form.validate_on_submit():
        try:
            password_reset.complete_reset(db.session, user, form.new_password.data)
        except accounts.AccountError as exc:
            db.session.rollback()
            problem = str(exc)
        else:
            db.session.commit()
            flash("Your password is set, and every session of your account has ended. "
                  "Sign in with the new password.", "success")
            return redirect("/login")
    status = 200 if request.method == "GET" else 422
    return render_template("signin/reset_choose.html", form=form, problem=problem,
                           email=user.email), status
