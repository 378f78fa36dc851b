"""The administration blueprint, the helpers its views share, and the index page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response as BaseResponse
from wtforms import Field, SelectChoice

from survey.db import db
from survey.models import (
    PARTNER_TYPE_LABELS,
    Board,
    BoardStatus,
    Cycle,
    CycleStatus,
    Member,
    Partnership,
    Role,
    User,
)
from survey.services import accounts, mail, sector_mapping
from survey.web.access import staff_required

bp = Blueprint("admin", __name__, url_prefix="/admin")
admin_required = staff_required(Role.ADMIN)
Page = BaseResponse | str | tuple[str, int]


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"status_labels": mail.STATUS_LABELS, "role_labels": accounts.ROLE_LABELS,
            "partner_type_labels": PARTNER_TYPE_LABELS}


def get_or_404(model: Any, **where: Any) -> Any:
    """One row by its columns, or 404."""
    query = select(model).filter_by(**where)
    return db.session.execute(query).scalar_one_or_none() or abort(404)


def board_choices(blank: str | None = None, exclude: Board | None = None) -> list[SelectChoice]:
    query = select(Board).where(Board.status == BoardStatus.ACTIVE).order_by(Board.code)
    choices = [SelectChoice(b.code, f"{b.code} {b.name}")
               for b in db.session.execute(query).scalars()
               if exclude is None or b.id != exclude.id]
    return ([SelectChoice("", blank)] if blank is not None else []) + choices


def saved(message: str, endpoint: str, **values: Any) -> BaseResponse:
    """Commit the request's changes, say so, and go to `endpoint`."""
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(endpoint, **values))


def failed(problems: list[str], endpoint: str, **values: Any) -> BaseResponse:
    """Undo the request's changes, show the problems, and go to `endpoint`."""
    db.session.rollback()
    for problem in problems:
        flash(problem, "error")
    return redirect(url_for(endpoint, **values))


def failed_field(field: Field, problems: list[str]) -> None:
    """Undo the request's changes and show the problems under a form field."""
    db.session.rollback()
    field.errors = list(field.errors) + problems


def current_cycle() -> Cycle | None:
    """The open cycle opened last; else the cycle that opens last."""
    query = select(Cycle).order_by(
        (Cycle.status == CycleStatus.OPEN).desc(), Cycle.opened_at.desc(), Cycle.opens_on.desc())
    return db.session.execute(query.limit(1)).scalar_one_or_none()


@bp.get("/")
@admin_required
def index() -> Page:
    """What there is to administer."""
    count = db.session.execute
    counts = {
        "cycles": count(select(func.count(Cycle.id))).scalar_one(),
        "boards": count(select(func.count(Board.id)).where(Board.status == "active")).scalar_one(),
        "partnerships": count(select(func.count(Partnership.id))).scalar_one(),
        "members": count(select(func.count(Member.id)).where(Member.active)).scalar_one(),
        "users": count(select(func.count(User.id)).where(User.active)).scalar_one(),
        "unmapped_sectors": len(sector_mapping.unmapped_sectors(db.session)),
    }
    return render_template("admin/index.html", counts=counts, cycle=current_cycle())

