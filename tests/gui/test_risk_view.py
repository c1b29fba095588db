"""The at-risk screen: opens on cached results, refreshes in the background, acts on a row."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import date, timedelta

from PySide6.QtCore import QDate, QPoint, QRect, Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from smbcrm.models import Database, FollowUp, User
from smbcrm.services import risk
from smbcrm.ui.context import AppContext
from smbcrm.ui.risk_view import RiskView
from smbcrm.ui.style import style_sheet, ui_font
from tests.factories import make_customer, make_order
from tests.gui.conftest import add_salesperson


def silent_customers(db: Database, owner_id: int) -> tuple[int, int]:
    today = date.today()
    with db.session() as session:
        big = make_customer(session, "Big Silent Ltd", owner_id=owner_id, city="Shanghai")
        small = make_customer(session, "Small Silent Ltd", owner_id=owner_id, city="Beijing")
        for i in range(12):
            when = today - timedelta(days=150 + 30 * i)
            make_order(session, big, amount="9000", when=when)
            make_order(session, small, amount="1000", when=when)
        make_customer(session, "Fine Co", owner_id=owner_id)
        return big.id, small.id


def open_view(qtbot: QtBot, ctx: AppContext) -> RiskView:
    view = RiskView(ctx)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        view.show()
    return view


def test_lists_at_risk_by_revenue_with_reasons_and_filters(
    qtbot: QtBot, ctx: AppContext, gui_db: Database
) -> None:
    lily = add_salesperson(gui_db, "lily.chen", "Lily Chen")
    big, small = silent_customers(gui_db, lily)
    view = open_view(qtbot, ctx)
    assert [view.model.row_at(i).id for i in range(view.model.rowCount())] == [big, small]  # type: ignore[union-attr]
    reasons = view.model.index(0, view.model.REASONS).data()
    assert "usually orders every 30 days; last order 150 days ago" in reasons
    assert "2 customers at risk" in view.summary.text()
    view.city_filter.setCurrentIndex(view.city_filter.findData("Beijing"))
    assert view.model.rowCount() == 1 and view.model.row_at(0).id == small  # type: ignore[union-attr]
    view.reason_filter.setCurrentIndex(view.reason_filter.findData("unassigned"))
    assert view.model.rowCount() == 0
    # The charts were drawn from the same refresh.
    assert view.revenue_view.chart().series() and view.won_lost_view.chart().series()


def test_opens_instantly_on_cached_results(qtbot: QtBot, ctx: AppContext, gui_db: Database) -> None:
    lily = add_salesperson(gui_db, "lily.chen", "Lily Chen")
    silent_customers(gui_db, lily)
    risk.refresh(gui_db)
    view = RiskView(ctx)  # not shown: no refresh yet, the cache alone fills the list
    qtbot.addWidget(view)
    assert view.model.rowCount() == 2
    risk.forget(gui_db)


def test_create_follow_up_from_the_list(qtbot: QtBot, ctx: AppContext, gui_db: Database) -> None:
    lily = add_salesperson(gui_db, "lily.chen", "Lily Chen")
    big, _small = silent_customers(gui_db, lily)
    view = open_view(qtbot, ctx)
    view.select_row(0)
    assert view.follow_up_button.isEnabled()
    view.follow_up_button.click()
    dialog = view.follow_up_dialog
    assert dialog is not None and dialog.isVisible()
    # The same follow-up dialog as in My day, opened on why the customer is at risk.
    assert dialog.title_edit.text() == (
        "Check in: usually orders every 30 days; last order 150 days ago"
    )
    assert "no contact ever logged" in dialog.notes_edit.text()  # every reason, in the notes
    assert dialog.assignee.currentData() == lily  # the owner by default
    dialog.title_edit.setText("Call about the missing orders")
    dialog.notes_edit.setText("Ask about the new price list")
    due = date.today() + timedelta(days=5)
    dialog.due_edit.setDate(QDate(due.year, due.month, due.day))
    with qtbot.waitSignal(view.status_message, timeout=2000):
        dialog.save_button.click()
    assert not dialog.isVisible()
    with gui_db.new_session() as session:
        task = session.scalars(select(FollowUp)).one()
    assert (task.customer_id, task.assignee_id, task.due_date) == (big, lily, due)
    assert task.title == "Call about the missing orders"
    assert task.notes == "Ask about the new price list"


def test_follow_up_for_a_customer_whose_salesperson_left_goes_to_the_planner(
    qtbot: QtBot, ctx: AppContext, gui_db: Database
) -> None:
    lily = add_salesperson(gui_db, "lily.chen", "Lily Chen")
    big, _small = silent_customers(gui_db, lily)
    with gui_db.session() as session:
        session.get_one(User, lily).active = False
    view = open_view(qtbot, ctx)
    view.select_row(0)
    dialog = view.create_follow_up()
    assert dialog is not None
    assert dialog.assignee.currentData() == ctx.user_id
    with qtbot.waitSignal(view.status_message, timeout=2000):
        dialog.save_button.click()
    with gui_db.new_session() as session:
        task = session.scalars(select(FollowUp)).one()
    assert (task.customer_id, task.assignee_id) == (big, ctx.user_id)


def test_follow_up_with_empty_title_says_what_is_wrong(
    qtbot: QtBot, ctx: AppContext, gui_db: Database
) -> None:
    lily = add_salesperson(gui_db, "lily.chen", "Lily Chen")
    silent_customers(gui_db, lily)
    view = open_view(qtbot, ctx)
    view.select_row(0)
    dialog = view.create_follow_up()
    assert dialog is not None
    dialog.title_edit.setText("  ")
    dialog.save_button.click()
    assert dialog.isVisible()
    assert "what to do" in dialog.error.text()


def test_reassign_and_open_customer(qtbot: QtBot, ctx: AppContext, gui_db: Database) -> None:
    lily = add_salesperson(gui_db, "lily.chen", "Lily Chen")
    tom = add_salesperson(gui_db, "tom.baker", "Tom Baker")
    big, _small = silent_customers(gui_db, lily)
    view = open_view(qtbot, ctx)
    view.select_row(0)
    with qtbot.waitSignal(view.open_customer) as opened:
        view.open_button.click()
    assert opened.args == [big]
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        assert view.reassign(big, tom)
    assert view.model.row_at(0).owner == "Tom Baker"  # type: ignore[union-attr]


def test_find_and_refresh_keys_act_on_the_at_risk_page(
    qtbot: QtBot, ctx: AppContext, gui_db: Database
) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QKeySequence

    from smbcrm.ui.main_window import MainWindow

    lily = add_salesperson(gui_db, "lily.chen", "Lily Chen")
    _big, small = silent_customers(gui_db, lily)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    view: RiskView = window.risk_view  # type: ignore[attr-defined]
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        window.show_page(window.pages.indexOf(view))
    assert view.model.rowCount() == 2

    qtbot.keySequence(window, QKeySequence(QKeySequence.StandardKey.Find))
    assert view.find_box.hasFocus()
    view.find_box.insert("ＳＭＡＬＬ")  # full-width, as a Chinese IME types it
    assert [view.model.row_at(i).id for i in range(view.model.rowCount())] == [small]  # type: ignore[union-attr]
    view.find_box.clear()
    qtbot.keyClicks(view.find_box, "lily")
    assert view.model.rowCount() == 2

    # A new silent customer appears after F5, not before.
    with gui_db.session() as session:
        late = make_customer(session, "Late Silent Ltd", owner_id=lily, city="Beijing")
        for i in range(12):
            make_order(
                session, late, amount="500", when=date.today() - timedelta(days=150 + 30 * i)
            )
    assert view.model.rowCount() == 2
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        qtbot.keyClick(window, Qt.Key.Key_F5)
    assert view.model.rowCount() == 3
    risk.forget(gui_db)


def test_thresholds_dialog_rejudges_and_tiers_are_brought_up_to_date(
    qtbot: QtBot, ctx: AppContext, gui_db: Database
) -> None:
    from smbcrm.models import Customer, Tier

    lily = add_salesperson(gui_db, "lily.chen", "Lily Chen")
    big, small = silent_customers(gui_db, lily)
    view = open_view(qtbot, ctx)
    assert view.model.rowCount() == 2
    with gui_db.new_session() as session:
        tiers = {cid: tier for cid, tier in session.execute(select(Customer.id, Customer.tier))}
    # 9,000 a month against 1,000: the big one brings 90% of the revenue → A; small → B.
    assert (tiers[big], tiers[small]) == (Tier.A, Tier.B)
    assert view.model.index(0, view.model.TIER).data() == "A"

    assert view.settings_button.isVisible()
    dialog = view.edit_settings()
    qtbot.addWidget(dialog)
    assert dialog.overdue_factor.value() == 2.0
    assert dialog.decline_min_revenue.prefix() == "¥"  # the home currency's
    # 150 silent days against a 30-day rhythm: no longer overdue at six times the interval;
    # spend down two thirds: no longer declining when only a 99% drop counts.
    dialog.overdue_factor.setValue(6.0)
    dialog.decline_drop.setValue(99)
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert view.model.rowCount() == 0
    with gui_db.new_session() as session:
        saved = risk.RiskSettings.load(session)
    assert (saved.overdue_factor, saved.decline_drop) == (6.0, 0.99)
    risk.forget(gui_db)


def test_sales_staff_do_not_see_the_thresholds(qtbot: QtBot, gui_db: Database) -> None:
    from tests.gui.conftest import context_for

    add_salesperson(gui_db, "lily.chen", "Lily Chen")
    view = RiskView(context_for(gui_db, "lily.chen"))
    qtbot.addWidget(view)
    assert view.settings_button.isHidden()


def test_month_labels_fit_a_narrow_chart() -> None:
    from smbcrm.ui.risk_view import month_labels

    year = ["2025-12", *(f"2026-{m:02d}" for m in range(1, 12))]
    assert month_labels(year) == (
        ["12", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"],
        "2025-12 – 2026-11",
    )
    # Longer than a year: month numbers would repeat (a bar chart's categories cannot).
    longer = ["2025-11", *year]
    labels, span = month_labels(longer)
    assert labels[:2] == ["25/11", "25/12"] and len(set(labels)) == 13
    assert span == "2025-11 – 2026-11"
    assert month_labels([]) == ([], "")


def test_nothing_overlaps_on_the_filter_row(
    qtbot: QtBot, ctx: AppContext, gui_db: Database
) -> None:
    lily = add_salesperson(gui_db, "lily.chen", "Lily Chen")
    silent_customers(gui_db, lily)
    view = RiskView(ctx)
    qtbot.addWidget(view)
    # Looking as in the app (the style sheet's padding makes the boxes wider).
    view.setFont(ui_font())
    view.setStyleSheet(style_sheet())
    view.resize(1080, 700)  # the page beside the navigation in a 1280-wide window
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        view.show()
    assert view.updated_label.text().startswith("Updated")

    def box(widget: QWidget) -> QRect:
        return QRect(widget.mapTo(view, QPoint(0, 0)), widget.size())

    shown = [
        w
        for w in (
            view.owner_filter,
            view.tier_filter,
            view.city_filter,
            view.reason_filter,
            view.find_box,
            view.updated_label,
            view.settings_button,
            view.refresh_button,
        )
        if w.isVisible()
    ]
    qtbot.wait(50)  # the layout settles after the texts changed
    assert view.minimumSizeHint().width() <= 1080
    assert view.updated_label.width() >= view.updated_label.sizeHint().width()  # not cut
    for i, first in enumerate(shown):
        for second in shown[i + 1 :]:
            assert not box(first).intersects(box(second)), (first.objectName(), second.objectName())
