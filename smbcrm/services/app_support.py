"""Use cases the desktop app needs around opening books: the demo file, remembered choices.

No Qt here: the app's start-up screens call these, and tests call them directly.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from smbcrm.errors import DatabaseError
from smbcrm.models import Database, User
from smbcrm.models.db import data_dir, sqlite_path
from smbcrm.services import auth
from smbcrm.services import database as dbsvc
from smbcrm.services.permissions import ROLE_LABELS
from smbcrm.services.preferences import Preferences
from smbcrm.services.progress import Progress

if TYPE_CHECKING:
    from smbcrm.services.demo import DemoSummary

DEMO_FILE_NAME = "demo.db"
_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def demo_database_path() -> Path:
    """The demo company lives in its own file, so the real book stays clean."""
    return data_dir() / DEMO_FILE_NAME


def remove_sqlite_files(path: Path) -> None:
    """Delete an SQLite file and its side files (WAL, shared memory, rollback journal)."""
    for suffix in ("", *_SQLITE_SIDE_FILES):
        Path(str(path) + suffix).unlink(missing_ok=True)


def build_demo_database(
    target: Path,
    *,
    customers: int = 2000,
    orders: int = 20000,
    progress: Progress | None = None,
) -> DemoSummary:
    """Create the demo company in a new file at ``target``, all or nothing.

    It is built under a temporary name and renamed only when complete, so a cancelled or
    failed build leaves no file behind and a half-built demo is never opened.
    """
    from smbcrm.services.demo import create_demo_company

    building = target.with_name(f"{target.stem}-building{target.suffix}")
    remove_sqlite_files(building)
    db = dbsvc.open_database(building)
    try:
        summary = create_demo_company(db, customers=customers, orders=orders, progress=progress)
        with db.engine.connect() as connection:
            # Fold the WAL into the main file so the one file can be renamed.
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    except BaseException:
        db.dispose()
        remove_sqlite_files(building)
        raise
    db.dispose()
    try:
        remove_sqlite_files(target)
        for suffix in _SQLITE_SIDE_FILES:
            Path(str(building) + suffix).unlink(missing_ok=True)
        os.replace(building, target)
    except OSError as exc:
        remove_sqlite_files(building)
        raise DatabaseError(
            f"Could not save the demo company as {target}: {exc.strerror or exc}. "
            "Close any other smbcrm window using the demo and try again."
        ) from exc
    return summary


def sign_in_demo_owner(db: Database) -> User:
    """Sign the demo's owner in with the published demo password."""
    from smbcrm.services.demo import DEMO_OWNER_LOGIN, DEMO_PASSWORD

    with db.session() as session:
        return auth.sign_in(session, DEMO_OWNER_LOGIN, DEMO_PASSWORD)


@dataclass(frozen=True)
class DemoLogin:
    login: str
    full_name: str
    role: str


def demo_logins(db: Database) -> list[DemoLogin]:
    """Everyone who can sign in to the demo (active staff), owners first."""
    with db.new_session() as session:
        rows = auth.list_staff(session, include_inactive=False)
    order = list(ROLE_LABELS)
    rows.sort(key=lambda r: (order.index(r.role), r.full_name))
    return [DemoLogin(r.login, r.full_name, ROLE_LABELS[r.role]) for r in rows]


def database_key(db: Database) -> str:
    """How a database is remembered: its file path, or its server URL without password."""
    path = sqlite_path(db.url)
    if path is not None:
        return str(path)
    return db.url.render_as_string(hide_password=True)


def remember_sign_in(db: Database, login: str, prefs: Preferences | None = None) -> None:
    """Next start opens this database with this login pre-filled."""
    prefs = prefs or Preferences.load()
    key = database_key(db)
    prefs.last_database = key if sqlite_path(db.url) is not None else _url_for_reopen(db)
    prefs.last_login[key] = login
    # Preferences are a convenience; failing to save them must not stop the app.
    with contextlib.suppress(OSError):
        prefs.save()


def _url_for_reopen(db: Database) -> str:
    # The password is never written to the preferences file; PostgreSQL reads it from
    # PGPASSWORD or ~/.pgpass when the URL has none.
    return db.url.render_as_string(hide_password=True).replace(":***@", "@")


def remembered_database(prefs: Preferences | None = None) -> str | None:
    """The book opened last time, if it is still there.

    A remembered file that has been moved or deleted is forgotten rather than silently
    re-created empty at the old place (which would look like all the data had vanished).
    """
    prefs = prefs or Preferences.load()
    location = prefs.last_database
    if not location:
        return None
    if "://" not in location and not Path(location).exists():
        return None
    return location


def last_login(db: Database, prefs: Preferences | None = None) -> str | None:
    prefs = prefs or Preferences.load()
    return prefs.last_login.get(database_key(db))
