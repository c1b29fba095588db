"""A reader that is not ours: LibreOffice converts an export to CSV and the numbers survive."""

from __future__ import annotations

import csv
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from smbcrm.models import Database, User
from smbcrm.services.export import ExportKind, ExportOptions, export
from tests.factories import make_customer, make_order

OFFICE = shutil.which("libreoffice") or shutil.which("soffice")

pytestmark = pytest.mark.skipif(
    OFFICE is None, reason="LibreOffice (libreoffice/soffice) is not installed on this machine"
)


def _number(text: str) -> Decimal:
    # Shown as formatted: "¥1,200.50" or "-¥3.00"; keep the sign and digits.
    return Decimal("".join(ch for ch in text if ch.isdigit() or ch in ".-"))


def test_libreoffice_reads_dates_amounts_and_totals(sqlite_db: Database, tmp_path: Path) -> None:
    from smbcrm.services import auth

    owner: User = auth.create_company(sqlite_db, "Acme", "boss", "Boss", "owner-secret-1")
    with sqlite_db.session(owner.id) as s:
        a = make_customer(s, "华强电子有限公司")
        make_order(s, a, amount="1200.50", when=date(2026, 1, 5), number="SO-1")
        make_order(s, a, amount="0.10", when=date(2026, 1, 6), number="SO-2")
        make_order(s, a, amount="-3.00", when=date(2026, 1, 7), number="=SO-3")
    out = tmp_path / "out"
    out.mkdir()
    target = out / "orders.xlsx"
    export(sqlite_db, owner.id, ExportKind.ORDERS, target, ExportOptions())
    assert OFFICE is not None
    done = subprocess.run(
        [
            OFFICE,
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo-profile",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",
            "--outdir",
            str(out),
            str(target),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    with (out / "orders.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:5] == ["Order number", "Date", "Customer ID", "Customer", "Amount"]
    assert [r[0] for r in rows[1:4]] == ["SO-1", "SO-2", "=SO-3"]  # text stayed text
    assert [r[1] for r in rows[1:4]] == ["2026-01-05", "2026-01-06", "2026-01-07"]
    assert [_number(r[4]) for r in rows[1:4]] == [Decimal("1200.50"), Decimal("0.10"),
                                                  Decimal("-3.00")]  # fmt: skip
    assert rows[1][3] == "华强电子有限公司"
    assert rows[4][0] == "Total" and _number(rows[4][4]) == Decimal("1197.60")
