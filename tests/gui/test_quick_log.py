"""Quick log: a call (or a visit, a WeChat message…) logged from the customer list in a
handful of key presses, counted."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import date, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from smbcrm.models import Activity, ActivityKind, FollowUp
from smbcrm.services import my_day
from smbcrm.ui.activity_dialog import ActivityDialog
from smbcrm.ui.context import AppContext
from smbcrm.ui.main_window import MainWindow
from tests.factories import make_customer
from tests.gui.conftest import add_salesperson

NO = Qt.KeyboardModifier.NoModifier
ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier
# Besides typing the subject, a call is logged in at most this many key presses.
KEY_BUDGET = 8


class Keys:
    """Presses keys on whatever has the keyboard focus, and counts them."""

    def __init__(self, qtbot: QtBot) -> None:
        self.qtbot = qtbot
        self.count = 0

    def press(self, key: Qt.Key, modifier: Qt.KeyboardModifier = NO) -> None:
        target = QApplication.focusWidget()
        assert target is not None, "nothing has the keyboard focus"
        self.qtbot.keyClick(target, key, modifier)
        self.count += 1

    def type(self, text: str) -> None:
        """Typing (not counted): Chinese arrives as input-method commits, as from an IME."""
        target = QApplication.focusWidget()
        assert target is not None
        for character in text:
            if character.isascii():
                self.qtbot.keyClicks(target, character)
            else:
                event = QInputMethodEvent("", [])
                event.setCommitString(character)
                QApplication.sendEvent(target, event)


@pytest.fixture
def window(qtbot: QtBot, ctx: AppContext) -> MainWindow:
    window = MainWindow(ctx, persist_state=False)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    return window


def _customer(ctx: AppContext, name: str, owner_id: int | None = None) -> int:
    with ctx.db.session(user_id=ctx.user_id) as session:
        return make_customer(session, name, owner_id=owner_id).id


def _open_dialog(qtbot: QtBot, window: MainWindow, keys: Keys, customer_id: int) -> ActivityDialog:
    view = window.customers_view
    view.select_customer(customer_id)
    view.table.setFocus()
    keys.press(Qt.Key.Key_L, CTRL)
    dialog = view.findChild(ActivityDialog)
    assert isinstance(dialog, ActivityDialog)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    assert QApplication.focusWidget() is dialog.subject_edit
    return dialog


def _activities(ctx: AppContext) -> list[Activity]:
    with ctx.read_session() as session:
        return list(session.scalars(select(Activity).order_by(Activity.id)))


def test_a_call_in_two_key_presses_and_a_subject(
    qtbot: QtBot, window: MainWindow, ctx: AppContext
) -> None:
    customer_id = _customer(ctx, "华强电子 Huaqiang")
    keys = Keys(qtbot)
    dialog = _open_dialog(qtbot, window, keys, customer_id)
    keys.type("问了 LED 灯的价格")
    keys.press(Qt.Key.Key_Return)

    assert dialog.result() == ActivityDialog.DialogCode.Accepted
    assert keys.count == 2 <= KEY_BUDGET
    [call] = _activities(ctx)
    assert (call.kind, call.subject, call.customer_id) == (
        ActivityKind.CALL,
        "问了 LED 灯的价格",
        customer_id,
    )
    assert "Logged Call with 华强电子 Huaqiang" in window.statusBar().currentMessage()


def test_a_visit_with_an_opportunity_and_a_follow_up_in_a_few_keys(
    qtbot: QtBot, window: MainWindow, ctx: AppContext, gui_db: object
) -> None:
    seller = add_salesperson(ctx.db, "li.na", "李娜")
    customer_id = _customer(ctx, "Blue Sky Imports", owner_id=seller)
    keys = Keys(qtbot)
    dialog = _open_dialog(qtbot, window, keys, customer_id)
    keys.press(Qt.Key.Key_V, ALT)  # a visit; the cursor stays in the subject
    assert dialog.kind() == ActivityKind.VISIT
    assert QApplication.focusWidget() is dialog.subject_edit
    keys.type("Showed the new catalogue")
    keys.press(Qt.Key.Key_Tab)  # to "What they wanted"
    keys.type("a quote for 200 units")
    keys.press(Qt.Key.Key_O, ALT)  # an opportunity
    keys.press(Qt.Key.Key_3, ALT)  # follow up in three days
    keys.press(Qt.Key.Key_Return, CTRL)

    assert dialog.result() == ActivityDialog.DialogCode.Accepted
    assert keys.count == 6 <= KEY_BUDGET
    [visit] = _activities(ctx)
    assert (visit.kind, visit.subject, visit.wanted, visit.is_opportunity) == (
        ActivityKind.VISIT,
        "Showed the new catalogue",
        "a quote for 200 units",
        True,
    )
    with ctx.read_session() as session:
        task = session.scalars(select(FollowUp)).one()
    assert task.due_date == date.today() + timedelta(days=3)
    assert task.assignee_id == seller  # the customer's salesperson
    assert task.title == "Follow up: a quote for 200 units"
    assert task.activity_id == visit.id


def test_a_wechat_message_and_the_kind_row_by_letter(
    qtbot: QtBot, window: MainWindow, ctx: AppContext
) -> None:
    customer_id = _customer(ctx, "Golden Dragon Trading")
    keys = Keys(qtbot)
    dialog = _open_dialog(qtbot, window, keys, customer_id)
    assert not dialog.channel_combo.isVisible()
    keys.press(Qt.Key.Key_M, ALT)
    assert dialog.kind() == ActivityKind.MESSAGE and dialog.channel_combo.isVisible()
    keys.press(Qt.Key.Key_C, ALT)  # back to a call: the channel goes
    assert dialog.kind() == ActivityKind.CALL and not dialog.channel_combo.isVisible()
    assert dialog.isVisible()  # (Alt+C is not "Cancel")
    keys.press(Qt.Key.Key_M, ALT)
    assert dialog.channel_combo.currentText() == "WeChat"
    # With the focus on the kind row, the letter alone picks, then on to the next field.
    dialog.kind_picker.setFocus()
    keys.press(Qt.Key.Key_N)
    assert dialog.kind() == ActivityKind.NOTE
    assert QApplication.focusWidget() is not dialog.kind_picker
    dialog.kind_picker.setFocus()
    keys.press(Qt.Key.Key_Left)
    assert dialog.kind() == ActivityKind.MEETING
    keys.press(Qt.Key.Key_M)
    assert dialog.kind() == ActivityKind.MESSAGE
    dialog.subject_edit.setFocus()
    keys.type("sent the price list")
    keys.press(Qt.Key.Key_Return)
    assert dialog.result() == ActivityDialog.DialogCode.Accepted
    [message] = _activities(ctx)
    assert (message.kind, message.subject) == (ActivityKind.MESSAGE, "WeChat: sent the price list")


def test_quick_picks_and_the_follow_up_switch(qtbot: QtBot, ctx: AppContext) -> None:
    customer_id = _customer(ctx, "Blue Sky Imports")
    dialog = ActivityDialog(ctx, customer_id)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.follow_up_check.isChecked() and not dialog.assignee_combo.isEnabled()
    today = date.today()
    for name, due in (
        ("plusOneDay", my_day.tomorrow(today)),
        ("nextWeek", my_day.next_week(today)),
        ("plusThreeDays", today + timedelta(days=3)),
    ):
        button = dialog.findChild(QWidget, name)
        assert button is not None
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # type: ignore[arg-type]
        assert dialog.follow_up_check.isChecked()
        assert dialog.follow_up_date.date().toPython() == due
    # Nobody is assigned yet: the one logging it does the follow-up by default.
    assert dialog.assignee_combo.currentData() == ctx.user_id
    assert dialog.assignee_combo.isEnabled()
    # The satisfaction row belongs to visits only (when service cases offer it).
    if dialog.satisfaction_combo is not None:
        assert not dialog.satisfaction_combo.isVisibleTo(dialog)
        dialog.set_kind(ActivityKind.VISIT)
        assert dialog.satisfaction_combo.isVisibleTo(dialog)


def test_a_follow_up_date_in_the_past_is_explained_not_saved(qtbot: QtBot, ctx: AppContext) -> None:
    customer_id = _customer(ctx, "Blue Sky Imports")
    dialog = ActivityDialog(ctx, customer_id)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.subject_edit.setText("Asked for prices")
    assert dialog.wanted_edit.maxLength() == 500  # the field itself stops at the limit
    dialog.follow_up_check.setChecked(True)
    dialog.follow_up_date.setMinimumDate(dialog.follow_up_date.minimumDate().addDays(-5))
    dialog.follow_up_date.setDate(dialog.follow_up_date.minimumDate())
    assert dialog.save() is False
    assert dialog.follow_up_error.isVisible()
    assert "has passed" in dialog.follow_up_error.text()
    assert _activities(ctx) == []


def test_a_visit_with_how_satisfied_the_customer_was(
    qtbot: QtBot, window: MainWindow, ctx: AppContext
) -> None:
    from smbcrm.models import SatisfactionRating

    customer_id = _customer(ctx, "Blue Sky Imports")
    keys = Keys(qtbot)
    dialog = _open_dialog(qtbot, window, keys, customer_id)
    combo = dialog.satisfaction_combo
    assert combo is not None and dialog.satisfaction_comment is not None
    assert not combo.isVisible()  # calls have no rating
    keys.press(Qt.Key.Key_V, ALT)
    assert combo.isVisible()
    keys.type("Quarterly visit")
    combo.setCurrentIndex(combo.findData(4))
    dialog.satisfaction_comment.setText("交货准时 on-time delivery")
    keys.press(Qt.Key.Key_Return, CTRL)
    assert dialog.result() == ActivityDialog.DialogCode.Accepted
    [visit] = _activities(ctx)
    with ctx.read_session() as session:
        rating = session.scalars(select(SatisfactionRating)).one()
    assert (rating.customer_id, rating.activity_id, rating.score, rating.comment) == (
        customer_id,
        visit.id,
        4,
        "交货准时 on-time delivery",
    )


def test_a_visit_without_a_rating_records_none(qtbot: QtBot, ctx: AppContext) -> None:
    from smbcrm.models import SatisfactionRating

    customer_id = _customer(ctx, "Blue Sky Imports")
    dialog = ActivityDialog(ctx, customer_id)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.set_kind(ActivityKind.VISIT)
    dialog.subject_edit.setText("Dropped by")
    assert dialog.save()
    with ctx.read_session() as session:
        assert session.scalars(select(SatisfactionRating)).all() == []
