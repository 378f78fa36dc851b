"""`survey export FILE.xlsx|FILE.csv --cycle C [--board CODE]`, `survey charts DIR --cycle C`.

All read only, and act as state staff: figures pass through survey.disclosure (an open
cycle's results are marked provisional); FILE.csv is the state's row-level answers.
Bad input exits 1 with a one-line reason and writes nothing; files are written to a
temporary name in the same folder and moved into place, so a crash never leaves half a
file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO, TypeVar

import click
from flask.cli import with_appcontext

from reports.results import CycleResults
from survey.db import db
from survey.disclosure import published_results
from survey.models import Cycle
from survey.scoring import UnknownBoardError, cycle_by_name

CYCLE_OPTION = click.option("--cycle", "cycle_name", required=True, metavar="C",
                            help="Cycle name, e.g. 2026.")
T = TypeVar("T")
BOARD_OPTION = click.option("--board", "board_code", metavar="CODE",
                            help="Limit to one board (as it stood in the cycle).")
RELEASE_OPTION = click.option("--release", "release", type=click.IntRange(1), metavar="N",
                              help="Release N of the cycle  [default: the current one].")
LIVE_OPTION = click.option("--live", is_flag=True,
                           help="The live figures (provisional) instead of the release.")


def load_cycle(cycle_name: str) -> Cycle:
    """The cycle of this name, or a one-line ClickException."""
    cycle = cycle_by_name(db.session, cycle_name)
    if cycle is None:
        raise click.ClickException(f"unknown cycle: {cycle_name}")
    return cycle


def load_results(cycle_name: str, board_code: str | None, release: int | None = None,
                 live: bool = False) -> CycleResults:
    """A cycle's results as state staff see them (its current release, release N, or the
    live figures), or a one-line ClickException for an unknown cycle, board or release."""
    cycle = load_cycle(cycle_name)
    if release is not None and live:
        raise click.ClickException("--release and --live exclude each other")
    try:
        results = published_results(db.session, cycle, board_code, release=release, live=live)
    except UnknownBoardError as exc:
        raise click.ClickException(f"unknown board: {board_code}") from exc
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()  # a release 1 made just now for a cycle published without one
    return results


def write_atomically(path: Path, data: bytes) -> None:
    """Write bytes to a temporary file beside `path`, then move it into place."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text_atomically(path: Path, write: Callable[[TextIO], T]) -> T:
    """Stream text into a temporary file beside `path`, then move it into place."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as f:
            result = write(f)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return result


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _scope(results: CycleResults) -> str:
    where = f"board {results.board_code}" if results.board_code else "the state"
    which = (f"release {results.release.number} ({results.release.line})"
             if results.release else "live figures (provisional)")
    return f"cycle {results.cycle}, {where}, {which}"


@click.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@CYCLE_OPTION
@BOARD_OPTION
@RELEASE_OPTION
@LIVE_OPTION
@with_appcontext
def export_command(file: Path, cycle_name: str, board_code: str | None,
                   release: int | None, live: bool) -> None:
    """Write the Excel rollup of a cycle (optionally one board) to FILE.xlsx, or the
    state's anonymised answers (responses import format) to FILE.csv."""
    suffix = file.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise click.ClickException(f"{file} does not end in .xlsx or .csv")
    if not file.parent.is_dir():
        raise click.ClickException(f"folder does not exist: {file.parent}")
    if suffix == ".csv":
        if board_code is not None:
            raise click.ClickException("the answers CSV covers the state: drop --board")
        if release is not None:
            raise click.ClickException("the answers CSV holds the live answers: drop --release")
        cycle = load_cycle(cycle_name)
        from survey.services.responses_export import write_csv

        rows = write_text_atomically(file, lambda f: write_csv(db.session, cycle, f))
        click.echo(f"wrote {file}: cycle {cycle.name}, the state, {_count(rows, 'answer')}")
        return
    results = load_results(cycle_name, board_code, release, live)
    from reports.workbook import build_workbook
    from survey.services.plans import with_plans

    cycle = cycle_by_name(db.session, cycle_name)
    assert cycle is not None  # load_results checked it
    write_atomically(file, build_workbook(with_plans(results, db.session, cycle)))
    responded = sum(p.responded for p in results.partnerships)
    click.echo(f"wrote {file}: {_scope(results)}, {_count(len(results.boards), 'board')}, "
               f"{_count(len(results.partnerships), 'partnership')}, "
               f"{_count(responded, 'response')}")


@click.command("charts")
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@CYCLE_OPTION
@BOARD_OPTION
@RELEASE_OPTION
@LIVE_OPTION
@with_appcontext
def charts_command(directory: Path, cycle_name: str, board_code: str | None,
                   release: int | None, live: bool) -> None:
    """Write every chart of a cycle (optionally one board) as DIR/<name>.png and .svg,
    with DIR/charts.md listing each chart's title, description and data."""
    if directory.exists() and not directory.is_dir():
        raise click.ClickException(f"not a folder: {directory}")
    results = load_results(cycle_name, board_code, release, live)
    from reports.charts import all_charts, markdown_index

    # Render everything first: a failing chart leaves no partial set behind.
    charts = all_charts(results)
    rendered = [(Path(chart.name).name, chart.png(), chart.svg()) for chart in charts]
    index = markdown_index(charts, f"Charts: {_scope(results)}").encode("utf-8")
    directory.mkdir(parents=True, exist_ok=True)
    for name, png, svg in rendered:
        write_atomically(directory / f"{name}.png", png)
        write_atomically(directory / f"{name}.svg", svg)
    write_atomically(directory / "charts.md", index)
    click.echo(f"wrote {_count(len(rendered), 'chart')} ({2 * len(rendered)} files) and "
               f"charts.md (titles, descriptions, data) to {directory}: {_scope(results)}")


@click.command("report")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@CYCLE_OPTION
@BOARD_OPTION
@RELEASE_OPTION
@LIVE_OPTION
@with_appcontext
def report_command(file: Path, cycle_name: str, board_code: str | None,
                   release: int | None, live: bool) -> None:
    """Write the maturity report (SPEC 12) of a cycle, the state's or one board's, as PDF.

    An open cycle's report is marked provisional on every page.
    """
    if file.suffix.lower() != ".pdf":
        raise click.ClickException(f"{file} does not end in .pdf")
    if not file.parent.is_dir():
        raise click.ClickException(f"folder does not exist: {file.parent}")
    results = load_results(cycle_name, board_code, release, live)
    if board_code and not any(p.in_board(board_code) for p in results.partnerships):
        raise click.ClickException(f"board {board_code} has no partnerships in cycle "
                                   f"{cycle_name}")
    from reports.report_pdf import build_report
    from survey.services.plans import with_plans

    cycle = cycle_by_name(db.session, cycle_name)
    assert cycle is not None  # load_results checked it
    write_atomically(file, build_report(with_plans(results, db.session, cycle)))
    note = " (provisional: the cycle is open)" if results.cycle_status == "open" else ""
    click.echo(f"wrote {file}: maturity report, {_scope(results)}{note}")


COMMANDS = [export_command, charts_command, report_command]
