"""Create or upgrade the database schema with Alembic, and load the default boards."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from survey.models import Board

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
FLORIDA_BOARDS = Path(__file__).parent / "data" / "florida_boards.csv"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at the shipped migrations."""
    from alembic.config import Config  # local: alembic adds ~0.1 s to every command start

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision; existing data is kept."""
    from alembic import command  # local: see alembic_config

    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def florida_boards() -> list[tuple[str, str]]:
    """Florida's 24 local workforce development boards as (code, name)."""
    with FLORIDA_BOARDS.open(newline="", encoding="utf-8") as f:
        return [(row["code"], row["name"]) for row in csv.DictReader(f)]


def load_default_boards(session: Session) -> int:
    """Add Florida's boards when there are no boards yet; return how many were added."""
    if session.execute(select(Board.id).limit(1)).first() is not None:
        return 0
    boards = florida_boards()
    session.add_all(Board(code=code, name=name) for code, name in boards)
    session.flush()
    return len(boards)
