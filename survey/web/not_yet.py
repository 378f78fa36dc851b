"""The page for results that exist but are not published yet: it says when they will be,
instead of "Page not found" (a dead end for a board lead or a partner)."""

from __future__ import annotations

from typing import NoReturn

from flask import abort, make_response, render_template
from flask_babel import gettext as _

from survey.models import Cycle


def not_published_yet(cycle: Cycle, message: str | None = None) -> NoReturn:
    """Stop with a 404 page (the status stays what it was) that says when the cycle's
    results appear; `message` replaces the staff wording (a partner's, translated)."""
    text = message or (
        f"Cycle {cycle.name} is still open, so its results are not published yet. They "
        f"appear here when the cycle closes on {cycle.closes_on.isoformat()}; until then its "
        f"board pages show response progress.")
    body = render_template("not_yet.html", title=_("Not available yet"), message=text)
    abort(make_response(body, 404))
