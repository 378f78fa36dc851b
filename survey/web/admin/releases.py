"""Publish a revision of a published cycle (SPEC 4b.2): a confirmation page that says
what will change and what differencing holds back, then a form with the required note."""

from __future__ import annotations

from flask import render_template
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from survey.db import db
from survey.models import Cycle
from survey.services import audit, revisions
from survey.services.tabular import ImportProblem
from survey.web.admin.blueprint import Page, admin_required, bp, failed, failed_field, get_or_404
from survey.web.admin.blueprint import saved as saved_page
from survey.web.forms import SurveyForm


class PublishForm(SurveyForm):
    note = TextAreaField("Note, printed on every output of this release", validators=[
        DataRequired("Say what changed, such as: paper responses from two partnerships."),
        Length(max=500, message="Keep the note to 500 characters.")])


def render_confirm(cycle: Cycle, form: PublishForm, status: int = 200) -> tuple[str, int]:
    plan = revisions.plan_revision(db.session, cycle)
    db.session.rollback()  # planning writes nothing; end its read transaction
    return render_template("admin/publish.html", cycle=cycle, plan=plan, form=form,
                           reasons=list(revisions.held_lines(plan, 50))), status


@bp.get("/cycles/<name>/publish")
@admin_required
def cycle_publish_confirm(name: str) -> Page:
    """What publishing a revision now would change, and the note to give it."""
    cycle = get_or_404(Cycle, name=name)
    try:
        return render_confirm(cycle, PublishForm(formdata=None))
    except ImportProblem as exc:
        return failed(exc.problems, "admin.cycle_list")


@bp.post("/cycles/<name>/publish")
@admin_required
def cycle_publish(name: str) -> Page:
    """Publish the revision with its note."""
    cycle = get_or_404(Cycle, name=name)
    form = PublishForm()
    try:
        if not form.validate():
            return render_confirm(cycle, form, 422)
        try:
            row = revisions.publish_revision(db.session, cycle, audit.web_actor(),
                                             form.note.data)
        except ImportProblem as exc:
            failed_field(form.note, exc.problems)
            return render_confirm(cycle, form, 422)
    except ImportProblem as exc:  # nothing to revise: the cycle has no release yet
        return failed(exc.problems, "admin.cycle_list")
    held = int(row.held_back.get("count", 0))
    return saved_page(f"Cycle {cycle.name}: release {row.number} published; {held} figure"
                      f"{'s' if held != 1 else ''} held back.", "dashboards.state",
                      cycle=cycle.name)
