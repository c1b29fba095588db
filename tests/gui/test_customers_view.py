"""The customer list, detail pane, customer form and activity dialog, driven with qtbot."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from decimal import Decimal

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from smbcrm.models import Activity, ActivityKind, Customer, CustomerStatus, Role, Tier
from smbcrm.services import auth, customers
from smbcrm.services.customers import CustomerFilter, CustomerInput
from smbcrm.services.money import format_money
from smbcrm.ui.activity_dialog import ActivityDialog
from smbcrm.ui.context import AppContext
from smbcrm.ui.customer_dialog import CustomerDialog
from smbcrm.ui.customers_model import CustomerColumn, CustomerTableModel
from smbcrm.ui.customers_view import CustomersView
from tests.factories import make_customer, make_order
from tests.gui.conftest import BulkCustomer, add_salesperson, bulk_insert_customers, context_for


def make_view(qtbot: QtBot, ctx: AppContext) -> CustomersView:
    view = CustomersView(ctx)
    qtbot.addWidget(view)
    view.resize(1400, 800)
    view.show()
    qtbot.waitExposed(view)
    return view


def listed_names(view: CustomersView) -> list[str]:
    model = view.model
    return [
        str(model.data(model.index(row, CustomerColumn.NAME))) for row in range(model.rowCount())
    ]


def add_customer(ctx: AppContext, name: str, **fields: object) -> int:
    with ctx.db.session(user_id=ctx.user_id) as session:
        return make_customer(session, name, **fields).id  # type: ignore[arg-type]


def type_with_input_method(widget: QWidget, text: str) -> None:
    """Chinese arrives as input-method commits (QTest.keyClicks cannot send CJK characters)."""
    for character in text:
        event = QInputMethodEvent("", [])
        event.setCommitString(character)
        QApplication.sendEvent(widget, event)


def click_header(qtbot: QtBot, view: CustomersView, column: CustomerColumn) -> None:
    header = view.table.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))


# ---------------------------------------------------------------------------------------
# The list


def test_the_model_reads_one_page_at_a_time(qtbot: QtBot, ctx: AppContext) -> None:
    bulk_insert_customers(ctx.db, [BulkCustomer(f"Customer {i:04d}") for i in range(1000)])
    model = CustomerTableModel(ctx.customer_list, ctx.read_session)
    model.reload()
    assert model.rowCount() == 200
    assert model.matching_count == 1000 and model.total_count == 1000
    assert model.canFetchMore()
    model.fetchMore()
    assert model.rowCount() == 400
    while model.canFetchMore():
        model.fetchMore()
    assert model.rowCount() == 1000
    ids = {model.data(model.index(r, 0), Qt.ItemDataRole.UserRole) for r in range(1000)}
    assert len(ids) == 1000  # pages neither overlap nor skip


def test_the_view_opens_with_the_first_page_and_the_count(qtbot: QtBot, ctx: AppContext) -> None:
    bulk_insert_customers(ctx.db, [BulkCustomer(f"Customer {i:04d}") for i in range(1000)])
    view = make_view(qtbot, ctx)
    assert view.model.rowCount() == 200
    assert view.count_label.text() == "1,000 customers"
    # Scrolling to the end asks for the next page.
    view.table.scrollToBottom()
    qtbot.waitUntil(lambda: view.model.rowCount() >= 400)


def test_typing_two_chinese_characters_filters_after_the_pause(
    qtbot: QtBot, ctx: AppContext
) -> None:
    bulk_insert_customers(ctx.db, [BulkCustomer(f"Filler {i:03d}") for i in range(300)])
    wanted = add_customer(ctx, "深圳市华强电子有限公司", city="深圳")
    add_customer(ctx, "广州宏达贸易有限公司", city="广州")
    view = make_view(qtbot, ctx)

    type_with_input_method(view.search_edit, "华强")
    assert view.search_edit.text() == "华强"
    # Debounced: nothing is re-queried while the user is still typing.
    assert view.model.customer_filter.text == ""
    qtbot.waitUntil(lambda: listed_names(view) == ["深圳市华强电子有限公司"], timeout=2000)
    assert view.count_label.text() == "1 of 302 match"
    # The only match is selected and shown on the right.
    qtbot.waitUntil(lambda: view.detail.customer_id == wanted)
    assert view.detail.name_label.text() == "深圳市华强电子有限公司"

    view.search_edit.clear()
    qtbot.waitUntil(lambda: view.model.rowCount() == 200)
    assert view.count_label.text() == "302 customers"


def test_a_phone_typed_any_way_finds_the_customer(qtbot: QtBot, ctx: AppContext) -> None:
    add_customer(ctx, "Li Lei Trading", phones=["13800138000"])
    add_customer(ctx, "Han Meimei Studio", phones=["13900139000"])
    view = make_view(qtbot, ctx)
    qtbot.keyClicks(view.search_edit, "+86 138-0013-8000")
    qtbot.waitUntil(lambda: listed_names(view) == ["Li Lei Trading"], timeout=2000)
    phone = view.model.data(view.model.index(0, CustomerColumn.PHONE))
    assert "138" in str(phone) and "8000" in str(phone)


def test_filters_for_status_owner_and_tier(qtbot: QtBot, ctx: AppContext) -> None:
    seller = add_salesperson(ctx.db, "li.na", "Li Na")
    bulk_insert_customers(
        ctx.db,
        [
            BulkCustomer("Alpha", status=CustomerStatus.PROSPECT, tier=Tier.A, owner_id=seller),
            BulkCustomer("Bravo", status=CustomerStatus.ACTIVE, tier=Tier.B),
            BulkCustomer("Charlie", status=CustomerStatus.LAPSED, owner_id=seller),
        ],
    )
    view = make_view(qtbot, ctx)
    view.status_filter.setCurrentIndex(view.status_filter.findData(CustomerStatus.PROSPECT))
    assert listed_names(view) == ["Alpha"]
    assert view.count_label.text() == "1 of 3 match"
    assert view.model.data(view.model.index(0, CustomerColumn.STATUS)) == "Prospect"
    view.status_filter.setCurrentIndex(0)
    view.owner_filter.setCurrentIndex(view.owner_filter.findText("Unassigned pool"))
    assert listed_names(view) == ["Bravo"]
    view.owner_filter.setCurrentIndex(view.owner_filter.findData(seller))
    assert listed_names(view) == ["Alpha", "Charlie"]
    view.tier_filter.setCurrentIndex(view.tier_filter.findData(Tier.A))
    assert listed_names(view) == ["Alpha"]


def test_clicking_a_header_sorts_in_the_database(qtbot: QtBot, ctx: AppContext) -> None:
    bulk_insert_customers(
        ctx.db,
        [
            BulkCustomer("Apple Trading", city="Shenzhen"),
            BulkCustomer("Banana Foods", city="Beijing"),
            BulkCustomer("Cherry Tools", city="Chengdu"),
        ]
        + [BulkCustomer(f"Delta {i:03d}", city="Guangzhou") for i in range(300)],
    )
    view = make_view(qtbot, ctx)
    assert listed_names(view)[:3] == ["Apple Trading", "Banana Foods", "Cherry Tools"]

    click_header(qtbot, view, CustomerColumn.NAME)  # same column again: descending
    assert view.model.sort_order == Qt.SortOrder.DescendingOrder
    assert listed_names(view)[0] == "Delta 299"
    # The database sorted everything, not just the 200 rows loaded before.
    assert view.model.rowCount() == 200

    click_header(qtbot, view, CustomerColumn.CITY)
    assert view.model.sort_column == CustomerColumn.CITY
    assert listed_names(view)[:2] == ["Banana Foods", "Cherry Tools"]

    click_header(qtbot, view, CustomerColumn.EMAIL)  # no sort index: stays sorted by city
    assert view.model.sort_column == CustomerColumn.CITY
    assert view.table.horizontalHeader().sortIndicatorSection() == CustomerColumn.CITY


def test_shortcuts_focus_the_search_box(qtbot: QtBot, ctx: AppContext) -> None:
    view = make_view(qtbot, ctx)
    view.search_edit.setText("acme")
    view.table.setFocus()
    view.focus_search_action.trigger()
    assert view.search_edit.hasFocus() or view.focusWidget() is view.search_edit
    assert view.search_edit.selectedText() == "acme"
    assert view.new_action.shortcut().toString() == "Ctrl+N"
    assert view.edit_action.shortcut().toString() == "Ctrl+E"
    assert view.log_activity_action.shortcut().toString() == "Ctrl+L"
    assert view.refresh_action.shortcut().toString() == "F5"


# ---------------------------------------------------------------------------------------
# The customer form


def test_new_customer_form_checks_as_you_type_then_saves_and_selects(
    qtbot: QtBot, ctx: AppContext
) -> None:
    bulk_insert_customers(ctx.db, [BulkCustomer(f"Filler {i:03d}") for i in range(450)])
    view = make_view(qtbot, ctx)
    messages: list[str] = []
    view.status_message.connect(messages.append)
    dialog = view.new_customer()
    assert dialog is not None
    qtbot.waitExposed(dialog)
    save = dialog.save_button
    assert not save.isEnabled()  # no name yet

    qtbot.keyClicks(dialog.name_edit, "Zeta Precision ")
    type_with_input_method(dialog.name_edit, "精密")
    assert save.isEnabled()
    qtbot.mouseClick(dialog.phone_edit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.phone_edit.hasFocus)
    qtbot.keyClicks(dialog.phone_edit, "138 0013")
    assert not save.isEnabled()  # already known to be wrong, but not shouted while typing
    assert not dialog.error_labels["phones"].isVisible()
    qtbot.keyClick(dialog.phone_edit, Qt.Key.Key_Tab)  # leaving the field shows its problem
    error = dialog.findChild(QLabel, "phonesError")
    assert error is not None and error.isVisible()
    assert "not a valid number" in error.text()

    dialog.phone_edit.clear()
    qtbot.keyClicks(dialog.phone_edit, "138 0013 8123; 0755-8888 9999")
    assert not error.isVisible()  # fixed: the message goes as soon as it is right
    assert save.isEnabled()
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)

    assert dialog.result() == CustomerDialog.DialogCode.Accepted
    new_id = dialog.saved_customer_id
    assert new_id is not None
    # Sorted by name it is row 451 of 451: loaded and selected all the same.
    assert view.current_customer_id() == new_id
    assert view.detail.customer_id == new_id
    assert view.detail.name_label.text() == "Zeta Precision 精密"
    assert messages[-1] == "Added Zeta Precision 精密."
    with ctx.read_session() as session:
        detail = customers.customer_detail(session, new_id, region=ctx.region)
    assert len(detail.phones) == 2 and detail.owner == "Wang Fang"


def test_form_rejects_a_birthday_for_a_company_and_a_bad_tax_id(
    qtbot: QtBot, ctx: AppContext
) -> None:
    dialog = CustomerDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.birthday_check.isEnabled()  # a company has no birthday
    dialog.kind_combo.setCurrentIndex(1)  # person
    assert dialog.birthday_check.isEnabled() and not dialog.tax_id_edit.isEnabled()
    dialog.kind_combo.setCurrentIndex(0)
    qtbot.keyClicks(dialog.name_edit, "Acme")
    qtbot.waitExposed(dialog)
    qtbot.mouseClick(dialog.tax_id_edit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.tax_id_edit.hasFocus)
    qtbot.keyClicks(dialog.tax_id_edit, "91440300MA5XXXXXX!")
    qtbot.keyClick(dialog.tax_id_edit, Qt.Key.Key_Tab)
    assert dialog.error_labels["tax_id"].isVisible()
    assert not dialog.save_button.isEnabled()


@pytest.mark.parametrize("answer", ["Keep mine", "Reload"])
def test_edit_conflict_asks_reload_or_keep_mine(
    qtbot: QtBot, ctx: AppContext, monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    customer_id = add_customer(ctx, "Golden Sun Trading")
    view = make_view(qtbot, ctx)
    assert view.select_customer(customer_id)
    dialog = view.edit_customer()
    assert dialog is not None
    dialog.name_edit.setText("Golden Sun Trading (Shenzhen)")

    # Meanwhile a colleague saves the same customer from another desktop.
    with ctx.db.session(user_id=ctx.user_id) as session:
        boss = auth.find_user(session, "boss")
        theirs = customers.input_from_customer(customers.get_customer(session, customer_id))
        theirs.notes = "Prefers WeChat"
        customers.update_customer(session, boss, customer_id, theirs)

    shown: list[str] = []

    def answer_box(box: QMessageBox) -> int:
        shown.append(box.text())
        button = next(b for b in box.buttons() if b.text() == answer)
        button.click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", answer_box)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    assert shown and "while you were editing" in shown[0]
    with ctx.read_session() as session:
        saved = customers.get_customer(session, customer_id)
        name, notes = saved.name, saved.notes
    if answer == "Keep mine":
        assert dialog.result() == CustomerDialog.DialogCode.Accepted
        assert name == "Golden Sun Trading (Shenzhen)"
        assert view.detail.name_label.text() == "Golden Sun Trading (Shenzhen)"
    else:
        assert dialog.isVisible()  # still editing, now their version
        assert name == "Golden Sun Trading" and notes == "Prefers WeChat"
        assert dialog.name_edit.text() == "Golden Sun Trading"
        assert dialog.notes_edit.toPlainText() == "Prefers WeChat"


def test_salesperson_cannot_choose_the_owner(qtbot: QtBot, ctx: AppContext) -> None:
    add_salesperson(ctx.db, "li.na", "Li Na")
    seller_ctx = context_for(ctx.db, "li.na")
    dialog = CustomerDialog(seller_ctx)
    qtbot.addWidget(dialog)
    assert not dialog.owner_combo.isEnabled()
    assert dialog.owner_combo.currentText() == "Li Na"  # a new customer is theirs


def test_editing_someone_elses_customer_explains_why_not(qtbot: QtBot, ctx: AppContext) -> None:
    add_salesperson(ctx.db, "li.na", "Li Na")
    customer_id = add_customer(ctx, "Boss's Own Account")
    dialog = CustomerDialog(context_for(ctx.db, "li.na"), customer_id)
    qtbot.addWidget(dialog)
    assert dialog.banner.text().startswith("Li Na may not edit Boss's Own Account")
    assert not dialog.save_button.isEnabled()
    # The form shows the customer but invites no typing it could not keep.
    assert dialog.name_edit.text() == "Boss's Own Account" and dialog.name_edit.isReadOnly()
    assert dialog.notes_edit.isReadOnly() and not dialog.status_combo.isEnabled()


def test_edit_customer_from_the_button_menu_and_shortcut_opens_the_selected_one(
    qtbot: QtBot, ctx: AppContext
) -> None:
    add_customer(ctx, "First Trading")
    customer_id = add_customer(ctx, "Second Trading")
    view = make_view(qtbot, ctx)
    view.select_customer(customer_id)
    opened: list[CustomerDialog] = []
    original = view._open_customer_dialog

    def remember(cid: int | None) -> CustomerDialog:
        opened.append(original(cid))
        return opened[-1]

    view._open_customer_dialog = remember  # type: ignore[method-assign]
    view.edit_action.trigger()  # the button, the menu item and Ctrl+E share this action
    assert len(opened) == 1
    dialog = opened[0]
    qtbot.addWidget(dialog)
    assert dialog.name_edit.text() == "Second Trading"
    assert not dialog.banner.isVisible()


# ---------------------------------------------------------------------------------------
# Activities and the detail pane


def test_log_a_call_in_a_few_keystrokes(qtbot: QtBot, ctx: AppContext) -> None:
    customer_id = add_customer(ctx, "Blue Sky Imports")
    view = make_view(qtbot, ctx)
    view.select_customer(customer_id)
    dialog = view.log_activity()
    assert isinstance(dialog, ActivityDialog)
    qtbot.waitExposed(dialog)
    assert dialog.kind() == ActivityKind.CALL
    assert dialog.focusWidget() is dialog.subject_edit
    type_with_input_method(dialog.subject_edit, "询价")
    qtbot.keyClicks(dialog.subject_edit, " 200 units")
    dialog.opportunity_check.setChecked(True)
    dialog.follow_up_check.setChecked(True)
    qtbot.keyClick(dialog.subject_edit, Qt.Key.Key_Return)

    assert dialog.result() == ActivityDialog.DialogCode.Accepted
    detail = view.detail
    assert detail.tabs.currentWidget() is detail.activities_tab
    rows = detail.activities_page.texts()
    assert len(rows) == 1
    assert rows[0][1] == "Call" and rows[0][2] == "★ 询价 200 units" and rows[0][3] == "Wang Fang"
    assert "Follow-up due" in detail.follow_ups_label.text()
    with ctx.read_session() as session:
        assert session.scalar(select(Activity.is_opportunity)) is True


def test_an_empty_subject_is_explained_not_saved(qtbot: QtBot, ctx: AppContext) -> None:
    customer_id = add_customer(ctx, "Blue Sky Imports")
    dialog = ActivityDialog(ctx, customer_id)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.save() is False
    assert dialog.subject_error.isVisible()
    assert "what it was about" in dialog.subject_error.text()


def test_detail_pane_shows_orders_and_ownership_history(qtbot: QtBot, ctx: AppContext) -> None:
    seller = add_salesperson(ctx.db, "li.na", "Li Na")
    with ctx.db.session(user_id=ctx.user_id) as session:
        boss = auth.find_user(session, "boss")
        customer = customers.create_customer(
            session, boss, CustomerInput(name="华联商贸", owner_id=boss.id, phones=["13800138000"])
        )
        customer_id = customer.id
        make_order(session, customer, amount="12345.60", number="SO-1001")
        make_order(session, customer, amount="980", number="SO-1002")
    with ctx.db.session(user_id=ctx.user_id) as session:
        boss = auth.find_user(session, "boss")
        data = customers.input_from_customer(customers.get_customer(session, customer_id))
        data.owner_id = seller
        customers.update_customer(session, boss, customer_id, data)
    empty_id = add_customer(ctx, "No Orders Ltd")

    view = make_view(qtbot, ctx)
    view.select_customer(customer_id)
    detail = view.detail
    orders = detail.orders_page.texts()
    assert {row[1] for row in orders} == {"SO-1001", "SO-1002"}
    assert "¥12,345.60" in [row[2] for row in orders]
    amount_item = detail.orders_page.table.item(0, 2)
    assert amount_item is not None
    assert amount_item.textAlignment() & Qt.AlignmentFlag.AlignRight
    assert detail.orders_summary.text() == "2 orders, ¥13,325.60 in total"
    assert detail.overview_values["revenue"].text() == "¥13,325.60"
    history = detail.ownership_page.texts()
    assert [(row[1], row[2], row[3]) for row in history] == [
        ("Wang Fang", "Li Na", "Wang Fang"),
        ("Unassigned pool", "Wang Fang", "Wang Fang"),
    ]
    assert detail.tabs.tabText(2) == "Orders (2)"
    assert detail.owner_badge.text() == "Li Na"
    assert detail.status_badge.text() == "Prospect"  # new customers start as prospects
    assert detail.tier_badge.text() == "No tier" and detail.archived_badge.isHidden()

    view.select_customer(empty_id)
    assert detail.orders_page.currentWidget() is detail.orders_page.empty_label
    assert "No orders yet" in detail.orders_page.empty_label.text()


def test_archived_customers_are_greyed_when_shown(qtbot: QtBot, ctx: AppContext) -> None:
    customer_id = add_customer(ctx, "Old Friend Co")
    add_customer(ctx, "Current Co")
    with ctx.db.session(user_id=ctx.user_id) as session:
        customers.archive_customer(session, auth.find_user(session, "boss"), customer_id)
    view = make_view(qtbot, ctx)
    assert listed_names(view) == ["Current Co"]
    view.archived_check.setChecked(True)
    assert listed_names(view) == ["Current Co", "Old Friend Co"]
    model = view.model
    archived = model.index(1, CustomerColumn.NAME)
    live = model.index(0, CustomerColumn.NAME)
    assert model.data(archived, Qt.ItemDataRole.ForegroundRole) is not None
    assert model.data(live, Qt.ItemDataRole.ForegroundRole) is None


def test_money_is_written_with_thousands_separators() -> None:
    assert format_money(Decimal("1234567.5"), "CNY") == "¥1,234,567.50"
    assert format_money(Decimal("-20"), "USD") == "-$20.00"
    assert format_money(Decimal("1200"), "CHF") == "CHF 1,200.00"


def test_a_customer_hidden_by_the_filters_is_found_when_selected(
    qtbot: QtBot, ctx: AppContext
) -> None:
    hidden = add_customer(ctx, "Hidden Gem Ltd", status=CustomerStatus.LAPSED)
    add_customer(ctx, "Visible Ltd")
    view = make_view(qtbot, ctx)
    view.status_filter.setCurrentIndex(view.status_filter.findData(CustomerStatus.ACTIVE))
    assert listed_names(view) == ["Visible Ltd"]
    assert view.select_customer(hidden)
    assert view.current_customer_id() == hidden
    assert view.model.customer_filter == CustomerFilter(text="Hidden Gem Ltd")
    with ctx.read_session() as session:
        assert session.get(Customer, hidden) is not None


def test_bookkeeper_cannot_add_customers(qtbot: QtBot, ctx: AppContext) -> None:
    with ctx.db.session() as session:
        auth.add_staff(
            session,
            auth.find_user(session, "boss"),
            login="zhao.min",
            full_name="Zhao Min",
            role=Role.BOOKKEEPER,
            password="pw-zhao.min",
        )
    view = make_view(qtbot, context_for(ctx.db, "zhao.min"))
    assert not view.new_action.isEnabled()
    assert view.new_customer() is None


def test_ctrl_enter_saves_from_the_details_box(qtbot: QtBot, ctx: AppContext) -> None:
    customer_id = add_customer(ctx, "Blue Sky Imports")
    dialog = ActivityDialog(ctx, customer_id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.set_kind(ActivityKind.VISIT)
    qtbot.mouseClick(dialog.details_edit.viewport(), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.details_edit.hasFocus)
    qtbot.keyClicks(dialog.details_edit, "Showed the new catalogue")
    qtbot.keyClick(dialog.details_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert dialog.result() == ActivityDialog.DialogCode.Accepted
    with ctx.read_session() as session:
        activity = session.scalars(select(Activity)).one()
        # No subject typed: the first line of the details stands in for it.
        assert (activity.kind.value, activity.subject) == ("visit", "Showed the new catalogue")


def test_refresh_shows_customers_added_on_another_computer(qtbot: QtBot, ctx: AppContext) -> None:
    add_customer(ctx, "First Ltd")
    view = make_view(qtbot, ctx)
    assert view.count_label.text() == "1 customer"
    add_customer(ctx, "Second Ltd")  # another desktop's session
    view.refresh_action.trigger()
    assert listed_names(view) == ["First Ltd", "Second Ltd"]
    assert view.count_label.text() == "2 customers"
