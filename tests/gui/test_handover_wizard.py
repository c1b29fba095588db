"""The handover wizard driven like a person would: pick the leaver, split evenly, preview,
apply on the worker; the book moves, the leaver is deactivated, the summary says who got what."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QRadioButton, QWizard
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from smbcrm.models import Customer, Database, User
from smbcrm.services import auth
from smbcrm.ui.context import AppContext
from smbcrm.ui.handover_wizard import HandoverWizard
from tests.gui.conftest import BulkCustomer, add_salesperson, bulk_insert_customers

SHOTS = Path(os.environ.get("SMBCRM_SHOTS", "/tmp/ownshots"))


def _shot(widget: HandoverWizard, name: str) -> None:
    if os.environ.get("SMBCRM_SHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(SHOTS / f"{name}.png"))


def _click_radio(qtbot: QtBot, radio: QRadioButton) -> None:
    # On the indicator: a radio button's empty right-hand part does not take clicks.
    qtbot.mouseClick(radio, Qt.MouseButton.LeftButton, pos=QPoint(8, radio.height() // 2))
    assert radio.isChecked()


def test_wizard_hands_over_and_deactivates(qtbot: QtBot, gui_db: Database, ctx: AppContext) -> None:
    li = add_salesperson(gui_db, "li.lei", "Li Lei")
    add_salesperson(gui_db, "han.mm", "Han Meimei")
    add_salesperson(gui_db, "zhou.jie", "Zhou Jie")
    bulk_insert_customers(
        gui_db, [BulkCustomer(f"客户 {i}", city="杭州", owner_id=li) for i in range(30)]
    )
    wizard = HandoverWizard(ctx, li)
    qtbot.addWidget(wizard)
    wizard.show()
    assert wizard.leaver_page.leaver_combo.currentText() == "Li Lei"
    assert "30 customers" in wizard.leaver_page.book_label.text()
    _shot(wizard, "handover-1-leaver")

    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    page = wizard.strategy_page
    assert wizard.currentPage() is page
    _click_radio(qtbot, page.even_radio)
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()  # no one ticked yet
    for row in range(page.colleagues.count()):
        page.colleagues.item(row).setCheckState(Qt.CheckState.Checked)
    # Everyone active but the leaver and the signed-in owner is offered (here: boss too).
    assert page.colleagues.count() == 3
    page.colleagues.item(0).setCheckState(Qt.CheckState.Unchecked)  # Han, Wang Fang, Zhou
    _shot(wizard, "handover-2-strategy")
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)

    preview = wizard.preview_page
    assert wizard.currentPage() is preview
    assert wizard.plan is not None and len(wizard.plan.moves) == 30
    shares = {
        preview.table.item(r, 0).text(): preview.table.item(r, 1).text()
        for r in range(preview.table.rowCount())
    }
    assert shares == {"Wang Fang": "15", "Zhou Jie": "15"}
    assert "then Li Lei is deactivated" in preview.summary.text()
    _shot(wizard, "handover-3-preview")

    commit = wizard.button(QWizard.WizardButton.CommitButton)
    assert commit.text() == "Hand over and deactivate"
    with qtbot.waitSignal(wizard.handed_over, timeout=20_000) as signal:
        qtbot.mouseClick(commit, Qt.MouseButton.LeftButton)
    assert signal.args == [li]
    qtbot.waitUntil(lambda: wizard.apply_page.isComplete(), timeout=5_000)
    text = wizard.apply_page.message.text()
    assert "Li Lei is deactivated" in text and "Zhou Jie: customers 15" in text
    _shot(wizard, "handover-4-done")

    with gui_db.new_session() as session:
        assert not session.get_one(User, li).active
        assert session.scalar(select(func.count()).where(Customer.owner_id == li)) == 0
        with_boss = session.scalar(
            select(func.count()).where(Customer.owner_id == auth.find_user(session, "boss").id)
        )
        assert with_boss == 15


def test_wizard_preview_explains_a_rule_that_covers_nothing(
    qtbot: QtBot, gui_db: Database, ctx: AppContext
) -> None:
    li = add_salesperson(gui_db, "li.lei", "Li Lei")
    add_salesperson(gui_db, "han.mm", "Han Meimei")
    bulk_insert_customers(gui_db, [BulkCustomer("客户", city="上海", owner_id=li)])
    wizard = HandoverWizard(ctx, li)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.next()
    page = wizard.strategy_page
    _click_radio(qtbot, page.city_radio)
    assert page.rule_table.rowCount() == 1 and page.rule_table.item(0, 0).text() == "上海"
    wizard.next()
    assert wizard.plan is None
    assert "No one is chosen for city '上海'" in wizard.preview_page.summary.text()
    assert not wizard.button(QWizard.WizardButton.CommitButton).isEnabled()
    wizard.back()
    combo = page.rule_table.cellWidget(0, 2)
    combo.setCurrentIndex(combo.findText("Han Meimei"))  # type: ignore[union-attr]
    wizard.next()
    assert wizard.plan is not None and wizard.plan.shares[0].full_name == "Han Meimei"


def test_install_ownership_adds_staff_page_and_bulk_reassign(
    qtbot: QtBot, gui_db: Database, ctx: AppContext
) -> None:
    from PySide6.QtWidgets import QDialogButtonBox

    from smbcrm.ui.main_window import MainWindow
    from smbcrm.ui.ownership_integration import install_ownership, selected_customer_ids

    han = add_salesperson(gui_db, "han.mm", "Han Meimei")
    bulk_insert_customers(gui_db, [BulkCustomer(f"Pool {i}") for i in range(3)])
    window = MainWindow(ctx, persist_state=False)
    qtbot.addWidget(window)
    install_ownership(window)
    window.show()
    texts = [window.navigation.item(r).text() for r in range(window.navigation.count())]
    assert texts[-1] == "Staff" and window.pages.count() == window.navigation.count()
    window.navigation.setCurrentRow(window.navigation.count() - 1)
    staff = window.ownership.staff_view  # type: ignore[attr-defined]
    assert window.pages.currentWidget() is staff
    assert staff.table.rowCount() == 2
    _shot(window, "staff-page")

    window.ownership.show_pool()  # type: ignore[attr-defined]
    view = window.customers_view
    qtbot.waitUntil(lambda: view.model.rowCount() == 3)
    view.table.selectAll()
    ids = selected_customer_ids(window)
    assert len(ids) == 3
    dialog = window.ownership.reassign()  # type: ignore[attr-defined]
    dialog.owner_combo.setCurrentIndex(dialog.owner_combo.findData(han))
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert "Say why" in dialog.error_label.text()  # a reason is required
    qtbot.keyClicks(dialog.reason_edit, "New territory")
    _shot(dialog, "reassign-dialog")  # type: ignore[arg-type]
    with qtbot.waitSignal(dialog.reassigned) as moved:
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert moved.args == [3]
    with gui_db.new_session() as session:
        assert session.scalar(select(func.count()).where(Customer.owner_id == han)) == 3

    audit = window.ownership.audit_log()  # type: ignore[attr-defined]
    qtbot.addWidget(audit)
    assert audit.table.rowCount() >= 3
    assert any("Han Meimei" in audit.table.item(r, 5).text() for r in range(audit.table.rowCount()))
    audit.resize(1100, 500)
    _shot(audit, "audit-log")  # type: ignore[arg-type]


def test_the_detail_pane_reassigns_the_customer_it_shows(
    qtbot: QtBot, gui_db: Database, ctx: AppContext
) -> None:
    from PySide6.QtWidgets import QToolButton

    from smbcrm.ui.main_window import MainWindow

    bulk_insert_customers(gui_db, [BulkCustomer(f"Pool {i}") for i in range(3)])
    window = MainWindow(ctx, persist_state=False)
    qtbot.addWidget(window)
    window.show()
    view = window.customers_view
    qtbot.waitUntil(lambda: view.model.rowCount() == 3)
    view.table.selectRow(1)
    detail = view.detail
    qtbot.waitUntil(lambda: detail.customer_id is not None)
    shown = detail.customer_id
    texts = [b.text() for b in detail.findChildren(QToolButton)]
    assert "Reassign" in texts
    assert not any("selected customers" in t for t in texts)  # one customer is shown
    view.table.selectAll()  # the list may select more; the pane's button means its customer
    dialog = window.ownership.reassign_shown(detail)  # type: ignore[attr-defined]
    assert dialog is not None and dialog.customer_ids == [shown]


def test_audit_log_dates_read_as_elsewhere_and_wait_for_from(qtbot: QtBot, ctx: AppContext) -> None:
    from smbcrm.ui.audit_view import AuditLogDialog

    dialog = AuditLogDialog(ctx)
    qtbot.addWidget(dialog)
    since, until = dialog.since_edit, dialog.until_edit
    assert since.text() == since.date().toString("yyyy-MM-dd")
    assert not since.isEnabled() and not until.isEnabled()
    dialog.use_dates.setChecked(True)
    assert since.isEnabled() and until.isEnabled()
