"""The right-hand pane of the customer list: everything known about one customer.

A header (name, status / tier / owner badges, action buttons) over tabs: overview, contacts,
orders, activities, ownership history, the customer's history (how it became a customer,
what was merged into it) and external ids. Reads one
:func:`smbcrm.services.customers.customer_detail` per customer shown; holds no rules itself.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

from PySide6.QtCore import QCoreApplication, QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QAction, QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLayout,
    QLayoutItem,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from smbcrm.errors import NotFoundError, worded
from smbcrm.models import ActivityKind, CustomerKind, CustomerStatus, is_cancelled_status
from smbcrm.services import customers, referrals
from smbcrm.services.activities import ACTIVITY_LABELS
from smbcrm.services.customers import CustomerDetail
from smbcrm.services.money import format_money, format_totals
from smbcrm.ui.context import AppContext
from smbcrm.ui.customers_model import (
    activity_kind_label,
    format_date,
    format_datetime,
    kind_label,
    status_label,
)
from smbcrm.ui.style import MUTED_COLOR

log = logging.getLogger(__name__)

EMPTY = "—"
# ContactView.points carries the service's English kind labels.
PHONE_KINDS = frozenset({"Mobile", "Phone"})
EMAIL_KINDS = frozenset({"E-mail"})


def tr(text: str) -> str:
    return QCoreApplication.translate("CustomerDetailPane", text)


def timeline_kind(kind: str, activity_kind: ActivityKind | None = None) -> str:
    if activity_kind is not None:
        return tr(ACTIVITY_LABELS[activity_kind])
    labels = {
        "activity": tr("Contact"),
        "order": tr("Order"),
        "case": tr("Case"),
        "ownership": tr("Owner"),
        "merge": tr("Merge"),
        "conversion": tr("Became a customer"),
    }
    return labels.get(kind, kind)


_BADGE_COLOURS = {
    CustomerStatus.PROSPECT: ("#1d4ed8", "#dbeafe"),
    CustomerStatus.ACTIVE: ("#166534", "#dcfce7"),
    CustomerStatus.LAPSED: ("#9a3412", "#ffedd5"),
}
_NEUTRAL_BADGE = ("#374151", "#e5e7eb")
_ARCHIVED_BADGE = ("#6b7280", "#f3f4f6")


def _paint_badge(label: QLabel, text: str, colours: tuple[str, str]) -> None:
    foreground, background = colours
    label.setText(text)
    label.setStyleSheet(
        f"QLabel {{ color: {foreground}; background: {background}; border-radius: 8px;"
        " padding: 1px 8px; }"
    )


def _with_contacts(d: CustomerDetail, own: list[str], kinds: frozenset[str]) -> list[str]:
    """The customer's own numbers (or addresses), then each contact's, marked with the name."""
    lines = list(own)
    for contact in d.contacts:
        for kind, value in contact.points:
            if kind in kinds and value not in own:
                lines.append(f"{value} ({contact.name})")
    return lines


class TablePage(QStackedWidget):
    """A read-only table, or a sentence saying why it is empty."""

    def __init__(
        self,
        headers: Sequence[str],
        empty_text: str,
        *,
        object_name: str,
        right_aligned: Sequence[int] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, len(headers))
        self.table.setObjectName(object_name)
        self.table.setHorizontalHeaderLabels(list(headers))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self._right_aligned = set(right_aligned)
        self.empty_label = QLabel(empty_text)
        self.empty_label.setObjectName(object_name + "Empty")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setMargin(24)
        self.empty_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.addWidget(self.table)
        self.addWidget(self.empty_label)

    def set_rows(
        self,
        rows: Sequence[Sequence[str]],
        *,
        tooltips: Sequence[str | None] = (),
        bold_rows: Sequence[int] = (),
        muted_rows: Sequence[int] = (),
    ) -> None:
        table = self.table
        table.setRowCount(0)
        table.setRowCount(len(rows))
        bold = set(bold_rows)
        muted = set(muted_rows)
        for r, values in enumerate(rows):
            tip = tooltips[r] if r < len(tooltips) else None
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if c in self._right_aligned:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                item.setToolTip(tip or value)
                if r in bold:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                if r in muted:
                    item.setForeground(MUTED_COLOR)
                table.setItem(r, c, item)
        if rows:
            table.resizeColumnsToContents()
            # Keep every column readable without letting one swallow the pane.
            limit = max(self.width() // 2, 240)
            for c in range(table.columnCount() - 1):
                table.setColumnWidth(c, min(table.columnWidth(c) + 12, limit))
        self.setCurrentWidget(table if rows else self.empty_label)

    def texts(self) -> list[list[str]]:
        """What the table shows, row by row (for tests and copy)."""
        table = self.table
        return [
            [
                item.text() if (item := table.item(r, c)) is not None else ""
                for c in range(table.columnCount())
            ]
            for r in range(table.rowCount())
        ]


class FlowLayout(QLayout):
    """Items side by side, starting a new line when the next one would not fit."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 0) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self.setSpacing(spacing)
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        """Everything on one line, when there is room for that."""
        hints = [item.sizeHint() for item in self._items]
        width = sum(h.width() for h in hints) + self.spacing() * max(len(hints) - 1, 0)
        height = max((h.height() for h in hints), default=0)
        return QSize(width, height).grownBy(self.contentsMargins())

    def minimumSize(self) -> QSize:
        """As narrow as the widest item: the others go onto lines of their own."""
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size.grownBy(self.contentsMargins())

    def _arrange(self, rect: QRect, *, move: bool) -> int:
        """Place the items in ``rect`` (or only measure); the height they take."""
        margins: QMargins = self.contentsMargins()
        area = rect.marginsRemoved(margins)
        x, y, line_height = area.x(), area.y(), 0
        for item in self._items:
            hint = item.sizeHint()
            if x > area.x() and x + hint.width() > area.right() + 1:
                x, y = area.x(), y + line_height + self.spacing()
                line_height = 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self.spacing()
            line_height = max(line_height, hint.height())
        return y + line_height - rect.y() + margins.bottom()


# Looks like the application's tabs (resources/styles/app.qss, QTabBar::tab). Not bold
# when chosen: a wider text would no longer fit the button measured for it.
_TAB_BUTTON_STYLE = """
QToolButton {
    background: transparent; color: #4b5563; padding: 4px 8px;
    border: none; border-bottom: 2px solid transparent;
}
QToolButton:checked { color: #1e40af; border-bottom: 2px solid #2563eb; }
QToolButton:hover:!checked { color: #111827; border-bottom: 2px solid #cfd5dd; }
#customerTabStrip { border-bottom: 1px solid #dde1e7; }
"""


class TabStrip(QWidget):
    """The tabs of a tab widget as buttons that wrap onto a second line.

    A tab bar keeps its tabs on one line: beside the customer list in a window 1200-1280
    px wide, the pane's seven tabs were hidden behind scroll arrows. The tab widget keeps
    the pages (and its tab texts, for whoever reads them); its own bar is hidden.
    """

    def __init__(self, tabs: QTabWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("customerTabStrip")
        self.tabs = tabs
        tabs.tabBar().hide()
        self.buttons: list[QToolButton] = []
        self._flow = FlowLayout(self)
        self._flow.setContentsMargins(0, 0, 0, 1)  # the line under the tabs
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setStyleSheet(_TAB_BUTTON_STYLE)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        tabs.currentChanged.connect(self._show_current)

    def add_tab(self, page: QWidget, text: str, tooltip: str = "") -> int:
        index = self.tabs.addTab(page, text)
        button = QToolButton(self)
        button.setObjectName(f"customerTab{index}")
        button.setCheckable(True)
        button.setAutoExclusive(True)  # arrow keys move between them, as between tabs
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.toggled.connect(lambda on, i=index: self._on_toggled(i, on))
        self.buttons.append(button)
        self._flow.addWidget(button)
        self.set_tab_text(index, text)
        if tooltip:
            self.tabs.setTabToolTip(index, tooltip)
            button.setToolTip(tooltip)
        self._show_current(self.tabs.currentIndex())
        return index

    def set_tab_text(self, index: int, text: str) -> None:
        self.tabs.setTabText(index, text)
        self.buttons[index].setText(text)

    def _on_toggled(self, index: int, on: bool) -> None:
        if on:
            self.tabs.setCurrentIndex(index)

    def _show_current(self, index: int) -> None:
        if 0 <= index < len(self.buttons):
            self.buttons[index].setChecked(True)


class CustomerDetailPane(QWidget):
    """Shows one customer (or a hint when none is selected)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("customerDetail")
        self._ctx = ctx
        self._customer_id: int | None = None
        self._detail: CustomerDetail | None = None
        self._referred: referrals.Referrals | None = None

        self._stack = QStackedWidget()
        self.placeholder = QLabel(tr("Select a customer in the list to see everything about them."))
        self.placeholder.setObjectName("customerDetailPlaceholder")
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setMargin(24)
        self.placeholder.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self._stack.addWidget(self.placeholder)
        self._stack.addWidget(self._build_content())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._stack)

    # -- building -------------------------------------------------------------------------
    def _build_content(self) -> QWidget:
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(8, 4, 4, 4)

        # The name, its badges, then the buttons, each on a line of its own: side by side
        # they made the pane too wide to leave the list its room, or squeezed the name.
        header = QVBoxLayout()
        header.setSpacing(4)
        self.name_label = QLabel()
        self.name_label.setObjectName("customerName")
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.name_label.setFont(font)
        self.name_label.setWordWrap(True)
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        header.addWidget(self.name_label)
        badges = QHBoxLayout()
        badges.setSpacing(6)
        self.status_badge, self.tier_badge, self.owner_badge, self.archived_badge = (
            QLabel() for _ in range(4)
        )
        for badge, name in (
            (self.status_badge, "statusBadge"),
            (self.tier_badge, "tierBadge"),
            (self.owner_badge, "ownerBadge"),
            (self.archived_badge, "archivedBadge"),
        ):
            badge.setObjectName(name)
            badges.addWidget(badge)
        badges.addStretch(1)
        header.addLayout(badges)
        self._header_buttons = QHBoxLayout()
        self._header_buttons.setSpacing(4)
        buttons_row = QHBoxLayout()
        buttons_row.addLayout(self._header_buttons)
        buttons_row.addStretch(1)
        header.addLayout(buttons_row)
        layout.addLayout(header)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("customerTabs")
        self.tabs.setDocumentMode(True)
        self.tab_strip = TabStrip(self.tabs)
        self.tab_strip.add_tab(self._build_overview(), tr("Overview"))
        self.contacts_page = TablePage(
            [tr("Name"), tr("Title"), tr("Phones and e-mails")],
            tr("No contact people yet. Edit the customer (Ctrl+E) to add the main contact."),
            object_name="contactsTable",
        )
        self.tab_strip.add_tab(self.contacts_page, tr("Contacts"))
        self.orders_summary = QLabel()
        self.orders_summary.setObjectName("ordersSummary")
        self.orders_page = TablePage(
            [tr("Date"), tr("Number"), tr("Amount"), tr("Status"), tr("Source")],
            tr("No orders yet — orders arrive from order imports."),
            object_name="ordersTable",
            right_aligned=[2],
        )
        self.tab_strip.add_tab(
            self._with_caption(self.orders_summary, self.orders_page), tr("Orders")
        )
        self.follow_ups_label = QLabel()
        self.follow_ups_label.setObjectName("followUpsSummary")
        self.follow_ups_label.setWordWrap(True)
        self.activities_page = TablePage(
            [tr("When"), tr("Kind"), tr("Subject"), tr("By")],
            tr(
                "No calls, visits or notes logged yet. Log one with Ctrl+L after you talk to "
                "this customer."
            ),
            object_name="activitiesTable",
        )
        self.activities_tab = self._with_caption(self.follow_ups_label, self.activities_page)
        self.tab_strip.add_tab(self.activities_tab, tr("Activities"))
        self.ownership_page = TablePage(
            [tr("When"), tr("From"), tr("To"), tr("Changed by"), tr("Why")],
            tr("The responsible salesperson has never changed."),
            object_name="ownershipTable",
        )
        self.tab_strip.add_tab(
            self.ownership_page,
            tr("Ownership"),
            tr("Ownership history: who was responsible, since when, why"),
        )
        self.history_page = TablePage(
            [tr("When"), tr("What"), tr("By"), tr("What happened")],
            tr(
                "Nothing here yet. Calls, visits, orders, cases, changes of salesperson and "
                "merges show here as they happen."
            ),
            object_name="historyTable",
        )
        self.tab_strip.add_tab(
            self.history_page,
            tr("Timeline"),
            tr(
                "Everything in one chronological view: contacts, orders, cases, ownership "
                "changes, merges and how it became a customer"
            ),
        )
        self.external_ids_page = TablePage(
            [tr("System"), tr("Key")],
            tr(
                "Not linked to another system yet. Importing orders or lists links it by "
                "customer code."
            ),
            object_name="externalIdsTable",
        )
        self.tab_strip.add_tab(self.external_ids_page, tr("External IDs"))
        layout.addWidget(self.tab_strip)
        layout.addWidget(self.tabs, 1)
        return content

    @staticmethod
    def _with_caption(caption: QLabel, page: QWidget) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 6, 0, 0)
        caption.setContentsMargins(4, 0, 4, 2)
        layout.addWidget(caption)
        layout.addWidget(page, 1)
        return box

    def _build_overview(self) -> QWidget:
        scroll = QScrollArea()
        scroll.setObjectName("customerOverview")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        self._overview = QFormLayout(body)
        self._overview.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self._overview.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._overview.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self._overview.setContentsMargins(8, 8, 8, 8)
        self._overview.setVerticalSpacing(6)
        self.overview_values: dict[str, QLabel] = {}
        scroll.setWidget(body)
        return scroll

    def add_header_action(self, action: QAction) -> QToolButton:
        """A button for ``action`` next to the customer's name (edit, log activity...)."""
        button = QToolButton()
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self._header_buttons.addWidget(button)
        return button

    # -- showing --------------------------------------------------------------------------
    @property
    def customer_id(self) -> int | None:
        return self._customer_id

    @property
    def detail(self) -> CustomerDetail | None:
        return self._detail

    def show_customer(self, customer_id: int | None) -> None:
        """Show this customer (read afresh from the database), or the hint for None."""
        self._customer_id = customer_id
        if customer_id is None:
            self._show_message(tr("Select a customer in the list to see everything about them."))
            return
        try:
            with self._ctx.read_session() as session:
                detail = customers.customer_detail(session, customer_id, region=self._ctx.region)
                self._referred = referrals.referrals_of(session, detail.id)
        except NotFoundError:
            self._show_message(
                tr(
                    "This customer no longer exists; it may have been merged into another. "
                    "Press F5 to refresh the list."
                )
            )
            return
        except SQLAlchemyError:
            log.warning("Reading customer %s failed", customer_id, exc_info=True)
            self._show_message(
                tr(
                    "The customer could not be read from the database. Check the connection "
                    "to the database, then press F5 to try again."
                )
            )
            return
        self._customer_id = detail.id
        self._detail = detail
        self._fill(detail)
        self._stack.setCurrentIndex(1)

    def reload(self) -> None:
        self.show_customer(self._customer_id)

    def _show_message(self, text: str) -> None:
        self._detail = None
        self.placeholder.setText(text)
        self._stack.setCurrentIndex(0)

    def _fill(self, d: CustomerDetail) -> None:
        self.name_label.setText(d.name)
        self.name_label.setToolTip(d.name)
        self._fill_badges(d)
        self._fill_overview(d)
        self.contacts_page.set_rows(
            [
                [
                    ("★ " if c.is_primary else "") + c.name,
                    c.title or "",
                    " · ".join(f"{kind}: {value}" for kind, value in c.points),
                ]
                for c in d.contacts
            ]
        )
        self._fill_orders(d)
        self._fill_activities(d)
        self.ownership_page.set_rows(
            [
                [
                    format_datetime(o.changed_at),
                    o.from_user or tr("Unassigned pool"),
                    o.to_user or tr("Unassigned pool"),
                    o.changed_by or EMPTY,
                    o.reason,
                ]
                for o in d.ownership
            ]
        )
        self.history_page.set_rows(
            [
                [
                    format_date(h.at.date()) if h.kind == "order" else format_datetime(h.at),
                    timeline_kind(h.kind, h.activity_kind),
                    h.by or EMPTY,
                    worded(h.text),
                ]
                for h in d.history
            ]
        )
        self.external_ids_page.set_rows([[system, key] for system, key in d.external_ids])
        self._set_tab_counts(d)

    def _fill_badges(self, d: CustomerDetail) -> None:
        _paint_badge(self.status_badge, status_label(d.status), _BADGE_COLOURS[d.status])
        _paint_badge(
            self.tier_badge,
            tr("Tier {tier}").format(tier=d.tier.value) if d.tier else tr("No tier"),
            _NEUTRAL_BADGE,
        )
        _paint_badge(self.owner_badge, d.owner or tr("Unassigned"), _NEUTRAL_BADGE)
        self.owner_badge.setToolTip(
            tr("Responsible salesperson") if d.owner else tr("In the unassigned pool")
        )
        _paint_badge(self.archived_badge, tr("Archived"), _ARCHIVED_BADGE)
        self.archived_badge.setVisible(d.archived)

    def _referred_text(self) -> str:
        """Whom this customer brought in, and the revenue those customers brought."""
        found = self._referred
        if found is None or not found.customers:
            return ""
        names = ", ".join(c.name for c in found.customers[:5])
        more = len(found.customers) - 5
        if more > 0:
            names += tr(" and {n} more").format(n=more)
        return tr("{names} — {total} revenue ({recent} in the last 12 months)").format(
            names=names,
            total=format_money(found.revenue, found.currency),
            recent=format_money(found.revenue_12m, found.currency),
        )

    def _fill_overview(self, d: CustomerDetail) -> None:
        form = self._overview
        while form.rowCount():
            form.removeRow(0)
        self.overview_values = {}
        stats = d.order_stats
        open_follow_ups = [f for f in d.follow_ups if not f.done]
        rows: list[tuple[str, str, str]] = [
            ("kind", tr("Kind"), kind_label(d.kind)),
            ("phones", tr("Phones"), "\n".join(_with_contacts(d, d.phones, PHONE_KINDS))),
            ("emails", tr("E-mails"), "\n".join(_with_contacts(d, d.emails, EMAIL_KINDS))),
            ("address", tr("Address"), "\n".join(d.address_lines)),
        ]
        if d.kind == CustomerKind.PERSON:
            rows.append(("birthday", tr("Birthday"), format_date(d.birthday)))
        else:
            rows.append(("tax_id", tr("Tax ID"), d.tax_id or ""))
        rows += [
            ("source", tr("Source"), d.source or ""),
            ("referred_by", tr("Referred by"), d.referred_by or ""),
            ("referred", tr("Referred by them"), self._referred_text()),
            ("tags", tr("Tags"), ", ".join(d.tags)),
            ("team", tr("Account team"), ", ".join(d.team)),
            ("notes", tr("Notes"), d.notes or ""),
            ("orders", tr("Orders"), self._orders_text(stats.count)),
            (
                "revenue",
                tr("Revenue"),
                format_totals(stats.totals) if stats.count else "",
            ),
            ("customer_since", tr("Became a customer"), worded(d.conversion or "")),
            ("first_order", tr("First order"), format_date(stats.first_order)),
            ("last_order", tr("Last order"), self._last_order_text(stats.last_order)),
            (
                "follow_ups",
                tr("Follow-ups"),
                self._follow_ups_text(len(open_follow_ups), open_follow_ups[0].due_date)
                if open_follow_ups
                else "",
            ),
            ("created", tr("Created"), format_datetime(d.created_at)),
            ("updated", tr("Updated"), format_datetime(d.updated_at)),
        ]
        # Only customers that came from a prospect have a conversion to tell.
        rows = [row for row in rows if row[0] != "customer_since" or row[2]]
        for key, caption, value in rows:
            label = QLabel(value or EMPTY)
            label.setObjectName(f"overview_{key}")
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            if not value:
                label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
            self.overview_values[key] = label
            caption_label = QLabel(caption + ":")
            caption_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
            form.addRow(caption_label, label)

    @staticmethod
    def _orders_text(count: int) -> str:
        if count == 0:
            return tr("None yet")
        return tr("1 order") if count == 1 else tr("{n} orders").format(n=f"{count:,}")

    @staticmethod
    def _last_order_text(last: date | None) -> str:
        if last is None:
            return ""
        days = (date.today() - last).days
        if days <= 0:
            return format_date(last)
        ago = tr("1 day ago") if days == 1 else tr("{n} days ago").format(n=f"{days:,}")
        return f"{format_date(last)} ({ago})"

    @staticmethod
    def _follow_ups_text(count: int, next_due: date) -> str:
        opened = tr("1 open") if count == 1 else tr("{n} open").format(n=count)
        return tr("{opened}, next due {day}").format(opened=opened, day=format_date(next_due))

    def _fill_orders(self, d: CustomerDetail) -> None:
        stats = d.order_stats
        cancelled = [is_cancelled_status(o.status) for o in d.recent_orders]
        self.orders_page.set_rows(
            [
                [
                    format_date(o.order_date),
                    o.order_number,
                    format_money(o.amount, o.currency),
                    o.status or "",
                    o.source_system,
                ]
                for o in d.recent_orders
            ],
            # Cancelled orders are listed, greyed: they are no sale (see counts_as_sale).
            tooltips=[tr("Cancelled: not counted in revenue") if c else None for c in cancelled],
            muted_rows=[i for i, c in enumerate(cancelled) if c],
        )
        if stats.count + stats.cancelled == 0:
            self.orders_summary.setText("")
            self.orders_summary.hide()
            return
        text = tr("{orders}, {revenue} in total").format(
            orders=self._orders_text(stats.count), revenue=format_totals(stats.totals)
        )
        if stats.cancelled:
            text += " " + tr("(and {n} cancelled, not counted)").format(n=stats.cancelled)
        if stats.count + stats.cancelled > len(d.recent_orders):
            text += " " + tr("(the latest {n} are listed)").format(n=len(d.recent_orders))
        self.orders_summary.setText(text)
        self.orders_summary.show()

    def _fill_activities(self, d: CustomerDetail) -> None:
        rows = []
        tips: list[str | None] = []
        opportunities = []
        for i, a in enumerate(d.activities):
            subject = a.subject
            if a.is_opportunity:
                subject = "★ " + subject
                opportunities.append(i)
            rows.append(
                [
                    format_datetime(a.occurred_at),
                    activity_kind_label(a.kind),
                    subject,
                    a.user or EMPTY,
                ]
            )
            tip = a.subject + ("\n\n" + a.body if a.body else "")
            if a.is_opportunity:
                tip = tr("Sales opportunity") + "\n" + tip
            tips.append(tip)
        self.activities_page.set_rows(rows, tooltips=tips, bold_rows=opportunities)
        open_tasks = [f for f in d.follow_ups if not f.done]
        if open_tasks:
            lines = [
                tr("Follow-up due {day}: {title} ({who})").format(
                    day=format_date(f.due_date), title=f.title, who=f.assignee or EMPTY
                )
                for f in open_tasks[:3]
            ]
            if len(open_tasks) > 3:
                lines.append(tr("… and {n} more").format(n=len(open_tasks) - 3))
            self.follow_ups_label.setText("\n".join(lines))
            self.follow_ups_label.show()
        else:
            self.follow_ups_label.setText("")
            self.follow_ups_label.hide()

    def _set_tab_counts(self, d: CustomerDetail) -> None:
        counted = [
            (1, tr("Contacts"), len(d.contacts)),
            (2, tr("Orders"), d.order_stats.count + d.order_stats.cancelled),  # all listed
            (3, tr("Activities"), len(d.activities)),
        ]
        for index, title, count in counted:
            self.tab_strip.set_tab_text(index, f"{title} ({count:,})" if count else title)
