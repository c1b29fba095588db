"""``smbcrm merge`` as automation runs it: real processes on a demo database and on a book
made by importing a spreadsheet, checked by reading the database file back."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import xlsxwriter

from tests.e2e.test_cli import smbcrm

# Every table a merge moves rows of, with the column naming the customer.
MOVED = {
    "orders": "customer_id",
    "contacts": "customer_id",
    "contact_points": "customer_id",
    "external_ids": "customer_id",
    "activities": "customer_id",
    "follow_ups": "customer_id",
    "assignment_changes": "customer_id",
    "conversions": "customer_id",
    "customer_tags": "customer_id",
    "customer_team": "customer_id",
}
SKIPPED = {"version", "updated_at"}


def _picture(path: str, ids: list[int]) -> dict[str, Any]:
    """Every row around the customers, without the columns that move on with any write."""
    marks = ",".join("?" for _ in ids)
    found: dict[str, Any] = {}
    with sqlite3.connect(path) as db:
        for table, column in {**MOVED, "customers": "id"}.items():
            cursor = db.execute(f"SELECT * FROM {table} WHERE {column} IN ({marks})", ids)
            names = [d[0] for d in cursor.description]
            found[table] = sorted(
                (
                    {k: v for k, v in zip(names, row, strict=True) if k not in SKIPPED}
                    for row in cursor.fetchall()
                ),
                key=lambda row: (row.get("id") or 0, repr(row)),
            )
    return found


def _query(path: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(sql, args).fetchall()


def test_three_way_merge_and_undo_on_the_demo_company(tmp_path: Path) -> None:
    path = str(tmp_path / "demo.db")
    made = smbcrm("--db", path, "demo", "--customers", "120", "--orders", "800")
    assert made.returncode == 0, made.stderr
    # Three customers with orders and contacts, so there is something to move.
    ids = [
        cid
        for (cid,) in _query(
            path,
            "SELECT c.id FROM customers c WHERE c.merged_into_id IS NULL AND c.archived_at IS NULL "
            "AND EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id) "
            "AND EXISTS (SELECT 1 FROM contacts k WHERE k.customer_id = c.id) "
            "ORDER BY c.id LIMIT 3",
        )
    ]
    assert len(ids) == 3
    survivor, *others = ids
    before = _picture(path, ids)
    orders = len(before["orders"])
    own_orders = _query(path, "SELECT count(*) FROM orders WHERE customer_id = ?", survivor)[0][0]

    dry = smbcrm("--db", path, "merge", *map(str, ids), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "Dry run" in dry.stdout and "Name" in dry.stdout and "Would move:" in dry.stdout
    assert _query(path, "SELECT count(*) FROM merges") == [(0,)]

    merged = smbcrm("--db", path, "merge", *map(str, ids), "--keep", f"name={others[0]}")
    assert merged.returncode == 0, merged.stderr
    found = re.search(r"Merge (\d+):", merged.stdout)
    assert found, merged.stdout
    merge_id = found.group(1)
    assert f"smbcrm merge undo {merge_id}" in merged.stdout
    assert f"Moved to it: {orders - own_orders} order" in merged.stdout
    assert _query(path, "SELECT count(*) FROM orders WHERE customer_id = ?", survivor) == [
        (orders,)
    ]
    assert _query(
        path, "SELECT id, merged_into_id FROM customers WHERE id IN (?, ?) ORDER BY id", *others
    ) == [(others[0], survivor), (others[1], survivor)]
    name_kept = _query(path, "SELECT name FROM customers WHERE id = ?", others[0])[0][0]
    assert _query(path, "SELECT name FROM customers WHERE id = ?", survivor) == [(name_kept,)]

    listed = smbcrm("--db", path, "merge", "list", "--customer", str(others[1]))
    assert listed.returncode == 0, listed.stderr
    assert re.search(rf"^\s*{merge_id}\s", listed.stdout, re.M) and "merged" in listed.stdout

    undone = smbcrm("--db", path, "merge", "undo", merge_id)
    assert undone.returncode == 0, undone.stderr + undone.stdout
    assert f"Undid merge {merge_id}" in undone.stdout
    assert _picture(path, ids) == before
    again = smbcrm("--db", path, "merge", "undo", merge_id)
    assert again.returncode == 1 and "already undone" in again.stderr


def _xlsx(path: Path, rows: list[list[str]]) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("客户")
    for r, row in enumerate([["客户编号", "客户名称", "手机", "城市", "联系人"], *rows]):
        for col, value in enumerate(row):
            sheet.write_string(r, col, value)
    workbook.close()
    return path


def test_undo_after_a_later_import_asks_then_takes_the_answer(tmp_path: Path) -> None:
    path = str(tmp_path / "book.db")
    made = smbcrm(
        "--db", path, "init", "--company", "华信商贸", "--owner", "boss", password="owner-pass-1"
    )
    assert made.returncode == 0, made.stderr
    first = _xlsx(
        tmp_path / "客户.xlsx",
        [
            ["K001", "东方商行", "13700000001", "上海", "赵敏"],
            ["K002", "东方商行浦东店", "13700000002", "杭州", "周芷若"],
            ["K003", "Orient Trading", "13700000003", "苏州", "Tom"],
        ],
    )
    imported = smbcrm("--db", path, "import", str(first))
    assert imported.returncode == 0, imported.stderr
    ids = [cid for (cid,) in _query(path, "SELECT id FROM customers ORDER BY id")]
    assert len(ids) == 3
    before = _picture(path, ids)

    refused = smbcrm("--db", path, "merge", str(ids[0]), "--keep", "city=1")
    assert refused.returncode == 1 and "at least one" in refused.stderr
    merged = smbcrm(
        "--db",
        path,
        "merge",
        *map(str, ids),
        "--keep",
        f"city={ids[1]}",
        "--keep",
        f"name={ids[0]}",
    )
    assert merged.returncode == 0, merged.stderr
    merge_id = re.search(r"Merge (\d+):", merged.stdout).group(1)  # type: ignore[union-attr]
    assert _query(path, "SELECT city FROM customers WHERE id = ?", ids[0]) == [("杭州",)]
    # Searching the old name finds the survivor.
    assert _query(path, "SELECT merged_into_id FROM customers WHERE name = 'Orient Trading'") == [
        (ids[0],)
    ]

    # The next export from the accounting system: K003's code now leads to the survivor.
    later = _xlsx(tmp_path / "later.xlsx", [["K003", "东方商行", "13700000009", "南京", "张无忌"]])
    again = smbcrm("--db", path, "import", str(later))
    assert again.returncode == 0, again.stderr
    assert _query(path, "SELECT city FROM customers WHERE id = ?", ids[0]) == [("南京",)]

    asked = smbcrm("--db", path, "merge", "undo", merge_id)
    assert asked.returncode == 1
    assert "City was changed to “南京” after the merge" in asked.stdout
    assert "--answer city=keep" in asked.stdout and "--answer city=restore" in asked.stdout
    assert "nothing was changed" in asked.stderr
    assert _query(path, "SELECT count(*) FROM customers WHERE merged_into_id IS NOT NULL") == [(2,)]

    undone = smbcrm("--db", path, "merge", "undo", merge_id, "--answer", "city=restore")
    assert undone.returncode == 0, undone.stderr + undone.stdout
    after = _picture(path, ids)
    assert after["customers"][1:] == before["customers"][1:]  # the absorbed, exactly
    survivor_before, survivor_after = before["customers"][0], after["customers"][0]
    for column in ("name", "city", "owner_id", "status", "notes", "merged_into_id"):
        assert survivor_after[column] == survivor_before[column], column
    # What moved went back; the contact and phone the later import added stay with the
    # survivor.
    for table in ("orders", "external_ids", "customer_tags"):
        assert after[table] == before[table], table
    assert len(after["contacts"]) == len(before["contacts"]) + 1
    assert ("张无忌",) in _query(path, "SELECT name FROM contacts WHERE customer_id = ?", ids[0])
