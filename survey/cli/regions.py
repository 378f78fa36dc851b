"""`survey partnerships import`, `survey targets import`, `survey outcomes import` (SPEC 16).

Each is all or nothing, like every import: every bad row is named and nothing changes.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from survey.cli.data import FILE, import_file
from survey.db import db
from survey.services.partnerships import (
    PARTNERSHIP_COLUMNS,
    check_partnerships,
    write_partnerships,
)
from survey.services.targets import TARGET_COLUMNS, check_targets, write_targets

partnerships_group = AppGroup("partnerships", help="Partnerships and the boards they span.")
targets_group = AppGroup("targets", help="Each board's target industries.")


@partnerships_group.command("import")
@click.argument("file", type=FILE)
def partnerships_import(file: Path) -> None:
    """Import partnerships: CSV board,partnership,sector,also_boards (codes, spaces)."""
    summary = import_file(file, PARTNERSHIP_COLUMNS, "partnerships",
                          lambda rows: check_partnerships(db.session, rows),
                          lambda plan: write_partnerships(db.session, plan))
    click.echo(str(summary))


@targets_group.command("import")
@click.argument("file", type=FILE)
def targets_import(file: Path) -> None:
    """Import target industries: CSV board,sector (each board named gets exactly these)."""
    summary = import_file(file, TARGET_COLUMNS, "target industries",
                          lambda rows: check_targets(db.session, rows),
                          lambda plan: write_targets(db.session, plan))
    click.echo(str(summary))


COMMANDS = [partnerships_group, targets_group]
