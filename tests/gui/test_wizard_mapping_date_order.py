"""The import wizard keeps how a source system writes dates with its saved mapping: a
bookkeeper says "day first" once, and next month's export is read that way again."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QInputDialog
from pytestqt.qtbot import QtBot

from smbcrm.models import ImportKind
from smbcrm.services.importing.mapping import auto_map, save_mapping
from smbcrm.services.importing.orders import OrderImportPlan
from smbcrm.ui.context import AppContext
from tests.gui.test_import_orders_wizard import orders_csv
from tests.gui.test_import_wizard import open_wizard, to_mapping, to_preview

DAY_FIRST = "Day first (25.03.2026)"
MONTH_FIRST = "Month first (03.25.2026)"
FROM_FILE = "Decide from the file"


def _orders(path: Path, dates: list[str]) -> Path:
    """An accounting export whose dates all read both ways (05.03.2026)."""
    return orders_csv(
        path,
        [
            [f"SO-{path.stem}-{i}", day, "", "宁波贸易", "", "", "100", "", "", ""]
            for i, day in enumerate(dates)
        ],
    )


def _user_picks(qtbot: QtBot, combo: QComboBox, text: str) -> None:
    """As with the keyboard: the combo is focused and stepped to the item."""
    combo.setFocus()
    target = combo.findText(text)
    assert target >= 0, text
    key = Qt.Key.Key_Down if target > combo.currentIndex() else Qt.Key.Key_Up
    while combo.currentIndex() != target:
        qtbot.keyClick(combo, key)


def test_the_day_first_order_saved_with_a_mapping_reads_next_months_file(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    march = open_wizard(qtbot, ctx, _orders(tmp_path / "2026-03.csv", ["05.03.2026", "09.03.2026"]))
    to_mapping(qtbot, march)
    page = march.mapping_page
    assert page.date_order_combo.currentText() == FROM_FILE
    _user_picks(qtbot, page.date_order_combo, DAY_FIRST)
    monkeypatch.setattr(
        QInputDialog, "getText", staticmethod(lambda *_a, **_k: ("Kingdee monthly", True))
    )
    page.save_mapping_button.click()
    assert "Kingdee monthly" in page.message_label.text()
    march.reject()

    april = open_wizard(qtbot, ctx, _orders(tmp_path / "2026-04.csv", ["02.04.2026", "07.04.2026"]))
    to_mapping(qtbot, april)
    assert "Kingdee monthly" in april.mapping_page.banner.text()
    assert april.mapping_page.date_order_combo.currentText() == DAY_FIRST
    plan = to_preview(qtbot, april)
    assert isinstance(plan, OrderImportPlan)
    assert [o.order_date for o in plan.orders] == [date(2026, 4, 2), date(2026, 4, 7)]
    assert not any(r.warnings for r in plan.rows)  # nothing left to decide, nothing to warn of


def test_the_persons_own_choice_of_order_outlasts_a_mapping_chosen_later(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path
) -> None:
    header = ["客户名称", "生日"]
    for name, day_first in (("US list", False), ("EU list", True)):
        mapping = auto_map(header, ImportKind.CUSTOMERS)
        mapping.day_first = day_first
        with ctx.db.session() as session:
            save_mapping(session, None, name, header + ([name] if day_first else []), mapping)
    path = tmp_path / "生日.csv"
    path.write_text("客户名称,生日\n张伟,01.11.1990\n王芳,05.04.1992\n", encoding="utf-8")
    wizard = open_wizard(qtbot, ctx, path)
    to_mapping(qtbot, wizard)
    page = wizard.mapping_page
    dates, saved = page.date_order_combo, page.saved_combo
    # Found by its headers, the US list's mapping brings its order along…
    assert saved.currentText() == "Saved: US list" and dates.currentText() == MONTH_FIRST
    # …and so does another one chosen by name; going back to automatic leaves it to the file.
    _user_picks(qtbot, saved, "Saved: EU list")
    assert dates.currentText() == DAY_FIRST
    _user_picks(qtbot, saved, "Automatic (from the column names)")
    assert dates.currentText() == FROM_FILE

    # Once the person says how dates are read, choosing a mapping does not overrule them.
    _user_picks(qtbot, dates, MONTH_FIRST)
    _user_picks(qtbot, saved, "Saved: EU list")
    assert dates.currentText() == MONTH_FIRST
    assert page.options(ctx.region).day_first is False
    plan = to_preview(qtbot, wizard)
    assert [r.values.scalars["birthday"] for r in plan.rows] == [
        date(1990, 1, 11),
        date(1992, 5, 4),
    ]
