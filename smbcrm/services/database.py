"""Opening a database: apply the shipped migrations (after a backup), report its state.

The schema is created and upgraded only here, by Alembic — never by ``create_all``.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, select
from sqlalchemy.exc import DBAPIError, OperationalError

from smbcrm.models import Database, Setting, User
from smbcrm.models.db import sqlite_path
from smbcrm.models.settings import COMPANY_NAME, DEMO_COMPANY
from smbcrm.errors import DatabaseError

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


def upgrade(db: Database) -> Path | None:
    """Bring the schema to the shipped head. Returns the backup taken first, if any."""
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
    backup: Path | None = None
    path = sqlite_path(db.url)
    if path is not None and path.exists() and current is not None:
        backup = _automatic_backup(db, current)
    try:
        with db.engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
    except (OperationalError, DBAPIError) as exc:
        raise DatabaseError(_unreadable(db, exc)) from exc
    db.forget_cached_settings()
    return backup


def downgrade(db: Database, revision: str) -> None:
    with db.engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)
    db.forget_cached_settings()


def open_database(location: str | os.PathLike[str] | None) -> Database:
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
    upgrade(db)
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
