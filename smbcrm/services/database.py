"""Opening a database: apply the shipped migrations (after a backup), report its state.

The schema is created and upgraded only here, by Alembic — never by ``create_all``.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, select
from sqlalchemy.exc import DBAPIError, OperationalError

from smbcrm.errors import DatabaseError
from smbcrm.models import Database, Setting, User
from smbcrm.models.db import sqlite_path
from smbcrm.models.settings import COMPANY_NAME, DEMO_COMPANY

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
BACKUPS_KEPT = 5


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:  # pragma: no cover - a packaging mistake, caught by the test suite
        raise DatabaseError(f"The shipped migrations have {len(heads)} heads; expected one.")
    return heads[0]


def current_revision(db: Database) -> str | None:
    try:
        with db.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except (OperationalError, DBAPIError) as exc:
        raise DatabaseError(_unreadable(db, exc)) from exc


def _unreadable(db: Database, exc: Exception) -> str:
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
    if db.is_sqlite:
        return (
            f"Cannot open the database file {db.display_name}: {reason}. "
            "Check that it is an smbcrm database and that you may read and write it."
        )
    return (
        f"Cannot reach the team database {db.display_name}: {reason}. "
        "Check the server address, user name and password, and that the server is running."
    )


def backup_sqlite(db: Database, destination: Path) -> Path:
    """A consistent copy of a live SQLite file, taken with SQLite's online backup API."""
    source = sqlite_path(db.url)
    if source is None:
        raise DatabaseError(
            "Backups of a team (PostgreSQL) database are made on the server with pg_dump; "
            "ask whoever runs the server."
        )
    if not source.exists():
        raise DatabaseError(f"There is no database file at {source} to back up.")
    destination = destination.expanduser().resolve()
    if destination == source:
        raise DatabaseError("Choose a backup file other than the database itself.")
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = destination.with_name(destination.name + ".part")
    try:
        with sqlite3.connect(source) as src, sqlite3.connect(tmp) as dst:
            src.backup(dst)
            # A backup is one self-contained file, not a WAL database with side files.
            dst.execute("PRAGMA journal_mode=DELETE")
        dst.close()
        os.replace(tmp, destination)
    except sqlite3.Error as exc:
        tmp.unlink(missing_ok=True)
        raise DatabaseError(f"Could not back up {source} to {destination}: {exc}.") from exc
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DatabaseError(
            f"Could not write the backup {destination}: {exc.strerror or exc}. "
            "Choose a folder you can write to with enough free space."
        ) from exc
    return destination


def backup_folder(db: Database) -> Path:
    source = sqlite_path(db.url)
    assert source is not None
    return source.parent / "backups"


def _automatic_backup(db: Database, revision: str | None) -> Path:
    source = sqlite_path(db.url)
    assert source is not None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    folder = backup_folder(db)
    target = folder / f"{source.stem}-before-upgrade-{revision or 'empty'}-{stamp}{source.suffix}"
    backup_sqlite(db, target)
    backups = sorted(folder.glob(f"{source.stem}-before-upgrade-*{source.suffix}"))
    for old in backups[:-BACKUPS_KEPT]:
        old.unlink(missing_ok=True)
    return target


def upgrade(db: Database, before: Callable[[], None] | None = None) -> Path | None:
    """Bring the schema to the shipped head. Returns the backup taken first, if any.

    ``before`` is called once an existing book is known to need upgrading, before the
    backup: rebuilding a large book's tables can take a minute, and the person should know.
    """
    current = current_revision(db)
    head = head_revision()
    if current == head:
        return None
    known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if current is not None and current not in known:
        raise DatabaseError(
            f"The database {db.display_name} was written by a newer smbcrm (schema {current}). "
            "Install the newer version of smbcrm to open it."
        )
    if before is not None and current is not None:
        before()
    backup: Path | None = None
    path = sqlite_path(db.url)
    if path is not None and path.exists() and current is not None:
        backup = _automatic_backup(db, current)
    try:
        with _schema_change(db) as connection:
            command.upgrade(alembic_config(connection), "head")
    except (OperationalError, DBAPIError) as exc:
        raise DatabaseError(_unreadable(db, exc)) from exc
    if db.is_sqlite:
        # Rebuilt tables went through the write-ahead log: give that space back now rather
        # than keep the log at its largest for as long as smbcrm runs.
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.forget_cached_settings()
    return backup


def downgrade(db: Database, revision: str) -> None:
    with _schema_change(db) as connection:
        command.downgrade(alembic_config(connection), revision)
    db.forget_cached_settings()


@contextmanager
def _schema_change(db: Database) -> Iterator[Connection]:
    """A connection to migrate on, in one transaction: all of the migrations or none.

    On SQLite, foreign keys are off meanwhile: a migration that rebuilds a table drops the
    old copy, and with them on SQLite would first delete its rows, cascading to every table
    that points at it. They are checked before committing instead.
    """
    with db.engine.connect() as connection:
        if not db.is_sqlite:
            with connection.begin():
                yield connection
            return
        # The pragma is ignored inside a transaction, so it goes first, on its own.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
        try:
            with connection.begin():
                # The driver would start the transaction only at the first row written,
                # leaving earlier schema changes outside it.
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                yield connection
                broken = _broken_references(connection)
                if broken:
                    broken -= _broken_before(db)
                if broken:
                    tables = ", ".join(sorted({table for table, _row, _parent in broken}))
                    raise DatabaseError(
                        f"Upgrading {db.display_name} would leave records in {tables} "
                        "pointing at records that no longer exist, so nothing was changed. "
                        "Keep using the file as it is with the previous smbcrm and report "
                        "this problem to whoever supports smbcrm for you."
                    )
        finally:
            if not connection.invalidated:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def _broken_before(db: Database) -> set[tuple[str, int | None, str]]:
    """Rows already pointing nowhere before the migrations: they do not stop an upgrade.

    Read on a second connection, which still sees the file as last committed (WAL); only
    asked for when the migrated schema has such rows, since the check reads every table.
    """
    path = sqlite_path(db.url)
    if path is None:
        return set()
    with closing(sqlite3.connect(path)) as before:
        rows = before.execute("PRAGMA foreign_key_check").fetchall()
    return {(str(row[0]), row[1], str(row[2])) for row in rows}


def _broken_references(connection: Connection) -> set[tuple[str, int | None, str]]:
    """(table, row id, table it points at) of every row whose foreign key finds no record."""
    rows = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    return {(str(row[0]), row[1], str(row[2])) for row in rows}


def open_database(
    location: str | os.PathLike[str] | None, *, before_upgrade: Callable[[], None] | None = None
) -> Database:
    """Open (creating if needed) and upgrade the database the user pointed at."""
    db = Database.open(location)
    path = sqlite_path(db.url)
    if path is not None and path.exists() and path.stat().st_size > 0:
        with open(path, "rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                raise DatabaseError(
                    f"{path} is not an smbcrm database (not an SQLite file). "
                    "Choose another file, or a new file name to start a new database."
                )
    upgrade(db, before_upgrade)
    return db


def has_company(db: Database) -> bool:
    """True once a company (and its first owner) has been set up in this database."""
    if "users" not in inspect(db.engine).get_table_names():
        return False
    with db.new_session() as session:
        name = session.scalar(select(Setting.value).where(Setting.key == COMPANY_NAME))
        anyone = session.scalar(select(User.id).limit(1))
    return bool(name) and anyone is not None


def company_name(db: Database) -> str | None:
    with db.new_session() as session:
        value = session.scalar(select(Setting.value).where(Setting.key == COMPANY_NAME))
    return str(value) if value else None


def is_demo(db: Database) -> bool:
    with db.new_session() as session:
        return bool(session.scalar(select(Setting.value).where(Setting.key == DEMO_COMPANY)))
