"""My day: the three sections, done and reschedule in one click, the reminder (once per
task), midnight, opportunities, the after-sales setting, top referrers, the customer picker."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import date, datetime, timedelta

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QApplication, QCalendarWidget, QStyleOptionViewItem
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from smbcrm.models import Activity, ActivityKind, Customer, FollowUp, utcnow
from smbcrm.services import my_day
from smbcrm.services.after_sales import AfterSaleScope, AfterSalesSettings
from smbcrm.ui.context import AppContext
from smbcrm.ui.customer_picker import CustomerPicker
from smbcrm.ui.follow_ups_view import DONE, NEXT_WEEK, TOMORROW, FollowUpsView, MyDayModel
from smbcrm.ui.main_window import MainWindow
from smbcrm.ui.reminders import open_top_referrers
from tests.factories import make_customer, make_order
from tests.gui.conftest import add_salesperson, context_for

TODAY = date.today()


@pytest.fixture(autouse=True)
def _today_when_the_test_runs() -> None:
    """The app reads the clock when it runs: so does each test (a run may pass midnight)."""
    global TODAY
    TODAY = date.today()


def _task(
    ctx: AppContext,
    title: str,
    due: date,
    *,
    assignee_id: int | None = -1,
    customer: str = "华强电子 Huaqiang",
    created_by_id: int | None = None,
) -> int:
    """A task straight in the database (as another desktop would have written it)."""
    with ctx.db.session(user_id=ctx.user_id) as session:
        owner = session.scalar(select(Customer).where(Customer.name == customer))
        if owner is None:
            owner = make_customer(session, customer, city="深圳")
        task = FollowUp(
            customer_id=owner.id,
            assignee_id=ctx.user_id if assignee_id == -1 else assignee_id,
            created_by_id=created_by_id,
            title=title,
            due_date=due,
        )
        session.add(task)
        session.flush()
        return task.id


def _view(qtbot: QtBot, ctx: AppContext) -> FollowUpsView:
    view = FollowUpsView(ctx)
    qtbot.addWidget(view)
    view.resize(1300, 700)
    view.show()
    qtbot.waitExposed(view)
    return view


def _titles(view: FollowUpsView, group: int) -> list[str]:
    return [t.title for t in view.model.tasks(group)]


def _due(ctx: AppContext, task_id: int) -> tuple[date, datetime | None]:
    with ctx.read_session() as session:
        task = session.get_one(FollowUp, task_id)
        return task.due_date, task.done_at


def _click_link(qtbot: QtBot, view: FollowUpsView, task_id: int, action: str) -> None:
    """One click on a row's link ("✓ Done", "Tomorrow", …)."""
    index = view.model.task_index(task_id, MyDayModel.ACTIONS)
    option_rect = view.table.visualRect(index)
    option = QStyleOptionViewItem()
    option.initFrom(view.table)
    option.rect = option_rect
    option.font = view.table.font()
    rect = dict(view.actions_delegate.link_rects(option))[action]
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_sections_overdue_today_and_the_next_seven_days(qtbot: QtBot, ctx: AppContext) -> None:
    _task(ctx, "Send the samples", TODAY - timedelta(days=5))
    _task(ctx, "Call back about the price", TODAY)
    _task(ctx, "Visit the factory", TODAY + timedelta(days=2))
    _task(ctx, "Quarterly review", TODAY + timedelta(days=30))  # beyond the week
    seller = add_salesperson(ctx.db, "li.na", "李娜")
    _task(ctx, "李娜's call", TODAY, assignee_id=seller)
    view = _view(qtbot, ctx)

    assert _titles(view, MyDayModel.OVERDUE) == ["Send the samples"]
    assert _titles(view, MyDayModel.TODAY) == ["Call back about the price"]
    assert _titles(view, MyDayModel.UPCOMING) == ["Visit the factory"]
    model = view.model
    assert model.data(model.group_index(MyDayModel.OVERDUE)) == "▾ Overdue — 1"
    assert model.data(model.group_index(MyDayModel.UPCOMING)) == "▾ Next 7 days — 1"
    overdue = view.model.tasks(MyDayModel.OVERDUE)[0]
    row = model.task_index(overdue.id, 0)
    assert [
        model.data(model.index(row.row(), column, row.parent()))
        for column in (MyDayModel.CUSTOMER, MyDayModel.WHEN)
    ] == ["华强电子 Huaqiang", "5 days overdue"]
    assert view.table.isColumnHidden(MyDayModel.ASSIGNEE)  # all of them are mine
    assert "1 overdue · 1 today · 1 in the next 7 days" in view.summary_label.text()
    assert view.tabs.tabText(0) == "Tasks (2)"

    # Managers look at someone else's day, or everyone's.
    view.person_combo.setCurrentIndex(view.person_combo.findText("李娜"))
    assert _titles(view, MyDayModel.TODAY) == ["李娜's call"]
    assert not view.table.isColumnHidden(MyDayModel.ASSIGNEE)
    view.person_combo.setCurrentIndex(view.person_combo.findText("Everyone"))
    assert _titles(view, MyDayModel.TODAY) == ["Call back about the price", "李娜's call"]
    # The navigation keeps the signed-in person's own counts whatever is shown.
    assert view.day_counts == my_day.DueCounts(1, 1, 1)

    # A heading folds its group away, and it stays folded after a refresh.
    heading = model.group_index(MyDayModel.OVERDUE)
    qtbot.mouseClick(
        view.table.viewport(),
        Qt.MouseButton.LeftButton,
        pos=view.table.visualRect(heading).center(),
    )
    assert not view.table.isExpanded(heading)
    view.refresh()
    assert not view.table.isExpanded(model.group_index(MyDayModel.OVERDUE))
    assert str(model.data(model.group_index(MyDayModel.OVERDUE))).startswith("▸ Overdue")


def test_done_and_reschedule_in_one_click(qtbot: QtBot, ctx: AppContext) -> None:
    late = _task(ctx, "Send the samples", TODAY - timedelta(days=2))
    today = _task(ctx, "Call back", TODAY)
    soon = _task(ctx, "Confirm delivery", TODAY + timedelta(days=1))
    view = _view(qtbot, ctx)

    _click_link(qtbot, view, late, DONE)
    assert _due(ctx, late)[1] is not None
    assert _titles(view, MyDayModel.OVERDUE) == []
    assert view.undo_button.isVisible()
    qtbot.mouseClick(view.undo_button, Qt.MouseButton.LeftButton)
    assert _due(ctx, late)[1] is None and _titles(view, MyDayModel.OVERDUE) == ["Send the samples"]
    assert not view.undo_button.isVisible()

    _click_link(qtbot, view, today, TOMORROW)
    assert _due(ctx, today) == (my_day.tomorrow(TODAY), None)
    _click_link(qtbot, view, soon, NEXT_WEEK)
    assert _due(ctx, soon)[0] == my_day.next_week(TODAY)

    # The buttons above act on the selected task; keys too.
    view.select_task(late)
    qtbot.mouseClick(view.tomorrow_button, Qt.MouseButton.LeftButton)
    assert _due(ctx, late)[0] == my_day.tomorrow(TODAY)
    assert view.selected() is not None and view.selected().id == late  # type: ignore[union-attr]
    view.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is view)
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_D)
    assert _due(ctx, late)[1] is not None

    # Another day: a calendar, one click on the day.
    view.select_task(today)
    menu = view.pick_date()
    assert menu is not None
    calendar = menu.findChild(QCalendarWidget)
    assert calendar is not None
    target = TODAY + timedelta(days=10)
    calendar.clicked.emit(QDate(target.year, target.month, target.day))
    assert _due(ctx, today)[0] == target
    assert today not in {t.id for t in view.model.all_tasks()}  # beyond the 7 days now


def test_the_reminder_comes_once_per_task(qtbot: QtBot, ctx: AppContext) -> None:
    _task(ctx, "Send the samples", TODAY - timedelta(days=1))
    _task(ctx, "Call back", TODAY)
    _task(ctx, "Next week's visit", TODAY + timedelta(days=3))
    window = MainWindow(ctx, persist_state=False)
    qtbot.addWidget(window)
    window.show()
    reminders = window.reminders  # type: ignore[attr-defined]
    reminders.tray = lambda: None  # this test is about the in-window note
    # At start: the due tasks, in the window's corner.
    qtbot.waitUntil(lambda: reminders.shown == 1)
    assert reminders.last_text == "1 follow-up due today, 1 overdue"
    assert reminders.toast.isVisible()
    assert reminders.toast.label.text() == "1 follow-up due today, 1 overdue."
    nav = window.navigation.item(window.pages.indexOf(window.follow_ups_view))
    assert nav.text() == "My day  (2)"
    assert "1 overdue, 1 due today, 1 in the next 7 days" in nav.toolTip()

    # A minute later nothing new: no second reminder.
    reminders.toast.hide()
    reminders.tick()
    assert reminders.shown == 1 and not reminders.toast.isVisible()

    # A colleague gives them a task for today: reminded of that one.
    manager = add_salesperson(ctx.db, "li.ming", "李明")
    _task(ctx, "Urgent: call the buyer", TODAY, created_by_id=manager)
    reminders.tick()
    assert reminders.shown == 2
    assert reminders.last_text == "2 follow-ups due today, 1 overdue"
    assert nav.text() == "My day  (3)"
    # One they planned for today themselves is no news.
    _task(ctx, "My own note for today", TODAY, created_by_id=ctx.user_id)
    reminders.tick()
    assert reminders.shown == 2

    # "Open My day" takes them there and the note goes.
    qtbot.mouseClick(reminders.toast.open_button, Qt.MouseButton.LeftButton)
    assert window.pages.currentWidget() is window.follow_ups_view
    assert not reminders.toast.isVisible()

    # Midnight: today's tasks become overdue, the 3-day visit comes closer; once each.
    reminders.clock = lambda: TODAY + timedelta(days=3)
    reminders.tick()
    assert [t.title for t in window.follow_ups_view.model.tasks(MyDayModel.TODAY)] == [
        "Next week's visit"
    ]
    assert reminders.shown == 3
    assert reminders.last_text == "1 follow-up due today, 4 overdue"
    reminders.tick()
    assert reminders.shown == 3


def test_the_reminder_uses_the_tray_when_there_is_one(qtbot: QtBot, ctx: AppContext) -> None:
    _task(ctx, "Call back", TODAY)
    window = MainWindow(ctx, persist_state=False)
    qtbot.addWidget(window)
    reminders = window.reminders  # type: ignore[attr-defined]
    messages: list[tuple[str, str]] = []

    class Tray:
        def showMessage(self, title: str, text: str, *_args: object) -> None:
            messages.append((title, text))

    reminders.tray = lambda: Tray()
    assert reminders.check() == "1 follow-up due today"
    assert messages == [("smbcrm — My day", "1 follow-up due today")]
    assert not reminders.toast.isVisible()


def test_opportunities_follow_up_and_done(qtbot: QtBot, ctx: AppContext) -> None:
    with ctx.unit_of_work() as (session, actor):
        customer = make_customer(session, "Blue Sky Imports")
        ids = []
        for wanted in ("a quote for 200 units", "samples of the blue model"):
            activity = Activity(
                customer_id=customer.id,
                user_id=actor.id,
                kind=ActivityKind.CALL,
                subject="Asked about prices",
                wanted=wanted,
                is_opportunity=True,
                occurred_at=utcnow() - timedelta(hours=len(ids) + 1),
            )
            session.add(activity)
            session.flush()
            ids.append(activity.id)
    view = _view(qtbot, ctx)
    view.tabs.setCurrentIndex(1)
    model = view.opportunities_model
    assert [model.row_at(r).wanted for r in range(model.rowCount())] == [  # type: ignore[union-attr]
        "a quote for 200 units",
        "samples of the blue model",
    ]
    assert view.tabs.tabText(1) == "Opportunities (2)"
    assert not view.follow_up_button.isEnabled()
    view.opportunities_table.selectRow(0)
    qtbot.mouseClick(view.follow_up_button, Qt.MouseButton.LeftButton)
    dialog = view.follow_up_dialog
    assert dialog.title_edit.text() == "Follow up: a quote for 200 units"
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    with ctx.read_session() as session:
        task = session.scalars(select(FollowUp)).one()
    assert (task.activity_id, task.due_date, task.assignee_id) == (
        ids[0],
        my_day.tomorrow(TODAY),
        ctx.user_id,
    )
    # Still open (the follow-up is its next step), now with a date.
    assert model.row_at(0).next_follow_up == my_day.tomorrow(TODAY)  # type: ignore[union-attr]
    assert model.data(model.index(0, model.NEXT)) == "Follow-up tomorrow"

    view.opportunities_table.selectRow(1)
    qtbot.mouseClick(view.opportunity_done_button, Qt.MouseButton.LeftButton)
    assert [model.row_at(r).activity_id for r in range(model.rowCount())] == [ids[0]]  # type: ignore[union-attr]
    view.show_closed_check.setChecked(True)
    assert model.rowCount() == 2
    opened: list[int] = []
    view.open_customer.connect(opened.append)
    view.opportunities_table.activated.emit(model.index(0, 1))
    assert opened == [customer.id]


def test_after_sales_setting_from_my_day(qtbot: QtBot, ctx: AppContext) -> None:
    view = _view(qtbot, ctx)
    assert view.settings_button.isVisible()  # the owner
    qtbot.mouseClick(view.settings_button, Qt.MouseButton.LeftButton)
    dialog = view.after_sales_dialog
    assert not dialog.enabled_check.isChecked() and not dialog.days_spin.isEnabled()
    dialog.enabled_check.setChecked(True)
    dialog.days_spin.setValue(10)
    dialog.first_radio.setChecked(True)
    dialog.save()
    with ctx.read_session() as session:
        assert AfterSalesSettings.load(session) == AfterSalesSettings(
            10, AfterSaleScope.FIRST_ORDER
        )
    seller_ctx = _seller(ctx)
    seller_view = _view(qtbot, seller_ctx)
    assert not seller_view.settings_button.isVisibleTo(seller_view)
    assert seller_view.open_after_sales_settings() is None


def _seller(ctx: AppContext) -> AppContext:
    add_salesperson(ctx.db, "zhang.wei", "张伟")
    return context_for(ctx.db, "zhang.wei")


def test_top_referrers_from_the_customer_menu(qtbot: QtBot, ctx: AppContext) -> None:
    with ctx.db.session(user_id=ctx.user_id) as session:
        friend = make_customer(session, "老朋友 Old Friend")
        make_customer(session, "Never Referred")
        brought = make_customer(session, "Big Buyer", referred_by_id=friend.id)
        make_order(session, brought, amount="1234.50", when=TODAY)
        friend_id, brought_id = friend.id, brought.id
    window = MainWindow(ctx, persist_state=False)
    qtbot.addWidget(window)
    action = window.top_referrers_action  # type: ignore[attr-defined]
    assert action.text() == "Top &referrers…"
    action.trigger()
    dialog = window.top_referrers_dialog  # type: ignore[attr-defined]
    assert dialog.referrers.rowCount() == 1
    assert dialog.referrers.data(dialog.referrers.index(0, 1)) == "老朋友 Old Friend"
    assert dialog.referrers.data(dialog.referrers.index(0, 6)) == "¥1,234.50"
    assert dialog.referred.data(dialog.referred.index(0, 0)) == "Big Buyer"
    assert "referred 1: ¥1,234.50 in all" in dialog.referred_label.text()
    # Double-click (activation) shows the customer on the Customers page.
    dialog.referred_table.activated.emit(dialog.referred.index(0, 0))
    assert window.customers_view.current_customer_id() == brought_id
    assert open_top_referrers(window) is dialog  # already open: brought forward
    assert friend_id


def test_customer_picker_finds_and_chooses(qtbot: QtBot, ctx: AppContext) -> None:
    with ctx.db.session(user_id=ctx.user_id) as session:
        shenzhen = make_customer(session, "华强电子", city="深圳", phones=["13800138000"]).id
        make_customer(session, "华强电子", city="上海")
        make_customer(session, "Blue Sky Imports")
    picker = CustomerPicker(ctx)
    qtbot.addWidget(picker)
    picker.show()
    chosen: list[int | None] = []
    picker.customer_chosen.connect(chosen.append)
    qtbot.keyClicks(picker, "138 0013")
    qtbot.waitUntil(lambda: picker.choices.rowCount() == 1)
    assert picker.choices.item(0).text() == "华强电子 · 深圳 · 138 0013 8000"
    picker.choose_row(0)
    assert picker.customer_id() == shenzhen and picker.text() == "华强电子"
    assert chosen == [shenzhen]
    # Typing over the choice forgets it; clearing means nobody.
    qtbot.keyClick(picker, Qt.Key.Key_Backspace)
    assert picker.customer_id() is None and chosen == [shenzhen, None]
    picker.set_customer(shenzhen, "华强电子")
    picker.clear_customer()
    assert picker.customer_id() is None and picker.text() == ""
    # The customer being edited is never offered as its own referrer.
    own = CustomerPicker(ctx, exclude_id=shenzhen)
    qtbot.addWidget(own)
    own.setText("华强")
    own.search_now()
    assert own.choices.rowCount() == 1
    nothing = CustomerPicker(ctx)
    qtbot.addWidget(nothing)
    nothing.setText("zzz")
    nothing.search_now()
    assert nothing.choices.item(0).text() == "No customer matches “zzz”"
    assert not nothing.choices.item(0).isEnabled()


def test_my_day_is_a_page_of_the_main_window(qtbot: QtBot, ctx: AppContext) -> None:
    window = MainWindow(ctx, persist_state=False)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.pages.currentWidget() is window.follow_ups_view
    assert window.follow_ups_view.table.hasFocus()
    assert any(a.text() == "&My day" for a in window.page_actions)
