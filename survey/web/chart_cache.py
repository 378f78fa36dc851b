"""In-process caches of cycle results, rendered charts and workbooks.

What a request is shown comes from `source(session, cycle)` (SPEC 4b): a published
cycle's current release, or release N (`?release=N`), for everyone; the live figures
only for stewards, of an unpublished cycle or when they ask (`?live=1`), marked
provisional. A release never changes, so its entries are keyed by its id; live entries
carry `results_version(session, cycle)`, read from the database in one small query,
which changes in the same transaction as any change to the figures: a new answer makes
the next request rebuild, in every server process, and stale entries simply age out of
the bounded LRU (cachetools). One cache per application and process (kept in
`app.extensions`), shared by the threads of that process.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

import cachetools
from flask import abort, current_app, has_request_context, request
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reports.results import CycleResults
from survey import releases, scoring
from survey.db import db
from survey.models import BoardTarget, Cycle, OutcomeValue, Role
from survey.models import Release as ReleaseRow
from survey.services import dashboard_data

T = TypeVar("T")
RESULTS_SLOTS = 32
RENDER_SLOTS = 512
_MISSING = object()


class LRUCache:
    """A thread-safe cachetools LRU with a size bound; values are built outside the lock."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: cachetools.LRUCache[Hashable, Any] = cachetools.LRUCache(maxsize)
        self._lock = threading.Lock()

    def get_or_build(self, key: Hashable, build: Callable[[], T]) -> T:
        """The cached value for `key`, built (outside the lock) and stored when missing."""
        with self._lock:
            found = self._data.get(key, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[no-any-return]
        value = build()
        with self._lock:
            self._data[key] = value
        return value

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


class ChartCache:
    """Cycle results and rendered bytes, keyed by cycle, scope, name, format and version."""

    def __init__(self) -> None:
        self.results = LRUCache(RESULTS_SLOTS)
        self.renders = LRUCache(RENDER_SLOTS)


def _cache() -> ChartCache:
    return current_app.extensions.setdefault("survey_chart_cache", ChartCache())


@dataclass(frozen=True)
class Source:
    """Where a request's figures of one cycle come from: a release, or the live answers."""

    release: ReleaseRow | None
    version: str  # live figures: the results version; a release: its outcomes' state

    @property
    def key(self) -> tuple[str, Any]:
        if self.release is not None:
            return ("release", self.release.id, self.version)
        return ("live", self.version)


def steward_asking() -> bool:
    """Whether the request is a signed-in state staff member's or administrator's."""
    return bool(has_request_context() and getattr(current_user, "is_authenticated", False)
                and str(getattr(current_user, "role", "")) in (Role.ADMIN, Role.STATE))


def source(session: Session, cycle: Cycle) -> Source:
    """The request's source of the cycle's figures (see the module docstring); 404 for a
    release number the cycle does not have. Once per request and cycle."""
    # kept with the request (not in g: an app context can outlive one request)
    chosen: dict[int, Source] = (request.environ.setdefault("survey.sources", {})
                                 if has_request_context() else {})
    if cycle.id in chosen:
        return chosen[cycle.id]
    args = request.args if has_request_context() else {}
    number = args.get("release", "").strip()
    if number:
        if not number.isdigit() or len(number) > 9:
            abort(404)
        row = releases.current(session, cycle, int(number))
        if row is None:
            abort(404)
    elif args.get("live") == "1" and steward_asking():
        row = None
    else:
        row = releases.current(session, cycle)
        if row is None and cycle.published_at is not None:  # published before releases
            with db.writing() as writer:
                row = releases.ensure(writer, writer.get(Cycle, cycle.id) or cycle)
    version = outcomes_version(session) if row else scoring.results_version(session, cycle)
    found = Source(row, version)
    chosen[cycle.id] = found
    return found


def outcomes_version(session: Session) -> str:
    """A release's figures never change, but the outcomes shown beside them do (SPEC 16:
    figures about partnerships, entered after results publish): one small query."""
    count, latest = session.execute(
        select(func.count(OutcomeValue.id), func.max(OutcomeValue.updated_at))).one()
    targets, newest = session.execute(
        select(func.count(BoardTarget.id), func.max(BoardTarget.id))).one()
    return f"{count}:{latest}:{targets}:{newest}"


def release_args() -> dict[str, str]:
    """The request's ?release= or ?live= choice, to carry into links of the same page."""
    if not has_request_context():
        return {}
    number = request.args.get("release", "").strip()
    if number:
        return {"release": number}
    return {"live": "1"} if request.args.get("live") == "1" and steward_asking() else {}


def results_for(session: Session, cycle: Cycle, board_code: str | None = None) -> CycleResults:
    """The cycle's results (the whole state, or limited to one board) from the request's
    source, cached per release or live version."""
    return _results(session, cycle, board_code, source(session, cycle))


def _results(session: Session, cycle: Cycle, board_code: str | None,
             found: Source) -> CycleResults:
    def build() -> CycleResults:
        if found.release is not None:
            return releases.release_results(found.release, board_code, session)
        live = scoring.cycle_results(session, cycle, board_code)
        return dataclasses.replace(live, provisional=True)  # stewards' live view

    return _cache().results.get_or_build((cycle.id, board_code, found.key), build)


def chart_image(
    session: Session, cycle: Cycle, scope: str, key: str, name: str, fmt: str,
    results_board: str | None = None,
) -> bytes | None:
    """A chart of a scope as PNG or SVG bytes, cached per version; None if it has no such chart.

    `results_board` limits the results the chart is drawn from to one board (board and
    partnership charts); `key` is the board code or partnership id the chart is about.
    """
    found = source(session, cycle)
    results = _results(session, cycle, results_board, found)
    if name not in dashboard_data.chart_names(scope, results, key):
        return None

    def render() -> bytes:
        chart = dashboard_data.build_chart(results, scope, key, name)
        return chart.png() if fmt == "png" else chart.svg()

    return _cache().renders.get_or_build((cycle.id, scope, key, name, fmt, found.key), render)


def workbook(session: Session, cycle: Cycle, board_code: str | None = None) -> bytes:
    """The Excel rollup of the state or one board, cached per version."""
    from reports.workbook import build_workbook

    found = source(session, cycle)
    scope = ("boards", board_code) if board_code else ("state", "")
    from survey.services.plans import plans_version, with_plans

    return _cache().renders.get_or_build(
        (cycle.id, *scope, "workbook", "xlsx", found.key, plans_version(session, cycle)),
        lambda: build_workbook(with_plans(_results(session, cycle, board_code, found),
                                          session, cycle)),
    )
