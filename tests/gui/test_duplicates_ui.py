"""Duplicates in the desktop app: the warning on create, the review queue, merge and undo."""

from __future__ import annotations

import os
from datetime import date

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from bench.dedupe_data import LabelledRow, insert_rows
from smbcrm.models import Customer, Database, DuplicatePair, DuplicateStatus
from smbcrm.services import auth, customers
from smbcrm.ui import duplicates_view
from smbcrm.ui.context import AppContext
from smbcrm.ui.customer_dialog import CustomerDialog
from smbcrm.ui.customers_view import CustomersView
from smbcrm.ui.duplicates_view import DuplicatesView
from smbcrm.ui.main_window import MainWindow
from smbcrm.ui.merge_dialog import MergeDialog, MergeHistoryDialog
from smbcrm.ui.workers import Worker
from tests.factories import make_customer, make_order
from tests.gui.conftest import add_salesperson, context_for


def add(db: Database, name: str, **fields: Any) -> int:
    with db.session() as session:
        return make_customer(session, name, **fields).id


def type_chinese(widget: QWidget, text: str) -> None:
    """Chinese arrives as input-method commits (QTest.keyClicks cannot send CJK characters)."""
    for character in text:
        event = QInputMethodEvent("", [])
        event.setCommitString(character)
        QApplication.sendEvent(widget, event)


def open_form(qtbot: QtBot, ctx: AppContext, customer_id: int | None = None) -> CustomerDialog:
    dialog = CustomerDialog(ctx, customer_id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def settled(dialog: CustomerDialog) -> bool:
    """The debounced look-up has run (nothing typed is still waiting for it)."""
    return not dialog._similar_timer.isActive()


# ---------------------------------------------------------------------------------------
# The warning on create


def test_new_customer_form_shows_a_customer_we_already_have(qtbot: QtBot, ctx: AppContext) -> None:
    existing = add(
        ctx.db, "Golden Sun Trading Co., Ltd.", phones=["138 0013 8000"], city="Shenzhen"
    )
    add(ctx.db, "Blue River Logistics", phones=["139 1234 5678"], city="Shanghai")
    dialog = open_form(qtbot, ctx)
    assert not dialog.similar_panel.isVisible()

    qtbot.keyClicks(dialog.name_edit, "Golden Sun Trading")
    qtbot.keyClicks(dialog.phone_edit, "13800138000")
    qtbot.waitUntil(dialog.similar_panel.isVisible, timeout=3000)
    assert [m.id for m in dialog.similar] == [existing]
    texts = [label.text() for label in dialog.similar_panel.findChildren(QLabel)]
    assert "This may be a customer you already have:" in texts
    match_text = next(t for t in texts if "Golden Sun Trading Co., Ltd." in t)
    assert "Shenzhen" in match_text
    # Saving anyway stays possible: the panel is the warning.
    assert dialog.save_button.isEnabled()

    # Something quite different: the panel goes once typing pauses.
    dialog.name_edit.clear()
    dialog.phone_edit.clear()
    qtbot.keyClicks(dialog.name_edit, "Zhejiang Porcelain Works")
    qtbot.waitUntil(lambda: settled(dialog), timeout=3000)
    assert dialog.similar == []
    assert not dialog.similar_panel.isVisible()


def test_chinese_name_typed_with_an_input_method_finds_the_customer(
    qtbot: QtBot, ctx: AppContext
) -> None:
    existing = add(ctx.db, "深圳市华强电子有限公司", phones=["13900139000"], city="深圳")
    dialog = open_form(qtbot, ctx)
    type_chinese(dialog.name_edit, "深圳市华强电子有限公司")
    qtbot.waitUntil(dialog.similar_panel.isVisible, timeout=3000)
    assert existing in [m.id for m in dialog.similar]


def test_open_on_a_match_shows_it_in_the_list_and_closes_the_form(
    qtbot: QtBot, ctx: AppContext
) -> None:
    existing = add(ctx.db, "Golden Sun Trading", phones=["138 0013 8000"], city="Shenzhen")
    add(ctx.db, "Another Customer Ltd")
    view = CustomersView(ctx)
    qtbot.addWidget(view)
    view.show()
    dialog = view.new_customer()
    assert dialog is not None
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.phone_edit, "+86 138 0013 8000")
    qtbot.waitUntil(dialog.similar_panel.isVisible, timeout=3000)
    button = dialog.similar_panel.findChild(QPushButton, "similarOpen")
    assert button is not None
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert view.current_customer_id() == existing
    with ctx.read_session() as session:
        assert len(session.scalars(select(Customer)).all()) == 2  # nothing was added


def test_editing_a_customer_warns_only_about_another_one(qtbot: QtBot, ctx: AppContext) -> None:
    mine = add(ctx.db, "Golden Sun Trading", phones=["13800138000"])
    dialog = open_form(qtbot, ctx, mine)
    assert not dialog.similar_panel.isVisible()  # opening the form to edit says nothing
    qtbot.keyClick(dialog.name_edit, Qt.Key.Key_End)  # the name opens selected
    qtbot.keyClicks(dialog.name_edit, " Co")
    qtbot.waitUntil(lambda: settled(dialog), timeout=3000)
    assert dialog.name_edit.text() == "Golden Sun Trading Co"
    assert dialog.similar == []  # itself is not a duplicate of itself
    other = add(ctx.db, "Golden Sun Trading Company", phones=["13800138000"])
    qtbot.keyClicks(dialog.name_edit, "m")
    qtbot.waitUntil(dialog.similar_panel.isVisible, timeout=3000)
    assert [m.id for m in dialog.similar] == [other]


# ---------------------------------------------------------------------------------------
# The review queue


def obvious_pair(db: Database) -> tuple[int, int]:
    first = add(db, "Golden Sun Trading Co., Ltd.", phones=["13800138000"], city="Shenzhen")
    second = add(db, "Golden Sun Trading", phones=["+86 138 0013 8000"], city="深圳")
    add(db, "Blue River Logistics", phones=["13912345678"], city="Shanghai")
    add(db, "Zhejiang Porcelain Works", city="Hangzhou")
    return first, second


def open_queue(qtbot: QtBot, ctx: AppContext) -> DuplicatesView:
    view = DuplicatesView(ctx)
    qtbot.addWidget(view)
    view.resize(1200, 700)
    view.show()
    qtbot.waitExposed(view)
    return view


def scan(qtbot: QtBot, view: DuplicatesView) -> Any:
    with qtbot.waitSignal(view.scanned, timeout=30_000) as done:
        qtbot.mouseClick(view.scan_button, Qt.MouseButton.LeftButton)
    return done.args[0]


def test_scan_lists_the_pair_and_not_the_same_is_remembered(qtbot: QtBot, ctx: AppContext) -> None:
    first, second = obvious_pair(ctx.db)
    view = open_queue(qtbot, ctx)
    assert view.list_pages.currentWidget() is view.empty_label
    assert view.empty_label.text() == (
        "No possible duplicates. Run Find duplicates to scan all customers."
    )
    assert not view.merge_button.isEnabled()
    assert view.comparison.isHidden()  # no empty grid of field names before a pair

    result = scan(qtbot, view)
    assert result.customers_scanned == 4
    assert view.model.rowCount() == 1
    pair = view.selected()  # the first pair is selected, ready for a decision
    assert pair is not None and {pair.a.id, pair.b.id} == {first, second}
    row = view.model.index(0, view.model.FIRST).data()
    assert "Golden Sun Trading Co., Ltd." in row and "Shenzhen" in row
    assert view.model.index(0, view.model.WHY).data()  # reasons in words
    assert view.model.index(0, view.model.STATUS).data() == "Open"
    names = view.comparison.texts()[0]
    assert set(names) == {"Golden Sun Trading Co., Ltd.", "Golden Sun Trading"}
    assert not view.comparison.isHidden()
    assert view.merge_button.isEnabled() and view.not_same_button.isEnabled()

    qtbot.mouseClick(view.not_same_button, Qt.MouseButton.LeftButton)
    assert view.model.rowCount() == 0
    assert view.comparison.isHidden()
    assert view.list_pages.currentWidget() is view.empty_label
    with ctx.read_session() as session:
        status = session.scalars(select(DuplicatePair.status)).one()
    assert status == DuplicateStatus.NOT_SAME

    again = scan(qtbot, view)
    assert view.model.rowCount() == 0  # never proposed again
    assert again.suppressed == 1


def test_scan_says_when_this_book_weighs_a_field_less(qtbot: QtBot, ctx: AppContext) -> None:
    """People keyed in twice, a third of the second copies with another ID number."""
    rows = []
    for number in range(60):
        name = f"Person{number:02d} Tester"
        born = date(1950 + number % 40, 1 + number % 12, 1 + number % 28)
        rows.append(
            LabelledRow(number, "person", name, birthday=born, tax_id=f"{4000000 + number}")
        )
        # Every third one the second time with some other number (no slip of the first).
        other = f"{9876543 - number * 104_729}" if number % 3 == 0 else f"{4000000 + number}"
        rows.append(LabelledRow(number, "person", name, birthday=born, tax_id=other))
    insert_rows(ctx.db, rows)
    view = open_queue(qtbot, ctx)
    scan(qtbot, view)
    summary = view.summary.text()
    assert "20 of 60 pairs of people with one name and birthday have different ID numbers" in (
        summary
    )
    assert view.summary.wordWrap()
    assert view.summary.width() <= view.width()


def test_decide_later_moves_on_to_the_next_pair(qtbot: QtBot, ctx: AppContext) -> None:
    obvious_pair(ctx.db)
    add(ctx.db, "Red Lantern Foods", phones=["13700137000"], city="Guangzhou")
    add(ctx.db, "Red Lantern Foods Ltd", phones=["13700137000"], city="Guangzhou")
    view = open_queue(qtbot, ctx)
    scan(qtbot, view)
    assert view.model.rowCount() == 2
    first = view.selected()
    assert first is not None
    qtbot.mouseClick(view.later_button, Qt.MouseButton.LeftButton)
    following = view.selected()
    assert following is not None and following.pair_id != first.pair_id
    assert view.model.rowCount() == 2  # still in the queue, after the open ones
    later_row = view.model.row_of(first.pair_id)
    assert later_row is not None
    assert view.model.index(later_row, view.model.STATUS).data() == "Later"
    view.later_check.setChecked(False)
    assert view.model.rowCount() == 1


def test_cancelled_scan_leaves_the_queue_as_it_was(
    qtbot: QtBot, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    obvious_pair(ctx.db)
    view = open_queue(qtbot, ctx)

    class CancelledAtOnce(Worker):
        def start(self) -> None:
            self.cancel()  # as if Cancel was pressed before the scan got anywhere
            super().start()

    monkeypatch.setattr(duplicates_view, "Worker", CancelledAtOnce)
    messages: list[str] = []
    view.status_message.connect(messages.append)
    worker = view.find_duplicates()
    assert worker is not None
    qtbot.waitUntil(lambda: not worker.is_running(), timeout=30_000)
    assert worker.state == "cancelled"
    assert "cancelled" in messages[-1]
    assert view.model.rowCount() == 0
    with ctx.read_session() as session:
        assert session.scalars(select(DuplicatePair)).all() == []
    assert view.scan_button.isEnabled()


def test_window_page_menu_and_count_for_owners_only(qtbot: QtBot, ctx: AppContext) -> None:
    obvious_pair(ctx.db)
    window = MainWindow(ctx, persist_state=False)
    qtbot.addWidget(window)
    window.show()
    integration = window.duplicates  # type: ignore[attr-defined]
    page = window.pages.indexOf(integration.view)
    assert window.navigation.item(page).text() == "Duplicates"

    integration.actions["find"].trigger()
    assert window.current_page() == page
    qtbot.waitUntil(lambda: integration.view.model.rowCount() == 1, timeout=30_000)
    assert window.navigation.item(page).text() == "Duplicates  (1)"
    # Double-clicking a name opens that customer on the Customers page.
    view = integration.view
    index = view.model.index(0, view.model.SECOND)
    view.table.doubleClicked.emit(index)
    assert window.current_page() == 0
    assert window.customers_view.current_customer_id() == view.model.pair_at(0).b.id  # type: ignore[union-attr]

    add_salesperson(ctx.db, "li.na", "Li Na")
    sales = MainWindow(context_for(ctx.db, "li.na"), persist_state=False)
    qtbot.addWidget(sales)
    assert not hasattr(sales, "duplicates")
    titles = [sales.navigation.item(i).text() for i in range(sales.navigation.count())]
    assert not any(t.startswith("Duplicates") for t in titles)


# ---------------------------------------------------------------------------------------
# Merge and undo


def select_in_list(window: MainWindow, ids: list[int]) -> None:
    view = window.customers_view
    selection = view.table.selectionModel()
    selection.clearSelection()
    for customer_id in ids:
        row = view.model.row_of(customer_id)
        assert row is not None
        selection.select(
            view.model.index(row, 0),
            selection.SelectionFlag.Select | selection.SelectionFlag.Rows,
        )


def test_merge_from_the_customer_list_choosing_the_other_city_then_undo(
    qtbot: QtBot, ctx: AppContext
) -> None:
    first, second = obvious_pair(ctx.db)
    with ctx.db.session() as session:
        for _ in range(3):
            make_order(session, session.get_one(Customer, second))
    window = MainWindow(ctx, persist_state=False)
    qtbot.addWidget(window)
    window.show()
    integration = window.duplicates  # type: ignore[attr-defined]
    merge_action = integration.actions["merge"]

    select_in_list(window, [first])
    assert not merge_action.isEnabled()  # one customer is nothing to merge
    select_in_list(window, [first, second])
    assert merge_action.isEnabled()
    assert merge_action in window.customers_view.table.actions()  # right-click menu
    merge_action.trigger()
    dialog = integration.merge_dialog
    assert isinstance(dialog, MergeDialog)
    qtbot.waitExposed(dialog)

    dialog.choose_survivor(first)
    assert dialog.survivor_id() == first
    assert (
        "3 orders" in dialog.summary.text()
        and "Golden Sun Trading Co., Ltd." in dialog.summary.text()
    )
    dialog.choose("name", first)
    city = dialog.cells[("city", second)]
    assert city.radio is not None
    qtbot.mouseClick(city, Qt.MouseButton.LeftButton)  # clicking the cell keeps its value
    assert dialog.choices()["city"] == second
    qtbot.mouseClick(dialog.merge_button, Qt.MouseButton.LeftButton)
    assert dialog.merge_result is not None

    with ctx.read_session() as session:
        survivor = session.get_one(Customer, first)
        absorbed = session.get_one(Customer, second)
        assert survivor.city == "深圳"
        assert absorbed.merged_into_id == first  # a tombstone pointing at the survivor
    assert window.customers_view.model.row_of(second) is None
    message = window.statusBar().currentMessage()
    assert message.startswith(
        "Golden Sun Trading Co., Ltd. and Golden Sun Trading are now one customer: "
        "Golden Sun Trading Co., Ltd."
    )

    history = integration.open_history()
    assert isinstance(history, MergeHistoryDialog)
    assert history.table.rowCount() == 1
    assert history.table.item(0, history.KEPT).text() == "Golden Sun Trading Co., Ltd."
    assert history.table.item(0, history.ABSORBED).text() == "Golden Sun Trading"
    with qtbot.waitSignal(history.undone, timeout=5000):
        qtbot.mouseClick(history.undo_button, Qt.MouseButton.LeftButton)
    assert history.table.item(0, history.UNDONE).text()  # marked undone
    assert not history.undo_button.isEnabled()
    with ctx.read_session() as session:
        assert session.get_one(Customer, first).city == "Shenzhen"
        assert session.get_one(Customer, second).merged_into_id is None
    assert window.customers_view.model.row_of(second) is not None


def test_undo_asks_when_the_survivor_was_edited_after_the_merge(
    qtbot: QtBot, ctx: AppContext
) -> None:
    first, second = obvious_pair(ctx.db)
    dialog = MergeDialog(ctx, [first, second])
    qtbot.addWidget(dialog)
    dialog.choose_survivor(first)
    dialog.choose("city", second)
    result = dialog.merge()
    assert result is not None
    # Someone corrects the city after the merge: undoing cannot tell which city is right.
    with ctx.db.session(user_id=ctx.user_id) as session:
        boss = auth.find_user(session, "boss")
        data = customers.input_from_customer(customers.get_customer(session, first))
        data.city = "Dongguan"
        customers.update_customer(session, boss, first, data)

    history = MergeHistoryDialog(ctx)
    qtbot.addWidget(history)
    history.show()
    assert history.undo_selected() is None  # not yet: it asks first
    questions = history.questions_dialog
    assert questions is not None and questions.isVisible()
    assert not questions.undo_button.isEnabled()  # every question needs an answer
    key, options = next((q.key, q.options) for q in questions.questions if q.key == "city")
    restore = next(value for value, label in options if "Shenzhen" in label or value == "restore")
    for question in questions.questions:
        questions.answer(question.key, restore if question.key == key else question.options[0][0])
    assert questions.undo_button.isEnabled()
    with qtbot.waitSignal(history.undone, timeout=5000):
        qtbot.mouseClick(questions.undo_button, Qt.MouseButton.LeftButton)
    with ctx.read_session() as session:
        assert session.get_one(Customer, first).city == "Shenzhen"
        assert session.get_one(Customer, second).merged_into_id is None


def test_merge_refused_says_why(qtbot: QtBot, ctx: AppContext) -> None:
    first = add(ctx.db, "Only One Ltd")
    dialog = MergeDialog(ctx, [first, first])
    qtbot.addWidget(dialog)
    assert not dialog.merge_button.isEnabled()
    assert dialog.error.text()
