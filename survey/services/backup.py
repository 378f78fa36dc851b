"""Portable backups (SPEC section 14): every table to one zip archive, and back.

The archive holds `manifest.json` (format, app version, schema revision, creation time,
and per table its columns, row count and the sha256 of its lines) and one JSON-lines file
per table, `tables/<name>.jsonl`, a JSON array per row in primary-key order. Values are
written in one portable form whatever the database: dates as ISO dates, datetimes as ISO
UTC with offset, JSON as JSON, booleans as true/false, NULL as null. So a SQLite backup
restores into PostgreSQL and back, and the same rows give the same hashes on either.

`write_backup` reads in one consistent transaction (REPEATABLE READ on PostgreSQL, a read
snapshot on SQLite) and streams rows, so memory stays flat. `restore_backup` checks the
whole archive before touching the database, refuses a database that holds any row, runs
the migrations, loads in foreign-key order in chunks, resets PostgreSQL's sequences, and
compares counts and content hashes recomputed from the database with the manifest before
it commits: any mismatch rolls everything back. No Flask here.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Column, Connection, Engine, Table, bindparam, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.types import JSON, Date, DateTime, LargeBinary

from survey import models  # noqa: F401  (registers every table on Base.metadata)
from survey.db import Base
from survey.schema import MIGRATIONS, upgrade
from survey.services import audit

FORMAT = "sector-survey-backup/1"
MANIFEST = "manifest.json"
CHUNK_ROWS = 1000


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message is one line for the user."""


@dataclass(frozen=True)
class TableSummary:
    """One table in an archive: its columns, row count and content hash."""

    name: str
    columns: list[str]
    rows: int
    sha256: str


@dataclass(frozen=True)
class BackupSummary:
    """What an archive holds (read from its manifest, or as written)."""

    schema_revision: str
    app_version: str
    created_at: str
    tables: list[TableSummary]

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def tables() -> list[Table]:
    """Every application table, parents before children."""
    return list(Base.metadata.sorted_tables)


def head_revision() -> str:
    """The newest schema revision this version of the application knows."""
    # local: alembic adds ~0.1 s to every command start, and only backups need it here
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def app_version() -> str:
    """The installed package's version."""
    try:
        return metadata.version("sector-survey")
    except metadata.PackageNotFoundError:
        return "unknown"


# -- encoding: one portable form per column type ------------------------------------


def encode_value(column: Column[Any], value: Any) -> Any:
    """A column value in the archive's portable JSON form."""
    if value is None:
        return None
    if isinstance(column.type, DateTime):
        if value.tzinfo is None:  # SQLite hands back the stored UTC time without a zone
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(column.type, Date):
        return value.isoformat()
    if isinstance(column.type, LargeBinary):  # a release's compressed payload
        return base64.b64encode(value).decode("ascii")
    return value


def decode_value(column: Column[Any], value: Any) -> Any:
    """The Python value of an archived column value (raises ValueError or TypeError)."""
    if value is None:
        return None
    if isinstance(column.type, DateTime):
        parsed = dt.datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError(f"datetime without a zone: {value!r}")
        return parsed
    if isinstance(column.type, Date):
        return dt.date.fromisoformat(value)
    if isinstance(column.type, JSON):
        return value
    if isinstance(column.type, LargeBinary):
        if not isinstance(value, str):
            raise TypeError(f"not base64 text: {value!r}")
        return base64.b64decode(value, validate=True)
    python_type = column.type.python_type
    if python_type is bool:
        if not isinstance(value, bool):
            raise TypeError(f"not a boolean: {value!r}")
    elif python_type is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"not an integer: {value!r}")
    elif python_type is str and not isinstance(value, str):
        raise TypeError(f"not text: {value!r}")
    return value


def encode_row(columns: list[Column[Any]], row: Iterable[Any]) -> bytes:
    """One archive line: the row as a canonical JSON array and a newline."""
    values = [encode_value(c, v) for c, v in zip(columns, row, strict=True)]
    line = json.dumps(values, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return line.encode("utf-8") + b"\n"


def table_lines(connection: Connection, table: Table) -> Iterator[bytes]:
    """A table's archive lines in primary-key order, streamed from the database."""
    columns = list(table.columns)
    query = (select(*columns).order_by(*table.primary_key.columns)
             .execution_options(stream_results=True, yield_per=CHUNK_ROWS))
    result = connection.execute(query)
    for row in result:
        yield encode_row(columns, row)


def content_hash(content: Any) -> str:
    """A cycle's questionnaire hash recomputed from its snapshot (as Questionnaire does)."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# -- backup ------------------------------------------------------------------------


def schema_revision(connection: Connection) -> str | None:
    """The database's Alembic revision, or None when it has no schema yet."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def write_backup(engine: Engine, path: Path) -> BackupSummary:
    """Write every table to a zip archive at `path` from one consistent read transaction.

    The archive is written beside `path` under a temporary name and moved into place, so
    a failure never leaves half an archive.
    """
    if not path.parent.is_dir():
        raise BackupError(f"folder does not exist: {path.parent}")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        with read_snapshot(engine) as connection:
            revision = schema_revision(connection)
            if revision != head_revision():
                raise BackupError(
                    f"the database is at schema revision {revision or 'none'}, not "
                    f"{head_revision()}: run `survey init` first")
            summary = _write_archive(connection, Path(temporary), revision)
        os.replace(temporary, path)
        return summary
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def read_snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection in one read transaction that sees a single moment of the database."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ",
                                         postgresql_readonly=True)
        with connection.begin():
            # SQLite fixes a WAL read snapshot at the first read of the file; PostgreSQL
            # at the first query: take it now, before anything else is read.
            connection.execute(text("SELECT count(*) FROM sqlite_master"
                                    if engine.dialect.name == "sqlite" else "SELECT 1"))
            yield connection


def _write_archive(connection: Connection, path: Path, revision: str) -> BackupSummary:
    created_at = dt.datetime.now(dt.UTC).isoformat()
    summaries: list[TableSummary] = []
    cycles: dict[str, str] = {}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for table in tables():
            digest = hashlib.sha256()
            rows = 0
            with archive.open(f"tables/{table.name}.jsonl", "w", force_zip64=True) as member:
                for line in table_lines(connection, table):
                    member.write(line)
                    digest.update(line)
                    rows += 1
            summaries.append(TableSummary(table.name, [c.name for c in table.columns], rows,
                                          digest.hexdigest()))
        cycle_table = Base.metadata.tables["cycles"]
        for name, content in connection.execute(select(cycle_table.c.name, cycle_table.c.content)):
            cycles[name] = content_hash(content)
        summary = BackupSummary(revision, app_version(), created_at, summaries)
        manifest = {
            "format": FORMAT,
            "app_version": summary.app_version,
            "schema_revision": revision,
            "created_at": created_at,
            "database": connection.dialect.name,
            "tables": [t.__dict__ for t in summaries],
            "cycle_content_hashes": cycles,
        }
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
    return summary


# -- restore -----------------------------------------------------------------------


def read_manifest(path: Path) -> tuple[BackupSummary, dict[str, str]]:
    """Read and check an archive without touching any database: the manifest's shape,
    every table file's row count and sha256. Raises BackupError with one line."""
    try:
        with zipfile.ZipFile(path) as archive:
            try:
                raw = json.loads(archive.read(MANIFEST).decode("utf-8"))
            except KeyError:
                raise BackupError(f"{path.name} is not a survey backup (no manifest)") from None
            summary, cycles = _parse_manifest(raw, path.name)
            for table in summary.tables:
                digest = hashlib.sha256()
                rows = 0
                with archive.open(f"tables/{table.name}.jsonl") as member:
                    for line in member:
                        digest.update(line)
                        rows += 1
                if rows != table.rows or digest.hexdigest() != table.sha256:
                    raise BackupError(
                        f"{path.name} is damaged: table {table.name} does not match its "
                        f"manifest ({rows} rows read, {table.rows} expected)")
    except BackupError:
        raise
    except FileNotFoundError:
        raise BackupError(f"no such file: {path}") from None
    except KeyError as exc:
        raise BackupError(f"{path.name} is damaged: missing {exc.args[0]}") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
            UnicodeDecodeError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BackupError(f"{path.name} is damaged or not a survey backup ({reason})") from None
    return summary, cycles


def _parse_manifest(raw: Any, name: str) -> tuple[BackupSummary, dict[str, str]]:
    bad = BackupError(f"{name} has an unreadable manifest")
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise BackupError(f"{name} is not a survey backup of format {FORMAT}")
    try:
        table_summaries = [
            TableSummary(str(t["name"]), [str(c) for c in t["columns"]], int(t["rows"]),
                         str(t["sha256"]))
            for t in raw["tables"]]
        summary = BackupSummary(str(raw["schema_revision"]), str(raw["app_version"]),
                                str(raw["created_at"]), table_summaries)
        cycles = {str(k): str(v) for k, v in dict(raw["cycle_content_hashes"]).items()}
    except (KeyError, TypeError, ValueError):
        raise bad from None
    if summary.schema_revision != head_revision():
        raise BackupError(
            f"{name} is at schema revision {summary.schema_revision}; this version of survey "
            f"restores revision {head_revision()} (restore with the version that wrote it, "
            "then upgrade with `survey init`)")
    known = {t.name: [c.name for c in t.columns] for t in tables()}
    archived = {t.name: t.columns for t in table_summaries}
    if archived != known:
        raise BackupError(f"{name} does not hold the tables and columns of revision "
                          f"{summary.schema_revision}")
    return summary, cycles


def database_rows(connection: Connection) -> str | None:
    """The name of the first application table that holds a row, or None."""
    inspector = inspect(connection)
    for table in tables():
        if inspector.has_table(table.name) and connection.execute(
                select(text("1")).select_from(table).limit(1)).first():
            return table.name
    return None


def restore_backup(engine: Engine, path: Path, actor: str | None = None) -> BackupSummary:
    """Load an archive into an empty database, verified before commit; raise BackupError."""
    summary, cycles = read_manifest(path)
    with engine.connect() as connection:
        occupied = database_rows(connection)
        connection.rollback()
    if occupied:
        raise BackupError(f"the database is not empty (table {occupied} has rows): restore "
                          "only into a new, empty database (do not run `survey init` first)")
    try:
        upgrade(engine)
    except SQLAlchemyError as exc:
        raise BackupError(f"cannot prepare the database: {_first_line(exc)}") from None
    connection = engine.connect().execution_options(sqlite_begin="IMMEDIATE")
    try:
        with connection.begin():
            occupied = database_rows(connection)
            if occupied:
                raise BackupError(f"the database is not empty (table {occupied} has rows)")
            with zipfile.ZipFile(path) as archive:
                for table in tables():
                    with archive.open(f"tables/{table.name}.jsonl") as member:
                        _load_table(connection, table, member)
            _reset_sequences(connection)
            _verify(connection, summary, cycles)
            session = Session(bind=connection)
            audit.record(session, "backup.restore", path.name, actor=actor or audit.cli_actor(),
                         rows=summary.rows, schema_revision=summary.schema_revision,
                         written_at=summary.created_at)
            session.close()
    except BackupError:
        raise
    except (SQLAlchemyError, ValueError, TypeError, zipfile.BadZipFile, zlib.error,
            OSError) as exc:
        raise BackupError(f"restore rolled back: {_first_line(exc)}") from None
    finally:
        connection.close()
    return summary


def _load_table(connection: Connection, table: Table, member: IO[bytes]) -> None:
    """Insert a table's rows in chunks; self-references are set after every row exists."""
    columns = list(table.columns)
    self_refs = [c for c in columns
                 if any(fk.column.table is table for fk in c.foreign_keys)]
    later: list[dict[str, Any]] = []
    chunk: list[dict[str, Any]] = []
    for number, line in enumerate(member, start=1):
        values = json.loads(line)
        if not isinstance(values, list) or len(values) != len(columns):
            raise BackupError(f"table {table.name}, line {number}: not a row of "
                              f"{len(columns)} values")
        try:
            row = {c.name: decode_value(c, v) for c, v in zip(columns, values, strict=True)}
        except (TypeError, ValueError) as exc:
            raise BackupError(f"table {table.name}, line {number}: {exc}") from None
        for column in self_refs:
            if row[column.name] is not None:
                later.append({"pk": row[_pk(table).name], "col": column.name,
                              "value": row[column.name]})
                row[column.name] = None
        chunk.append(row)
        if len(chunk) >= CHUNK_ROWS:
            connection.execute(table.insert(), chunk)
            chunk = []
    if chunk:
        connection.execute(table.insert(), chunk)
    for column in self_refs:
        updates = [{"b_pk": u["pk"], "b_value": u["value"]} for u in later
                   if u["col"] == column.name]
        if updates:
            statement = (table.update().where(_pk(table) == bindparam("b_pk"))
                         .values({column.name: bindparam("b_value")}))
            connection.execute(statement, updates)


def _pk(table: Table) -> Column[Any]:
    (column,) = table.primary_key.columns
    return column


def _reset_sequences(connection: Connection) -> None:
    """After explicit ids, PostgreSQL's sequences continue from each table's largest id."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables():
        column = _pk(table).name
        connection.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "
            f"COALESCE(MAX({column}), 1), MAX({column}) IS NOT NULL) FROM {table.name}"))


def _verify(connection: Connection, summary: BackupSummary, cycles: dict[str, str]) -> None:
    """Counts and content hashes recomputed from the database against the manifest."""
    by_name = {t.name: t for t in summary.tables}
    for table in tables():
        digest = hashlib.sha256()
        rows = 0
        for line in table_lines(connection, table):
            digest.update(line)
            rows += 1
        expected = by_name[table.name]
        if rows != expected.rows or digest.hexdigest() != expected.sha256:
            raise BackupError(f"restore rolled back: table {table.name} reads back differently "
                              f"({rows} rows, {expected.rows} in the archive)")
    cycle_table = Base.metadata.tables["cycles"]
    restored = dict(connection.execute(select(cycle_table.c.name, cycle_table.c.content)).all())
    if set(restored) != set(cycles):
        raise BackupError("restore rolled back: the cycles differ from the archive's manifest")
    for name, content in restored.items():
        if content_hash(content) != cycles[name]:
            raise BackupError(f"restore rolled back: cycle {name}'s questionnaire content does "
                              "not match its hash")


def _first_line(exc: BaseException) -> str:
    message = str(getattr(exc, "orig", None) or exc).strip()
    return message.splitlines()[0] if message else type(exc).__name__
