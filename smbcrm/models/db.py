"""Engine and session factory for the SQLite file (default) or a PostgreSQL team server."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.orm import Session, sessionmaker

from smbcrm.errors import DatabaseError
from smbcrm.models.keys import DEFAULT_REGION

APP_NAME = "smbcrm"


def data_dir() -> Path:
    """Per-user data folder (e.g. %LOCALAPPDATA%\\smbcrm, ~/Library/Application Support/smbcrm)."""
    override = os.environ.get("SMBCRM_DATA_DIR")
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_database_path() -> Path:
    return data_dir() / "smbcrm.db"


def resolve_url(db: str | os.PathLike[str] | None) -> URL:
    """`--db` as given: None → the per-user file, a path → SQLite file, postgresql://… → server."""
    if db is None:
        return URL.create("sqlite+pysqlite", database=str(default_database_path()))
    text = os.fspath(db)
    if "://" in text:
        url = make_url(text)
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        return url
    return URL.create("sqlite+pysqlite", database=str(Path(text).expanduser().resolve()))


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def sqlite_path(url: URL) -> Path | None:
    if is_sqlite(url) and url.database and url.database != ":memory:":
        return Path(url.database)
    return None


def as_date(value: Any) -> date | None:
    """A date as a driver or an aggregate returns it: SQLite gives text ("2026-03-05"),
    PostgreSQL a date, a timestamp column a datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def driver_rows(source: Session | Connection, sql: str) -> Iterator[tuple[Any, ...]]:
    """Rows of a plain SELECT as the database driver returns them, fetched in chunks.

    At 100,000 rows SQLAlchemy's per-value result processing costs more than the query;
    callers convert the few typed columns themselves. Only for SQL a service writes itself
    (the only values in it are ids it read).
    """
    connection = source.connection() if isinstance(source, Session) else source
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(5000):
            yield from rows
    finally:
        cursor.close()


# How long a write waits while another desktop process (or a backup) holds the write lock.
BUSY_TIMEOUT_MS = 10_000


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


DATABASE_BUSY = (
    "The database is busy: another smbcrm window or a backup is writing to it. "
    "Try again in a moment."
)


def _on_sqlite_error(context: ExceptionContext) -> None:
    """The write lock still taken after the busy timeout: a message instead of the raw SQL.

    Raised here, every caller (command line, windows, migrations) says the same; the unit
    of work it interrupted is rolled back as for any other error.
    """
    error = context.original_exception
    if (
        isinstance(error, sqlite3.OperationalError)
        and getattr(error, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY
    ):
        raise DatabaseError(DATABASE_BUSY) from error


def make_engine(url: URL, **kwargs: Any) -> Engine:
    if is_sqlite(url):
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "handle_error", _on_sqlite_error)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


class Database:
    """One database (file or server): engine plus sessions that know who is acting."""

    def __init__(self, url: URL, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine or make_engine(url)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)
        self._default_region: str | None = None

    @classmethod
    def open(cls, db: str | os.PathLike[str] | None) -> Database:
        return cls(resolve_url(db))

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @property
    def display_name(self) -> str:
        path = sqlite_path(self.url)
        if path is not None:
            return str(path)
        return self.url.render_as_string(hide_password=True)

    def default_region(self) -> str:
        if self._default_region is None:
            from smbcrm.models.settings import DEFAULT_REGION as REGION_KEY
            from smbcrm.models.settings import Setting

            with self._factory() as session:
                try:
                    value = session.scalar(select(Setting.value).where(Setting.key == REGION_KEY))
                except Exception:
                    value = None
            self._default_region = str(value) if value else DEFAULT_REGION
        return self._default_region

    def forget_cached_settings(self) -> None:
        self._default_region = None

    def new_session(self, user_id: int | None = None, *, audit: bool = True) -> Session:
        session = self._factory()
        session.info["user_id"] = user_id
        session.info["audit"] = audit
        session.info["default_region"] = self.default_region()
        return session

    @contextmanager
    def session(self, user_id: int | None = None, *, audit: bool = True) -> Iterator[Session]:
        """A unit of work: committed when the block ends normally, rolled back otherwise."""
        session = self.new_session(user_id, audit=audit)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
