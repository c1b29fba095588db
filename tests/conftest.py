"""Shared fixtures: a migrated database on SQLite and on a real PostgreSQL, and factories.

Each test gets a fresh database copied from a template migrated once per run, so every
storage test runs on both engines without paying for migrations each time.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from smbcrm.models import Database, Role, User
from smbcrm.services import auth
from smbcrm.services.database import upgrade

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

OWNER_PASSWORD = "owner-secret-1"
_counter = itertools.count(1)


@pytest.fixture(autouse=True)
def _isolated_data_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test touches the real per-user data or settings folders."""
    base = tmp_path_factory.mktemp("userdata")
    monkeypatch.setenv("SMBCRM_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("SMBCRM_CONFIG_DIR", str(base / "config"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database.open(path)
    upgrade(db)
    with db.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    import pgserver

    folder = tmp_path_factory.mktemp("pg")
    server = pgserver.get_server(str(folder), cleanup_mode="stop")
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def pg_template(pg_server: Any) -> str:
    base_url = make_url(pg_server.get_uri()).set(drivername="postgresql+psycopg")
    admin = Database(base_url)
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("DROP DATABASE IF EXISTS smbcrm_template"))
        c.execute(text("CREATE DATABASE smbcrm_template"))
    admin.dispose()
    template = Database(base_url.set(database="smbcrm_template"))
    upgrade(template)
    template.dispose()
    return base_url.render_as_string(hide_password=False)


def _new_pg_database(base: str) -> Database:
    base_url = make_url(base)
    name = f"smbcrm_test_{os.getpid()}_{next(_counter)}"
    admin = Database(base_url)
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE smbcrm_template'))
    admin.dispose()
    return Database(base_url.set(database=name))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A freshly migrated, empty database on each engine."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "smbcrm.db"
        shutil.copyfile(template, path)
        database = Database.open(path)
    else:
        database = _new_pg_database(request.getfixturevalue("pg_template"))
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    """SQLite only: for tests about the file itself (WAL, backups) or the GUI."""
    path = tmp_path / "smbcrm.db"
    shutil.copyfile(sqlite_template, path)
    database = Database.open(path)
    yield database
    database.dispose()


@pytest.fixture
def company(db: Database) -> Database:
    auth.create_company(db, "Acme Trading", "boss", "Wang Fang", OWNER_PASSWORD)
    return db


@pytest.fixture
def owner(company: Database) -> User:
    with company.new_session() as session:
        return auth.find_user(session, "boss")


def add_user(db: Database, login: str, role: Role = Role.SALES, name: str | None = None) -> User:
    with db.session() as session:
        actor = auth.find_user(session, "boss")
        return auth.add_staff(
            session,
            actor,
            login=login,
            full_name=name or login.title(),
            role=role,
            password="password-" + login,
        )
