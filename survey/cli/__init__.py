"""The `survey` command line: a Flask CLI group (`flask --app survey ...` works the same)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup


def register_commands(app: Flask) -> None:
    """Attach every command group to the app's CLI."""
    from survey.cli.content import questionnaires_cli
    from survey.cli.core import init_command, serve_command

    app.cli.add_command(init_command)
    app.cli.add_command(serve_command)
    app.cli.add_command(questionnaires_cli)
    for module in OPTIONAL_COMMAND_MODULES:
        _register_module(app, module)


# Command modules owned by other parts of the tree; each exposes `COMMANDS`.
OPTIONAL_COMMAND_MODULES = (
    "survey.cli.data",  # boards import, cycle, roster import, responses import
    "survey.cli.demo",  # demo
    "survey.cli.reporting",  # export, charts
    "survey.cli.people",  # user create, invite
)


def _register_module(app: Flask, module_name: str) -> None:
    import importlib

    try:  # TEMPORARY while the tree is being built: tolerate modules not written yet
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        return
    for command in module.COMMANDS:
        app.cli.add_command(command)


def _create_app() -> Flask:
    from survey import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False,
             add_version_option=False, load_dotenv=False)
def main() -> None:
    """Sector partnership maturity self-assessment."""
