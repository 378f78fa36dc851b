"""The sector list, and free-text sectors from before it, mapped by an administrator."""

from __future__ import annotations

from flask import render_template
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField
from wtforms.validators import DataRequired

from survey.db import db
from survey.sectors import by_code, sectors
from survey.services import sector_mapping
from survey.services.tabular import ImportProblem
from survey.web.admin.blueprint import Page, admin_required, bp, failed, saved


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
