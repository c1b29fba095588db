"""The installer: build it with PyInstaller from build_installer.spec and run what it made.

Slow (about a minute or two of PyInstaller); CI runs it. It is skipped only when
PyInstaller is not installed (it comes with the ``test`` extra).
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

import smbcrm
from smbcrm.models import Database
from smbcrm.services.database import current_revision, head_revision

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "build_installer.spec"
BUILD_TIMEOUT = 1200  # seconds; about 1-2 minutes on a 2-core machine
RUN_TIMEOUT = 180


@dataclass(frozen=True)
class Bundle:
    folder: Path  # dist/smbcrm
    executable: Path  # dist/smbcrm/smbcrm[.exe]
    internal: Path  # sys._MEIPASS inside the bundle
    seconds: float  # how long the build took


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _report(request: pytest.FixtureRequest, line: str) -> None:
    """Print a line in pytest's output even while it captures (build time and size)."""
    plugins = request.config.pluginmanager
    reporter = plugins.get_plugin("terminalreporter")
    capture = plugins.get_plugin("capturemanager")
    if reporter is None:
        return
    if capture is None:
        reporter.write_line(line)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(line)


@pytest.fixture(scope="module")
def bundle(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Bundle]:
    pytest.importorskip(
        "PyInstaller", reason="PyInstaller is not installed (pip install -e '.[test]')"
    )
    base = tmp_path_factory.mktemp("installer")
    dist, work = base / "dist", base / "build"
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--distpath",
            str(dist),
            "--workpath",
            str(work),
            str(SPEC),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    seconds = time.monotonic() - started
    assert result.returncode == 0, f"PyInstaller failed:\n{_tail(result.stderr + result.stdout)}"
    folder = dist / "smbcrm"
    executable = folder / ("smbcrm.exe" if os.name == "nt" else "smbcrm")
    assert executable.is_file(), f"no {executable.name} in {folder}"
    size_mb = _folder_size(folder) / 1e6
    _report(request, f"installer: built in {seconds:.0f} s, {size_mb:.0f} MB, {folder}")
    yield Bundle(folder, executable, folder / "_internal", seconds)


def _run_frozen(
    bundle: Bundle, args: list[str], tmp_path: Path, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        SMBCRM_DATA_DIR=str(tmp_path / "data"),
        SMBCRM_CONFIG_DIR=str(tmp_path / "config"),
        PYTHONIOENCODING="utf-8",
    )
    env.update(extra_env or {})
    for leak in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(leak, None)
    return subprocess.run(
        [str(bundle.executable), *args],
        cwd=tmp_path,  # not the repository: the bundle must not rely on the source tree
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=RUN_TIMEOUT,
    )


def test_version(bundle: Bundle, tmp_path: Path) -> None:
    result = _run_frozen(bundle, ["--version"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert smbcrm.__version__ in result.stdout.split(), result.stdout


def test_every_command_is_in_the_bundle(bundle: Bundle, tmp_path: Path) -> None:
    from smbcrm.commands import COMMAND_MODULES

    result = _run_frozen(bundle, ["--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    listed = set(re.findall(r"^    (\S+)\s", result.stdout, re.MULTILINE))
    missing = {"import", "batches", "staff", *COMMAND_MODULES} - listed
    assert not missing, f"{sorted(missing)} missing from the bundle:\n{result.stdout}"


def test_self_check(bundle: Bundle, tmp_path: Path) -> None:
    result = _run_frozen(bundle, ["self-check"], tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    last_line = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert re.search(r"\bOK\b", last_line), output


def test_init_migrates_from_the_bundled_migrations(bundle: Bundle, tmp_path: Path) -> None:
    """A new company file gets the schema from the migrations inside the bundle."""
    db_file = tmp_path / "company.db"
    result = _run_frozen(
        bundle,
        ["--db", str(db_file), "init", "--company", "Bundle Test 测试", "--owner", "boss"],
        tmp_path,
        {"SMBCRM_PASSWORD": "bundle-secret-1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with sqlite3.connect(db_file) as connection:
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision == head_revision()


@pytest.mark.postgres
def test_team_database_on_postgresql(bundle: Bundle, pg_server: Any, tmp_path: Path) -> None:
    """The bundled psycopg driver reaches a PostgreSQL server and migrates a new book."""
    base = make_url(pg_server.get_uri()).set(drivername="postgresql+psycopg")
    name = f"smbcrm_bundle_{os.getpid()}"
    admin = Database(base)
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = base.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    result = _run_frozen(
        bundle,
        ["--db", url, "init", "--company", "Team Test 团队", "--owner", "boss"],
        tmp_path,
        {"SMBCRM_PASSWORD": "bundle-secret-1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    team = Database(base.set(database=name))
    try:
        assert current_revision(team) == head_revision()
    finally:
        team.dispose()


def test_bundle_holds_migrations_and_resources(bundle: Bundle) -> None:
    migrations = ROOT / "smbcrm" / "migrations"
    shipped = [migrations / "env.py", migrations / "script.py.mako"]
    shipped += sorted((migrations / "versions").glob("*.py"))
    assert len(shipped) > 2, "no migration versions found in the source tree"
    for source in shipped:
        inside = bundle.internal / source.relative_to(ROOT)
        assert inside.is_file(), f"{inside} is missing from the bundle"

    resources = ROOT / "resources"
    assert (bundle.internal / "resources").is_dir(), "the bundle has no resources/ folder"
    for source in resources.rglob("*"):
        if source.is_file():
            inside = bundle.internal / source.relative_to(ROOT)
            assert inside.is_file(), f"{inside} is missing from the bundle"
    # The Chinese interface: smbcrm's catalog and Qt's own texts.
    for name in ("zh.json", "qtbase_zh_CN.qm"):
        inside = bundle.internal / "resources" / "i18n" / name
        assert inside.is_file(), f"{inside} is missing from the bundle"
