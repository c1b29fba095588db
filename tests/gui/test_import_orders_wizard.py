"""Orders through the import wizard, and the unmatched-orders window, walked by clicking."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from smbcrm.models import (
    Conversion,
    CustomerStatus,
    Database,
    ImportKind,
    LinkRoute,
    Order,
    Role,
)
from smbcrm.services import customers
from smbcrm.services.importing.apply import apply_plan
from smbcrm.services.importing.orders import OrderImportPlan
from smbcrm.services.importing.plan import Outcome
from smbcrm.services.importing.service import prepare_import
from smbcrm.ui.context import AppContext
from smbcrm.ui.customer_detail import CustomerDetailPane
from smbcrm.ui.import_tables import OrderFilter, OrderRowsModel
from smbcrm.ui.import_texts import Step
from smbcrm.ui.main_window import MainWindow
from smbcrm.ui.translation import install_language, remove_language
from smbcrm.ui.unmatched_orders import CustomerPicker, UnmatchedOrdersDialog
from tests.factories import make_customer
from tests.gui.conftest import add_salesperson, context_for
from tests.gui.test_import_wizard import (
    WAIT,
    click,
    import_now,
    open_wizard,
    to_mapping,
    to_preview,
)

HEADER = [
    "订单号",
    "下单日期",
    "客户编号",
    "客户名称",
    "城市",
    "手机",
    "金额",
    "产品",
    "数量",
    "单价",
]


def orders_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["销售订单"])
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def seed_book(db: Database, seller: int) -> tuple[int, int]:
    with db.session() as session:
        coded = make_customer(session, "深圳市华强电子有限公司", external={"erp": "K-001"}).id
        prospect = make_customer(
            session,
            "杭州绿源茶业有限公司",
            phones=["13912345678"],
            status=CustomerStatus.PROSPECT,
            owner_id=seller,
        ).id
    return coded, prospect


ROWS = [
    ["SO-1001", "2026-03-02", "K-001", "", "", "", "1200", "绿茶", "2", "600"],
    ["SO-1002", "2026-03-03", "", "", "", "139 1234 5678", "880", "", "", ""],
    [
        "SO-1003",
        "2026-03-04",
        "N-7",
        "宁波新客户贸易有限公司",
        "宁波",
        "13700001111",
        "300",
        "",
        "",
        "",
    ],
    ["SO-1004", "2026-03-05", "N-7", "", "", "", "50", "", "", ""],
    ["SO-1005", "2026-02-30", "", "坏日期", "", "", "10", "", "", ""],
]


def test_an_order_file_is_recognised_previewed_imported_and_undone(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path
) -> None:
    seller = add_salesperson(ctx.db, "lilei", "Li Lei")
    coded, prospect = seed_book(ctx.db, seller)
    wizard = open_wizard(qtbot, ctx, orders_csv(tmp_path / "订单.csv", ROWS))
    page = wizard.file_page
    assert page.kind == ImportKind.ORDERS  # picked from the columns
    assert "order export" in page.kind_note.text()
    assert wizard.kind == ImportKind.ORDERS

    to_mapping(qtbot, wizard)
    mapping = wizard.mapping_page
    assert mapping.combo_for("订单号").currentText() == "Order number / 订单号"
    assert mapping.combo_for("客户编号").currentText() == "Customer code / 客户编号"
    assert mapping.combo_for("单价").currentText() == "Unit price / 单价"
    assert not mapping.on_duplicate_combo.isVisible()
    wizard.file_page.source_edit.setText("erp")  # the customers' codes are from "erp"
    click(qtbot, wizard.back_button)
    to_mapping(qtbot, wizard)

    plan = to_preview(qtbot, wizard)
    preview = wizard.preview_page
    assert preview.orders_box.isVisible() and not preview.table.isVisible()
    chips = {name: chip.text() for name, chip in preview.order_chips.items()}
    assert chips["orderChipNew"] == "4 new"
    assert chips["orderChipByCode"] == "1 by code"
    assert chips["orderChipByPhone"] == "1 by phone"
    assert chips["orderChipUnmatched"] == "2 without customer"
    assert chips["orderChipErrors"] == "1 error"
    model = preview.order_model
    assert model.rowCount() == 5
    first = str(model.data(model.index(0, OrderRowsModel.DETAILS)))
    assert "深圳市华强电子有限公司 — same customer code K-001" in first
    preview.set_order_filter(OrderFilter.UNMATCHED)
    assert [model.order_at(i).order_number for i in range(model.rowCount())] == [
        "SO-1003",
        "SO-1004",
    ]
    preview.set_order_filter(OrderFilter.ERRORS)
    error = str(model.data(model.index(0, OrderRowsModel.DETAILS)))
    assert "row 7" in error and "February 2026 has 28 days" in error
    assert preview.order_save_problems_button.isEnabled()
    assert "2 new orders" in wizard.next_hint.text() or "4 new orders" in wizard.next_hint.text()
    assert plan.kind == ImportKind.ORDERS

    batch_id = import_now(qtbot, wizard)
    summary = wizard.summary_page
    text = summary.orders_label.text()
    assert "4 orders" in text and "Linked to their customers: 2" in text
    assert "1 prospect got a first order" in text
    assert summary.unmatched_button.isVisible()
    with ctx.read_session() as session:
        assert customers.get_customer(session, prospect).status == CustomerStatus.ACTIVE
        assert session.scalar(select(func.count()).select_from(Conversion)) == 1

    click(qtbot, summary.undo_button)
    qtbot.waitUntil(summary.undone_label.isVisible, timeout=WAIT)
    assert "4 orders removed" in summary.undone_label.text()
    assert "Prospects again: 1." in summary.undone_label.text()
    with ctx.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 0
        assert customers.get_customer(session, prospect).status == CustomerStatus.PROSPECT
    assert batch_id
    del coded


def test_the_user_can_say_a_file_holds_customers_or_orders(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path
) -> None:
    wizard = open_wizard(qtbot, ctx, orders_csv(tmp_path / "o.csv", ROWS[:2]))
    assert wizard.kind == ImportKind.ORDERS
    combo = wizard.file_page.kind_combo
    combo.setCurrentIndex(combo.findData(ImportKind.CUSTOMERS.value))
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(lambda: wizard.kind == ImportKind.CUSTOMERS, timeout=WAIT)
    qtbot.waitUntil(wizard.next_button.isEnabled, timeout=WAIT)
    to_mapping(qtbot, wizard)
    assert wizard.mapping_page.on_duplicate_combo.isVisible()
    assert wizard.mapping_page.combo_for("订单号").findData("order_number") == -1
    # The person said customers: the file is previewed as customers, not refused.
    plan = to_preview(qtbot, wizard)
    assert plan.kind == ImportKind.CUSTOMERS
    # Read as customers: these rows give no customer name.
    assert [r.outcome for r in plan.rows] == [Outcome.ERROR, Outcome.ERROR]
    assert all("the name is empty" in r.problem_text() for r in plan.rows)


def test_order_dates_read_one_way_are_said_in_the_preview_in_its_language(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path, qapp: QApplication
) -> None:
    rows = [
        ["SO-1", "01.11.2026", "", "宁波贸易", "", "", "100", "", "", ""],
        ["SO-2", "05.03.2026", "", "宁波贸易", "", "", "80", "", "", ""],
    ]
    assert install_language(qapp, "zh")
    try:
        wizard = open_wizard(qtbot, ctx, orders_csv(tmp_path / "订单.csv", rows))
        to_mapping(qtbot, wizard)
        plan = to_preview(qtbot, wizard)
        assert isinstance(plan, OrderImportPlan)
        assert [o.order_date for o in plan.orders] == [date(2026, 1, 11), date(2026, 5, 3)]
        model = wizard.preview_page.order_model
        first = str(model.data(model.index(0, OrderRowsModel.DETAILS)))
        assert "‘下单日期’列：01.11.2026 这样的日期既可能是日在前，也可能是月在前" in first
        assert "dates such as" not in first
    finally:
        remove_language(qapp)


def test_a_bookkeeper_imports_orders_from_the_import_menu(
    qtbot: QtBot, gui_db: Database, tmp_path: Path
) -> None:
    add_salesperson(gui_db, "zhaomin", "Zhao Min", Role.BOOKKEEPER)
    ctx = context_for(gui_db, "zhaomin")
    window = MainWindow(ctx, persist_state=False)
    qtbot.addWidget(window)
    orders_import = window.orders_import  # type: ignore[attr-defined]
    assert window.import_menu.menuAction().isVisible()
    assert orders_import.import_action.isEnabled()
    assert not window.import_action.isEnabled()  # customers stay with owners and managers
    wizard = orders_import.open_wizard()
    assert wizard is not None and wizard.kind == ImportKind.ORDERS
    assert wizard.allowed_kinds == [ImportKind.ORDERS]
    wizard.set_path(orders_csv(tmp_path / "o.csv", ROWS[:1]))
    qtbot.waitUntil(wizard.next_button.isEnabled, timeout=WAIT)
    to_mapping(qtbot, wizard)
    to_preview(qtbot, wizard)
    import_now(qtbot, wizard)
    assert wizard.step == Step.SUMMARY
    assert orders_import.update_count() == 1
    assert "(1)" in orders_import.unmatched_action.text()
    wizard.close()
    # The bookkeeper finds that import again later and may undo it, not a customers import.
    boss = context_for(gui_db, "boss")
    customers_file = tmp_path / "customers.csv"
    customers_file.write_text("客户名称,手机\n新客户贸易,13700137000\n", encoding="utf-8")
    prepared = prepare_import(gui_db, customers_file, ImportKind.CUSTOMERS)
    apply_plan(gui_db, boss.user_id, prepared.plan)
    assert window.import_history_action.isEnabled()
    history = window.open_import_history()
    assert history is not None
    qtbot.addWidget(history)
    kinds = [b.kind for b in history._batches]
    history.table.selectRow(kinds.index(ImportKind.ORDERS.value))
    assert history.undo_button.isEnabled()
    history.table.selectRow(kinds.index(ImportKind.CUSTOMERS.value))
    assert not history.undo_button.isEnabled()
    assert "customers import" in history.undo_button.toolTip()


def test_a_bookkeeper_drops_an_order_export_on_the_window(
    qtbot: QtBot, gui_db: Database, tmp_path: Path
) -> None:
    from tests.gui.test_main_window_import import drag_enter, drop, file_mime

    add_salesperson(gui_db, "zhaomin", "Zhao Min", Role.BOOKKEEPER)
    window = MainWindow(context_for(gui_db, "zhaomin"), persist_state=False)
    qtbot.addWidget(window)
    window.show()
    path = orders_csv(tmp_path / "orders.csv", ROWS[:1])
    assert drag_enter(window, file_mime(path)).isAccepted()
    assert "Drop orders.csv to import orders from it." in window.statusBar().currentMessage()
    assert drop(window, file_mime(path)).isAccepted()
    wizard = window.orders_import.wizard  # type: ignore[attr-defined]
    assert wizard is not None and window.import_wizard is None
    qtbot.waitUntil(wizard.next_button.isEnabled, timeout=WAIT)
    assert wizard.kind == ImportKind.ORDERS
    assert wizard.file_page.path_edit.text() == str(path)
    wizard.close()


def _import_for_review(ctx: AppContext, tmp_path: Path) -> None:
    from smbcrm.services.importing.service import apply_import, prepare_import

    path = orders_csv(
        tmp_path / "review.csv",
        [
            [
                "SO-1",
                "2026-03-01",
                "N-7",
                "宁波新客户贸易有限公司",
                "宁波",
                "13700001111",
                "300",
                "",
                "",
                "",
            ],
            ["SO-2", "2026-03-08", "N-7", "", "", "", "50", "", "", ""],
            ["SO-3", "2026-03-09", "", "张小姐的网店", "苏州", "", "66", "", "", ""],
        ],
    )
    plan = prepare_import(ctx.db, path, ImportKind.ORDERS, source_system="shop").plan
    apply_import(ctx.db, ctx.user_id, plan)


def test_unmatched_orders_window_creates_a_customer_and_links_by_hand(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seller = add_salesperson(ctx.db, "lilei", "Li Lei")
    with ctx.db.session() as session:
        prospect = make_customer(
            session, "Suzhou Zhang Online Store", status=CustomerStatus.PROSPECT, owner_id=seller
        ).id
    _import_for_review(ctx, tmp_path)
    dialog = UnmatchedOrdersDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.buyers.rowCount() == 2
    assert "3 orders of 2 buyers wait for a customer" in dialog.summary.text()

    dialog.select_buyer("宁波新客户贸易有限公司")
    assert dialog.orders.rowCount() == 2
    with qtbot.waitSignal(dialog.changed, timeout=WAIT):
        click(qtbot, dialog.create_button)
    assert "Created 宁波新客户贸易有限公司" in dialog.message.text()
    assert dialog.buyers.rowCount() == 1
    with ctx.read_session() as session:
        linked = session.execute(
            select(Order.order_number, Order.link_route).where(Order.customer_id.is_not(None))
        ).all()
    assert sorted(linked) == [("SO-1", LinkRoute.CREATED), ("SO-2", LinkRoute.CREATED)]

    def pick(picker: CustomerPicker) -> int:
        """What a person does in the picker: type part of the name, take the match."""
        picker.search_edit.setText("Zhang Online")
        qtbot.waitUntil(lambda: picker.results.count() == 1, timeout=WAIT)
        picker.accept()
        return int(QDialog.DialogCode.Accepted)

    monkeypatch.setattr(CustomerPicker, "exec", pick)
    dialog.select_buyer("张小姐的网店")
    with qtbot.waitSignal(dialog.changed, timeout=WAIT):
        click(qtbot, dialog.link_button)
    assert "Linked SO-3 to Suzhou Zhang Online Store" in dialog.message.text()
    assert "now an active customer" in dialog.message.text()
    assert dialog.empty_label.isVisible()
    with ctx.read_session() as session:
        order = session.scalars(select(Order).where(Order.order_number == "SO-3")).one()
        assert (order.customer_id, order.link_route) == (prospect, LinkRoute.MANUAL)

    # The customer's history says how it became a customer, and who owned the prospect.
    pane = CustomerDetailPane(ctx)
    qtbot.addWidget(pane)
    pane.show_customer(prospect)
    timeline = pane.history_page.texts()
    [conversion] = [row for row in timeline if row[1] == "Became a customer"]
    assert conversion[3] == (
        "Became a customer with order SO-3 on 2026-03-09; prospect owned by Li Lei"
    )
    assert pane.overview_values["customer_since"].text() == conversion[3]
    # The same timeline has the order itself.
    assert any(row[1] == "Order" and row[3].startswith("Order SO-3:") for row in timeline)


def test_the_import_menu_opens_the_unmatched_orders(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path
) -> None:
    _import_for_review(ctx, tmp_path)
    window = MainWindow(ctx, persist_state=False)
    qtbot.addWidget(window)
    orders_import = window.orders_import  # type: ignore[attr-defined]
    assert orders_import.update_count() == 3
    assert orders_import.unmatched_action.text() == "&Unmatched orders (3)…"
    dialog = orders_import.open_unmatched()
    assert dialog is not None and dialog.buyers.rowCount() == 2
    dialog.close()
    assert orders_import.import_action in window.import_menu.actions()
    assert Qt.WidgetAttribute.WA_DeleteOnClose
