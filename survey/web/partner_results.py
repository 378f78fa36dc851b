"""Results back to partners (SPEC 11, 4a rule 5): after a cycle's results are published,
the partner's own link shows their partnership's published results and its action plan,
read-only, at /s/<token>/results.

Only figures of the cycle's release that the board's dashboard publishes are shown
(suppressed ones read "suppressed"), and of the partnership's only those where the
respondents other than this partner number enough (SPEC 4a rule 6); no comment, item
result or other partnership appears.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import get_locale
from flask_babel import gettext as _

from survey import disclosure, releases
from survey.db import db
from survey.outcome_measures import configured_measures
from survey.services import dashboard_data, plans
from survey.web import chart_cache
from survey.web.not_yet import not_published_yet
from survey.web.partner import load_survey, long_date

bp = Blueprint("partner_results", __name__, url_prefix="/s")


@bp.get("/<token>/results")
def results(token: str) -> str:
    """The partnership's published results of the link's cycle, and its plan."""
    survey = load_survey(token)
    cycle = survey.cycle
    if not plans.is_published(cycle):
        not_published_yet(cycle, _("Your partnership's results appear here once the cycle "
                                   "closes on %(date)s.", date=long_date(cycle.closes_on)))
    participation = survey.participation
    figures = disclosure.for_viewer(
        chart_cache.results_for(db.session, cycle, participation.board_code), cycle,
        disclosure.Viewer.steward())  # published: as every board's lead sees it
    # rule 6: the partner knows their own answers (as the release saw them)
    source = chart_cache.source(db.session, cycle)
    own = releases.own_scored_elements(source.release, survey.invitation.id) \
        if source.release else ()
    figures = disclosure.for_insider(figures, participation.partnership_id, own)
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
