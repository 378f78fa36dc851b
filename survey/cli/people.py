"""`survey user ...` (staff accounts) and `survey invite` (partner links, by CSV or email)."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from survey.db import db
from survey.models import Board, Cycle
from survey.services import accounts, mail, sending


def fail(message: str) -> None:
    """Stop with one line on stderr and exit status 1."""
    raise click.ClickException(message)


def read_password() -> str:
    """A hidden, confirmed prompt on a terminal; otherwise one line from stdin."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


user_group = AppGroup("user", help="Staff accounts: administrators, state staff, board leads.")


@user_group.command("create")
@click.argument("email")
@click.option("--role", required=True, help="admin, state or board.")
@click.option("--board", "board_code", help="The board code (board leads only).")
@with_appcontext
def create_user_command(email: str, role: str, board_code: str | None) -> None:
    """Create an account; the password comes from a prompt, or stdin when not a terminal."""
    role = role.strip().lower()
    with db.writing() as session:
        board = None
        if board_code is not None:
            board = session.execute(
                select(Board).where(Board.code == board_code)
            ).scalar_one_or_none()
            if board is None:
                fail(f"unknown board {board_code}")
        try:
            user = accounts.create_user(session, email, read_password(), role, board)
        except accounts.AccountError as exc:
            fail(str(exc))
        click.echo(f"created {user.role} account {user.email}"
                   + (f" for board {board.code}" if board else ""))


@user_group.command("list")
@with_appcontext
def list_users_command() -> None:
    """List every account: email, role, board, active."""
    for user in accounts.list_users(db.session):
        board = user.board.code if user.board else "-"
        state = "active" if user.active else "deactivated"
        click.echo(f"{user.email}\t{user.role}\t{board}\t{state}")


@user_group.command("reset")
@click.argument("email")
@with_appcontext
def reset_user_command(email: str) -> None:
    """Give an account a new random password (printed once); its sessions end."""
    with db.writing() as session:
        user = accounts.find_user(session, email)
        if user is None:
            fail(f"no account for {email}")
        password = accounts.reset_password(session, user)
    click.echo(f"new password for {user.email}: {password}")


@click.command("invite")
@click.option("--cycle", "cycle_name", required=True, help="The cycle name, such as 2026.")
@click.option("--board", "board_code", help="Only this board's members.")
@click.option("--send", is_flag=True, help="Email each member instead of printing CSV.")
@click.option("--reminders", is_flag=True, help="Only members who have not submitted.")
@with_appcontext
def invite_command(cycle_name: str, board_code: str | None, send: bool, reminders: bool) -> None:
    """Print each member's personal link as CSV, or email them (--send).

    --send emails the invitation once: members already emailed are left out (use
    --reminders to email those who have not submitted again).
    """
    settings = mail.MailSettings.from_config(current_app.config)
    if send and not settings.smtp_url:
        fail("SURVEY_SMTP_URL is not set, so no email can be sent")
    cycle = db.session.execute(select(Cycle).where(Cycle.name == cycle_name)).scalar_one_or_none()
    if cycle is None:
        fail(f"unknown cycle {cycle_name}")
    if board_code is not None and db.session.execute(
        select(Board.id).where(Board.code == board_code)
    ).first() is None:
        fail(f"unknown board {board_code}")
    if not send:
        with db.writing() as session:
            links = mail.links_to_send(session, cycle, board_code, reminders)
        click.echo(mail.links_csv(links, settings.base_url), nl=False)
        return
    # The mail goes out between two short write transactions (services/sending).
    recipients = sending.Recipients(cycle.id, reminders=reminders, board_code=board_code)
    try:
        summary = sending.send_batch(db.writing, recipients, settings)
    except mail.MailError as exc:
        fail(str(exc))
    if not (summary.sent or summary.failed or summary.skipped_no_email
            or summary.skipped_recent):
        click.echo("every member has submitted" if reminders else mail.NOTHING_TO_SEND)
        return
    click.echo(summary.describe(reminders))
    if summary.failed:
        sys.exit(1)


COMMANDS = [user_group, invite_command]
