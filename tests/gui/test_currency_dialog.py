"""File › Currencies and exchange rates: owners set the rates, the at-risk page adds up in
the home currency and says which sales it had to leave out."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QDialogButtonBox,
    QLineEdit,
    QStyle,
    QStyleOptionFrame,
)
from pytestqt.qtbot import QtBot

from smbcrm.models import Database
from smbcrm.services import currencies
from smbcrm.services.auth import find_user
from smbcrm.ui.context import AppContext
from smbcrm.ui.currency_dialog import CurrencyDialog
from smbcrm.ui.main_window import MainWindow
from smbcrm.ui.risk_view import RiskView
from smbcrm.ui.style import style_sheet, ui_font
from tests.factories import make_customer, make_order
from tests.gui.conftest import add_salesperson, context_for


def _silent_abroad(db: Database, owner_id: int) -> None:
    """A euro customer and a pound customer who stopped ordering: both at risk."""
    today = date.today()
    with db.session() as session:
        for name, currency in (("Nordwind GmbH", "EUR"), ("Thames Trading", "GBP")):
            customer = make_customer(session, name, owner_id=owner_id)
            for i in range(12):
                make_order(
                    session,
                    customer,
                    amount="1000",
                    currency=currency,
                    when=today - timedelta(days=150 + 30 * i),
                )


def _stored(db: Database) -> currencies.ExchangeRates:
    with db.new_session() as session:
        return currencies.load_rates(session)


def test_owner_sets_rates_and_the_at_risk_page_converts(
    qtbot: QtBot, ctx: AppContext, gui_db: Database
) -> None:
    lily = add_salesperson(gui_db, "lily.chen", "Lily Chen")
    _silent_abroad(gui_db, lily)
    view = RiskView(ctx)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        view.show()
    # No rates yet: the euro and pound sales are not counted, and the page says so.
    assert view.unconverted.isVisible()
    assert "in EUR" in view.unconverted.text() and "in GBP" in view.unconverted.text()
    assert "¥0.00" in view.summary.text()

    dialog = CurrencyDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.saved.connect(view.refresh)
    dialog.show()
    assert dialog.home == "CNY"
    assert set(dialog.rate_edits) == {"EUR", "GBP"}
    dialog.rate_edits["EUR"].setText("7,8")  # a decimal comma is read as one
    dialog.rate_edits["GBP"].setText("nine")
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.error.isVisible()
    assert "GBP" in dialog.error.text() and "'nine'" in dialog.error.text()
    assert _stored(gui_db).rates == {}  # nothing written

    dialog.rate_edits["GBP"].setText("9.1")
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert _stored(gui_db).rates == {"EUR": Decimal("7.8"), "GBP": Decimal("9.1")}
    assert not view.unconverted.isVisible()
    revenue = {
        view.model.row_at(i).name: view.model.index(i, view.model.REVENUE).data()  # type: ignore[union-attr]
        for i in range(view.model.rowCount())
    }
    # Eight orders of 1,000 in the last 12 months each, in yuan.
    assert revenue["Nordwind GmbH"] == "¥62,400.00"
    assert revenue["Thames Trading"] == "¥72,800.00"


@pytest.fixture
def styled(qapp: QApplication) -> Iterator[None]:
    """The app's own look (its padding decides what fits in a field)."""
    font, sheet = qapp.font(), qapp.styleSheet()
    qapp.setFont(ui_font())
    qapp.setStyleSheet(style_sheet())
    yield
    qapp.setStyleSheet(sheet)
    qapp.setFont(font)


def test_a_new_home_currency_converts_the_rates_typed(
    qtbot: QtBot, ctx: AppContext, gui_db: Database, styled: None
) -> None:
    with gui_db.session() as session:
        customer = make_customer(session, "Mixed Ltd")
        make_order(session, customer, currency="CNY")
        make_order(session, customer, currency="USD")
    dialog = CurrencyDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.rate_edits["USD"].setText("8")
    dialog.home_box.setCurrentIndex(dialog.home_box.findData("USD"))
    assert set(dialog.rate_edits) == {"CNY"}
    assert dialog.rate_edits["CNY"].text() == "0.125"
    assert "converted to USD" in dialog.hint.text()
    # A converted rate shows whole, not cut off at its first digits.
    edit = dialog.rate_edits["CNY"]
    shown = edit.style().subElementRect(
        QStyle.SubElement.SE_LineEditContents, _line_edit_option(edit), edit
    )
    assert shown.width() >= edit.fontMetrics().horizontalAdvance("0.138889")
    # A currency that no order uses yet can be given a rate ahead of time.
    dialog.add_box.setEditText("chf")
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    dialog.rate_edits["CHF"].setText("1.1")
    dialog.add_box.setEditText("Franc")
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    assert "'FRANC' is not a currency" in dialog.error.text()
    dialog.save()
    stored = _stored(gui_db)
    assert (stored.home, stored.rates) == ("USD", {"CHF": Decimal("1.1"), "CNY": Decimal("0.125")})


def test_a_rate_typed_with_a_decimal_comma_is_converted_too(
    qtbot: QtBot, ctx: AppContext, gui_db: Database
) -> None:
    with gui_db.session() as session:
        customer = make_customer(session, "Comma Ltd")
        for currency in ("USD", "EUR"):
            make_order(session, customer, currency=currency)
    dialog = CurrencyDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.rate_edits["USD"].setText("8")
    dialog.rate_edits["EUR"].setText("7,8")  # as saving reads it: 7.8
    dialog.home_box.setCurrentIndex(dialog.home_box.findData("USD"))
    assert dialog.rate_edits["CNY"].text() == "0.125"
    assert dialog.rate_edits["EUR"].text() == "0.975"


def test_sales_staff_see_the_rates_but_cannot_change_them(qtbot: QtBot, gui_db: Database) -> None:
    add_salesperson(gui_db, "li.lei", "Li Lei")
    with gui_db.session() as session:
        make_order(session, make_customer(session, "Nordwind GmbH"), currency="EUR")
        currencies.save_rates(session, find_user(session, "boss"), "CNY", {"EUR": "7.8"})
    dialog = CurrencyDialog(context_for(gui_db, "li.lei"))
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.rate_edits["EUR"].text() == "7.8" and dialog.rate_edits["EUR"].isReadOnly()
    assert not dialog.home_box.isEnabled()
    assert dialog.buttons.button(QDialogButtonBox.StandardButton.Save) is None
    assert "Only owners and managers" in dialog.hint.text()
    # Nothing to add a currency with, not even a greyed-out button floating over the text.
    assert not dialog.add_button.isVisible() and not dialog.add_box.isVisible()


def test_the_file_menu_opens_the_rates(qtbot: QtBot, ctx: AppContext) -> None:
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.currencies_action.trigger()
    dialog = window.currency_dialog
    assert dialog.isVisible() and dialog.windowTitle() == "Currencies and exchange rates"
    dialog.reject()


def _line_edit_option(edit: QLineEdit) -> QStyleOptionFrame:
    option = QStyleOptionFrame()
    edit.initStyleOption(option)
    return option
