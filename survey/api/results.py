"""The one place the API reads results from (SPEC 17 over SPEC 4b).

It asks the confidentiality gate for the cycle's figures as this viewer may see them, over
the same source the pages use (survey.web.chart_cache.results_for): the cycle's current
stored release, or the one `?release=N` names; a cycle with no release has none to give a
board lead.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from reports.results import CycleResults
from survey.disclosure import ResultsWithheld, Viewer, for_viewer, withheld
from survey.models import Cycle


def results_for(session: Session, cycle: Cycle, viewer: Viewer) -> CycleResults:
    """The cycle's results for this viewer: a board lead's are their board's (and the
    state's); raises survey.disclosure.ResultsWithheld while a lead may see none."""
    from survey.services.plans import with_plans
    from survey.web.chart_cache import results_for as cached_results

    board = None if viewer.is_steward else viewer.board_code
    if withheld(cycle, viewer):
        raise ResultsWithheld(cycle.name)
    results = for_viewer(cached_results(session, cycle, board), cycle, viewer)
    return with_plans(results, session, cycle)
