"""The interface in Chinese: menus, pages, dialogs and Qt's own buttons; the language choice."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox
from pytestqt.qtbot import QtBot

from smbcrm.models import Database
from smbcrm.services.preferences import Preferences
from smbcrm.ui.context import AppContext
from smbcrm.ui.currency_dialog import CurrencyDialog
from smbcrm.ui.main_window import MainWindow
from smbcrm.ui.risk_view import RiskView
from smbcrm.ui.translation import install_language, remove_language
from tests.factories import make_customer, make_order


@pytest.fixture
def chinese(qapp: QApplication) -> Iterator[None]:
    assert install_language(qapp, "zh")
    yield
    remove_language(qapp)


def _menu_titles(window: MainWindow) -> list[str]:
    return [action.text() for action in window.menuBar().actions()]


def test_the_main_window_in_chinese(qtbot: QtBot, ctx: AppContext, chinese: None) -> None:
    window = MainWindow(ctx, persist_state=False)
    qtbot.addWidget(window)
    titles = _menu_titles(window)
    assert titles[0] == "文件(&F)" and "帮助(&H)" in titles
    pages = [window.navigation.item(i).text() for i in range(window.navigation.count())]
    assert pages[0] == "客户"
    # No English left on the menus a person opens first.
    file_menu = window.menuBar().actions()[0].menu()
    assert all(not a.text() or not a.text().isascii() for a in file_menu.actions())


def test_dialogs_and_qt_buttons_in_chinese(qtbot: QtBot, ctx: AppContext, chinese: None) -> None:
    dialog = CurrencyDialog(ctx)
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "币种和汇率"
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    assert save is not None and save.text() == "保存"


def test_at_risk_reasons_follow_the_language(
    qtbot: QtBot, ctx: AppContext, gui_db: Database, chinese: None
) -> None:
    today = date.today()
    with gui_db.session() as session:
        customer = make_customer(session, "静默贸易")
        for i in range(12):
            make_order(session, customer, amount="900", when=today - timedelta(days=150 + 30 * i))
    view = RiskView(ctx)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        view.show()
    assert view.model.headerData(0, Qt.Orientation.Horizontal) == "客户"
    assert "通常每 30 天下单一次" in view.model.index(0, view.model.REASONS).data()


def test_choosing_a_language_is_kept_for_the_next_start(
    qtbot: QtBot, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text: told.append(text))
    window = MainWindow(ctx, persist_state=False)
    qtbot.addWidget(window)
    assert set(window.language_actions) == {"en", "zh"}
    window.language_actions["zh"].trigger()
    assert Preferences.load().language == "zh"
    assert window.language_actions["zh"].isChecked()
    assert "下次启动" in told[0]
    window.language_actions["en"].trigger()
    assert Preferences.load().language == "en"
    assert "next time it starts" in told[1]


def test_the_duplicate_warning_gives_its_reasons_in_chinese(
    qtbot: QtBot, ctx: AppContext, chinese: None
) -> None:
    from PySide6.QtWidgets import QLabel

    from smbcrm.ui.customer_dialog import CustomerDialog

    with ctx.db.session() as session:
        make_customer(session, "Golden Sun Trading Co., Ltd.", phones=["138 0013 8000"])
    dialog = CustomerDialog(ctx, None)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.name_edit, "Golden Sun Trading")
    qtbot.keyClicks(dialog.phone_edit, "13800138000")
    qtbot.waitUntil(dialog.similar_panel.isVisible, timeout=3000)
    texts = " ".join(label.text() for label in dialog.similar_panel.findChildren(QLabel))
    assert "电话相同" in texts or "手机相同" in texts
    assert "same phone" not in texts and "same mobile" not in texts


def test_the_customer_form_says_what_is_wrong_in_chinese(
    qtbot: QtBot, ctx: AppContext, chinese: None
) -> None:
    from PySide6.QtWidgets import QLabel

    from smbcrm.ui.customer_dialog import CustomerDialog

    dialog = CustomerDialog(ctx, None)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.name_edit, "Golden Sun")
    qtbot.mouseClick(dialog.email_edit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.email_edit.hasFocus)
    qtbot.keyClicks(dialog.email_edit, "not-an-address")
    qtbot.keyClick(dialog.email_edit, Qt.Key.Key_Tab)  # leaving the field shows its problem
    error = dialog.findChild(QLabel, "emailsError")
    assert error is not None and error.isVisible()
    assert "not-an-address" in error.text()  # the value kept …
    assert "is not an e-mail address" not in error.text()  # … in a Chinese sentence
    assert not error.text().isascii()


def test_the_audit_log_and_the_timeline_read_in_chinese(
    qtbot: QtBot, ctx: AppContext, gui_db: Database, chinese: None
) -> None:
    from smbcrm.models import Role
    from smbcrm.services import customers as customers_svc
    from smbcrm.services import ownership
    from smbcrm.services.auth import add_staff, find_user
    from smbcrm.ui.audit_view import AuditLogDialog
    from smbcrm.ui.customer_detail import CustomerDetailPane

    with gui_db.session() as session:
        boss = find_user(session, "boss")
        add_staff(
            session, boss, login="li", full_name="Li Lei", role=Role.SALES, password="pw-li-1234"
        )
        session.info["user_id"] = boss.id
        customer = make_customer(session, "审计贸易")
        make_order(session, customer, amount="900", number="SO-77")
        cid = customer.id
    with gui_db.session() as session:
        boss = find_user(session, "boss")
        session.info["user_id"] = boss.id
        data = customers_svc.input_from_customer(customers_svc.get_customer(session, cid))
        data.notes = "Prefers WeChat"
        customers_svc.update_customer(session, boss, cid, data)
        ownership.bulk_reassign(session, boss, [cid], find_user(session, "li").id, reason="换区")
    dialog = AuditLogDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.table.rowCount() > 0)
    changes = {dialog.table.item(r, 5).text() for r in range(dialog.table.rowCount())}
    assert "备注：— → Prefers WeChat" in changes, changes
    actions = {dialog.table.item(r, 4).text() for r in range(dialog.table.rowCount())}
    assert {"新建", "修改"} <= actions, actions
    pane = CustomerDetailPane(ctx)
    qtbot.addWidget(pane)
    pane.show_customer(cid)
    table = pane.history_page.table
    timeline = {table.item(r, 3).text() for r in range(table.rowCount())}
    assert "订单 SO-77：¥900.00" in timeline, timeline
    assert any(t.startswith("负责销售：") and t.endswith("Li Lei（换区）") for t in timeline), (
        timeline
    )


def test_the_merge_window_in_chinese(
    qtbot: QtBot, ctx: AppContext, gui_db: Database, chinese: None
) -> None:
    from PySide6.QtWidgets import QLabel

    from smbcrm.ui.merge_dialog import MergeDialog

    with gui_db.session() as session:
        first = make_customer(session, "合并贸易有限公司", phones=["13800138000"], city="深圳")
        second = make_customer(session, "合并贸易", phones=["13900139000"], city="深圳")
        make_order(session, first, amount="100")
        make_order(session, second, amount="200")
        ids = [first.id, second.id]
    dialog = MergeDialog(ctx, ids)
    qtbot.addWidget(dialog)
    name_label = dialog.findChild(QLabel, "mergeLabel_name")
    assert name_label is not None and name_label.text() == "名称"
    assert "1 个订单" in dialog.summary.text()
    assert "phone" not in dialog.summary.text()


def test_an_import_rows_notes_read_in_chinese(chinese: None) -> None:
    from smbcrm.services.importing.plan import Outcome, RowPlan, RowValues
    from smbcrm.ui.import_texts import row_details

    row = RowPlan(
        row_number=3,
        raw=[],
        values=RowValues(),
        outcome=Outcome.CREATE,
        reason="no customer in the book matches",
        warnings=[
            "no staff member is called '李四': the customer goes to the unassigned pool "
            "(or choose to create the staff member)"
        ],
    )
    text = row_details(row, {}, "CN")
    assert "李四" in text and "公共池" in text
    assert "staff member" not in text and "book matches" not in text
