"""The sector list, free-text sectors from before it (mapped by an administrator), and
each board's target industries (SPEC 16)."""

from __future__ import annotations

from flask import render_template
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from wtforms import HiddenField, SelectField
from wtforms.validators import DataRequired

from survey.db import database_problem, db, writes_late
from survey.models import Board, BoardStatus
from survey.scoring.coverage import board_targets
from survey.sectors import by_code, sectors
from survey.services import sector_mapping
from survey.services import targets as target_service
from survey.services.tabular import WEB_LIMITS, ImportProblem, iter_table
from survey.web.admin.blueprint import Page, admin_required, bp, failed, saved


class TargetsUploadForm(FlaskForm):
    file = FileField("Target industries file", validators=[
        FileRequired("Choose a CSV or XLSX file."),
        FileAllowed(["csv", "xlsx"], "The file must be .csv or .xlsx.")])


class MapSectorForm(FlaskForm):
    text = HiddenField(validators=[DataRequired()])
    sector = SelectField("Sector on the list", validate_choice=True,
                         validators=[DataRequired("Choose a sector from the list.")])


def map_form(**kwargs: object) -> MapSectorForm:
    form = MapSectorForm(**kwargs)  # type: ignore[arg-type]
    form.sector.choices = [("", "Choose a sector")] + [(s.code, f"{s.name} ({s.code})")
                                                        for s in sectors()]
    return form


@bp.get("/sectors")
@admin_required
def sector_list() -> Page:
    """The sector list, and the sectors typed before it that are waiting to be mapped."""
    waiting = sector_mapping.unmapped_sectors(db.session)
    return render_template("admin/sectors.html", sectors=sectors(), waiting=waiting,
                           forms={u.text: map_form(formdata=None, text=u.text) for u in waiting})


@bp.post("/sectors/map")
@admin_required
def sector_map() -> Page:
    """Map one free-text sector to a sector of the list."""
    form = map_form()
    if not form.validate():
        return failed([e for errors in form.errors.values() for e in errors],
                      "admin.sector_list")
    sector = by_code(form.sector.data)
    assert sector is not None  # validate_choice
    try:
        changed = sector_mapping.map_sector(db.session, form.text.data, sector)
    except ImportProblem as exc:
        return failed(exc.problems, "admin.sector_list")
    return saved(f"{form.text.data!r} is now {sector.name}: {changed} partnerships.",
                 "admin.sector_list")


# --- target industries (SPEC 16) ------


@bp.route("/targets", methods=["GET", "POST"])
@writes_late
@admin_required
def targets() -> Page:
    """Each board's target industries; upload board,sector (CSV or XLSX), all or nothing."""
    form = TargetsUploadForm()
    problems: list[str] = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            rows = iter_table(upload.read(), upload.filename or "", target_service.TARGET_COLUMNS,
                              WEB_LIMITS)
            plan = target_service.check_targets(db.session, rows)
            with db.writing() as session:
                summary = target_service.write_targets(session, plan)
        except ImportProblem as exc:
            db.session.rollback()
            problems = exc.problems
        except DBAPIError as exc:
            db.session.rollback()
            problems = [database_problem(exc)]
        else:
            return saved(f"Target industries: {summary}.", "admin.targets")
    boards = db.session.execute(select(Board).where(Board.status == BoardStatus.ACTIVE)
                                .order_by(Board.code)).scalars().all()
    status = 422 if problems or form.errors else 200
    return render_template("admin/targets.html", form=form, problems=problems, boards=boards,
                           targets=board_targets(db.session),
                           columns=target_service.TARGET_COLUMNS), status
