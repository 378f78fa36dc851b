"""/api/v1/: the read-only JSON API (SPEC 17). Thin views: authenticate the bearer
token (counted, rate-limited and audited in one short write transaction), read the
viewer's results through survey.api.results, shape them with survey.api.figures.

A board lead's token sees exactly what the lead sees: their board's figures and the
state's; any other board or partnership is a 404, as on the pages.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any

from flask import Blueprint, Flask, current_app, g, jsonify, request, url_for
from sqlalchemy import select
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.wrappers import Response

from reports.results import CycleResults
from survey.api import figures, tokens
from survey.api.results import results_for
from survey.db import db
from survey.disclosure import ResultsWithheld, Viewer, is_published
from survey.models import Cycle

log = logging.getLogger(__name__)
bp = Blueprint("api", __name__, url_prefix="/api/v1")
DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 500


class ApiError(HTTPException):
    """An API error answered as JSON: {"error": message}."""

    def __init__(self, code: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.extra_headers = headers or {}


def error_response(code: int, message: str, headers: dict[str, str] | None = None) -> Response:
    response = jsonify(error=message)
    response.status_code = code
    response.headers.update(headers or {})
    response.headers["Cache-Control"] = "no-store"
    return response


def init_api(app: Flask) -> None:
    """Answer every /api/ address in JSON, unknown ones and wrong methods included."""

    @app.before_request
    def _api_routing_errors() -> Response | None:
        failure = request.routing_exception
        if failure is not None and request.path.startswith("/api/"):
            code = getattr(failure, "code", 404) or 404
            if code == 308:  # a redirect (e.g. a trailing slash): keep Werkzeug's
                return None
            message = "No such address in the API." if code == 404 else "Not allowed."
            return error_response(code, message)
        return None


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    if isinstance(exc, ApiError):
        return error_response(exc.code or 400, exc.description or "", exc.extra_headers)
    messages = {404: "Not found, or not yours to see."}
    return error_response(exc.code or 500, messages.get(exc.code or 0, exc.description or ""))


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    log.exception("API error, request id %s", g.get("request_id", "-"))
    db.session.rollback()
    return error_response(500, "The error was logged. Please try again later.")


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def authenticated(view: Callable[..., Any]) -> Callable[..., Any]:
    """Let a call through only with a live token, within its rate limit."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        target = request.full_path.rstrip("?")
        limit = int(current_app.config.get("API_RATE_LIMIT") or tokens.DEFAULT_RATE_LIMIT)
        try:
            with db.writing() as session:
                admitted = tokens.admit(session, bearer_token(), target, limit)
                viewer = None
                if admitted is not None:
                    user = admitted.user
                    viewer = Viewer(str(user.role), user.board.code if user.board else None)
        except tokens.RateLimited as exc:
            raise ApiError(429, str(exc), {"Retry-After": str(exc.retry_after)}) from None
        if viewer is None:
            raise ApiError(401, "Send a live API token: Authorization: Bearer TOKEN.",
                           {"WWW-Authenticate": 'Bearer realm="api"'})
        g.api_viewer = viewer
        return view(*args, **kwargs)

    return wrapped


def viewer() -> Viewer:
    return g.api_viewer


def answer(body: Any) -> Response:
    """JSON with an ETag from a hash of exactly these figures (If-None-Match: 304)."""
    data = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    response = Response(data, mimetype="application/json")
    # The release's figures hash, then a hash of this answer (its scope, page and plans).
    release = g.get("api_release_hash", "") or "live"
    digest = hashlib.sha256(data.encode("utf-8")).hexdigest()[:16]
    response.set_etag(f"{release[:16]}-{digest}")
    response.headers["Cache-Control"] = "private, no-cache"
    return response.make_conditional(request)


def page_args() -> tuple[int, int]:
    """?page= (from 1) and ?per_page= (1 to 500), or a 400 saying what is wrong."""
    try:
        page = int(request.args.get("page", "1"))
        per_page = int(request.args.get("per_page", str(DEFAULT_PER_PAGE)))
    except ValueError:
        raise ApiError(400, "page and per_page are whole numbers.") from None
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE or page > 10**6:
        raise ApiError(400, f"page starts at 1; per_page is 1 to {MAX_PER_PAGE}.")
    return page, per_page


def paged(rows: Sequence[Any], endpoint: str, **values: Any) -> dict[str, Any]:
    """One page of a list, with the total and the next page's address."""
    page, per_page = page_args()
    start = (page - 1) * per_page
    more = start + per_page < len(rows)
    extra = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}
    following = (url_for(endpoint, **values, **extra, page=page + 1, per_page=per_page)
                 if more else None)
    return {"items": list(rows[start:start + per_page]), "page": page, "per_page": per_page,
            "total": len(rows), "next": following}


def cycle_or_404(name: str) -> Cycle:
    cycle = db.session.execute(select(Cycle).where(Cycle.name == name)).scalar_one_or_none()
    if cycle is None or (not viewer().is_steward and not is_published(cycle)):
        raise NotFound()
    return cycle


def cycle_results(name: str) -> tuple[Cycle, CycleResults]:
    cycle = cycle_or_404(name)
    try:
        results = results_for(db.session, cycle, viewer())
    except ResultsWithheld:
        raise NotFound() from None
    g.api_release_hash = results.release.figures_hash if results.release else ""
    return cycle, results


def releases(cycle: Cycle) -> list[dict[str, Any]]:
    """The cycle's stored releases (SPEC 4b.4), oldest first: number, time, note and the
    hash of their figures."""
    from survey import releases as store

    return [{"number": row.number, "published_at": figures._date(store.stamp(row).published_at),
             "note": row.note, "figures_hash": row.figures_hash}
            for row in store.all_releases(db.session, cycle)]


def cycle_summary(cycle: Cycle) -> dict[str, Any]:
    return {"name": cycle.name, "status": cycle.status,
            "opens_on": cycle.opens_on.isoformat(), "closes_on": cycle.closes_on.isoformat(),
            "provisional": not is_published(cycle), "content_hash": cycle.content_hash,
            "releases": releases(cycle)}


def board_of(results: CycleResults, code: str) -> Any:
    found = next((b for b in results.boards if b.key == code), None)
    if found is None or not viewer().leads(code):
        raise NotFound()
    return found


def partnership_of(results: CycleResults, partnership_id: str) -> Any:
    if not partnership_id.isdigit() or len(partnership_id) > 18:
        raise NotFound()
    found = next((p for p in results.partnerships
                  if p.partnership_id == int(partnership_id)), None)
    if found is None or not viewer().leads(found.board_code):
        raise NotFound()
    return found


# --- the API ---------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document of this API (no token needed)."""
    from survey.api.openapi import document

    return answer(document())


@bp.get("/cycles")
@authenticated
def cycles() -> Response:
    """The cycles this token may read, newest first, with their releases."""
    rows = db.session.execute(select(Cycle).order_by(Cycle.opens_on.desc(), Cycle.id.desc()))
    visible = [cycle_summary(c) for c in rows.scalars()
               if viewer().is_steward or is_published(c)]
    return answer(paged(visible, "api.cycles"))


@bp.get("/cycles/<cycle>")
@authenticated
def cycle(cycle: str) -> Response:
    """One cycle: its releases, elements, items and scale."""
    found, results = cycle_results(cycle)
    return answer({**cycle_summary(found), **figures.cycle_detail(results)})


@bp.get("/cycles/<cycle>/state")
@authenticated
def state(cycle: str) -> Response:
    """The state's element scores, overall and stage."""
    _, results = cycle_results(cycle)
    return answer(figures.scope(results, results.state))


@bp.get("/cycles/<cycle>/boards")
@authenticated
def boards(cycle: str) -> Response:
    """The boards this token may read, with their scores."""
    _, results = cycle_results(cycle)
    rows = [figures.scope(results, b) for b in sorted(results.boards, key=lambda b: b.key)
            if viewer().leads(b.key)]
    return answer(paged(rows, "api.boards", cycle=cycle))


@bp.get("/cycles/<cycle>/boards/<code>")
@authenticated
def board(cycle: str, code: str) -> Response:
    """One board's scores."""
    _, results = cycle_results(cycle)
    return answer(figures.scope(results, board_of(results, code)))


@bp.get("/cycles/<cycle>/partnerships")
@authenticated
def partnerships(cycle: str) -> Response:
    """Partnerships with their scores, stage and change (?board=CODE for one board)."""
    _, results = cycle_results(cycle)
    wanted = request.args.get("board")
    changes = _changes(results)
    rows = [{**figures.scope(results, p), "change": changes.get(p.partnership_id or 0, [])}
            for p in sorted(results.partnerships, key=lambda p: (p.board_code, p.label))
            if viewer().leads(p.board_code) and (wanted is None or p.board_code == wanted)]
    return answer(paged(rows, "api.partnerships", cycle=cycle))


def _changes(results: CycleResults) -> dict[int, list[dict[str, Any]]]:
    by_partnership: dict[int, list[dict[str, Any]]] = {}
    for change in results.changes:
        by_partnership.setdefault(change.partnership_id, []).append(figures.change(change))
    return by_partnership


@bp.get("/cycles/<cycle>/partnerships/<partnership_id>")
@authenticated
def partnership(cycle: str, partnership_id: str) -> Response:
    """One partnership's scores, stage and change."""
    _, results = cycle_results(cycle)
    found = partnership_of(results, partnership_id)
    return answer({**figures.scope(results, found),
                   "change": _changes(results).get(found.partnership_id or 0, [])})


@bp.get("/cycles/<cycle>/partnerships/<partnership_id>/items")
@authenticated
def items(cycle: str, partnership_id: str) -> Response:
    """One partnership's item results (means, level counts, don't know, not applicable)."""
    _, results = cycle_results(cycle)
    found = partnership_of(results, partnership_id)
    return answer(paged(figures.items(results, found.partnership_id or 0), "api.items",
                        cycle=cycle, partnership_id=partnership_id))


@bp.get("/cycles/<cycle>/partnerships/<partnership_id>/plan")
@authenticated
def plan(cycle: str, partnership_id: str) -> Response:
    """One partnership's action plan for the cycle."""
    _, results = cycle_results(cycle)
    found = partnership_of(results, partnership_id)
    rows = [figures.plan(p) for p in results.plans if p.partnership_id == found.partnership_id]
    return answer({"items": rows})


@bp.get("/cycles/<cycle>/benchmarks")
@authenticated
def benchmarks(cycle: str) -> Response:
    """Quartiles of partnership scores statewide and per sector, per element and overall
    (?scope=State or a sector name for one scope)."""
    _, results = cycle_results(cycle)
    wanted = request.args.get("scope")
    rows = [figures.benchmark(b) for b in results.benchmarks
            if wanted is None or b.scope == wanted]
    return answer(paged(rows, "api.benchmarks", cycle=cycle))


@bp.get("/cycles/<cycle>/partnerships/<partnership_id>/outcomes")
@authenticated
def outcomes(cycle: str, partnership_id: str) -> Response:
    """One partnership's outcome figures, with the last earlier value and the change."""
    _, results = cycle_results(cycle)
    found = partnership_of(results, partnership_id)
    rows = [figures.outcome(o) for o in results.outcomes
            if o.partnership_id == found.partnership_id]
    return answer({"items": rows})
