"""`survey token create|list|revoke`: API tokens of staff users (SPEC 17)."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import AppGroup, with_appcontext

from survey.api import tokens
from survey.db import db
from survey.services import accounts

token_group = AppGroup("token", help="API tokens for /api/v1/ (Power BI, Python, curl).")


def _when(moment: dt.datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else "-"


@token_group.command("create")
@click.argument("email")
@click.option("--name", required=True, help="What the token is for, e.g. 'Power BI board report'.")
@with_appcontext
def create_token_command(email: str, name: str) -> None:
    """Create a token for a staff account and print it once (only its hash is kept)."""
    with db.writing() as session:
        user = accounts.find_user(session, email)
        if user is None:
            raise click.ClickException(f"no account for {email}")
        try:
            token, raw = tokens.create_token(session, user, name)
        except accounts.AccountError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"token {token.id} for {user.email} ({token.name}); shown only this once:")
    click.echo(raw)


@token_group.command("list")
@click.argument("email", required=False)
@with_appcontext
def list_tokens_command(email: str | None) -> None:
    """List tokens (one account's, or every account's): id, account, name, created, last
    used, revoked."""
    user = None
    if email is not None:
        user = accounts.find_user(db.session, email)
        if user is None:
            raise click.ClickException(f"no account for {email}")
    for token in tokens.tokens_of(db.session, user):
        click.echo("\t".join([str(token.id), token.user.email, token.name,
                              _when(token.created_at), _when(token.last_used_at),
                              "revoked " + _when(token.revoked_at) if token.revoked_at
                              else "live"]))


@token_group.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def revoke_token_command(token_id: int) -> None:
    """Revoke a token by its id: every call with it is refused from now on."""
    with db.writing() as session:
        try:
            token = tokens.revoke_token(session, token_id)
        except accounts.AccountError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"token {token.id} ({token.name}) of {token.user.email} revoked")


COMMANDS = [token_group]
