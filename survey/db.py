"""Database engine, session and declarative base.

One session per application context. Services add and flush; the edge (a view or a
CLI command) commits once or rolls back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, g
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 15_000


class Base(DeclarativeBase):
    """Declarative base with a naming convention Alembic can rely on."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout, foreign keys and explicit BEGIN."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, **kwargs)

    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN out of pysqlite's hands so that we can choose IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if ":memory:" not in url and url not in ("sqlite://", "sqlite+pysqlite://"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A transaction that reads and then writes must hold the write lock from the
        # start: a deferred one fails at once with "database is locked" when it upgrades.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


class Database:
    """The application's database: an engine and one session per app context."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self._sessionmaker: sessionmaker[Session] | None = None

    def init_app(self, app: Flask) -> None:
        """Bind to an app: build the engine from config and close sessions on teardown."""
        self.engine = make_engine(app.config["DATABASE_URL"])
        self._sessionmaker = sessionmaker(bind=self.engine, expire_on_commit=False)
        app.extensions["survey_db"] = self
        app.teardown_appcontext(self._teardown)

    @property
    def session(self) -> Session:
        """The session of the current application context."""
        if "db_session" not in g:
            assert self._sessionmaker is not None, "Database.init_app was not called"
            g.db_session = self._sessionmaker()
        return g.db_session

    def begin_write(self) -> Session:
        """Start the current transaction as a writer (BEGIN IMMEDIATE on SQLite)."""
        session = self.session
        if not session.in_transaction():
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        return session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """Run a block in one write transaction: commit at the end, roll back on error."""
        session = self.begin_write()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    def _teardown(self, exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            if exc is not None or session.in_transaction():
                session.rollback()
            session.close()


db = Database()
