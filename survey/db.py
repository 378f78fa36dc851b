"""Database engine, session and declarative base.

One session per application context. Services add and flush; the edge (a view or a
CLI command) commits once or rolls back.

Write transactions and the SQLite write lock
--------------------------------------------
Every POST (and other unsafe method) starts its transaction as a writer in a
``before_request`` hook (``db.begin_write()``: ``BEGIN IMMEDIATE`` on SQLite), so that a
request that reads and then writes never fails halfway when it upgrades its lock.
That lock is held until the view commits, which is wrong for a view that does slow work
first (parsing an upload, talking to a mail server): every partner's save would wait.

Such a view opts out with ``@writes_late``, placed directly under the route decorator::

    @bp.route("/roster/import", methods=["GET", "POST"])
    @writes_late
    @admin_required
    def roster_import(): ...

It then runs its slow part without the lock (reads are fine: each is a short read
transaction) and does its writes in ``with db.writing() as session: ...``, which ends
any read transaction still open (committing it: it holds no writes), takes the write
lock, commits at the end of the block and rolls back on an error. Objects read before
the block stay usable but may be stale; re-read what the writes depend on inside it.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

from flask import Flask, g
from sqlalchemy import Engine, MetaData, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeout
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

try:
    import fcntl
except ImportError:  # not POSIX: SQLite's busy handler alone
    fcntl = None  # type: ignore[assignment]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 15_000
# The largest id a row can have: every id column is INTEGER, 32 bits on PostgreSQL (a
# larger number in a query fails there with NumericValueOutOfRange).
MAX_ROW_ID = 2**31 - 1
WRITES_LATE = "survey_writes_late"

V = TypeVar("V", bound=Callable[..., Any])


def writes_late(view: V) -> V:
    """Mark a view that takes the write lock itself, in ``db.writing()`` (see above)."""
    setattr(view, WRITES_LATE, True)
    return view


def takes_lock_early(view: Callable[..., Any] | None) -> bool:
    """False for a view marked ``@writes_late``: its request starts without the write lock."""
    return not getattr(view, WRITES_LATE, False)


# SQLSTATE classes and codes that mean the server cannot take work now, not a bad query:
# 08 connection exception, 53 insufficient resources (53100 disk full), 57P01-57P03 the
# server shutting down, restarting or starting.
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")
_FULL_SQLSTATES = ("53100",)


def database_fault(exc: BaseException) -> str | None:
    """What kind of fault of the database itself an error is: "full", "unavailable",
    "locked", or None for any other error (a bad query, a broken constraint)."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).lower()
    state = str(getattr(orig, "sqlstate", None) or "")
    if state.startswith(_FULL_SQLSTATES) or "disk is full" in text or "no space left" in text:
        return "full"
    if "locked" in text or "lock timeout" in text:
        return "locked"
    if (state.startswith(_UNAVAILABLE_SQLSTATES) or getattr(exc, "connection_invalidated", False)
            or "unable to open database file" in text
            or (isinstance(exc, DBAPIError) and isinstance(exc, (OperationalError, InterfaceError))
                and not state and "sqlite" not in type(orig).__module__)):
        return "unavailable"  # no SQLSTATE from PostgreSQL: the connection itself failed
    if isinstance(exc, SQLAlchemyTimeout):
        return "unavailable"  # every pooled connection busy for the pool's whole timeout
    return None


def database_problem(exc: DBAPIError | SQLAlchemyTimeout) -> str:
    """One line for a failed write: the database full, unavailable or locked, or else the
    driver's first line."""
    fault = database_fault(exc)
    if fault == "full":
        return ("the database is full (no space left on its disk); nothing was changed: "
                "free some space, then try again")
    if fault == "unavailable":
        return "the database is unavailable; nothing was changed: try again in a moment"
    if fault == "locked":
        return ("the database is locked by another program (waited "
                f"{SQLITE_BUSY_TIMEOUT_MS / 1000:g} s); try again when it has finished")
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else str(exc)
    return f"the database refused the change ({(text.splitlines() or ['unknown error'])[0]})"


# The first key of the PostgreSQL advisory locks that gate writes to a cycle (the
# second is the cycle id).
CYCLE_GATE = 0x5359


def gate_cycle(session: Session, cycle_id: int, *, exclusive: bool = False) -> None:
    """Hold the cycle's gate until the transaction ends: shared for partners' saves,
    exclusive for closing it, so no save commits after the close.

    PostgreSQL only (SQLite's single writer already serialises them). An advisory lock,
    not `FOR KEY SHARE` on the cycle row: row locks let new sharers in ahead of a
    waiting `FOR UPDATE`, and a steady stream of saves could hold a close off for ever;
    the lock manager queues a new sharer behind a waiting exclusive request.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    session.execute(text(f"SELECT {function}(:gate, :cycle)"),
                    {"gate": CYCLE_GATE, "cycle": cycle_id})


class Base(DeclarativeBase):
    """Declarative base with a naming convention Alembic can rely on."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout, foreign keys and explicit BEGIN."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, **kwargs)

    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
    lock_file = _write_lock_file(url) if fcntl is not None else None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN out of pysqlite's hands so that we can choose IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if ":memory:" not in url and url not in ("sqlite://", "sqlite+pysqlite://"):
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL syncs at checkpoints, not at every commit: a commit stays
            # atomic and survives the program crashing; a power cut may lose the last
            # commits. FULL spent ~8 ms in fsync per save while holding the write lock.
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A transaction that reads and then writes must hold the write lock from the
        # start: a deferred one fails at once with "database is locked" when it upgrades.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode == "IMMEDIATE" and lock_file is not None:
            _take_write_turn(conn.connection.info, lock_file)
        conn.exec_driver_sql(f"BEGIN {mode}")

    if lock_file is not None:
        # Writers queue on a file lock (flock) before BEGIN IMMEDIATE and leave it after
        # COMMIT or ROLLBACK, checking every 2 ms, while SQLite's own busy handler polls
        # in growing sleeps (100 ms each after the first quarter second): under load a
        # save that had waited a little kept losing the lock to newer ones, for seconds.
        @event.listens_for(engine, "commit")
        def _on_commit(conn: Any) -> None:
            if not conn.connection.info.get(WRITE_TURN):
                return
            raw = conn.connection.dbapi_connection
            try:
                raw.execute("COMMIT")  # then commit() is a no-op
            except sqlite3.Error as exc:
                # Raised here, outside SQLAlchemy's own error handling: wrapped as it would
                # wrap it (sqlite3.OperationalError -> OperationalError), so that callers
                # catching DBAPIError see "database or disk is full" like any other error.
                with suppress(sqlite3.Error):
                    raw.execute("ROLLBACK")
                raise DBAPIError.instance("COMMIT", None, exc, sqlite3.Error) from exc
            finally:
                _end_write_turn(conn.connection.info)

        @event.listens_for(engine, "rollback")
        def _on_rollback(conn: Any) -> None:
            if conn.connection.info.get(WRITE_TURN):
                with suppress(sqlite3.Error):  # no transaction left to roll back is fine
                    conn.connection.dbapi_connection.execute("ROLLBACK")
                _end_write_turn(conn.connection.info)

        @event.listens_for(engine, "reset")
        def _on_reset(_dbapi_connection: Any, record: Any, _state: Any = None) -> None:
            if record.info.get(WRITE_TURN):  # returned to the pool mid-transaction
                _end_write_turn(record.info)

        @event.listens_for(engine, "close")
        def _on_close(_dbapi_connection: Any, record: Any) -> None:
            fd = record.info.pop(WRITE_LOCK_FD, None)
            if fd is not None:
                os.close(fd)

    return engine


WRITE_LOCK_FD = "survey_write_lock_fd"
WRITE_TURN = "survey_write_turn"


def _write_lock_file(url: str) -> str | None:
    """The lock file beside a SQLite database file (None for an in-memory database)."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return f"{database}-writelock"


def _take_write_turn(info: dict[str, Any], lock_file: str) -> None:
    """Wait for the write turn, polling every 2 ms, at most the busy timeout; past that,
    go on without it (BEGIN IMMEDIATE then waits or fails by SQLite's own rules, with
    the usual "database is locked")."""
    fd = info.get(WRITE_LOCK_FD)
    if fd is None:
        fd = info[WRITE_LOCK_FD] = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() > deadline:
                return
            time.sleep(0.002)
            continue
        info[WRITE_TURN] = True
        return


def _end_write_turn(info: dict[str, Any]) -> None:
    info[WRITE_TURN] = False
    fcntl.flock(info[WRITE_LOCK_FD], fcntl.LOCK_UN)


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
        """Start the current transaction as a writer (BEGIN IMMEDIATE on SQLite).

        A transaction already open that was begun here is kept. One begun by reads
        (a ``@writes_late`` view, a command that looked things up first) is committed
        first, so the writes never upgrade a read lock (SQLite's "database is locked").
        """
        session = self.session
        current = session.get_transaction()
        if current is not None and g.get("db_write_tx") is not current:
            session.commit()
        if not session.in_transaction():
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            g.db_write_tx = session.get_transaction()
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
        g.pop("db_write_tx", None)
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            if exc is not None or session.in_transaction():
                session.rollback()
            session.close()


db = Database()
