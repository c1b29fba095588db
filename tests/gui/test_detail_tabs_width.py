"""The customer pane's tabs, shown whole beside the list in a laptop-wide window."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, QRect, QRegularExpression, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QTabBar, QToolButton, QWidget
from pytestqt.qtbot import QtBot

from smbcrm.models import Database
from smbcrm.services import auth
from smbcrm.services.demo import DEMO_COMPANY_NAME, DEMO_OWNER_LOGIN, create_demo_company
from smbcrm.ui.context import AppContext
from smbcrm.ui.customer_detail import CustomerDetailPane
from smbcrm.ui.main_window import MainWindow
from smbcrm.ui.style import style_sheet, ui_font
from smbcrm.ui.translation import install_language, remove_language

# Common laptop widths, the first two the narrowest people use the app at.
WINDOW_WIDTHS = (1200, 1280, 1366)
# Room a tab needs beside its text, for its padding, so the text is not drawn to the edge.
TEXT_MARGIN = 8


@pytest.fixture
def demo_ctx(sqlite_db: Database) -> AppContext:
    """The demo company the app offers (small): customers with contacts, orders, activities."""
    create_demo_company(sqlite_db, customers=40, orders=400)
    with sqlite_db.new_session() as session:
        owner = auth.find_user(session, DEMO_OWNER_LOGIN)
        return AppContext.for_user(sqlite_db, owner, DEMO_COMPANY_NAME)


@pytest.fixture(params=["en", "zh"])
def language(request: pytest.FixtureRequest, qapp: QApplication) -> Iterator[str]:
    if request.param == "zh":
        assert install_language(qapp, "zh")
    yield str(request.param)
    remove_language(qapp)


def open_window(qtbot: QtBot, ctx: AppContext) -> MainWindow:
    window = MainWindow(ctx, persist_state=False)
    qtbot.addWidget(window)
    window.setFont(ui_font())
    window.setStyleSheet(style_sheet())
    window.resize(WINDOW_WIDTHS[0], 760)
    window.show()
    view = window.customers_view
    qtbot.waitUntil(lambda: view.model.rowCount() > 0, timeout=20_000)
    first = view.model.customer_id_at(0)
    assert first is not None and view.select_customer(first)
    qtbot.waitUntil(lambda: view.detail.customer_id == first, timeout=20_000)
    return window


def tabs_on_screen(pane: CustomerDetailPane) -> list[tuple[str, QRect, QFontMetrics, QWidget]]:
    """Each tab's label, where it is drawn (in the pane), the font it is drawn in, and what
    holds it — whether the tab widget's own bar shows the tabs or buttons stand for them."""
    bar: QTabBar = pane.tabs.tabBar()
    if bar.isVisible():
        return [
            (
                bar.tabText(i),
                QRect(bar.mapTo(pane, bar.tabRect(i).topLeft()), bar.tabRect(i).size()),
                bar.fontMetrics(),
                bar,
            )
            for i in range(bar.count())
        ]
    name = QRegularExpression("^customerTab\\d+$")
    buttons = [b for b in pane.findChildren(QToolButton, name) if b.isVisible()]
    return [
        (
            b.text(),
            QRect(b.mapTo(pane, QPoint(0, 0)), b.size()),
            b.fontMetrics(),
            b.parentWidget() or pane,
        )
        for b in buttons
    ]


def test_every_tab_shows_its_whole_label(qtbot: QtBot, demo_ctx: AppContext, language: str) -> None:
    window = open_window(qtbot, demo_ctx)
    pane = window.customers_view.detail
    for width in WINDOW_WIDTHS:
        window.resize(width, 760)
        qtbot.wait(50)  # the splitter and the pane lay themselves out again
        where = f"at {width} px ({language})"
        shown = tabs_on_screen(pane)
        texts = [pane.tabs.tabText(i) for i in range(pane.tabs.count())]
        assert [text for text, *_ in shown] == texts, f"tabs missing {where}"
        assert any("(" in text for text in texts)  # the longest labels: with their counts
        # No tab hidden behind scroll arrows.
        arrows = pane.tabs.tabBar().findChildren(QToolButton)
        assert not any(arrow.isVisible() for arrow in arrows), where
        boxes = []
        for text, box, metrics, holder in shown:
            holder_box = QRect(holder.mapTo(pane, QPoint(0, 0)), holder.size())
            assert holder_box.contains(box), f"{text!r} cut off {where}"
            assert pane.rect().contains(box), f"{text!r} outside the pane {where}"
            assert box.width() >= metrics.horizontalAdvance(text) + TEXT_MARGIN, (
                f"{text!r} squeezed {where}"
            )
            boxes.append((text, box))
        for i, (text, box) in enumerate(boxes):
            for other, other_box in boxes[i + 1 :]:
                assert not box.intersects(other_box), f"{text!r} over {other!r} {where}"
        if not pane.tabs.tabBar().isVisible():  # the page shows below the tabs, not under
            page_top = pane.tabs.mapTo(pane, QPoint(0, 0)).y()
            assert all(box.bottom() < page_top for _text, box in boxes), where


def test_the_tabs_choose_the_page_and_follow_it(qtbot: QtBot, demo_ctx: AppContext) -> None:
    window = open_window(qtbot, demo_ctx)
    pane = window.customers_view.detail
    buttons = pane.findChildren(QToolButton, QRegularExpression("^customerTab\\d+$"))
    orders = next(b for b in buttons if b.text().startswith("Orders"))
    qtbot.mouseClick(orders, Qt.MouseButton.LeftButton)
    assert pane.tabs.currentWidget() is pane.orders_page.parentWidget()
    assert orders.isChecked()
    # Logging a call opens the activities page from elsewhere: its tab is then the chosen one.
    pane.tabs.setCurrentWidget(pane.activities_tab)
    activities = next(b for b in buttons if b.text().startswith("Activities"))
    assert activities.isChecked() and not orders.isChecked()
    # Ctrl+Tab goes on to the next page, as between tabs.
    pane.tabs.setFocus()
    qtbot.keyClick(pane.tabs, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert pane.tabs.currentWidget() is pane.ownership_page
    assert not activities.isChecked()
