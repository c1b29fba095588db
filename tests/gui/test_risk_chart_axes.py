"""The at-risk page's charts: axes that say what they count, labels and legends shown whole."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator

import pytest
from PySide6.QtCharts import QBarCategoryAxis, QChart, QChartView, QValueAxis
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from smbcrm.models import Database
from smbcrm.services import auth, risk
from smbcrm.services.demo import DEMO_COMPANY_NAME, DEMO_OWNER_LOGIN, create_demo_company
from smbcrm.ui.context import AppContext
from smbcrm.ui.risk_view import RiskView
from smbcrm.ui.style import style_sheet, ui_font
from smbcrm.ui.translation import install_language, remove_language

# The page beside the navigation: at its narrowest, in a 1280-wide and a 1366-wide window.
PAGE_WIDTHS = (0, 1080, 1166)


@pytest.fixture
def demo_ctx(sqlite_db: Database) -> Iterator[AppContext]:
    """The demo company the app offers (small), its owner signed in."""
    create_demo_company(sqlite_db, customers=60, orders=900)
    with sqlite_db.new_session() as session:
        owner = auth.find_user(session, DEMO_OWNER_LOGIN)
        yield AppContext.for_user(sqlite_db, owner, DEMO_COMPANY_NAME)
    risk.forget(sqlite_db)


@pytest.fixture(params=["en", "zh"])
def language(request: pytest.FixtureRequest, qapp: QApplication) -> Iterator[str]:
    """The language, and the font the app sets (the charts' texts follow it)."""
    font = qapp.font()
    qapp.setFont(ui_font())
    if request.param == "zh":
        assert install_language(qapp, "zh")
    yield str(request.param)
    remove_language(qapp)
    qapp.setFont(font)


def open_page(qtbot: QtBot, ctx: AppContext) -> RiskView:
    view = RiskView(ctx)
    qtbot.addWidget(view)
    # Looking as in the app (the style sheet's padding makes the filter row wider).
    view.setFont(ui_font())
    view.setStyleSheet(style_sheet())
    view.resize(1080, 700)
    with qtbot.waitSignal(view.refreshed, timeout=20_000):
        view.show()
    return view


def bar_axes(chart: QChart) -> tuple[QBarCategoryAxis, QValueAxis]:
    (months,) = chart.axes(Qt.Orientation.Horizontal)
    (amounts,) = chart.axes(Qt.Orientation.Vertical)
    assert isinstance(months, QBarCategoryAxis) and isinstance(amounts, QValueAxis)
    return months, amounts


def assert_title_whole(view: QChartView) -> None:
    chart = view.chart()
    room = chart.size().width() - chart.margins().left() - chart.margins().right()
    width = QFontMetricsF(chart.titleFont()).horizontalAdvance(chart.title())
    assert width <= room, f"{view.objectName()}: title {chart.title()!r} is cut"


def assert_legend_beside_the_plot(view: QChartView) -> None:
    chart = view.chart()
    legend = chart.legend()
    area = legend.geometry()
    assert legend.isVisible(), view.objectName()
    assert not area.intersects(chart.plotArea()), f"{view.objectName()}: legend over the plot"
    assert chart.rect().contains(area), f"{view.objectName()}: legend outside the chart"
    # Squeezed below what it asks for, a legend cuts its labels ("Not at ri…").
    wanted = legend.effectiveSizeHint(Qt.SizeHint.PreferredSize)
    assert area.width() + 0.5 >= wanted.width(), f"{view.objectName()}: legend squeezed"


def test_axes_have_titles_and_nothing_is_cut(
    qtbot: QtBot, demo_ctx: AppContext, language: str
) -> None:
    view = open_page(qtbot, demo_ctx)
    for width in PAGE_WIDTHS:
        view.resize(max(width, view.minimumSizeHint().width()), 700)
        qtbot.wait(50)  # the charts lay themselves out again
        for chart_view in (view.revenue_view, view.won_lost_view):
            chart = chart_view.chart()
            months, amounts = bar_axes(chart)
            name = f"{chart_view.objectName()} at {view.width()} px ({language})"
            for axis in (months, amounts):
                assert axis.titleText() and axis.isTitleVisible(), name
                assert not axis.labelsTruncated(), f"{name}: {axis.titleText()} labels cut"
            # The month numbers' axis says which months they are.
            assert "–" in months.titleText(), name
            assert_title_whole(chart_view)
        assert_title_whole(view.levels_view)
        assert_legend_beside_the_plot(view.won_lost_view)
        assert_legend_beside_the_plot(view.levels_view)

    # Money in the home currency, in a unit that keeps the labels short.
    revenue_title = bar_axes(view.revenue_view.chart())[1].titleText()
    assert "¥" in revenue_title
    if language == "en":
        assert revenue_title == "¥ thousands"
        assert bar_axes(view.won_lost_view.chart())[1].titleText() == "Customers"
    # Thousands are grouped as people write them.
    locale = view.revenue_view.chart().locale()
    assert view.revenue_view.chart().localizeNumbers()
    assert locale.toString(8000.0, "f", 0) == "8,000"


def test_amounts_keep_to_four_digits() -> None:
    from smbcrm.ui.risk_view import money_scale

    assert money_scale(0) == (1, "{0}")
    assert money_scale(9_999) == (1, "{0}")
    assert money_scale(6_800_000) == (1_000, "{0} thousands")
    assert money_scale(250_000_000) == (1_000_000, "{0} millions")


@pytest.mark.parametrize(("top", "ticks"), [(0, 2), (1, 2), (3, 4), (25, None)])
def test_count_axes_tick_on_whole_numbers(
    qapp: QApplication, top: float, ticks: int | None
) -> None:
    from smbcrm.ui.risk_view import whole_number_ticks

    axis = QValueAxis()
    whole_number_ticks(axis, top)
    assert axis.min() == 0 and axis.max() == int(axis.max()) and axis.max() >= top
    step = axis.max() / (axis.tickCount() - 1)
    assert step == int(step), f"ticks every {step}: labels would repeat"
    if ticks is not None:
        assert axis.tickCount() == ticks
