"""The Export menu and dialog, offscreen: options, worker, result buttons, permission."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QMainWindow
from python_calamine import CalamineWorkbook

from smbcrm.models import Database, Role
from smbcrm.services import auth
from smbcrm.services.export import ExportKind
from smbcrm.ui.context import AppContext
from smbcrm.ui.export_dialog import ExportDialog
from smbcrm.ui.export_integration import install_export
from tests.factories import make_customer, make_order
from tests.gui.conftest import context_for


class _Window(QMainWindow):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[QUrl]:
    urls: list[QUrl] = []
    monkeypatch.setattr(
        "smbcrm.ui.export_dialog.QDesktopServices.openUrl", lambda url: urls.append(url) or True
    )
    return urls


def test_export_orders_then_open_file_and_folder(
    qtbot: Any, ctx: AppContext, gui_db: Database, tmp_path: Path, opened: list[QUrl]
) -> None:
    with gui_db.session(ctx.user_id) as s:
        c = make_customer(s, "华强电子有限公司")
        make_order(s, c, amount="12.30")
    dialog = ExportDialog(ctx, kind=ExportKind.ORDERS)
    qtbot.addWidget(dialog)
    dialog.whole.setChecked(True)
    assert dialog.per_line.isEnabled() and not dialog.customer.isEnabled()
    assert dialog.options().date_from is None
    target = tmp_path / "orders.xlsx"
    worker = dialog.start_export(target)
    with qtbot.waitSignal(worker.ended, timeout=20_000):
        pass
    assert worker.state == "finished"
    assert "Exported 1 row to" in dialog.done_label.text()
    rows = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
    assert rows[1][3] == "华强电子有限公司" and rows[1][4] == 12.3
    assert dialog.open_button.isVisibleTo(dialog)
    dialog.open_button.click()
    dialog.folder_button.click()
    assert [u.toLocalFile() for u in opened] == [str(target), str(tmp_path)]
    dialog.grab().save(str(_shots() / "export_dialog_done.png"))


def test_cancelled_orders_are_left_out_unless_ticked_and_the_dialog_says_so(
    qtbot: Any, ctx: AppContext, gui_db: Database, tmp_path: Path
) -> None:
    with gui_db.session(ctx.user_id) as s:
        c = make_customer(s, "华强电子有限公司")
        make_order(s, c, number="SO-1", amount="12.30")
        make_order(s, c, number="SO-2", amount="99.00", status="已取消")
    dialog = ExportDialog(ctx, kind=ExportKind.ORDERS)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.whole.setChecked(True)
    assert dialog.include_cancelled.isVisible() and not dialog.include_cancelled.isChecked()
    target = tmp_path / "sales.xlsx"
    worker = dialog.start_export(target)
    with qtbot.waitSignal(worker.ended, timeout=20_000):
        pass
    assert "Exported 1 row to" in dialog.done_label.text()
    assert "Cancelled or void orders left out: 1." in dialog.done_label.text()
    rows = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
    assert [r[0] for r in rows[1:]] == ["SO-1", "Total sales"]

    dialog.include_cancelled.click()
    target = tmp_path / "all.xlsx"
    worker = dialog.start_export(target)
    with qtbot.waitSignal(worker.ended, timeout=20_000):
        pass
    assert "Exported 2 rows to" in dialog.done_label.text()
    assert "Cancelled or void orders included: 1." in dialog.done_label.text()
    rows = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
    assert sorted(str(r[0]) for r in rows[1:-1]) == ["SO-1", "SO-2"]
    assert rows[-1][0] == "Total, cancelled included"
    dialog.grab().save(str(_shots() / "export_dialog_cancelled.png"))

    dialog.kind.setCurrentIndex(dialog.kind.findData(ExportKind.CUSTOMERS))
    assert not dialog.include_cancelled.isVisible()


def test_failure_is_one_line_and_leaves_no_file(
    qtbot: Any, ctx: AppContext, tmp_path: Path
) -> None:
    dialog = ExportDialog(ctx, kind=ExportKind.CUSTOMERS)
    qtbot.addWidget(dialog)
    worker = dialog.start_export(tmp_path / "missing" / "c.xlsx")
    with qtbot.waitSignal(worker.ended, timeout=20_000):
        pass
    text = dialog.done_label.text()
    assert text.startswith("Not exported:") and "does not exist" in text
    assert "Traceback" not in text and not dialog.open_button.isVisibleTo(dialog)


def test_menu_disabled_for_sales_enabled_for_bookkeeper(
    qtbot: Any, ctx: AppContext, gui_db: Database
) -> None:
    with gui_db.session() as s:
        boss = auth.find_user(s, "boss")
        for login, role in (("xiao.li", Role.SALES), ("zhao", Role.BOOKKEEPER)):
            auth.add_staff(
                s, boss, login=login, full_name=login, role=role, password="password-" + login
            )
    for login, allowed in (("xiao.li", False), ("zhao", True)):
        window = _Window(context_for(gui_db, login))
        qtbot.addWidget(window)
        install_export(window)
        actions = window.export_actions  # type: ignore[attr-defined]
        assert [a.objectName() for a in actions][:4] == [
            "export_customers", "export_orders", "export_statement", "export_revenue"
        ]  # fmt: skip
        assert all(a.isEnabled() == allowed for a in actions)
    actions[0].trigger()
    dialog = window.export_dialog  # type: ignore[attr-defined]
    assert dialog.current_kind() == ExportKind.CUSTOMERS
    dialog.grab().save(str(_shots() / "export_dialog.png"))
    dialog.close()


def _shots() -> Path:
    folder = Path("/tmp/expshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_export_import_problems_picks_the_batch(
    qtbot: Any, ctx: AppContext, gui_db: Database, tmp_path: Path
) -> None:
    from smbcrm.services.importing.apply import apply_plan
    from smbcrm.services.importing.service import prepare_import

    empty = ExportDialog(ctx, kind=ExportKind.IMPORT_PROBLEMS)
    qtbot.addWidget(empty)
    # Nothing to export yet: the dialog says so instead of writing an empty file.
    assert not empty.export_button.isEnabled() and not empty.batch.isEnabled()
    assert "No import has left rows" in empty.hint.text()

    source = tmp_path / "list.csv"
    source.write_text("客户名称,邮箱\n好公司,good@x.cn\n坏公司,not-an-email\n", encoding="utf-8")
    batch_id = apply_plan(gui_db, ctx.user_id, prepare_import(gui_db, source).plan).batch_id
    dialog = ExportDialog(ctx, kind=ExportKind.IMPORT_PROBLEMS)
    qtbot.addWidget(dialog)
    assert dialog.export_button.isEnabled() and dialog.batch.count() == 1
    assert "list.csv" in dialog.batch.currentText()
    assert dialog.options().batch_id == batch_id
    target = tmp_path / "problems.xlsx"
    worker = dialog.start_export(target)
    with qtbot.waitSignal(worker.ended, timeout=20_000):
        pass
    assert worker.state == "finished"
    rows = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
    assert rows[0] == ["Row", "客户名称", "邮箱", "Problem"]
    assert rows[1][:3] == [3, "坏公司", "not-an-email"]


def test_statement_of_one_customer_picked_by_name(
    qtbot: Any, ctx: AppContext, gui_db: Database, tmp_path: Path
) -> None:
    with gui_db.session(ctx.user_id) as s:
        wanted = make_customer(s, "Huaqiang Electronics", city="Shenzhen")
        other = make_customer(s, "Golden Dragon Trading", city="Xiamen")
        make_order(s, wanted, amount="10.00")
        make_order(s, other, amount="20.00")
    dialog = ExportDialog(ctx, kind=ExportKind.STATEMENT)
    qtbot.addWidget(dialog)
    dialog.show()
    # Only what a statement uses is offered.
    assert dialog.customer.isVisible() and not dialog.batch.isVisible()
    assert not dialog.per_line.isVisible()
    dialog.customer.setText("huaqiang")
    # A name typed but not picked: say so instead of exporting every customer.
    dialog.choose_file()
    assert dialog.choice_error.isVisible()
    assert "Pick the customer" in dialog.choice_error.text()
    dialog.customer.search_now()
    dialog.customer.choose_row(0)
    assert dialog.choice_problem() is None
    assert dialog.options().customer_id == wanted.id
    worker = dialog.start_export(tmp_path / "statement.xlsx")
    with qtbot.waitSignal(worker.ended, timeout=20_000):
        pass
    rows = CalamineWorkbook.from_path(str(tmp_path / "statement.xlsx")).get_sheet_by_index(0)
    text = " ".join(str(v) for row in rows.to_python() for v in row)
    assert "Huaqiang Electronics" in text and "Golden Dragon" not in text


def test_customers_export_shows_no_period_customer_or_import(qtbot: Any, ctx: AppContext) -> None:
    dialog = ExportDialog(ctx, kind=ExportKind.CUSTOMERS)
    qtbot.addWidget(dialog)
    dialog.show()
    for widget in (dialog.date_from, dialog.whole, dialog.customer, dialog.batch):
        assert not widget.isVisible()
    assert dialog.format.isVisible()
