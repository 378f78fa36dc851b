"""`survey boards import`, `survey cycle ...`, `survey roster import`, `survey responses import`.

Every command runs in one transaction: on bad input it prints a one-line reason and
each problem to stderr, exits 1 and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NoReturn, TypeVar

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import DBAPIError

from survey.db import database_problem, db
from survey.models import Cycle
from survey.questionnaire import Questionnaire, QuestionnaireError, load_questionnaire
from survey.services.boards import BOARD_COLUMNS, import_boards
from survey.services.cycles import (
    Confirmation,
    close_confirmation,
    close_cycle,
    create_cycle,
    delete_confirmation,
    delete_cycle,
    get_cycle,
    list_cycles,
    open_confirmation,
    open_cycle,
)
from survey.services.responses_import import (
    RESPONSE_COLUMNS,
    ResponsesPlan,
    check_responses,
    write_responses,
)
from survey.services.rosters import ROSTER_COLUMNS, check_roster, write_roster
from survey.services.tabular import CLI_LIMITS, ImportProblem, TableRow, iter_table

T = TypeVar("T")
P = TypeVar("P")

boards_group = AppGroup("boards", help="Manage boards.")
cycle_group = AppGroup("cycle", help="Create, open, close, delete and list cycles.")
YES = click.option("--yes", is_flag=True,
                   help="Go ahead without asking (needed where there is no terminal).")
roster_group = AppGroup("roster", help="Import partnership rosters.")
responses_group = AppGroup("responses", help="Import offline or paper answers.")

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
DATE = click.DateTime(formats=["%Y-%m-%d"])


def fail(reason: str, problems: Sequence[str] = ()) -> NoReturn:
    """Print a one-line reason, then each problem, to stderr, and exit 1."""
    click.echo(f"error: {reason}", err=True)
    for problem in problems:
        click.echo(f"  {problem}", err=True)
    raise SystemExit(1)


def import_file(path: Path, columns: Sequence[str], what: str,
                check: Callable[[Iterator[TableRow]], P], write: Callable[[P], T]) -> T:
    """Stream and check a file without the write lock, then write it in one transaction.

    Fails with every problem (bad rows), or one line (an unreadable file, a database
    that stays locked); nothing is written then.
    """
    try:
        plan = check(iter_table(path, path.name, columns, CLI_LIMITS))
        with db.writing():
            return write(plan)
    except ImportProblem as exc:
        if exc.bad_rows:
            count = "1 bad row" if exc.bad_rows == 1 else f"{exc.bad_rows} bad rows"
            fail(f"{count} in {path.name}, no {what} imported", exc.problems)
        fail(f"{path.name} cannot be imported: {exc.problems[0]}", exc.problems[1:])
    except OSError as exc:
        fail(f"{path.name} cannot be read: {exc.strerror or exc}")
    except DBAPIError as exc:
        fail(f"no {what} imported: {database_problem(exc)}")


def current_questionnaire() -> Questionnaire:
    """The content in force, from SURVEY_QUESTIONNAIRES; exit 1 when it is broken."""
    folder = current_app.config["QUESTIONNAIRES"]
    try:
        return load_questionnaire(folder)
    except QuestionnaireError as exc:
        fail(f"the questionnaire content in {folder} is broken "
             "(run `survey questionnaires check`)", exc.problems)


@boards_group.command("import")
@click.argument("file", type=FILE)
def boards_import(file: Path) -> None:
    """Create and rename boards from a CSV with columns code,name."""
    summary = import_file(file, BOARD_COLUMNS, "boards", list,
                          lambda rows: import_boards(db.session, rows))
    click.echo(str(summary))


@roster_group.command("import")
@click.argument("file", type=FILE)
def roster_import(file: Path) -> None:
    """Import members (board,partnership,sector,name,email,organization,partner_type)."""
    summary = import_file(file, ROSTER_COLUMNS, "members",
                          lambda rows: check_roster(db.session, rows),
                          lambda plan: write_roster(db.session, plan))
    click.echo(str(summary))


@responses_group.command("import")
@click.argument("file", type=FILE)
@click.option("--cycle", "cycle_name", required=True, help="The cycle's name, e.g. 2026.")
def responses_import(file: Path, cycle_name: str) -> None:
    """Import long-format answers into a cycle (SPEC section 7 columns)."""

    def check(rows: Iterator[TableRow]) -> ResponsesPlan:
        return check_responses(db.session, rows, get_cycle(db.session, cycle_name))

    summary = import_file(file, RESPONSE_COLUMNS, "answers", check,
                          lambda plan: write_responses(db.session, plan))
    click.echo(str(summary))


@cycle_group.command("create")
@click.argument("name")
@click.option("--opens", required=True, type=DATE, help="First day, YYYY-MM-DD.")
@click.option("--closes", required=True, type=DATE, help="Last day, YYYY-MM-DD.")
def cycle_create(name: str, opens: dt.datetime, closes: dt.datetime) -> None:
    """Create a draft cycle with a snapshot of the current questionnaire."""
    questionnaire = current_questionnaire()
    try:
        with db.writing() as session:
            cycle = create_cycle(session, name, opens.date(), closes.date(), questionnaire)
    except ImportProblem as exc:
        fail("; ".join(exc.problems))
    except DBAPIError as exc:
        fail(database_problem(exc))
    click.echo(f"created cycle {cycle.name} ({cycle.opens_on} to {cycle.closes_on}), draft; "
               f"content {cycle.content_hash[:19]}")


def confirm(confirmation: Confirmation, yes: bool) -> None:
    """Say what the action would do and ask (SPEC 6 guardrails); with no terminal and no
    --yes, fail with the consequence in one line and change nothing."""
    if not confirmation.needed or yes:
        return
    what = f"{confirmation.action} cycle {confirmation.cycle}"
    if not sys.stdin.isatty():
        fail(f"{what} needs a confirmation: {' '.join(confirmation.consequences)} "
             f"Pass --yes to go ahead.")
    for line in confirmation.consequences:
        click.echo(line, err=True)
    if not click.confirm(f"{what[0].upper()}{what[1:]}?", default=False, err=True):
        fail(f"{what}: not confirmed, nothing changed")


def read_cycle(name: str) -> Cycle:
    """A cycle for a confirmation, read outside the write transaction (a prompt must not
    hold the database's write lock)."""
    try:
        return get_cycle(db.session, name)
    except ImportProblem as exc:
        fail("; ".join(exc.problems))


@cycle_group.command("open")
@click.argument("name")
@YES
def cycle_open(name: str, yes: bool) -> None:
    """Open a cycle: snapshot the content in force and invite every roster member. While
    another cycle is open, asks first (or needs --yes)."""
    confirm(open_confirmation(db.session, read_cycle(name)), yes)
    db.session.rollback()  # the read transaction ends before the write one begins
    questionnaire = current_questionnaire()
    try:
        with db.writing() as session:
            cycle = get_cycle(session, name)
            created = open_cycle(session, cycle, questionnaire)
    except ImportProblem as exc:
        fail("; ".join(exc.problems))
    except DBAPIError as exc:
        fail(database_problem(exc))
    click.echo(f"cycle {cycle.name} is open from {cycle.opens_on} until {cycle.closes_on} "
               f"({current_app.config['TIMEZONE']}); {created} new invitations "
               f"(print links with `survey invite --cycle {cycle.name}`)")


@cycle_group.command("close")
@click.argument("name")
@YES
def cycle_close(name: str, yes: bool) -> None:
    """Close a cycle: partner links stop accepting answers. Asks first (or needs --yes)."""
    confirm(close_confirmation(db.session, read_cycle(name)), yes)
    db.session.rollback()
    try:
        with db.writing() as session:
            cycle = get_cycle(session, name)
            closed = close_cycle(session, cycle)
    except ImportProblem as exc:
        fail("; ".join(exc.problems))
    except DBAPIError as exc:
        fail(database_problem(exc))
    click.echo(f"cycle {cycle.name} {'is now closed' if closed else 'was already closed'}")


@cycle_group.command("delete")
@click.argument("name")
@YES
def cycle_delete(name: str, yes: bool) -> None:
    """Delete a cycle that was never opened and holds no answers. Asks first (or --yes)."""
    confirmation = delete_confirmation(db.session, read_cycle(name))
    if confirmation.problem:
        fail(confirmation.problem)
    confirm(confirmation, yes)
    db.session.rollback()
    try:
        with db.writing() as session:
            delete_cycle(session, get_cycle(session, name))
    except ImportProblem as exc:
        fail("; ".join(exc.problems))
    except DBAPIError as exc:
        fail(database_problem(exc))
    click.echo(f"cycle {name} deleted")


@cycle_group.command("list")
def cycle_list() -> None:
    """List cycles with their dates and invited and submitted counts."""
    cycles = list_cycles(db.session)
    if not cycles:
        click.echo("no cycles yet (create one with `survey cycle create`)")
        return
    click.echo(f"{'name':<12} {'status':<7} {'opens':<10} {'closes':<10} "
               f"{'invited':>7} {'submitted':>9}")
    for c in cycles:
        click.echo(f"{c.name:<12} {c.status:<7} {c.opens_on.isoformat():<10} "
                   f"{c.closes_on.isoformat():<10} {c.invited:>7} {c.submitted:>9}")


COMMANDS = [boards_group, cycle_group, roster_group, responses_group]
