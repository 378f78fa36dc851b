"""Staff accounts: create, reset a password, deactivate, reactivate."""

from __future__ import annotations

from typing import Any

from flask import render_template

from survey.db import db
from survey.models import Board, User
from survey.services import accounts
from survey.web.admin.blueprint import (
    Page,
    admin_required,
    board_choices,
    bp,
    failed,
    get_or_404,
    saved,
)
from survey.web.staff_forms import UserForm


def render_users(form: UserForm | None = None, status: int = 200, problems: list[str] | None = None,
                 **shown: Any) -> Page:
    """The accounts page; `shown` holds a new password to show once, with its user."""
    form = form or UserForm(formdata=None)
    form.board.choices = board_choices("No board")
    from survey.web.second_factor import enrolled_user_ids

    return render_template("admin/users.html", users=accounts.list_users(db.session),
                           form=form, problems=problems or [],
                           factor_users=enrolled_user_ids(),
                           **shown), status


@bp.get("/users")
@admin_required
def user_list() -> Page:
    """Every account; create, reset a password, deactivate."""
    return render_users()


@bp.post("/users")
@admin_required
def user_create() -> Page:
    """Create an account with a random password, shown once."""
    form = UserForm()
    form.board.choices = board_choices("No board")
    if form.validate():
        board = get_or_404(Board, code=form.board.data) if form.board.data else None
        password = accounts.random_password()
        try:
            user = accounts.create_user(db.session, form.email.data, password, form.role.data,
                                        board)
        except accounts.AccountError as exc:
            db.session.rollback()
            return render_users(form, 422, problems=[str(exc)])
        db.session.commit()
        return render_users(shown_password=password, shown_user=user)
    return render_users(form, 422)


@bp.post("/users/<int:user_id>/<any(reset, deactivate, reactivate):change>")
@admin_required
def user_change(user_id: int, change: str) -> Page:
    """Reset a password (shown once; sessions end), deactivate or reactivate an account."""
    user = get_or_404(User, id=user_id)
    if change == "reset":
        password = accounts.reset_password(db.session, user)
        db.session.commit()
        return render_users(shown_password=password, shown_user=user)
    try:
        (accounts.deactivate_user if change == "deactivate" else accounts.reactivate_user)(
            db.session, user)
    except accounts.AccountError as exc:
        return failed([str(exc)], "admin.user_list")
    return saved(f"{user.email} is {'active' if user.active else 'deactivated'}.",
                  "admin.user_list")
