"""Results back to partners (SPEC 11, 4a rule 5): after a cycle's results are published,
the partner's own link shows their partnership's published results and its action plan,
read-only, at /s/<token>/results.

Only figures the board's dashboard publishes are shown (suppressed ones read
"suppressed"); no comment, item result or other partnership appears.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import get_locale
from flask_babel import gettext as _

from survey import abort_with, disclosure
from survey.db import db
from survey.outcome_measures import configured_measures
from survey.services import dashboard_data, plans
from survey.web import chart_cache
from survey.web.partner import load_survey, long_date

bp = Blueprint("partner_results", __name__, url_prefix="/s")


@bp.get("/<token>/results")
def results(token: str) -> str:
    """The partnership's published results of the link's cycle, and its plan."""
    survey = load_survey(token)
    cycle = survey.cycle
    if not plans.is_published(cycle):
        abort_with(404, _("Your partnership's results appear here once the cycle closes on "
                          "%(date)s.", date=long_date(cycle.closes_on)))
    participation = survey.participation
    figures = disclosure.for_viewer(
        chart_cache.results_for(db.session, cycle, participation.board_code), cycle,
        disclosure.Viewer.steward())  # published: as every board's lead sees it
    partnership = dashboard_data.find_partnership(figures, participation.partnership_id)
    page = dashboard_data.partnership_page(figures, participation.partnership_id)
    return render_template(
        "partner/results.html", survey=survey, results=figures, partnership=partnership,
        page=page, long_date=long_date,
        plan=plans.partnership_plan(db.session, cycle, participation.partnership_id),
        outcomes=[o for o in figures.outcomes if o.partnership_id == participation.partnership_id],
        outcome_labels={m.key: m.label_in(str(get_locale() or "en")[:2])
                        for m in configured_measures()},  # SPEC 16: in the partner's language
    )
