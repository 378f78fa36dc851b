"""The `survey` command line: a Flask CLI group (`flask --app survey ...` works the same)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup


def register_commands(app: Flask) -> None:
    """Attach every command and group to the app's CLI."""
    from survey.cli import content, core, data, demo, ops, people, regions, reporting

    commands = [
        core.init_command,  # init
        core.serve_command,  # serve
        content.questionnaires_cli,  # questionnaires check|dump
        *data.COMMANDS,  # boards import, cycle create|open|close|list, roster/responses import
        *demo.COMMANDS,  # demo
        *reporting.COMMANDS,  # export, charts
        *people.COMMANDS,  # user create|list|reset, invite
        *ops.COMMANDS,  # backup, restore, audit
        *regions.COMMANDS,  # partnerships/targets/outcomes import
    ]
    for command in commands:
        app.cli.add_command(command)


def _create_app() -> Flask:
    from survey import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False,
             add_version_option=False, load_dotenv=False)
def main() -> None:
    """Sector partnership maturity self-assessment."""
