"""`survey init` and `survey serve`."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from survey.db import db
from survey.schema import load_default_boards, upgrade
from survey.services.sector_mapping import unmapped_sectors


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database and load Florida's 24 boards when there are none."""
    assert db.engine is not None
    upgrade(db.engine)
    with db.writing() as session:
        added = load_default_boards(session)
        unmapped = unmapped_sectors(session)
    from survey.releases import publish_missing

    with db.writing() as session:  # SPEC 4b.6: cycles published before releases existed
        published = publish_missing(session)
    url = db.engine.url.render_as_string(hide_password=True)
    click.echo(f"database ready: {url}")
    if added:
        click.echo(f"loaded {added} boards")
    for name in published:
        click.echo(f"cycle {name}: release 1 published from the data as it stands")
    if unmapped:  # free text from before the sector list (SPEC 16)
        click.echo(f"{len(unmapped)} sectors are not on the sector list; map them at "
                   f"/admin/sectors: " + "; ".join(repr(u.text) for u in unmapped))


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=None, type=click.IntRange(1, 64),
              help="Server processes  [default: the number of cores]")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64),
              help="Threads per process")
@with_appcontext
def serve_command(host: str, port: int, workers: int | None, threads: int) -> None:
    """Serve the app with gunicorn (several processes; waitress if gunicorn is missing)."""
    from survey.server import default_workers, serve

    # Errors (with their request id) go to stderr; request lines are not logged, so
    # partner tokens in URLs never reach a log.
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    workers = workers or default_workers()
    click.echo(f"serving on http://{host}:{port} with {workers} processes of {threads} "
               "threads (Ctrl+C to stop)")
    serve(app, host, port, workers, threads)
