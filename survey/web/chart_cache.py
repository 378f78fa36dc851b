"""In-process caches of cycle results, rendered charts and workbooks.

Every key carries `results_version(session, cycle)`, read from the database in one small
query, which changes in the same transaction as any change to the figures: a new
answer makes the next request rebuild, in every server process, and stale entries
simply age out of the bounded LRU (cachetools). One cache per application and process
(kept in `app.extensions`), shared by the threads of that process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import cachetools
from flask import current_app
from sqlalchemy.orm import Session

from reports.results import CycleResults
from survey import scoring
from survey.models import Cycle
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


def results_for(session: Session, cycle: Cycle, board_code: str | None = None) -> CycleResults:
    """The cycle's results (the whole state, or limited to one board), cached per version."""
    return _results(session, cycle, board_code, scoring.results_version(session, cycle))


def _results(session: Session, cycle: Cycle, board_code: str | None, version: str) -> CycleResults:
    return _cache().results.get_or_build(
        (cycle.id, board_code, version),
        lambda: scoring.cycle_results(session, cycle, board_code),
    )


def chart_image(
    session: Session, cycle: Cycle, scope: str, key: str, name: str, fmt: str,
    results_board: str | None = None,
) -> bytes | None:
    """A chart of a scope as PNG or SVG bytes, cached per version; None if it has no such chart.

    `results_board` limits the results the chart is drawn from to one board (board and
    partnership charts); `key` is the board code or partnership id the chart is about.
    """
    version = scoring.results_version(session, cycle)
    results = _results(session, cycle, results_board, version)
    if name not in dashboard_data.chart_names(scope, results, key):
        return None

    def render() -> bytes:
        chart = dashboard_data.build_chart(results, scope, key, name)
        return chart.png() if fmt == "png" else chart.svg()

    return _cache().renders.get_or_build((cycle.id, scope, key, name, fmt, version), render)


def workbook(session: Session, cycle: Cycle, board_code: str | None = None) -> bytes:
    """The Excel rollup of the state or one board, cached per version."""
    from reports.workbook import build_workbook

    version = scoring.results_version(session, cycle)
    scope = ("boards", board_code) if board_code else ("state", "")
    from survey.services.plans import plans_version, with_plans

    return _cache().renders.get_or_build(
        (cycle.id, *scope, "workbook", "xlsx", version, plans_version(session, cycle)),
        lambda: build_workbook(with_plans(_results(session, cycle, board_code, version),
                                          session, cycle)),
    )
