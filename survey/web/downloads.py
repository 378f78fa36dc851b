"""Chart images and Excel workbooks, each confined like the page it belongs to.

Chart addresses, by scope (`<fmt>` is `png` or `svg`):

    /charts/<cycle>/state/<chart>.<fmt>               /charts/2026/state/board-heatmap.png
    /charts/<cycle>/boards/<code>/<chart>.<fmt>       /charts/2026/boards/15/radar.svg
    /charts/<cycle>/partnerships/<id>/<chart>.<fmt>   /charts/2026/partnerships/42/change.png

Chart slugs per scope are listed in survey.services.dashboard_data.SCOPE_CHARTS.

Row-level answers: /exports/<cycle>/responses.csv, streamed, for state staff and
administrators only. A board lead gets 404 for the charts and workbook of a cycle that
is not published yet (survey.disclosure, SPEC 4a rule 4).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask import Blueprint, abort, request, stream_with_context, url_for
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from survey import disclosure
from survey.db import db
from survey.models import Cycle, Role
from survey.services import audit, dashboard_data
from survey.web import chart_cache
from survey.web.access import require_board, staff_required
from survey.web.not_yet import not_published_yet

bp = Blueprint("downloads", __name__)

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMAGE_MIMETYPES = {"png": "image/png", "svg": "image/svg+xml"}
CHART_FILE = "<name>.<any(png, svg):fmt>"


def chart_links(
    cycle: str, scope: str, key: str, names: Iterable[str]
) -> dict[str, dict[str, str]]:
    """PNG and SVG addresses of a scope's charts, by chart slug."""
    endpoint = {"state": "downloads.state_chart", "boards": "downloads.board_chart",
                "partnerships": "downloads.partnership_chart"}[scope]
    scope_args = {"boards": {"code": key}, "partnerships": {"id": key}}.get(scope, {})
    return {
        name: {
            "name": name,
            **{fmt: url_for(endpoint, cycle=cycle, name=name, fmt=fmt, **scope_args,
                            **chart_cache.release_args())
               for fmt in IMAGE_MIMETYPES},
        }
        for name in names
    }


def cycle_or_404(name: str) -> Cycle:
    """The cycle of this name, or a 404 page."""
    cycle = dashboard_data.find_cycle(db.session, name)
    if cycle is None:
        abort(404)
    return cycle


def published_or_404(cycle: Cycle) -> None:
    """404 for a board lead while the cycle's results are not published (a page that
    says when they will be)."""
    if disclosure.withheld(cycle, disclosure.Viewer.of(current_user)):
        not_published_yet(cycle)


def board_or_404(code: str) -> None:
    """404 unless the user may see this board and it exists."""
    require_board(code)
    if dashboard_data.board_name(db.session, code) is None:
        abort(404)


def attachment(data: bytes, filename: str, mimetype: str) -> Response:
    """A download with a plain, quoted file name."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", filename)
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def audited(response: Response, target: str) -> Response:
    """Record an export download in the audit log (SPEC 14). The entry is written on a
    connection of its own, so the request's reading session (and a streamed download
    still reading from it) is left alone, and a GET changes nothing else."""
    assert db.engine is not None
    writer = db.engine.connect().execution_options(sqlite_begin="IMMEDIATE")
    with writer, writer.begin():
        audit.record(Session(bind=writer), "export.download", target)
    return response


def image(data: bytes | None, fmt: str) -> Response:
    """A chart image (404 for a chart the scope does not have), revalidated by ETag."""
    if data is None:
        abort(404)
    response = Response(data, mimetype=IMAGE_MIMETYPES[fmt])
    response.headers["Cache-Control"] = "private, no-cache"
    if fmt == "svg":  # matplotlib styles its SVG inline; the SVG runs nothing
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/exports/<cycle>.xlsx")
@staff_required(Role.ADMIN, Role.STATE)
def state_workbook(cycle: str) -> Response:
    """The state's Excel rollup of a cycle."""
    found = cycle_or_404(cycle)
    data = chart_cache.workbook(db.session, found)
    return audited(attachment(data, f"survey-{found.name}.xlsx", XLSX_MIMETYPE),
                   f"state workbook, cycle {found.name}")


@bp.get("/exports/<cycle>/<code>.xlsx")
@staff_required()
def board_workbook(cycle: str, code: str) -> Response:
    """One board's Excel rollup of a cycle."""
    board_or_404(code)
    found = cycle_or_404(cycle)
    published_or_404(found)
    data = chart_cache.workbook(db.session, found, code)
    return audited(attachment(data, f"survey-{found.name}-{code}.xlsx", XLSX_MIMETYPE),
                   f"board {code} workbook, cycle {found.name}")


@bp.get(f"/charts/<cycle>/state/{CHART_FILE}")
@staff_required(Role.ADMIN, Role.STATE)
def state_chart(cycle: str, name: str, fmt: str) -> Response:
    """A state chart as PNG or SVG."""
    found = cycle_or_404(cycle)
    return image(chart_cache.chart_image(db.session, found, "state", "", name, fmt), fmt)


@bp.get(f"/charts/<cycle>/boards/<code>/{CHART_FILE}")
@staff_required()
def board_chart(cycle: str, code: str, name: str, fmt: str) -> Response:
    """A board chart as PNG or SVG."""
    board_or_404(code)
    found = cycle_or_404(cycle)
    published_or_404(found)
    data = chart_cache.chart_image(db.session, found, "boards", code, name, fmt, results_board=code)
    return image(data, fmt)


@bp.get(f"/charts/<cycle>/partnerships/<int:id>/{CHART_FILE}")
@staff_required()
def partnership_chart(cycle: str, id: int, name: str, fmt: str) -> Response:
    """A partnership chart as PNG or SVG."""
    from survey.web.dashboards import visible_partnership

    found = cycle_or_404(cycle)
    published_or_404(found)
    boards = visible_partnership(found, id)
    viewer = disclosure.Viewer.of(current_user)
    code = boards.results_board(current_user.board_code)  # a sharing board: its own
    if not viewer.leads(code):  # moved in since: its own figures only
        results = disclosure.for_viewer(
            chart_cache.results_for(db.session, found, code), found, viewer, id)
        chart = (dashboard_data.build_chart(results, "partnerships", str(id), name)
                 if name in dashboard_data.chart_names("partnerships", results, str(id))
                 else None)
        return image(None if chart is None else chart.png() if fmt == "png" else chart.svg(),
                     fmt)
    data = chart_cache.chart_image(
        db.session, found, "partnerships", str(id), name, fmt, results_board=code
    )
    return image(data, fmt)


@bp.get("/exports/<cycle>/responses.csv")
@staff_required(Role.ADMIN, Role.STATE)
def responses_csv(cycle: str) -> Response:
    """The cycle's anonymised answers, every board, in the responses import format."""
    from survey.services.responses_export import csv_chunks

    found = cycle_or_404(cycle)
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", f"responses-{found.name}.csv")
    response = Response(stream_with_context(csv_chunks(db.session, found)),
                        mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    response.headers["Cache-Control"] = "private, no-store"
    return audited(response, f"responses CSV, cycle {found.name}")
