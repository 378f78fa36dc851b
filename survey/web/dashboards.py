"""Staff dashboards: the state, one board, one partnership; each for a chosen cycle.

What each viewer sees is decided by survey.disclosure: board leads see only progress of
an unpublished cycle, and only a moved partnership's own figures for the cycles it
stood in another board; state staff and administrators see open cycles as provisional.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from reports.results import CycleResults, format_outcome
from survey import disclosure, releases
from survey.db import db
from survey.models import Cycle, Partnership, Role
from survey.outcome_measures import Measure, configured_measures
from survey.services import dashboard_data, focus, meaning_pages, plans
from survey.services import outcomes as outcome_service
from survey.services.dashboard_data import CycleChoice, PartnershipBoards
from survey.services.tabular import ImportProblem
from survey.web import chart_cache
from survey.web.access import require_board, staff_required
from survey.web.downloads import chart_links

bp = Blueprint("dashboards", __name__)


@dataclass(frozen=True)
class Pending:
    """For stewards: the current release and how many responses changed since."""

    number: int
    changed: int
    can_publish: bool


@bp.app_context_processor
def release_helpers() -> dict[str, Any]:
    """Templates' view of releases (SPEC 4b): links that keep ?release= or ?live=, the
    cycle's release numbers, and stewards' "not yet published" count."""
    return {"release_args": chart_cache.release_args, "release_pending": release_pending,
            "release_numbers": release_numbers}


def release_pending(cycle_name: str) -> Pending | None:
    """The current release and the responses changed since it; None for board leads."""
    if not chart_cache.steward_asking():
        return None
    cycle = dashboard_data.find_cycle(db.session, cycle_name)
    found = releases.pending_changes(db.session, cycle) if cycle is not None else None
    if found is None:
        return None
    row, changed = found
    return Pending(row.number, changed, current_user.role == Role.ADMIN)


def release_numbers(cycle_name: str) -> list[int]:
    """The numbers of a cycle's releases, oldest first."""
    cycle = dashboard_data.find_cycle(db.session, cycle_name)
    return [r.number for r in releases.all_releases(db.session, cycle)] if cycle else []


def selected_cycle() -> CycleChoice:
    """The cycle named in ?cycle= (404 when unknown), else the open or latest one; for a
    board lead the latest published one, with the open cycle's progress beside it."""
    choice = dashboard_data.choose_cycle(db.session, request.args.get("cycle", "").strip(),
                                         published_first=not current_user.sees_all_boards)
    if choice.unknown:
        abort(404)
    return choice


def viewer() -> disclosure.Viewer:
    """The signed-in staff user as survey.disclosure sees them."""
    return disclosure.Viewer.of(current_user)


def visible_partnership(cycle: Cycle, partnership_id: int) -> PartnershipBoards:
    """Where a partnership stood; 404 unless the user may see its board then or now."""
    boards = dashboard_data.partnership_boards(db.session, cycle, partnership_id)
    if boards is None or not any(current_user.can_see_board(code) for code in boards.every_board):
        abort(404)
    return boards


@bp.get("/state")
@staff_required(Role.ADMIN, Role.STATE)
def state() -> str:
    """Every board by element, the state radar, sectors, partner types and change."""
    choice = selected_cycle()
    page = links = None
    if choice.current is not None:
        page = dashboard_data.state_page(chart_cache.results_for(db.session, choice.current))
        links = chart_links(choice.current.name, "state", "", page.charts)
    state_plans = plans.state_plan_counts(db.session, choice.current) if choice.current else None
    return render_template("dashboards/state.html", choice=choice, page=page, links=links,
                           state_plans=state_plans)


@bp.get("/boards/<code>")
@staff_required()
def board(code: str) -> str:
    """One board against the state, its partnerships, partner types and industry gap."""
    require_board(code)
    name = dashboard_data.board_name(db.session, code)
    if name is None:
        abort(404)
    choice = selected_cycle()
    page = links = None
    if choice.current is not None:
        results = chart_cache.results_for(db.session, choice.current, code)
        if disclosure.withheld(choice.current, viewer()):
            return render_template(
                "dashboards/progress.html", choice=choice, code=code, name=name,
                rows=disclosure.progress(results, code), partnership=None,
                roster_url=f"{request.script_root}/admin/boards/{quote(code)}/roster",
                board_plans=plans.board_plans(db.session, choice.current, code))
        results = disclosure.for_viewer(results, choice.current, viewer())
        page = dashboard_data.board_page(results, code, name)
        links = chart_links(choice.current.name, "boards", code, page.charts)
    elsewhere = choice.open_elsewhere
    return render_template(
        "dashboards/board.html", choice=choice, page=page, links=links, code=code, name=name,
        open_progress=dashboard_data.cycle_progress(db.session, elsewhere, code)
        if elsewhere else None,
        roster_url=f"{request.script_root}/admin/boards/{quote(code)}/roster",
        board_plans=plans.board_plans(db.session, choice.current, code) if choice.current else None,
    )


@bp.get("/partnerships/<int:id>")
@staff_required()
def partnership(id: int) -> str:
    """One partnership against its board and the state: items, comments, change."""
    choice = selected_cycle()
    if choice.current is None:
        abort(404)
    boards = visible_partnership(choice.current, id)
    code = boards.results_board(current_user.board_code)
    results = chart_cache.results_for(db.session, choice.current, code)
    if disclosure.withheld(choice.current, viewer()):
        return render_template(
            "dashboards/progress.html", choice=choice, code=code, name=boards.name,
            rows=[r for r in disclosure.progress(results, code) if r.partnership_id == id],
            partnership=id,
            roster_url=f"{request.script_root}/admin/boards/{quote(boards.current)}/roster",
            beside=plans.plan_beside_change(db.session, results, choice.current, id,
                                            show_change=False))
    return render_partnership(choice, boards, results, id)


def render_partnership(choice: CycleChoice, boards: PartnershipBoards, results: CycleResults,
                       id: int, form: OutcomeFormState | None = None) -> str:
    """The partnership page over the viewer's results; `form`: the outcomes form as typed."""
    assert choice.current is not None
    results = disclosure.for_viewer(results, choice.current, viewer(), partnership_id=id)
    page = dashboard_data.partnership_page(results, id)
    if form is None and enters_outcomes(boards):
        saved = outcome_service.load_values(db.session, id, choice.current.id)
        form = OutcomeFormState(configured_measures(), {
            key: ("suppressed" if v.suppressed else "" if v.value is None else f"{v.value:g}",
                  v.source) for key, v in saved.items()}, [])
    return render_template(
        "dashboards/partnership.html", choice=choice, page=page, name=boards.name,
        links=chart_links(choice.current.name, "partnerships", str(id), page.charts),
        beside=plans.plan_beside_change(  # no change figures for a lead while a cycle is open
            db.session, results, choice.current, id,
            show_change=current_user.sees_all_boards or plans.is_published(choice.current)),
        outcomes=[o for o in results.outcomes if o.partnership_id == id], outcome_form=form,
    )


@bp.get("/state/instrument")
@staff_required(Role.ADMIN, Role.STATE)
def instrument() -> str:
    """The questionnaire itself (SPEC 15): each element's alpha, weak items flagged."""
    choice = selected_cycle()
    groups: list[meaning_pages.InstrumentGroup] = []
    results = None
    if choice.current is not None:
        results = disclosure.for_viewer(chart_cache.results_for(db.session, choice.current),
                                        choice.current, viewer())
        groups = meaning_pages.instrument_groups(results, focus.item_labels(results))
    return render_template("dashboards/instrument.html", choice=choice, results=results,
                           groups=groups, weakest=meaning_pages.weakest_items(groups),
                           thresholds=(meaning_pages.WEAK_ITEM_REST,
                                       meaning_pages.MANY_DONT_KNOW))


@dataclass(frozen=True)
class OutcomeFormState:
    """The outcomes form: the measures, what is typed (key -> (value, source)), problems."""

    measures: tuple[Measure, ...]
    typed: dict[str, tuple[str, str]]
    problems: list[str]


def enters_outcomes(boards: PartnershipBoards) -> bool:
    """Administrators and the lead board's lead enter outcomes on the web (SPEC 16); state
    staff import them; boards the partnership is shared with read them."""
    return current_user.is_admin or (current_user.role == Role.BOARD
                                     and boards.keeps_plan(current_user.board_code))


@bp.post("/partnerships/<int:id>/outcomes")
@staff_required()
def partnership_outcomes(id: int) -> Response | tuple[str, int]:
    """Save a partnership's outcome figures for the page's cycle (CSRF: app-wide)."""
    choice = selected_cycle()
    if choice.current is None:
        abort(404)
    boards = visible_partnership(choice.current, id)
    partnership = db.session.get(Partnership, id)
    if partnership is None or not enters_outcomes(boards):
        abort(404)
    measures = configured_measures()
    typed = {m.key: (request.form.get(f"value-{m.key}", ""),
                     request.form.get(f"source-{m.key}", "")) for m in measures}
    try:
        changed = outcome_service.save_outcomes(db.session, partnership, choice.current,
                                                measures, typed, current_user.email)
    except ImportProblem as exc:
        db.session.rollback()
        results = chart_cache.results_for(db.session, choice.current,
                                          boards.results_board(current_user.board_code))
        return render_partnership(choice, boards, results, id,
                                  OutcomeFormState(measures, typed, exc.problems)), 422
    db.session.commit()
    flash(f"Outcomes saved: {changed} changed." if changed else "Nothing changed.", "success")
    return redirect(url_for(".partnership", id=id, cycle=choice.current.name) + "#outcomes", 303)


bp.add_app_template_filter(format_outcome, "outcome")
