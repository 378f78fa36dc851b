"""`survey backup FILE`, `survey restore FILE` and `survey audit [--since DATE]`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext

from survey.cli.data import fail
from survey.db import db
from survey.models import AuditEvent
from survey.services import audit
from survey.services.backup import BackupError, restore_backup, write_backup

DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(file: Path) -> None:
    """Write every table to FILE (a zip archive), read in one consistent transaction."""
    assert db.engine is not None
    try:
        summary = write_backup(db.engine, file)
    except BackupError as exc:
        fail(str(exc))
    except OSError as exc:  # a full disk, a folder not writable: no partial archive is left
        fail(f"{file} was not written: {exc.strerror or exc}; no archive was left")
    with db.writing() as session:
        audit.record(session, "backup.create", file.name, rows=summary.rows,
                     schema_revision=summary.schema_revision)
    click.echo(f"wrote {file}: {len(summary.tables)} tables, {summary.rows} rows, "
               f"schema revision {summary.schema_revision}")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(file: Path) -> None:
    """Load a backup into an empty database; checked by counts and content hashes."""
    assert db.engine is not None
    try:
        summary = restore_backup(db.engine, file, actor=audit.cli_actor())
    except BackupError as exc:
        fail(str(exc))
    url = db.engine.url.render_as_string(hide_password=True)
    click.echo(f"restored {file} into {url}: {len(summary.tables)} tables, {summary.rows} rows, "
               f"counts and content hashes checked (written {summary.created_at})")


@click.command("audit")
@click.option("--since", type=DATE, metavar="YYYY-MM-DD",
              help="Only events from this day on (in SURVEY_TIMEZONE).")
@click.option("--action", metavar="ACTION", help="Only this action, e.g. cycle.close.")
@with_appcontext
def audit_command(since: dt.datetime | None, action: str | None) -> None:
    """Print the audit log, oldest first: time, actor, action, target, detail."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    start = since.replace(tzinfo=zone) if since is not None else None
    events = audit.events(db.session, since=start, action=action)
    for event in reversed(events):
        click.echo(format_event(event, zone))


def format_event(event: AuditEvent, zone: ZoneInfo) -> str:
    """One tab-separated line: local time, actor, action, target, detail as JSON."""
    at = event.at if event.at.tzinfo else event.at.replace(tzinfo=dt.UTC)
    detail = json.dumps(event.detail or {}, ensure_ascii=False, sort_keys=True)
    text = "\t".join([at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z"), event.actor,
                      event.action, event.target, detail])
    # Typed text (names, file names) must not start new lines or move the cursor.
    return "".join(c if c.isprintable() or c == "\t" else "?" for c in text)


COMMANDS = [backup_command, restore_command, audit_command]
