"""The `survey` command line: a Flask CLI group (`flask --app survey ...` works the same)."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup


def register_commands(app: Flask) -> None:
    """Attach every command and group to the app's CLI."""
    from survey.cli import (
        content,
        core,
        data,
        demo,
        ops,
        people,
        regions,
        releases,
        reporting,
        tokens,
    )

    commands = [
        core.init_command,  # init
        core.serve_command,  # serve
        content.questionnaires_cli,  # questionnaires check|dump
        *data.COMMANDS,  # boards import, cycle create|open|close|list, roster/responses import
        # (survey.cli.releases adds cycle publish|releases to the cycle group)
        *demo.COMMANDS,  # demo
        *reporting.COMMANDS,  # export, charts
        *people.COMMANDS,  # user create|list|reset, invite
        *ops.COMMANDS,  # backup, restore, audit
        *tokens.COMMANDS,  # token create|list|revoke (SPEC 17)
        *regions.COMMANDS,  # partnerships/targets/outcomes import
    ]
    assert releases.cycle_releases is not None
    for command in commands:
        app.cli.add_command(command)


def _create_app() -> Flask:
    from survey import create_app

    return create_app()


class SurveyGroup(FlaskGroup):
    """The command group: a database error that no command caught is one line, not a
    traceback (a full disk, a database that is down), and the exit status is 1."""

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import DBAPIError
        from sqlalchemy.exc import TimeoutError as PoolTimeout

        from survey.db import database_problem

        try:
            return super().invoke(ctx)
        except (DBAPIError, PoolTimeout) as exc:
            click.echo(f"error: {database_problem(exc)}", err=True)  # type: ignore[arg-type]
            ctx.exit(1)


@click.group(cls=SurveyGroup, create_app=_create_app, add_default_commands=False,
             add_version_option=False, load_dotenv=False)
def main() -> None:
    """Sector partnership maturity self-assessment."""
