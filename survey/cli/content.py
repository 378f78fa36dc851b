"""`survey questionnaires check` and `survey questionnaires dump`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from survey.outcome_measures import load_measures
from survey.questionnaire import Questionnaire, QuestionnaireError, load_questionnaire

questionnaires_cli = AppGroup("questionnaires", help="Validate or print the questionnaire content.")


def _load_or_exit() -> Questionnaire:
    """Load the configured folder; on any problem print them all to stderr and exit 1."""
    folder = Path(current_app.config["QUESTIONNAIRES"])
    try:
        return load_questionnaire(folder)
    except QuestionnaireError as exc:
        count = len(exc.problems)
        noun = "problem" if count == 1 else "problems"
        click.echo(f"error: {count} {noun} in questionnaires at {folder}", err=True)
        for problem in exc.problems:
            click.echo(problem, err=True)
        sys.exit(1)


@questionnaires_cli.command("check")
def check_command() -> None:
    """Validate every questionnaire file and name file, item and problem on error."""
    questionnaire = _load_or_exit()
    folder = Path(current_app.config["QUESTIONNAIRES"])
    try:
        measures = load_measures(folder)
    except QuestionnaireError as exc:
        count = len(exc.problems)
        click.echo(f"error: {count} {'problem' if count == 1 else 'problems'} in the outcome "
                   f"measures at {folder}", err=True)
        for problem in exc.problems:
            click.echo(problem, err=True)
        sys.exit(1)
    click.echo(
        f"questionnaires OK: {len(questionnaire.elements)} elements, "
        f"{len(questionnaire.items)} items, {len(measures)} outcome measures, "
        + "".join(f"translated into {language}, " for language in questionnaire.translations)
        + f"content {questionnaire.content_hash}"
    )


@questionnaires_cli.command("dump")
def dump_command() -> None:
    """Print the loaded questionnaire content as JSON."""
    questionnaire = _load_or_exit()
    click.echo(json.dumps(questionnaire.to_dict(), indent=2, ensure_ascii=False))
