"""`survey cycle publish NAME --note TEXT` and `survey cycle releases NAME` (SPEC 4b)."""

from __future__ import annotations

import click
from sqlalchemy.exc import DBAPIError

from survey import releases
from survey.cli.data import cycle_group, fail
from survey.db import database_problem, db
from survey.services import audit
from survey.services.cycles import get_cycle
from survey.services.revisions import publish_revision
from survey.services.tabular import ImportProblem


@cycle_group.command("publish")
@click.argument("name")
@click.option("--note", required=True, help="What changed, printed on every output of it.")
def cycle_publish(name: str, note: str) -> None:
    """Publish a revision of a published cycle: its answers as they stand, with what
    the comparison with every earlier release requires held back."""
    try:
        with db.writing() as session:
            cycle = get_cycle(session, name)
            row = publish_revision(session, cycle, audit.cli_actor(), note)
            reasons = row.held_back.get("reasons", [])
            line = releases.stamp(row).line
    except ImportProblem as exc:
        fail("; ".join(exc.problems))
    except DBAPIError as exc:
        fail(database_problem(exc))
    held = len(reasons)
    click.echo(f"cycle {name}: published {line}")
    click.echo(f"{held} figure{'s' if held != 1 else ''} held back (each would differ from an "
               "earlier release by fewer respondents than the minimum)" if held else
               "no figure held back")
    for reason in held_lines_of(reasons):
        click.echo(f"  {reason}")


def held_lines_of(reasons: list[str], limit: int = 20) -> list[str]:
    """At most `limit` reasons and a count of the rest."""
    shown = reasons[:limit]
    return shown + ([f"... and {len(reasons) - limit} more"] if len(reasons) > limit else [])


@cycle_group.command("releases")
@click.argument("name")
def cycle_releases(name: str) -> None:
    """List a cycle's releases: number, date, author, figures held back, note."""
    try:
        cycle = get_cycle(db.session, name)
    except ImportProblem as exc:
        fail("; ".join(exc.problems))
    rows = releases.all_releases(db.session, cycle)
    if not rows:
        click.echo(f"cycle {name} has no release yet (it is published when it first closes)")
        return
    for row in rows:
        stamp = releases.stamp(row)
        held = int(row.held_back.get("count", 0))
        click.echo(f"{stamp.number:>3}  {stamp.published_at:%Y-%m-%d %H:%M} UTC  {row.author}  "
                   f"held back {held}  figures {row.figures_hash[:12]}  {row.note}")

