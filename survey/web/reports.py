"""The maturity report as PDF (SPEC 12): /reports/<cycle>.pdf for state staff and
administrators, /reports/<cycle>/<code>.pdf for them and that board's lead (other leads
404; a lead gets a cycle's report only once its results are published, SPEC 4a rule 4).

Reports take seconds to lay out, so each is kept in a small per-process cache keyed by
the release shown (survey.web.chart_cache.source: `?release=N`, stewards' `?live=1`)
and its plans' fingerprint.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app
from flask_login import current_user
from werkzeug.wrappers import Response

from survey import disclosure
from survey.db import db
from survey.models import Cycle, Role
from survey.services import plans
from survey.web import chart_cache
from survey.web.access import staff_required
from survey.web.downloads import attachment, audited, board_or_404, cycle_or_404
from survey.web.not_yet import not_published_yet

bp = Blueprint("reports", __name__)
PDF_MIMETYPE = "application/pdf"
REPORT_SLOTS = 16


def _cache() -> chart_cache.LRUCache:
    return current_app.extensions.setdefault("survey_report_cache",
                                             chart_cache.LRUCache(REPORT_SLOTS))


def report_pdf(cycle: Cycle, board_code: str | None) -> bytes:
    """The report of the state or one board, built once per results and plans version."""
    from reports.report_pdf import build_report

    session = db.session
    key = (cycle.id, board_code, chart_cache.source(session, cycle).key,
           plans.plans_version(session, cycle))

    def build() -> bytes:
        results = chart_cache.results_for(session, cycle, board_code)
        # Stewards' view: a lead reaches here only for a published cycle, where it is theirs.
        safe = disclosure.for_viewer(results, cycle, disclosure.Viewer.steward())
        return build_report(plans.with_plans(safe, session, cycle))

    return _cache().get_or_build(key, build)


@bp.get("/reports/<cycle>.pdf")
@staff_required(Role.ADMIN, Role.STATE)
def state_report(cycle: str) -> Response:
    """The state's maturity report: a page per board (provisional while the cycle is open)."""
    found = cycle_or_404(cycle)
    return audited(attachment(report_pdf(found, None), f"maturity-report-{found.name}.pdf",
                              PDF_MIMETYPE), f"state report PDF, cycle {found.name}")


@bp.get("/reports/<cycle>/<code>.pdf")
@staff_required()
def board_report(cycle: str, code: str) -> Response:
    """One board's maturity report: the board against the state, each partnership."""
    board_or_404(code)
    found = cycle_or_404(cycle)
    if disclosure.withheld(found, disclosure.Viewer.of(current_user)):
        not_published_yet(found)
    results = chart_cache.results_for(db.session, found, code)
    if not any(p.in_board(code) for p in results.partnerships):
        abort(404)
    return audited(attachment(report_pdf(found, code), f"maturity-report-{found.name}-{code}.pdf",
                              PDF_MIMETYPE), f"board {code} report PDF, cycle {found.name}")
