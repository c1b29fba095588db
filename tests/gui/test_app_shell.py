"""The app shell: worker threads, welcome, sign-in, the launcher, navigation, orders, follow-ups.

Everything is driven through the widgets (clicks, typing, shortcuts) and waits on signals
or conditions — never on sleeps.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil
import threading
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QFont, QInputMethodEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QLabel,
    QMessageBox,
    QWidget,
)
from pytestqt.qtbot import QtBot

from smbcrm.errors import Cancelled, ValidationError
from smbcrm.models import ActivityKind, Database, Setting
from smbcrm.models.db import data_dir
from smbcrm.services import activities, app_support, auth
from smbcrm.services import database as dbsvc
from smbcrm.services import orders as ordersvc
from smbcrm.services.customers import CustomerInput, create_customer
from smbcrm.services.preferences import Preferences
from smbcrm.services.progress import Progress
from smbcrm.ui import app as app_module
from smbcrm.ui import welcome as welcome_module
from smbcrm.ui.context import AppContext
from smbcrm.ui.follow_ups_view import FollowUpsView, MyDayModel
from smbcrm.ui.main_window import CUSTOMERS, FOLLOW_UPS, ORDERS, MainWindow
from smbcrm.ui.sign_in import SignInDialog
from smbcrm.ui.style import MUTED_COLOR, OVERDUE_BACKGROUND, OVERDUE_COLOR
from smbcrm.ui.welcome import WelcomeDialog
from smbcrm.ui.workers import ProgressDialog, Worker
from tests.gui.conftest import OWNER_PASSWORD, context_for

DEMO_CUSTOMERS = 40
DEMO_ORDERS = 400


# ---------------------------------------------------------------------------------------
# Worker


def test_worker_reports_progress_and_returns_the_result(qtbot: QtBot) -> None:
    def job(progress: Progress) -> int:
        for i in range(6):
            progress.report(i, 5, f"step {i}")
        return 42

    worker = Worker(job)
    seen: list[tuple[int, int, str]] = []
    ended: list[str] = []
    worker.progressed.connect(lambda d, t, m: seen.append((d, t, m)))
    worker.ended.connect(lambda: ended.append(worker.state))
    with qtbot.waitSignal(worker.finished, timeout=5000) as blocker:
        worker.start()
    assert blocker.args == [42]
    assert worker.result == 42
    # First and last reports always arrive (the ones in between may be merged).
    assert seen[0] == (0, 5, "step 0")
    assert seen[-1] == (5, 5, "step 5")
    qtbot.waitUntil(lambda: ended == ["finished"])
    with pytest.raises(RuntimeError):
        worker.start()  # a worker runs once


def test_worker_signals_arrive_on_the_ui_thread(qtbot: QtBot) -> None:
    threads: list[threading.Thread] = []
    worker = Worker(lambda progress: progress.report(1, 1, "x"))
    worker.progressed.connect(lambda *_: threads.append(threading.current_thread()))
    worker.finished.connect(lambda _r: threads.append(threading.current_thread()))
    with qtbot.waitSignal(worker.ended, timeout=5000):
        worker.start()
    assert threads == [threading.main_thread()] * 2


def test_cancel_stops_the_job_and_leaves_the_database_untouched(
    qtbot: QtBot, gui_db: Database
) -> None:
    writing = threading.Event()

    def job(progress: Progress) -> None:
        with gui_db.session() as session:
            session.add(Setting(key="half.written", value=1))
            session.flush()
            writing.set()
            step = 0
            while True:  # until cancelled: the report raises Cancelled
                step += 1
                progress.report(step, 1_000_000, "writing")
                threading.Event().wait(0.002)

    worker = Worker(job)
    failed: list[str] = []
    finished: list[object] = []
    worker.failed.connect(failed.append)
    worker.finished.connect(finished.append)
    worker.start()
    qtbot.waitUntil(writing.is_set, timeout=5000)
    with qtbot.waitSignal(worker.cancelled, timeout=5000):
        worker.cancel()
    assert worker.state == "cancelled"
    assert failed == [] and finished == []
    with gui_db.new_session() as session:
        assert session.get(Setting, "half.written") is None


def test_a_domain_error_is_reported_with_its_own_message(qtbot: QtBot) -> None:
    def job(_progress: Progress) -> None:
        raise ValidationError({"file": "Row 7 has no customer name; fill it in."})

    worker = Worker(job)
    with qtbot.waitSignal(worker.failed, timeout=5000) as blocker:
        worker.start()
    assert blocker.args == ["Row 7 has no customer name; fill it in."]


def test_an_unexpected_error_is_one_line_and_the_traceback_goes_to_the_log(
    qtbot: QtBot,
) -> None:
    def job(_progress: Progress) -> None:
        raise ZeroDivisionError("division by zero")

    worker = Worker(job)
    with qtbot.waitSignal(worker.failed, timeout=5000) as blocker:
        worker.start()
    message = blocker.args[0]
    log = data_dir() / "smbcrm-errors.log"
    assert "\n" not in message and "Traceback" not in message
    assert "ZeroDivisionError" in message and str(log) in message
    text = log.read_text(encoding="utf-8")
    assert "Traceback" in text and "in job" in text


def test_progress_dialog_follows_the_worker_and_cancels_it(qtbot: QtBot) -> None:
    release = threading.Event()

    def job(progress: Progress) -> None:
        progress.report(3, 10, "Importing row 3 of 10…")
        while True:
            release.wait(0.002)
            progress.check()

    worker = Worker(job)
    dialog = ProgressDialog(worker, "Importing", show_after_ms=0)
    qtbot.addWidget(dialog)
    worker.start()
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.bar.value() == 3, timeout=5000)
    assert dialog.bar.maximum() == 10
    assert dialog.message.text() == "Importing row 3 of 10…"
    with qtbot.waitSignal(worker.cancelled, timeout=5000):
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert dialog.result() == QDialog.DialogCode.Rejected


def test_progress_dialog_does_not_flash_for_quick_jobs(qtbot: QtBot) -> None:
    worker = Worker(lambda _progress: "done")
    dialog = ProgressDialog(worker, "Quick", show_after_ms=5000)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(worker.ended, timeout=5000):
        worker.start()
    assert not dialog.isVisible()
    assert dialog.result() == QDialog.DialogCode.Accepted


# ---------------------------------------------------------------------------------------
# Sign-in


def test_sign_in_rejects_a_wrong_password_then_accepts_the_right_one(
    qtbot: QtBot, gui_db: Database
) -> None:
    dialog = SignInDialog(gui_db, "Acme Trading", "boss")
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.login_edit.text() == "boss"
    assert dialog.focusWidget() is dialog.password_edit  # the login is remembered
    qtbot.keyClicks(dialog.password_edit, "not-the-password")
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    assert dialog.error_label.isVisible()
    assert dialog.error_label.text() == "Wrong login or password."
    assert dialog.result() != QDialog.DialogCode.Accepted and dialog.user is None

    dialog.password_edit.clear()
    qtbot.keyClicks(dialog.password_edit, OWNER_PASSWORD)
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    assert dialog.user is not None and dialog.user.login == "boss"


def test_sign_in_shows_the_lockout_message_from_the_service(qtbot: QtBot, gui_db: Database) -> None:
    dialog = SignInDialog(gui_db, "Acme Trading", "boss")
    qtbot.addWidget(dialog)
    for _ in range(auth.FREE_ATTEMPTS + 1):
        dialog.password_edit.setText("wrong-password")
        dialog.try_sign_in()
    assert "locked" in dialog.error_label.text()
    dialog.password_edit.setText(OWNER_PASSWORD)
    dialog.try_sign_in()  # even the right password waits for the lock to pass
    assert dialog.error_label.text().startswith("Too many wrong passwords")
    assert dialog.user is None


def test_open_another_database_returns_the_choice(
    qtbot: QtBot, gui_db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    other = str(tmp_path / "other.db")
    monkeypatch.setattr("smbcrm.ui.sign_in.choose_database", lambda *_a, **_k: other)
    dialog = SignInDialog(gui_db, "Acme Trading", None)
    qtbot.addWidget(dialog)
    assert dialog.focusWidget() is dialog.login_edit  # nothing remembered: start at login
    qtbot.mouseClick(dialog.other_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == SignInDialog.OTHER_DATABASE
    assert dialog.chosen_location == other


# ---------------------------------------------------------------------------------------
# Welcome


@pytest.fixture
def empty_db(sqlite_db: Database) -> Database:
    """A migrated database without a company: the first start."""
    return sqlite_db


def type_chinese(widget: QWidget, text: str) -> None:
    """Chinese arrives as an input method's commit (QTest can only type Latin-1 keys)."""
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def _fill_company_form(qtbot: QtBot, dialog: WelcomeDialog, repeat: str) -> None:
    type_chinese(dialog.company_edit, "深圳市华强电子有限公司")
    type_chinese(dialog.full_name_edit, "王芳")
    qtbot.keyClicks(dialog.login_edit, "wang.fang")
    qtbot.keyClicks(dialog.password_edit, "secret-password")
    qtbot.keyClicks(dialog.repeat_edit, repeat)


def test_welcome_shows_mistakes_inline_then_creates_the_company(
    qtbot: QtBot, empty_db: Database
) -> None:
    dialog = WelcomeDialog(empty_db)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.region_combo.currentData() == "CN"  # China (+86) by default
    _fill_company_form(qtbot, dialog, repeat="secret-passwort")
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    repeat_error = dialog.findChild(type(dialog.create_error), "repeatError")
    assert repeat_error is not None and repeat_error.isVisible()
    assert "differ" in repeat_error.text()
    assert not dbsvc.has_company(empty_db)  # nothing written

    dialog.login_edit.setText("x")  # too short: the service's own rule, shown inline too
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    login_error = dialog.findChild(type(dialog.create_error), "loginError")
    assert login_error is not None and login_error.isVisible()
    assert "2–64 characters" in login_error.text()

    dialog.login_edit.setText("wang.fang")
    dialog.repeat_edit.setText("secret-password")
    dialog.region_combo.setCurrentIndex(dialog.region_combo.findData("HK"))
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    assert not repeat_error.isVisible()
    assert dialog.database is empty_db
    assert dialog.user is not None and dialog.user.login == "wang.fang"
    assert dbsvc.company_name(empty_db) == "深圳市华强电子有限公司"
    empty_db.forget_cached_settings()
    assert empty_db.default_region() == "HK"


@pytest.fixture
def small_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(welcome_module, "DEMO_CUSTOMERS", DEMO_CUSTOMERS)
    monkeypatch.setattr(welcome_module, "DEMO_ORDERS", DEMO_ORDERS)


def test_cancelling_the_demo_writes_nothing_and_the_dialog_stays(
    qtbot: QtBot, empty_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = threading.Event()

    def endless_demo(db: Database, *, progress: Progress | None = None, **_: object) -> None:
        assert progress is not None
        with db.session() as session:
            session.add(Setting(key="company.name", value="half a demo"))
            session.flush()
            started.set()
            while True:
                progress.report(1, 14, "Inventing customers…")
                threading.Event().wait(0.002)

    monkeypatch.setattr("smbcrm.services.demo.create_demo_company", endless_demo)
    dialog = WelcomeDialog(empty_db)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.mouseClick(dialog.demo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(started.is_set, timeout=10000)
    assert not dialog.demo_button.isEnabled()
    assert dialog.worker is not None
    with qtbot.waitSignal(dialog.worker.cancelled, timeout=5000):
        qtbot.mouseClick(dialog.progress_dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert "Cancelled" in dialog.demo_status.text()
    assert dialog.demo_button.isEnabled()
    assert list(data_dir().glob("demo*")) == []  # neither the file nor a half-built one
    assert not dbsvc.has_company(empty_db)


def test_the_demo_is_built_in_its_own_file_and_its_owner_signed_in(
    qtbot: QtBot, empty_db: Database, small_demo: None
) -> None:
    dialog = WelcomeDialog(empty_db)
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.accepted, timeout=60000):
        qtbot.mouseClick(dialog.demo_button, Qt.MouseButton.LeftButton)
    assert dialog.database is not None and dialog.user is not None
    assert dialog.user.login == "wang.fang"
    assert Path(dialog.database.display_name) == app_support.demo_database_path()
    assert not dbsvc.has_company(empty_db)  # the real book stays clean
    assert dialog.notice is not None and "demo1234" in dialog.notice
    assert list(data_dir().glob("demo-building*")) == []
    dialog.database.dispose()


# ---------------------------------------------------------------------------------------
# Launcher and main window


def double_click(qtbot: QtBot, table: QAbstractItemView, index: QModelIndex) -> None:
    # A view acts on a double-click only over the item the press landed on: press first.
    center = table.visualRect(index).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=center)
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=center)


class Answers:
    """Answers each modal dialog the launcher opens, the way a person would."""

    def __init__(self, qtbot: QtBot) -> None:
        self.qtbot = qtbot
        self.seen: list[str] = []
        self.login = "boss"
        self.password = OWNER_PASSWORD
        self.welcome: Callable[[WelcomeDialog], None] = self.create_company

    def __call__(self, dialog: QDialog) -> int:
        self.seen.append(type(dialog).__name__)
        self.qtbot.addWidget(dialog)
        dialog.show()
        if isinstance(dialog, WelcomeDialog):
            self.welcome(dialog)
        elif isinstance(dialog, SignInDialog):
            if not dialog.login_edit.text():
                self.qtbot.keyClicks(dialog.login_edit, self.login)
            self.qtbot.keyClicks(dialog.password_edit, self.password)
            self.qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
        elif isinstance(dialog, QMessageBox):
            dialog.reject()
        self.qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=60000)
        return dialog.result()

    def create_company(self, dialog: WelcomeDialog) -> None:
        _fill_company_form(self.qtbot, dialog, repeat="secret-password")
        self.qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)

    def open_demo(self, dialog: WelcomeDialog) -> None:
        self.qtbot.mouseClick(dialog.demo_button, Qt.MouseButton.LeftButton)


def _close(window: MainWindow | None) -> None:
    if window is not None:
        window.close()
        window.ctx.db.dispose()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo company built once; each test gets a copy."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    app_support.build_demo_database(path, customers=DEMO_CUSTOMERS, orders=DEMO_ORDERS)
    return path


@pytest.fixture
def demo_ctx(demo_template: Path, tmp_path: Path) -> Iterator[AppContext]:
    path = tmp_path / "demo.db"
    shutil.copyfile(demo_template, path)
    db = Database.open(path)
    with db.new_session() as session:
        user = auth.find_user(session, "wang.fang")
    yield AppContext.for_user(db, user, dbsvc.company_name(db) or "")
    db.dispose()


def test_first_start_with_the_demo_ends_in_a_signed_in_main_window(
    qtbot: QtBot, tmp_path: Path, small_demo: None
) -> None:
    answers = Answers(qtbot)
    answers.welcome = answers.open_demo
    window = app_module.launch(str(tmp_path / "smbcrm.db"), None, run_dialog=answers)
    try:
        assert window is not None and window.isVisible()
        qtbot.addWidget(window)
        assert answers.seen == ["WelcomeDialog"]
        assert window.windowTitle() == f"smbcrm — {window.ctx.company}"
        assert "Huaxin" in window.ctx.company
        assert window.ctx.login == "wang.fang"
        assert window.banner.isVisible() and "demo1234" in window.banner_label.text()
        assert "wang.fang" in window.user_label.text()
        prefs = Preferences.load()
        assert prefs.last_database == str(app_support.demo_database_path())
        assert prefs.last_login[str(app_support.demo_database_path())] == "wang.fang"
    finally:
        _close(window)

    # Next start: the remembered demo opens at the sign-in, login pre-filled.
    answers = Answers(qtbot)
    answers.password = "demo1234"
    window = app_module.launch(None, None, run_dialog=answers)
    try:
        assert answers.seen == ["SignInDialog"]
        assert window is not None and window.ctx.login == "wang.fang"
    finally:
        _close(window)


def test_welcome_can_open_an_existing_book_instead(
    qtbot: QtBot, gui_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new computer in a company that already has its book: no second company."""
    monkeypatch.setattr("smbcrm.ui.welcome.choose_database", lambda *_a, **_k: gui_db.display_name)
    answers = Answers(qtbot)
    answers.welcome = lambda dialog: qtbot.mouseClick(
        dialog.other_button, Qt.MouseButton.LeftButton
    )
    empty = tmp_path / "new-computer.db"
    window = app_module.launch(str(empty), None, run_dialog=answers)
    try:
        assert answers.seen == ["WelcomeDialog", "SignInDialog"]
        assert window is not None and window.ctx.company == "Acme Trading"
        assert Preferences.load().last_database == gui_db.display_name
    finally:
        _close(window)


def test_a_file_that_is_not_a_database_gets_a_clear_message_not_a_traceback(
    qtbot: QtBot, tmp_path: Path
) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("shopping list", encoding="utf-8")
    boxes: list[str] = []

    def answer(dialog: QDialog) -> int:
        assert isinstance(dialog, QMessageBox)
        boxes.append(dialog.text())
        return QDialog.DialogCode.Rejected  # "Quit"

    assert app_module.launch(str(bogus), None, run_dialog=answer) is None
    assert len(boxes) == 1
    assert "is not an smbcrm database" in boxes[0] and "Traceback" not in boxes[0]


def test_sign_out_returns_to_the_sign_in(
    qtbot: QtBot, gui_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = Answers(qtbot)
    location = gui_db.display_name
    first = app_module.launch(location, "boss", run_dialog=answers)
    assert first is not None and first.isVisible()
    first.sign_out_action.trigger()
    qtbot.waitUntil(lambda: answers.seen == ["SignInDialog", "SignInDialog"], timeout=10000)
    # The old window is gone (the launcher deletes it); a new one is signed in.
    qtbot.waitUntil(lambda: not shiboken6.isValid(first))
    current = [
        w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()
    ]
    assert len(current) == 1
    qtbot.addWidget(current[0])
    assert current[0].ctx.login == "boss"
    _close(current[0])


def test_keyboard_navigation_between_pages(qtbot: QtBot, demo_ctx: AppContext) -> None:
    window = MainWindow(demo_ctx)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    assert window.pages.currentWidget() is window.customers_view
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.pages.currentWidget() is window.orders_view
    assert window.navigation.currentRow() == ORDERS
    qtbot.waitUntil(lambda: window.orders_view.model.total() == DEMO_ORDERS)
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.pages.currentWidget() is window.follow_ups_view
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page() == CUSTOMERS
    # Clicking the navigation works as well.
    window.navigation.setCurrentRow(FOLLOW_UPS)
    assert window.pages.currentWidget() is window.follow_ups_view
    # Switching pages puts the cursor in that page's search; Ctrl+F brings it back there.
    window.show_orders()
    assert window.orders_view.search_edit.hasFocus()
    window.orders_view.table.setFocus()
    qtbot.keyClick(window.orders_view.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.orders_view.search_edit.hasFocus()
    window.show_customers()
    search = window.customers_view.search_edit
    window.customers_view.table.setFocus()
    assert not search.hasFocus()
    qtbot.keyClick(window.customers_view.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert search.hasFocus()


def test_orders_search_filters_and_opens_the_customer(qtbot: QtBot, demo_ctx: AppContext) -> None:
    window = MainWindow(demo_ctx)
    qtbot.addWidget(window)
    window.show()
    window.show_orders()
    view = window.orders_view
    qtbot.waitUntil(lambda: view.model.total() == DEMO_ORDERS)
    first = view.model.order_at(0)
    assert first is not None and first.customer is not None and first.customer_id is not None
    with demo_ctx.read_session() as session:
        expected = ordersvc.order_count(session, first.customer)
    assert 0 < expected < DEMO_ORDERS

    qtbot.keyClicks(view.search_edit, first.customer)
    qtbot.waitUntil(lambda: view.model.total() == expected, timeout=5000)
    names = {view.model.order_at(r).customer for r in range(view.model.rowCount())}  # type: ignore[union-attr]
    assert first.customer in names
    assert view.count_label.text().startswith(f"{expected} orders match")
    amount = view.model.index(0, 3)
    assert view.model.data(amount, Qt.ItemDataRole.TextAlignmentRole) == int(
        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    )
    assert str(view.model.data(amount))[0] in "¥$€£HNSJ"  # a currency, then the number

    # Double-clicking an order shows its customer on the Customers page.
    chosen: list[int] = []
    monkeypatched = window.customers_view.select_customer
    window.customers_view.select_customer = lambda cid: (chosen.append(cid), monkeypatched(cid))  # type: ignore[method-assign]
    double_click(qtbot, view.table, view.model.index(0, 2))
    row = view.model.order_at(0)
    assert row is not None
    assert chosen == [row.customer_id]
    assert window.current_page() == CUSTOMERS

    view.search_edit.clear()
    qtbot.waitUntil(lambda: view.model.total() == DEMO_ORDERS, timeout=5000)


def _customer_with_follow_ups(ctx: AppContext) -> tuple[int, int]:
    """A customer with one overdue and one due-today follow-up; returns their ids."""
    today = date.today()
    with ctx.unit_of_work() as (session, actor):
        customer = create_customer(session, actor, CustomerInput(name="华强电子 Huaqiang"))
        for title, due in (("Send the quote", today - timedelta(days=3)), ("Call back", today)):
            activities.log_activity(
                session,
                actor,
                customer.id,
                activities.ActivityInput(
                    kind=ActivityKind.CALL,
                    subject=title,
                    follow_up_on=due,
                    follow_up_title=title,
                ),
                today=today - timedelta(days=10),
            )
        session.flush()
        ids = [row.id for row in activities.open_follow_ups(session)]
    return ids[0], ids[1]


def test_follow_ups_highlight_overdue_and_mark_done_removes_the_row(
    qtbot: QtBot, ctx: AppContext
) -> None:
    overdue_id, today_id = _customer_with_follow_ups(ctx)
    view = FollowUpsView(ctx)
    qtbot.addWidget(view)
    view.show()
    model = view.model
    assert [t.id for t in model.tasks(MyDayModel.OVERDUE)] == [overdue_id]
    assert [t.id for t in model.tasks(MyDayModel.TODAY)] == [today_id]
    overdue = model.task_index(overdue_id, MyDayModel.TASK)
    due_today = model.task_index(today_id, MyDayModel.WHEN)
    assert model.data(overdue) == "Send the quote"
    assert model.data(overdue, Qt.ItemDataRole.BackgroundRole) == OVERDUE_BACKGROUND
    when = model.task_index(overdue_id, MyDayModel.WHEN)
    assert model.data(when) == "3 days overdue"
    assert model.data(when, Qt.ItemDataRole.ForegroundRole) == OVERDUE_COLOR
    font = model.data(due_today, Qt.ItemDataRole.FontRole)
    assert isinstance(font, QFont) and font.bold()
    assert model.data(due_today, Qt.ItemDataRole.BackgroundRole) is None
    assert model.data(due_today, Qt.ItemDataRole.ForegroundRole) is None

    assert not view.done_button.isEnabled()
    view.table.setCurrentIndex(overdue)
    assert view.done_button.isEnabled()
    qtbot.mouseClick(view.done_button, Qt.MouseButton.LeftButton)
    assert model.tasks(MyDayModel.OVERDUE) == []
    assert view.selected() is not None and view.selected().id == today_id  # type: ignore[union-attr]
    with ctx.read_session() as session:
        assert [r.id for r in activities.open_follow_ups(session)] == [today_id]
        assert overdue_id not in {r.id for r in activities.open_follow_ups(session)}


def test_follow_ups_mine_and_everyone(qtbot: QtBot, ctx: AppContext, gui_db: Database) -> None:
    from tests.gui.conftest import add_salesperson

    _customer_with_follow_ups(ctx)
    seller = add_salesperson(gui_db, "li.na", "李娜")
    seller_ctx = context_for(gui_db, "li.na")
    view = FollowUpsView(seller_ctx)
    qtbot.addWidget(view)
    view.show()
    # Sales staff see their own tasks (the seller has none of the owner's), no filter.
    assert not view.person_combo.isVisibleTo(view)
    assert seller and view.model.all_tasks() == []
    boss_view = FollowUpsView(ctx)
    qtbot.addWidget(boss_view)
    boss_view.show()
    assert boss_view.person_combo.isVisibleTo(boss_view)  # owners may look at anyone's
    boss_view.person_combo.setCurrentIndex(boss_view.person_combo.findText("Everyone"))
    assert len(boss_view.model.all_tasks()) == 2
    opened: list[int] = []
    boss_view.open_customer.connect(opened.append)
    first = boss_view.model.all_tasks()[0]
    double_click(qtbot, boss_view.table, boss_view.model.task_index(first.id, MyDayModel.TASK))
    assert opened == [first.customer_id]


def test_back_up_database_makes_a_copy(qtbot: QtBot, ctx: AppContext, tmp_path: Path) -> None:
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    target = tmp_path / "copy.db"
    worker = window.start_backup(target)
    with qtbot.waitSignal(worker.ended, timeout=10000):
        pass
    assert worker.state == "finished"
    copy = Database.open(target)
    try:
        assert dbsvc.company_name(copy) == "Acme Trading"
    finally:
        copy.dispose()
    assert "Backed up to" in window.statusBar().currentMessage()


def test_window_size_is_remembered(qtbot: QtBot, ctx: AppContext) -> None:
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    window.resize(780, 640)  # the offscreen screen is 800x800
    window.close()
    again = MainWindow(ctx)
    qtbot.addWidget(again)
    assert (again.width(), again.height()) == (780, 640)


def test_self_check_window_draws_the_main_window(gui_db: Database, qapp: QApplication) -> None:
    with gui_db.new_session() as session:
        owner = auth.find_user(session, "boss")
    assert app_module.self_check_window(gui_db, owner.id) == "main window 1200x800"


def test_unexpected_errors_show_a_short_message_and_log_the_traceback(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", staticmethod(lambda _parent, _title, text: shown.append(text))
    )
    try:
        raise KeyError("customer_id")
    except KeyError as exc:
        app_module.excepthook(KeyError, exc, exc.__traceback__)
    assert len(shown) == 1
    assert "unexpected problem (KeyError: 'customer_id')" in shown[0]
    assert "Traceback" not in shown[0] and "smbcrm-errors.log" in shown[0]
    log = data_dir() / "smbcrm-errors.log"
    assert "KeyError: 'customer_id'" in log.read_text(encoding="utf-8")

    app_module.excepthook(Cancelled, Cancelled("Import cancelled."), None)
    assert shown[-1] == "Import cancelled."  # a domain error shows its own words


def test_a_remembered_book_that_was_moved_is_not_recreated_empty(tmp_path: Path) -> None:
    gone = tmp_path / "moved-away.db"
    Preferences(last_database=str(gone)).save()
    assert app_support.remembered_database() is None
    assert not gone.exists()
    here = tmp_path / "here.db"
    here.write_bytes(b"")
    Preferences(last_database=str(here)).save()
    assert app_support.remembered_database() == str(here)


def test_cancelled_orders_are_listed_greyed(qtbot: QtBot, ctx: AppContext) -> None:
    from tests.factories import make_customer, make_order

    with ctx.db.session() as session:
        customer = make_customer(session, "华强电子有限公司")
        customer_id = customer.id
        make_order(session, customer, number="SO-1", when=date(2026, 3, 1), status="completed")
        make_order(session, customer, number="SO-2", when=date(2026, 3, 2), status="已作废")
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    window.show_orders()
    view = window.orders_view
    qtbot.waitUntil(lambda: view.model.total() == 2)
    rows = {view.model.order_at(r).order_number: r for r in range(2)}  # type: ignore[union-attr]
    amount = view.model.AMOUNT
    void = view.model.index(rows["SO-2"], amount)
    sold = view.model.index(rows["SO-1"], amount)
    assert view.model.data(void, Qt.ItemDataRole.ForegroundRole) == MUTED_COLOR
    assert "not counted in revenue" in str(view.model.data(void, Qt.ItemDataRole.ToolTipRole))
    assert view.model.data(sold, Qt.ItemDataRole.ForegroundRole) is None

    # The customer's page lists both orders and counts one sale.
    window.open_customer(customer_id)
    detail = window.customers_view.detail
    qtbot.waitUntil(lambda: detail.customer_id == customer_id)
    assert detail.tabs.tabText(2) == "Orders (2)"
    assert detail.orders_summary.text().startswith("1 order, ¥100.00 in total")
    assert "(and 1 cancelled, not counted)" in detail.orders_summary.text()
    table = detail.orders_page.table
    shown = {table.item(r, 1).text(): r for r in range(table.rowCount())}
    assert table.item(shown["SO-2"], 2).foreground().color() == MUTED_COLOR
    assert table.item(shown["SO-1"], 2).foreground().color() != MUTED_COLOR


def test_a_book_from_an_older_version_says_it_is_being_upgraded_while_it_is(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "older.db"
    db = dbsvc.open_database(path)
    auth.create_company(db, "Acme Trading", "boss", "Wang Fang", OWNER_PASSWORD)
    dbsvc.downgrade(db, "0007")
    db.dispose()
    shown: list[tuple[str, bool]] = []
    real_upgrade = dbsvc.upgrade

    def watched_upgrade(target: Database, before: Callable[[], None] | None = None) -> Path | None:
        def notice_first() -> None:
            assert before is not None
            before()
            notice = launcher.upgrade_notice
            assert notice is not None
            label = notice.findChild(QLabel)
            shown.append((label.text(), notice.isVisible()))

        return real_upgrade(target, notice_first)

    monkeypatch.setattr(dbsvc, "upgrade", watched_upgrade)
    launcher = app_module.Launcher(run_dialog=lambda dialog: 0)
    opened = launcher.open_database(str(path))
    assert opened is not None
    assert shown and shown[0][1] and shown[0][0].startswith("Upgrading the database")
    assert launcher.upgrade_notice is None  # gone once the book is open
    assert dbsvc.current_revision(opened) == dbsvc.head_revision()
    # A book already up to date opens without the notice.
    opened.dispose()
    shown.clear()
    again = launcher.open_database(str(path))
    assert again is not None and shown == []
    again.dispose()
