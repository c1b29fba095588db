"""The ``smbcrm`` command as automation uses it: real processes, real files."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from smbcrm import __version__


def smbcrm(
    *args: str, password: str | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("SMBCRM_PASSWORD", None)
    if password is not None:
        env["SMBCRM_PASSWORD"] = password
    result = subprocess.run(
        [sys.executable, "-m", "smbcrm", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def test_version() -> None:
    result = smbcrm("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"smbcrm {__version__}"


def test_init_then_staff_add_and_list(tmp_path: Path) -> None:
    db = str(tmp_path / "book.db")
    made = smbcrm(
        "--db",
        db,
        "init",
        "--company",
        "华信商贸",
        "--owner",
        "boss",
        "--name",
        "王芳",
        password="owner-pass-1",
    )
    assert made.returncode == 0, made.stderr
    assert "华信商贸" in made.stdout
    added = smbcrm(
        "--db",
        db,
        "staff",
        "add",
        "--login",
        "li.lei",
        "--name",
        "李雷",
        "--role",
        "sales",
        password="sales-pass-1",
    )
    assert added.returncode == 0, added.stderr
    listed = smbcrm("--db", db, "staff", "list")
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:4] == ["Login", "Name", "Role", "Status"]
    assert any(line.split()[:3] == ["boss", "王芳", "owner"] for line in lines)
    assert any(line.split()[:3] == ["li.lei", "李雷", "sales"] for line in lines)


def test_errors_are_one_line_with_a_non_zero_exit(tmp_path: Path) -> None:
    db = str(tmp_path / "book.db")
    no_company = smbcrm("--db", db, "staff", "list")
    assert no_company.returncode != 0
    assert no_company.stderr.count("\n") == 1 and "smbcrm init" in no_company.stderr

    no_password = smbcrm("--db", db, "init", "--company", "X", "--owner", "boss")
    assert no_password.returncode != 0
    assert "SMBCRM_PASSWORD" in no_password.stderr

    assert (
        smbcrm(
            "--db", db, "init", "--company", "X", "--owner", "boss", password="owner-pass-1"
        ).returncode
        == 0
    )
    again = smbcrm(
        "--db", db, "init", "--company", "Y", "--owner", "boss2", password="owner-pass-1"
    )
    assert again.returncode != 0 and "already holds a company" in again.stderr

    dup = smbcrm(
        "--db",
        db,
        "staff",
        "add",
        "--login",
        "BOSS",
        "--name",
        "B",
        "--role",
        "sales",
        password="pass-word-2",
    )
    assert dup.returncode != 0 and "taken" in dup.stderr and dup.stderr.count("\n") == 1

    short = smbcrm(
        "--db",
        db,
        "staff",
        "add",
        "--login",
        "amy",
        "--name",
        "Amy",
        "--role",
        "sales",
        password="short",
    )
    assert short.returncode != 0 and "at least 8" in short.stderr

    bad_role = smbcrm(
        "--db", db, "staff", "add", "--login", "amy", "--name", "Amy", "--role", "king"
    )
    assert bad_role.returncode == 2

    text_file = tmp_path / "notes.db"
    text_file.write_text("a shopping list")
    not_db = smbcrm("--db", str(text_file), "staff", "list")
    assert not_db.returncode != 0 and "not an smbcrm database" in not_db.stderr

    server = smbcrm(
        "--db",
        "postgresql://crm:pw@127.0.0.1:1/none",
        "db",
        "backup",
        "--to",
        str(tmp_path / "x.db"),
    )
    assert server.returncode != 0
    assert server.stderr.count("\n") == 1


@pytest.mark.slow
def test_demo_then_upgrade_and_backup(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    demo = smbcrm("--db", str(db), "demo", timeout=300)
    assert demo.returncode == 0, demo.stderr
    assert "2000 customers" in demo.stdout or "customers" in demo.stdout
    upgrade = smbcrm("--db", str(db), "db", "upgrade")
    assert upgrade.returncode == 0 and "up to date" in upgrade.stdout
    backup_path = tmp_path / "copies" / "demo-copy.db"
    backup = smbcrm("--db", str(db), "db", "backup", "--to", str(backup_path))
    assert backup.returncode == 0, backup.stderr
    with sqlite3.connect(db) as live:
        assert live.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert live.execute("SELECT count(*) FROM alembic_version").fetchone()[0] == 1
        customers = live.execute("SELECT count(*) FROM customers").fetchone()[0]
        orders = live.execute("SELECT count(*) FROM orders").fetchone()[0]
    assert customers >= 2000 and orders >= 20000
    with sqlite3.connect(backup_path) as copy:
        assert copy.execute("SELECT count(*) FROM customers").fetchone()[0] == customers
        assert copy.execute("SELECT count(*) FROM alembic_version").fetchone()[0] == 1
    second = smbcrm("--db", str(db), "demo")
    assert second.returncode != 0 and "already holds a company" in second.stderr


def test_import_a_gbk_csv_then_undo_it(tmp_path: Path) -> None:
    import csv

    db = str(tmp_path / "book.db")
    assert (
        smbcrm(
            "--db", db, "init", "--company", "华信", "--owner", "boss", password="owner-pass-1"
        ).returncode
        == 0
    )
    source = tmp_path / "客户名单.csv"
    with source.open("w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["客户名单（销售部）"])
        writer.writerow([])
        writer.writerow(["客户编号", "客户名称", "手机", "邮箱", "城市", "负责销售"])
        writer.writerow(
            ["A1", "深圳市华强电子有限公司", "138 0013 8000", "a@huaqiang.cn", "深圳", "王芳"]
        )
        writer.writerow(["A2", "杭州绿源茶业有限公司", "13912345678.0", "bad-mail", "杭州", ""])
        writer.writerow(["A3", "Harbor Lights Ltd", "+65 6123 4567", "", "Singapore", "Nobody"])
        writer.writerow(["合计", "3"])

    dry = smbcrm("--db", db, "import", str(source), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "header on row 3" in dry.stdout and "Would create 2" in dry.stdout
    assert "1 rows have problems" in dry.stdout

    errors = tmp_path / "problems.xlsx"
    done = smbcrm("--db", db, "import", str(source), "--errors", str(errors))
    assert done.returncode == 0, done.stderr
    assert "created    2" in done.stdout and "errors     1" in done.stdout
    assert "Unknown salesperson 'Nobody'" in done.stdout
    assert "row 5" in done.stdout and "bad-mail" in done.stdout
    batch_id = done.stdout.split("Batch ", 1)[1].split(":", 1)[0]
    from python_calamine import CalamineWorkbook

    problem_rows = CalamineWorkbook.from_path(str(errors)).get_sheet_by_index(0).to_python()
    assert problem_rows[0][-1] == "Problem" and problem_rows[1][2] == "杭州绿源茶业有限公司"

    again = smbcrm("--db", db, "import", str(source))
    assert "created    0" in again.stdout and "updated    0" in again.stdout

    listed = smbcrm("--db", db, "batches", "list")
    assert listed.returncode == 0 and "客户名单.csv" in listed.stdout
    undo = smbcrm("--db", db, "batches", "undo", batch_id)
    assert undo.returncode == 0, undo.stderr
    assert "removed 2" in undo.stdout
    with sqlite3.connect(tmp_path / "book.db") as connection:
        assert connection.execute("SELECT count(*) FROM customers").fetchone()[0] == 0
    twice = smbcrm("--db", db, "batches", "undo", batch_id)
    assert twice.returncode != 0 and "already undone" in twice.stderr


def test_import_refuses_unreadable_files_with_one_line(tmp_path: Path) -> None:
    db = str(tmp_path / "book.db")
    assert (
        smbcrm(
            "--db", db, "init", "--company", "X", "--owner", "boss", password="owner-pass-1"
        ).returncode
        == 0
    )
    fake = tmp_path / "list.xlsx"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    result = smbcrm("--db", db, "import", str(fake))
    assert result.returncode != 0 and result.stderr.count("\n") == 1
    assert "list.xlsx" in result.stderr
    missing = smbcrm("--db", db, "import", str(tmp_path / "nope.csv"))
    assert missing.returncode != 0 and "nope.csv" in missing.stderr
    no_name = tmp_path / "phones.csv"
    no_name.write_text("手机,城市\n13800138000,深圳\n", encoding="utf-8")
    refused = smbcrm("--db", db, "import", str(no_name))
    assert refused.returncode != 0 and "name" in refused.stderr


def test_import_says_what_it_left_out_and_what_it_read_one_way(tmp_path: Path) -> None:
    db = str(tmp_path / "book.db")
    made = smbcrm(
        "--db", db, "init", "--company", "华信", "--owner", "boss", password="owner-pass-1"
    )
    assert made.returncode == 0, made.stderr
    people = tmp_path / "people.csv"
    people.write_text(
        "客户名称,手机1,手机2,生日,传真,备用城市\n"
        "张伟,13800138000,13912345678,01.11.1990,0755-1234 5678,深圳\n"
        "李娜,13700001111,,05.04.1992,,\n",
        encoding="utf-8",
    )
    warning = (
        "row 2: column '生日': dates such as 01.11.1990 could be day first or month first, "
        "and every such date in the column was read month first (1990-01-11)."
    )
    unsaid = smbcrm("--db", db, "import", str(people), "--dry-run")
    assert unsaid.returncode == 0, unsaid.stderr
    assert "Columns not imported: 传真, 备用城市 (their names match no field" in unsaid.stdout
    assert warning in unsaid.stdout
    for said in ("--day-first", "--month-first"):
        result = smbcrm("--db", db, "import", str(people), "--dry-run", said)
        assert result.returncode == 0, result.stderr
        assert "could be day first or month first" not in result.stdout

    orders = tmp_path / "orders.csv"
    orders.write_text(
        "订单号,下单日期,金额,客户名称,手机\nSO-1,2024-03-05,100,深圳华强,13800138000\n",
        encoding="utf-8",
    )
    refused = smbcrm("--db", db, "import", str(orders))
    assert refused.returncode != 0
    assert "looks like orders" in refused.stderr and "(--kind customers)" in refused.stderr
    confirmed = smbcrm("--db", db, "import", str(orders), "--kind", "customers")
    assert confirmed.returncode == 0, confirmed.stderr
    assert "created    1" in confirmed.stdout
    assert "Columns not imported: 订单号, 下单日期, 金额" in confirmed.stdout
