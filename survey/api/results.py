"""The one place the API reads results from (SPEC 17 over SPEC 4b).

Today it asks the confidentiality gate for the cycle's published results as this viewer
may see them (survey.disclosure.for_viewer over the per-version results cache the pages
use, which is published_results without recomputing every call); when stored releases
land (the releases issue) this function reads the viewer's release instead, and nothing
else in the API changes.
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
