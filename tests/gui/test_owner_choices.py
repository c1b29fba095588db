"""Who the windows offer to take a customer: only staff who may be responsible for customers.

A bookkeeper is never offered as the new owner — not in the handover wizard, the reassign
dialog, the customer form or the at-risk page — yet can still be the one who leaves, and can
still support an account team. Each window is opened the way a person opens it.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialogButtonBox,
    QInputDialog,
    QListWidget,
    QRadioButton,
    QWidget,
    QWizard,
)
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from smbcrm.models import Customer, Database, Role
from smbcrm.ui.context import AppContext
from smbcrm.ui.customer_dialog import CustomerDialog
from smbcrm.ui.handover_wizard import HandoverWizard
from smbcrm.ui.main_window import MainWindow
from smbcrm.ui.reassign_dialog import ReassignDialog
from smbcrm.ui.risk_view import RiskView
from tests.factories import make_customer, make_order
from tests.gui.conftest import BulkCustomer, add_salesperson, bulk_insert_customers

SHOTS = Path(os.environ.get("SMBCRM_SHOTS", "/tmp"))
BOOKKEEPER = "Zhao Kuai"


@dataclass(frozen=True)
class Staff:
    li: int  # sales, the one whose customers move
    han: int  # sales
    zhao: int  # the bookkeeper


@pytest.fixture
def staff(gui_db: Database) -> Staff:
    return Staff(
        li=add_salesperson(gui_db, "li.lei", "Li Lei"),
        han=add_salesperson(gui_db, "han.mm", "Han Meimei"),
        zhao=add_salesperson(gui_db, "zhao.kuai", BOOKKEEPER, Role.BOOKKEEPER),
    )


def _shot(widget: QWidget, name: str) -> None:
    if os.environ.get("SMBCRM_SHOTS"):
        widget.grab().save(str(SHOTS / f"cli2-{name}.png"))


def _combo_texts(combo: QComboBox) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def _list_texts(widget: QListWidget) -> list[str]:
    return [widget.item(i).text() for i in range(widget.count())]


def _click(qtbot: QtBot, widget: QWidget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def _click_radio(qtbot: QtBot, radio: QRadioButton) -> None:
    # On the indicator: a radio button's empty right-hand part does not take clicks.
    qtbot.mouseClick(radio, Qt.MouseButton.LeftButton, pos=QPoint(8, radio.height() // 2))
    assert radio.isChecked()


def test_the_handover_wizard_does_not_offer_a_bookkeeper_to_take_over(
    qtbot: QtBot, gui_db: Database, ctx: AppContext, staff: Staff
) -> None:
    bulk_insert_customers(
        gui_db, [BulkCustomer(f"客户 {i}", city="杭州", owner_id=staff.li) for i in range(4)]
    )
    window = MainWindow(ctx, persist_state=False)
    qtbot.addWidget(window)
    window.show()
    window.ownership.actions["handover"].trigger()  # type: ignore[attr-defined]
    wizard = window.findChild(HandoverWizard)
    assert wizard is not None
    leavers = wizard.leaver_page.leaver_combo
    assert BOOKKEEPER in _combo_texts(leavers)  # a bookkeeper can still leave
    leavers.setCurrentIndex(leavers.findData(staff.li))
    _click(qtbot, wizard.button(QWizard.WizardButton.NextButton))

    page = wizard.strategy_page
    assert wizard.currentPage() is page
    offered = _list_texts(page.colleagues)
    assert len(offered) == 2 and not any(BOOKKEEPER in text for text in offered)
    assert {text.split(" — ")[0] for text in offered} == {"Han Meimei", "Wang Fang"}
    assert _combo_texts(page.colleague_combo) == ["Han Meimei", "Wang Fang"]
    _click_radio(qtbot, page.city_radio)
    rule_choices = page.rule_table.cellWidget(0, 2)
    assert isinstance(rule_choices, QComboBox)
    assert _combo_texts(rule_choices)[1:] == ["Han Meimei", "Wang Fang"]
    _click_radio(qtbot, page.one_radio)
    page.colleague_combo.setCurrentIndex(page.colleague_combo.findData(staff.han))
    wizard.resize(720, 560)
    _shot(wizard, "handover-strategy")
    _click(qtbot, wizard.button(QWizard.WizardButton.NextButton))

    assert wizard.currentPage() is wizard.preview_page
    assert wizard.plan is not None
    assert {m.to_user_id for m in wizard.plan.moves} == {staff.han}


def test_the_reassign_dialog_offers_no_bookkeeper_as_owner_but_keeps_them_for_the_team(
    qtbot: QtBot, gui_db: Database, ctx: AppContext, staff: Staff
) -> None:
    bulk_insert_customers(gui_db, [BulkCustomer("华强贸易", owner_id=staff.li)])
    window = MainWindow(ctx, persist_state=False)
    qtbot.addWidget(window)
    window.show()
    view = window.customers_view
    qtbot.waitUntil(lambda: view.model.rowCount() == 1)
    view.table.selectRow(0)
    window.ownership.actions["reassign"].trigger()  # type: ignore[attr-defined]
    dialog = window.findChild(ReassignDialog)
    assert dialog is not None and dialog.isVisible()
    owners = _combo_texts(dialog.owner_combo)
    assert owners == ["Nobody (unassigned pool)", "Han Meimei", "Li Lei", "Wang Fang"]
    assert dialog.owner_combo.currentData() == staff.li  # the current owner is preselected
    assert BOOKKEEPER in _list_texts(dialog.team_list)  # supporting an account is fine
    dialog.owner_combo.setCurrentIndex(dialog.owner_combo.findData(staff.han))
    qtbot.keyClicks(dialog.reason_edit, "New territory")
    _shot(dialog, "reassign-dialog")
    with qtbot.waitSignal(dialog.reassigned) as moved:
        _click(qtbot, dialog.buttons.button(QDialogButtonBox.StandardButton.Ok))
    assert moved.args == [1]
    with gui_db.new_session() as session:
        assert session.scalar(select(func.count()).where(Customer.owner_id == staff.han)) == 1


def test_the_customer_form_offers_no_bookkeeper_as_owner(
    qtbot: QtBot, ctx: AppContext, staff: Staff
) -> None:
    dialog = CustomerDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    assert _combo_texts(dialog.owner_combo) == [
        "— Unassigned —",
        "Han Meimei",
        "Li Lei",
        "Wang Fang",
    ]
    _shot(dialog, "customer-form")


def test_the_at_risk_page_offers_no_bookkeeper_to_reassign_to(
    qtbot: QtBot, gui_db: Database, ctx: AppContext, staff: Staff
) -> None:
    today = date.today()
    with gui_db.session() as session:
        silent = make_customer(session, "Silent Ltd", owner_id=staff.li)
        for i in range(12):
            make_order(session, silent, amount="900", when=today - timedelta(days=150 + 30 * i))
        silent_id = silent.id
    view = RiskView(ctx)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        view.show()
    view.select_row(0)
    offered: list[str] = []

    def choose_han() -> None:
        asking = QApplication.activeModalWidget()
        assert isinstance(asking, QInputDialog)
        offered.extend(asking.comboBoxItems())
        asking.setTextValue("Han Meimei")
        asking.accept()

    QTimer.singleShot(0, choose_han)
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        _click(qtbot, view.reassign_button)
    assert offered == ["Han Meimei", "Li Lei", "Wang Fang"]
    with gui_db.new_session() as session:
        assert session.get_one(Customer, silent_id).owner_id == staff.han
