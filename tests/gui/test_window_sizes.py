"""Windows fit a laptop screen whatever font the system falls back to for Chinese."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from smbcrm.ui.batches_view import BatchesDialog
from smbcrm.ui.context import AppContext
from smbcrm.ui.customer_dialog import CustomerDialog
from smbcrm.ui.merge_dialog import MergeDialog, MergeHistoryDialog
from smbcrm.ui.style import style_sheet, ui_font
from tests.factories import make_customer

# A common laptop screen, less the window frame.
LAPTOP_WIDTH = 1366 - 16


@pytest.fixture
def chinese_fallback_font(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the UI font falls back to a Chinese font, its average character is about
    twice a Latin letter (13 px against 7 here); sizes must not follow it."""
    monkeypatch.setattr(QFontMetrics, "averageCharWidth", lambda _self: 13)


def dialogs(ctx: AppContext) -> list[QDialog]:
    with ctx.db.session() as session:
        first = make_customer(session, "华强电子有限公司", city="深圳").id
        second = make_customer(session, "深圳华强电子", city="深圳").id
    return [
        CustomerDialog(ctx),
        CustomerDialog(ctx, first),
        MergeDialog(ctx, [first, second]),
        MergeHistoryDialog(ctx),
        BatchesDialog(ctx),
    ]


@pytest.mark.usefixtures("chinese_fallback_font")
def test_dialogs_fit_a_laptop_screen(qtbot: QtBot, ctx: AppContext) -> None:
    for dialog in dialogs(ctx):
        qtbot.addWidget(dialog)
        name = dialog.objectName()
        assert dialog.minimumWidth() <= LAPTOP_WIDTH, name
        assert dialog.width() <= LAPTOP_WIDTH, name
        assert dialog.minimumSizeHint().width() <= LAPTOP_WIDTH, name


def test_pages_fit_beside_the_navigation_of_a_1280_wide_window(
    qtbot: QtBot, ctx: AppContext
) -> None:
    from smbcrm.ui.cases_view import CasesView
    from smbcrm.ui.customers_view import CustomersView
    from smbcrm.ui.duplicates_view import DuplicatesView
    from smbcrm.ui.follow_ups_view import FollowUpsView
    from smbcrm.ui.risk_view import RiskView

    for page in (
        CasesView(ctx),
        RiskView(ctx),
        CustomersView(ctx),
        FollowUpsView(ctx),
        DuplicatesView(ctx),
    ):
        qtbot.addWidget(page)
        # As in the app: the style sheet's padding makes boxes and buttons wider.
        page.setFont(ui_font())
        page.setStyleSheet(style_sheet())
        # Wider than this and the page's rows are squeezed: buttons cut, boxes overlapping.
        assert page.minimumSizeHint().width() <= 1080, page.objectName()


def test_the_customer_pane_leaves_the_list_its_room(qtbot: QtBot, ctx: AppContext) -> None:
    from smbcrm.ui.main_window import MainWindow

    with ctx.db.session() as session:
        make_customer(session, "Adam O'Brien", city="Qingdao")
    window = MainWindow(ctx, persist_state=False)  # with every feature's header button
    qtbot.addWidget(window)
    window.setFont(ui_font())
    window.setStyleSheet(style_sheet())
    window.resize(1280, 800)
    window.show()
    view = window.customers_view
    qtbot.waitUntil(lambda: view.model.rowCount() == 1)
    view.table.selectRow(0)
    qtbot.waitUntil(lambda: view.detail.customer_id is not None)
    # The name, its badges and the buttons beside it must not force a wide pane.
    assert view.detail.minimumSizeHint().width() <= 460
    assert view.table.width() > view.detail.width()


def test_in_a_small_window_the_search_box_gets_a_row_of_its_own(
    qtbot: QtBot, ctx: AppContext
) -> None:
    from smbcrm.ui.customers_view import CustomersView

    view = CustomersView(ctx)
    qtbot.addWidget(view)
    view.resize(1100, 600)
    view.show()
    qtbot.waitExposed(view)
    search, status = view.search_edit.geometry(), view.status_filter.geometry()
    assert abs(search.center().y() - status.center().y()) < 4  # one row

    view.resize(570, 480)  # a 760 × 520 window less the navigation
    qtbot.waitUntil(lambda: view.search_edit.geometry().bottom() < view.status_filter.y())
    assert view.search_edit.width() >= 400
    # Every filter still shows, none pushed out of the page.
    for widget in (view.status_filter, view.owner_filter, view.tier_filter, view.archived_check):
        assert widget.isVisible() and widget.geometry().right() <= view.width()

    view.resize(1100, 600)
    qtbot.waitUntil(lambda: abs(view.search_edit.y() - view.status_filter.y()) < 4)
