"""`survey partnerships import`, `survey targets import`, `survey outcomes import` (SPEC 16).

Each is all or nothing, like every import: every bad row is named and nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
from flask.cli import AppGroup

from survey.cli.data import FILE, import_file
from survey.db import db
from survey.outcome_measures import configured_measures
from survey.services.cycles import get_cycle
from survey.services.outcomes import OUTCOME_COLUMNS, OutcomesPlan, check_outcomes, write_outcomes
from survey.services.partnerships import (
    PARTNERSHIP_COLUMNS,
    check_partnerships,
    write_partnerships,
)
from survey.services.tabular import TableRow
from survey.services.targets import TARGET_COLUMNS, check_targets, write_targets

partnerships_group = AppGroup("partnerships", help="Partnerships and the boards they span.")
targets_group = AppGroup("targets", help="Each board's target industries.")
outcomes_group = AppGroup("outcomes", help="Partnerships' outcome figures.")


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


@outcomes_group.command("import")
@click.argument("file", type=FILE)
@click.option("--cycle", "cycle_name", required=True, help="The cycle's name, e.g. 2026.")
def outcomes_import(file: Path, cycle_name: str) -> None:
    """Import outcome figures: CSV board,partnership,measure,value,source."""
    measures = configured_measures()

    def check(rows: Iterator[TableRow]) -> OutcomesPlan:
        return check_outcomes(db.session, rows, get_cycle(db.session, cycle_name), measures)

    summary = import_file(file, OUTCOME_COLUMNS, "outcome values", check,
                          lambda plan: write_outcomes(db.session, plan))
    click.echo(str(summary))


COMMANDS = [partnerships_group, targets_group, outcomes_group]
