"""`survey demo`: build the demo database and print partner links and staff logins."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from survey.cli.data import current_questionnaire, fail
from survey.db import db
from survey.schema import load_default_boards, upgrade
from survey.services.demo import (
    DEMO_SEED,
    OPEN_CYCLE,
    DemoResult,
    build_demo,
    demo_state,
    renew_demo_access,
    wipe_database,
)
from survey.services.invitations import partner_url


@click.command("demo")
@click.option("--reset", is_flag=True, help="Delete EVERY row in the database, then rebuild.")
@click.option("--seed", default=DEMO_SEED, show_default=True, help="Random seed of the demo.")
@with_appcontext
def demo_command(reset: bool, seed: int) -> None:
    """Fill the database with a realistic demo: 24 boards, partnerships, rosters, three cycles."""
    assert db.engine is not None
    upgrade(db.engine)
    questionnaire = current_questionnaire()
    with db.writing() as session:
        load_default_boards(session)
        state = demo_state(session)
        if state == "demo" and not reset:
            click.echo("the demo is already loaded (use --reset to rebuild it); "
                       "new links and passwords:")
            _print_access(renew_demo_access(session))
            return
        if state == "other" and not reset:
            fail("the database already holds partnerships, cycles or accounts; the demo fills "
                 "only an empty database (--reset deletes everything first)")
        if reset:
            wipe_database(session)
        result = build_demo(session, questionnaire, seed=seed)
    click.echo(
        f"demo built in {result.seconds:.1f} s: {result.boards} boards, {result.partnerships} "
        f"partnerships, {result.members} members, {result.invitations} invitations, "
        f"{result.answers} answers, {result.comments} comments; cycles 2024 and 2025 closed, "
        f"{OPEN_CYCLE} open"
    )
    _print_access(result)


def _print_access(result: DemoResult) -> None:
    base_url = current_app.config["BASE_URL"]
    click.echo(f"\npartner links for cycle {OPEN_CYCLE}:")
    for who, token in result.links:
        click.echo(f"  {partner_url(base_url, token)}  {who}")
    click.echo(f"\nstaff logins ({base_url}/login):")
    for email, role, password in result.logins:
        click.echo(f"  {email:<22} {password}  {role}")


COMMANDS = [demo_command]
