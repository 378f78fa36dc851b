"""A staff member's API tokens on the web: list (with the last use), create (shown once),
revoke (SPEC 17)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from survey.api import tokens
from survey.db import db
from survey.models import User
from survey.services.accounts import AccountError
from survey.web.access import staff_required
from survey.web.staff_forms import ActionForm

bp = Blueprint("api_tokens", __name__)


class TokenForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Give the token a name."),
                                           Length(max=tokens.MAX_NAME_LENGTH)])


def _me() -> User:
    return db.session.execute(select(User).where(User.id == current_user.user_id)).scalar_one()


def _page(form: TokenForm, status: int = 200, shown: str | None = None,
          problem: str | None = None) -> tuple[str, int]:
    return render_template("signin/tokens.html", form=form, action_form=ActionForm(),
                           tokens=tokens.tokens_of(db.session, _me()), shown=shown,
                           problem=problem), status


@bp.route("/account/tokens", methods=["GET", "POST"])
@staff_required()
def token_list() -> Response | tuple[str, int]:
    """One's API tokens; a new one is shown once."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, 422 if form.errors else 200)
    try:
        _, raw = tokens.create_token(db.session, _me(), form.name.data)
    except AccountError as exc:
        db.session.rollback()
        return _page(form, 422, problem=str(exc))
    db.session.commit()
    return _page(TokenForm(formdata=None), 200, shown=raw)


@bp.post("/account/tokens/<int:token_id>/revoke")
@staff_required()
def revoke(token_id: int) -> Response:
    """Revoke one of one's own tokens (another's is a 404)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        token = tokens.revoke_token(db.session, token_id, _me())
    except AccountError:
        abort(404)
    db.session.commit()
    flash(f"The token {token.name} is revoked.", "success")
    return redirect(url_for("api_tokens.token_list"))
