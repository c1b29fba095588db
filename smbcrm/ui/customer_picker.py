"""A line edit that finds a customer as you type: name, contact, phone, e-mail or city.

The suggestions show name · city · phone, so two 张伟 or two "Golden Dragon" can be told
apart. Choosing one (click, or ↓ and Enter) sets :meth:`CustomerPicker.customer_id`;
editing the text afterwards forgets the choice until another is made; clearing the text
means "nobody". Built for "Referred by" in the customer form, usable wherever a customer
is to be chosen::

    picker = CustomerPicker(ctx, exclude_id=customer_id)
    picker.set_customer(form.referred_by_id, form.referred_by_name)
    picker.customer_chosen.connect(...)
    data.referred_by_id = picker.customer_id()

Suggestions come from :func:`smbcrm.services.referrals.referrer_choices` (the customer
list's search), a moment after typing stops.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QModelIndex, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QCompleter, QLineEdit, QWidget
from sqlalchemy.exc import SQLAlchemyError

from smbcrm.services import referrals
from smbcrm.services.referrals import CustomerChoice
from smbcrm.ui.context import AppContext

log = logging.getLogger(__name__)

ID_ROLE = Qt.ItemDataRole.UserRole + 1
NAME_ROLE = Qt.ItemDataRole.UserRole + 2
TYPING_PAUSE_MS = 150
SUGGESTIONS = 20


def tr(text: str) -> str:
    return QCoreApplication.translate("CustomerPicker", text)


class CustomerPicker(QLineEdit):
    """Search-as-you-type for one customer; ``customer_id()`` is the choice (or None)."""

    # The chosen customer's id, or None when the choice is cleared or typed away.
    customer_chosen = Signal(object)

    def __init__(
        self,
        ctx: AppContext,
        parent: QWidget | None = None,
        *,
        exclude_id: int | None = None,
        limit: int = SUGGESTIONS,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("customerPicker")
        self.ctx = ctx
        self.exclude_id = exclude_id
        self.limit = limit
        self._customer_id: int | None = None
        self._chosen_name = ""
        self.setClearButtonEnabled(True)
        self.setPlaceholderText(tr("Type a name, phone or city…"))
        self.choices = QStandardItemModel(self)
        completer = QCompleter(self.choices, self)
        completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setMaxVisibleItems(10)
        # Clicking a suggestion must not put its "name · city · phone" label in the box.
        completer.activated[QModelIndex].connect(self._on_chosen)  # type: ignore[index]
        # Not setCompleter(): the popup is driven by hand (see _on_search).
        completer.setWidget(self)
        self.completer_ = completer
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(TYPING_PAUSE_MS)
        self._timer.timeout.connect(self._on_search)
        self.textEdited.connect(self._on_edited)

    # -- the choice ---------------------------------------------------------------------

    def customer_id(self) -> int | None:
        return self._customer_id

    def set_customer(self, customer_id: int | None, name: str | None = None) -> None:
        """Show an existing choice (e.g. the stored referrer) without searching."""
        self._customer_id = customer_id
        self._chosen_name = (name or "") if customer_id is not None else ""
        self.setText(self._chosen_name)
        self.setToolTip(self._chosen_name)

    def clear_customer(self) -> None:
        self.set_customer(None)
        self.customer_chosen.emit(None)

    # -- searching ----------------------------------------------------------------------

    @Slot(str)
    def _on_edited(self, text: str) -> None:
        if self._customer_id is not None and text != self._chosen_name:
            self._customer_id = None
            self.customer_chosen.emit(None)
        if not text.strip():
            popup = self.completer_.popup()
            if popup is not None:
                popup.hide()
            self._timer.stop()
            return
        self._timer.start()

    def suggestions(self, text: str) -> list[CustomerChoice]:
        try:
            with self.ctx.read_session() as session:
                return referrals.referrer_choices(
                    session,
                    text,
                    self.limit,
                    exclude_id=self.exclude_id,
                    customer_list=self.ctx.customer_list,
                    region=self.ctx.region,
                )
        except SQLAlchemyError:
            log.warning("Searching customers for the picker failed", exc_info=True)
            return []

    @Slot()
    def _on_search(self) -> None:
        """Fill the suggestions for the text as it is now and show them."""
        found = self.suggestions(self.text())
        self.choices.clear()
        for choice in found:
            item = QStandardItem(choice.label)
            item.setData(choice.id, ID_ROLE)
            item.setData(choice.name, NAME_ROLE)
            item.setToolTip(f"{choice.label}\n{choice.contact}" if choice.contact else choice.label)
            item.setEditable(False)
            self.choices.appendRow(item)
        if not found:
            item = QStandardItem(tr("No customer matches “{0}”").format(self.text().strip()))
            item.setEnabled(False)
            item.setSelectable(False)
            self.choices.appendRow(item)
        self.completer_.complete()

    def search_now(self) -> None:
        """Search without waiting for the typing pause (for scripts and tests)."""
        self._timer.stop()
        self._on_search()

    @Slot(QModelIndex)
    def _on_chosen(self, index: QModelIndex) -> None:
        customer_id = index.data(ID_ROLE)
        if customer_id is None:
            return
        self.set_customer(int(customer_id), str(index.data(NAME_ROLE)))
        self.customer_chosen.emit(self._customer_id)

    def choose_row(self, row: int) -> None:
        """Take the ``row``-th suggestion, as a click on it would."""
        self._on_chosen(self.choices.index(row, 0))
