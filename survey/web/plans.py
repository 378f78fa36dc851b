"""A partnership's action plan at /partnerships/<id>/plan (SPEC section 11).

Kept by the board lead of the partnership's board, state staff and administrators
(anyone else: 404). GET shows the plan of the chosen published cycle with suggested
priorities and the history; POST saves it. The CSRF token is checked here rather than
by CSRFProtect so that an expired one costs the user nothing: the page comes back with
their text filled in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import (
    BooleanField,
    DateField,
    Form,
    FormField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from survey import csrf, disclosure
from survey.db import db
from survey.models import Cycle, Partnership
from survey.services import dashboard_data, plan_hints, plans
from survey.web import chart_cache
from survey.web.access import staff_required
from survey.web.dashboards import visible_partnership
from survey.web.forms import PlainForm
from survey.web.partner import csrf_valid

bp = Blueprint("plans", __name__)


class EntryForm(PlainForm):
    """One element's plan entry."""

    priority = BooleanField("Priority for the next cycle")
    goal = TextAreaField("Goal", [Length(max=plans.GOAL_MAX)], render_kw={"rows": 2})
    actions = TextAreaField("Actions", [Length(max=plans.ACTIONS_MAX)], render_kw={"rows": 3})
    owner = StringField("Owner", [Length(max=plans.OWNER_MAX)])
    due_on = DateField("Due", [Optional()], format="%Y-%m-%d")
    status = SelectField("Status", choices=[SelectChoice(v, label)
                                            for v, label in plans.status_choices()],
                         default=plans.PlanStatus.PLANNED.value)


def plan_form(titles: dict[str, str], formdata: Any = None,
              saved: dict[str, Any] | None = None) -> Form:
    """One subform per element (ids like `data-goal`), filled from the request or the plan."""

    class PlanForm(PlainForm):
        pass

    for key, title in titles.items():
        setattr(PlanForm, key, FormField(EntryForm, label=title))
    data = {key: vars(plans.entry_input(entry)) for key, entry in (saved or {}).items()}
    return PlanForm(formdata=formdata, data=data)


def form_inputs(form: Form, titles: dict[str, str]) -> dict[str, plans.PlanInput]:
    return {key: plans.PlanInput(
        priority=bool(form[key].priority.data), goal=form[key].goal.data or "",
        actions=form[key].actions.data or "", owner=form[key].owner.data or "",
        due_on=form[key].due_on.data, status=form[key].status.data or "")
        for key in titles}


def error_summary(form: Form, titles: dict[str, str]) -> list[tuple[str, str]]:
    """(field id, message) for each error, named by element; due dates read plainly."""
    summary = []
    for key, title in titles.items():
        for name in plans.FIELDS:
            field = form[key][name]
            if field.errors and name == "due_on":
                field.errors = [f"{title}: enter the due date as a day, month and year "
                                "(in the order the field shows)."]
            summary += [(field.id, message if message.startswith(title) else
                         f"{title}: {message}") for message in field.errors]
    return summary


def plan_cycle() -> tuple[dashboard_data.CycleChoice, Cycle]:
    """The cycle of ?cycle=, else the latest published one (404: unknown or no cycle)."""
    name = request.args.get("cycle", "").strip()
    choice = dashboard_data.choose_cycle(db.session, name)
    if choice.unknown or choice.current is None:
        abort(404)
    if not name:
        published = next((c for c in choice.cycles if plans.is_published(c)), None)
        if published is not None:
            choice = dashboard_data.CycleChoice(choice.cycles, published)
    assert choice.current is not None
    return choice, choice.current


def local_time(moment: dt.datetime | None) -> str:
    """A stored UTC moment in the site's zone: 2026-05-04 14:03."""
    if moment is None:
        return ""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return f"{moment.astimezone(ZoneInfo(current_app.config['TIMEZONE'])):%Y-%m-%d %H:%M}"


@csrf.exempt
@bp.route("/partnerships/<int:id>/plan", methods=["GET", "POST"])
@staff_required()
def plan(id: int) -> Response | str | tuple[str, int]:
    """Show (GET) or save (POST) a partnership's action plan for a published cycle."""
    choice, cycle = plan_cycle()
    boards = visible_partnership(cycle, id)
    partnership = db.session.get(Partnership, id) or abort(404)
    if request.method == "POST" and not keeps_plan(boards):
        abort(404)  # a board it is shared with reads the lead board's plan (SPEC 16)
    titles = plans.element_titles(cycle)
    saved = plans.load_plan(db.session, id, cycle.id)
    if request.method == "GET" or not plans.is_published(cycle):
        status = 200 if request.method == "GET" else 400
        return render_plan(choice, cycle, boards, plan_form(titles, saved=saved), saved), status
    form = plan_form(titles, formdata=request.form)
    if not csrf_valid():
        return render_plan(choice, cycle, boards, form, saved, expired=True), 400
    summary = [] if form.validate() else error_summary(form, titles)
    if not summary:
        try:
            changed = plans.save_plan(db.session, partnership, cycle, form_inputs(form, titles),
                                      actor=current_user.email)
        except plans.PlanError as exc:
            db.session.rollback()
            for key, name, message in exc.problems:
                if key in titles and name:
                    form[key][name].errors = [*form[key][name].errors, message]
                summary.append((form[key][name].id if key in titles and name else "form",
                                message))
        else:
            db.session.commit()
            flash(f"Plan saved: {changed} element{'s' if changed != 1 else ''} changed."
                  if changed else "Nothing changed.", "success")
            return redirect(url_for(".plan", id=id, cycle=cycle.name), 303)
    return render_plan(choice, cycle, boards, form, saved, summary=summary), 400


def keeps_plan(boards: dashboard_data.PartnershipBoards) -> bool:
    """Stewards and the lead board's lead keep a plan; boards it is shared with read it."""
    return current_user.sees_all_boards or boards.keeps_plan(current_user.board_code)


def render_plan(choice: dashboard_data.CycleChoice, cycle: Cycle,
                boards: dashboard_data.PartnershipBoards, form: Form, saved: dict[str, Any],
                expired: bool = False, summary: list[tuple[str, str]] | None = None) -> str:
    """The plan page: suggestions, the form (with any errors) and the history."""
    boards_id = int((request.view_args or {}).get("id", 0))
    published = plans.is_published(cycle)
    results = (disclosure.for_viewer(chart_cache.results_for(db.session, cycle, boards.for_results),
                                     cycle, disclosure.Viewer.of(current_user), boards_id)
               if published else None)
    partnership = dashboard_data.find_partnership(results, boards_id) if results else None
    history = sorted(((entry.element_key, change) for entry in saved.values()
                      for change in entry.changes),
                     key=lambda pair: (pair[1].changed_at, pair[1].id), reverse=True)
    return render_template(
        "plans/plan.html", choice=choice, cycle=cycle, name=boards.name, form=form,
        titles=plans.element_titles(cycle), published=published, expired=expired,
        summary=summary or [], history=history, local_time=local_time,
        partnership=partnership, partnership_id=boards_id, editable=keeps_plan(boards),
        saved=saved, lead_board=boards.current,
        suggestions=plan_hints.suggestions(results, boards_id) if results else [],
    )
