"""The company's home currency and exchange rates (File › Currencies and exchange rates).

Revenue totals — the at-risk page, value tiers, the revenue chart, referrers, the
customers export — are added up in the home currency; each other currency the orders use
gets a rate, "1 USD = 7.2 CNY". Owners and managers change them; everyone else sees them.
Choosing another home currency converts the rates typed so far when it can (it needs a
rate for the new home currency); saving goes through ``services.currencies.save_rates``,
and a mistake is shown beside the rates with nothing written.
"""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import QCoreApplication, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from smbcrm.errors import SmbcrmError
from smbcrm.services.currencies import (
    COMMON_CURRENCIES,
    ISO_CURRENCIES,
    ExchangeRates,
    currency_counts,
    load_rates,
    parse_rate,
    rebased,
    save_rates,
)
from smbcrm.services.permissions import Permission
from smbcrm.ui.context import AppContext
from smbcrm.ui.style import ERROR_STYLE, HINT_STYLE, text_width


def tr(text: str) -> str:
    return QCoreApplication.translate("CurrencyDialog", text)


def _rate_text(rate: Decimal | None) -> str:
    return "" if rate is None else format(rate.normalize(), "f")


class CurrencyDialog(QDialog):
    """Home currency and one rate per other currency; Save stores them company-wide."""

    saved = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("currencyDialog")
        self.setWindowTitle(tr("Currencies and exchange rates"))
        self.ctx = ctx
        self.may_edit = ctx.can(Permission.MANAGE_SETTINGS)
        with ctx.read_session() as session:
            self.rates = load_rates(session)
            self.used = currency_counts(session)
        self.rate_edits: dict[str, QLineEdit] = {}
        self.extra: set[str] = set()  # currencies added by hand, without orders yet

        intro = QLabel(
            tr(
                "Revenue on the at-risk page, the value tiers, the revenue chart, referrers "
                "and the customers export is added up in the home currency. For each other "
                "currency, give what one unit of it is worth in the home currency. Orders in "
                "a currency without a rate are left out of those totals."
            ),
            self,
        )
        intro.setWordWrap(True)

        self.home_box = QComboBox(self)
        self.home_box.setObjectName("homeCurrency")
        for code in dict.fromkeys([*self.used, *COMMON_CURRENCIES, self.rates.home]):
            self.home_box.addItem(code, code)
        self.home_box.setCurrentIndex(self.home_box.findData(self.rates.home))
        self._shown_home = self.rates.home  # what the rows are against
        self.home_box.currentIndexChanged.connect(self._home_changed)
        home_row = QHBoxLayout()
        home_row.addWidget(QLabel(tr("Home currency:"), self))
        home_row.addWidget(self.home_box)
        home_row.addStretch(1)

        self.grid_host = QWidget(self)
        self.grid = QGridLayout(self.grid_host)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setColumnStretch(4, 1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.grid_host)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)

        self.add_box = QComboBox(self)
        self.add_box.setObjectName("addCurrency")
        self.add_box.setEditable(True)
        self.add_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        add_edit = self.add_box.lineEdit()
        if add_edit is not None:
            add_edit.setPlaceholderText(tr("e.g. CHF"))
        self.add_box.setMinimumWidth(text_width(self.add_box, 16))
        self.add_button = QPushButton(tr("Add currency"), self)
        self.add_button.setObjectName("addCurrencyButton")
        self.add_button.clicked.connect(self.add_currency)
        add_row = QHBoxLayout()
        add_row.addWidget(self.add_box)
        add_row.addWidget(self.add_button)
        add_row.addStretch(1)

        self.hint = QLabel(self)
        self.hint.setObjectName("currencyHint")
        self.hint.setStyleSheet(HINT_STYLE)
        self.hint.setWordWrap(True)
        self.hint.hide()
        self.error = QLabel(self)
        self.error.setObjectName("currencyError")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()

        self.buttons = QDialogButtonBox(self)
        if self.may_edit:
            self.buttons.setStandardButtons(
                QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
            )
            self.buttons.accepted.connect(self.save)
        else:
            self.buttons.setStandardButtons(QDialogButtonBox.StandardButton.Close)
            self.hint.setText(tr("Only owners and managers can change the rates."))
            self.hint.show()
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(home_row)
        layout.addWidget(scroll, 1)
        if self.may_edit:
            layout.addLayout(add_row)
        else:
            # Not laid out, so not shown either (it would float over the top of the window).
            for widget in (self.add_box, self.add_button):
                widget.hide()
        layout.addWidget(self.hint)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        for widget in (self.home_box, self.add_box, self.add_button):
            widget.setEnabled(self.may_edit)
        self._fill(self.rates.home, {c: _rate_text(r) for c, r in self.rates.rates.items()})
        self._refresh_add_choices()
        self.setMinimumWidth(text_width(self, 60))
        self.resize(text_width(self, 64), 420)

    # -- the rows -----------------------------------------------------------------------

    @property
    def home(self) -> str:
        return str(self.home_box.currentData() or self.rates.home)

    def typed_rates(self) -> dict[str, str]:
        return {code: edit.text().strip() for code, edit in self.rate_edits.items()}

    def _fill(self, home: str, values: dict[str, str]) -> None:
        """One row per currency the orders use or a rate names, the home currency left out."""
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.rate_edits = {}
        codes = sorted({*self.used, *values, *self.extra} - {home})
        for column, heading in enumerate((tr("Currency"), tr("Orders"), "", tr("Rate"))):
            label = QLabel(f"<b>{heading}</b>", self.grid_host)
            self.grid.addWidget(label, 0, column)
        if not codes:
            none = QLabel(tr("All orders are in the home currency."), self.grid_host)
            none.setStyleSheet(HINT_STYLE)
            self.grid.addWidget(none, 1, 0, 1, 5)
        for row, code in enumerate(codes, start=1):
            count = self.used.get(code, 0)
            orders = tr("{0:,} orders").format(count) if count != 1 else tr("1 order")
            self.grid.addWidget(QLabel(code, self.grid_host), row, 0)
            count_label = QLabel(orders if count else tr("no orders yet"), self.grid_host)
            count_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.grid.addWidget(count_label, row, 1)
            self.grid.addWidget(QLabel(f"1 {code} =", self.grid_host), row, 2)
            edit = QLineEdit(values.get(code, ""), self.grid_host)
            edit.setObjectName(f"rate_{code}")
            edit.setPlaceholderText(tr("no rate"))
            edit.setAlignment(Qt.AlignmentFlag.AlignRight)
            # Room for a converted rate such as 0.138889 with a margin.
            edit.setMinimumWidth(text_width(edit, 14))
            edit.setReadOnly(not self.may_edit)
            self.grid.addWidget(edit, row, 3)
            self.grid.addWidget(QLabel(home, self.grid_host), row, 4)
            self.rate_edits[code] = edit
        self.grid.setRowStretch(len(codes) + 2, 1)

    def _refresh_add_choices(self) -> None:
        shown = {*self.rate_edits, self.home}
        self.add_box.clear()
        for code in COMMON_CURRENCIES:
            if code not in shown:
                self.add_box.addItem(code)
        self.add_box.setCurrentIndex(-1)

    @Slot()
    def add_currency(self) -> None:
        code = self.add_box.currentText().strip().upper()
        if code not in ISO_CURRENCIES:
            self._show_error(
                tr("'{0}' is not a currency: type a three-letter code such as CHF or AUD.").format(
                    code or self.add_box.currentText()
                )
            )
            return
        if code in self.rate_edits:
            self.rate_edits[code].setFocus()
            return
        if code == self.home:
            return
        self.extra.add(code)
        self._fill(self.home, self.typed_rates())
        self._refresh_add_choices()
        self.error.hide()
        self.rate_edits[code].setFocus()

    @Slot()
    def _home_changed(self) -> None:
        old_home = self._shown_home
        new_home = self.home
        if new_home == old_home:
            return
        # Read as saving would read them (7,8 is 7.8); a rate that is no number is dropped.
        parsed = {code: parse_rate(text) for code, text in self.typed_rates().items()}
        typed = ExchangeRates(old_home, {c: r for c, r in parsed.items() if r is not None})
        moved = rebased(typed, new_home)
        if moved is not None:
            self._fill(new_home, {c: _rate_text(r) for c, r in moved.rates.items()})
            self.hint.setText(
                tr("The rates are converted to {0}; check them before saving.").format(new_home)
            )
        else:
            self._fill(new_home, {})
            self.hint.setText(
                tr(
                    "There was no rate for {0} to convert the others with: give each rate in {0}."
                ).format(new_home)
            )
        self.hint.show()
        self._shown_home = new_home
        self._refresh_add_choices()

    # -- saving -------------------------------------------------------------------------

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    @Slot()
    def save(self) -> None:
        try:
            with self.ctx.unit_of_work() as (session, actor):
                self.rates = save_rates(session, actor, self.home, self.typed_rates())
        except SmbcrmError as exc:
            self._show_error(str(exc))
            return
        self.saved.emit()
        self.accept()
