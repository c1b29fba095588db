"""The Cases page, the case dialog, resolving with a satisfaction score, and the settings."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from smbcrm.models import Case, CaseStatus, Database, SatisfactionRating, User, utcnow
from smbcrm.services import auth, cases
from smbcrm.services.cases import CaseInput, CaseScope, CaseState, PromiseInput
from smbcrm.services.working_time import WorkingCalendar, save_calendar
from smbcrm.ui.case_dialog import RED_BACKGROUND, local_text
from smbcrm.ui.cases_view import CasesModel, CasesView
from smbcrm.ui.context import AppContext
from tests.factories import make_customer

CALENDAR = WorkingCalendar(timezone="Asia/Shanghai")


@pytest.fixture
def service_db(gui_db: Database) -> Database:
    with gui_db.session() as session:
        boss = auth.find_user(session, "boss")
        save_calendar(session, boss, CALENDAR)
        cases.save_promise(session, boss, PromiseInput("送货 Delivery", 240, 2 * 540, 60))
    return gui_db


def add_customer(db: Database, name: str) -> int:
    with db.session() as session:
        return make_customer(session, name, city="深圳").id


def open_case(db: Database, customer_id: int, *, days_ago: int = 0, title: str = "Late") -> int:
    opened = utcnow() - timedelta(days=days_ago)
    with db.session() as session:
        boss = auth.find_user(session, "boss")
        case = cases.open_case(
            session,
            boss,
            CaseInput(customer_id, title, category="送货 Delivery", opened_at=opened),
            now=opened,
        )
        return case.id


def make_view(qtbot: QtBot, ctx: AppContext) -> CasesView:
    view = CasesView(ctx)
    qtbot.addWidget(view)
    view.resize(1300, 600)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_open_a_case_and_see_its_due_times(
    qtbot: QtBot, service_db: Database, ctx: AppContext
) -> None:
    customer_id = add_customer(service_db, "华强电子 Huaqiang")
    view = make_view(qtbot, ctx)
    dialog = view.new_case()
    # Pick the customer by typing part of the name (QTest types Latin letters only).
    qtbot.keyClicks(dialog.customer, "huaqiang")
    dialog.customer.search_now()
    assert dialog.customer.choices.item(0).text().startswith("华强电子 Huaqiang")
    dialog.customer.choose_row(0)
    assert dialog.customer.customer_id() == customer_id
    dialog.category.setCurrentText("送货 Delivery")
    assert "first response within 4 h" in dialog.promise_label.text()
    dialog.title_edit.insert("三箱货没到 ")
    qtbot.keyClicks(dialog.title_edit, "Three cartons missing")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()

    with service_db.new_session() as session:
        case = session.scalars(select(Case)).one()
        assert case.customer_id == customer_id and case.response_due_at is not None
        expected_response = local_text(CALENDAR, case.response_due_at, short=True)
        expected_resolution = local_text(CALENDAR, case.resolution_due_at)
    row = view.model.row_of(case.id)
    assert row is not None and view.selected() is not None and view.selected().id == case.id
    shown = view.model.index(row, CasesModel.RESPOND_BY).data()
    assert shown.startswith(expected_response)
    # The case dialog shows both due times and where the case stands.
    opened = view.open_case(case.id)
    assert opened.resolution_due_label.text().startswith(expected_resolution)
    assert opened.state_label.text() in ("On time", "Due soon")
    opened.reject()


def test_close_a_case_with_a_satisfaction_score(
    qtbot: QtBot, service_db: Database, ctx: AppContext
) -> None:
    case_id = open_case(service_db, add_customer(service_db, "Bolt Ltd"), title="Wrong size")
    view = make_view(qtbot, ctx)
    assert view.select_case(case_id)
    assert view.resolve_button.isEnabled()
    dialog = view.resolve_selected()
    assert dialog is not None
    # No contact logged yet: resolving now is resolving on first contact.
    assert dialog.first_contact.isChecked()
    assert not dialog.comment.isEnabled()
    qtbot.mouseClick(dialog.stars.buttons[3], Qt.MouseButton.LeftButton)
    assert dialog.stars.value == 4 and dialog.stars.words.text() == "Happy"
    dialog.comment.insert("很快就换好了")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    # An empty resolution is refused and nothing is written.
    assert dialog.isVisible() and "how the case was resolved" in dialog.error.text()
    qtbot.keyClicks(dialog.resolution, "Exchanged for the right size")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()

    with service_db.new_session() as session:
        case = session.get_one(Case, case_id)
        assert case.status == CaseStatus.RESOLVED and case.resolved_on_first_contact
        rating = session.scalars(select(SatisfactionRating)).one()
        assert (rating.case_id, rating.score, rating.comment) == (case_id, 4, "很快就换好了")
    # Resolved cases leave the open list and show under "All".
    assert view.model.row_of(case_id) is None
    view.set_scope(CaseScope.ALL)
    row = view.model.row_of(case_id)
    assert row is not None
    assert view.model.row_at(row).state == CaseState.RESOLVED  # type: ignore[union-attr]


def test_clicking_the_same_star_again_clears_the_score(
    qtbot: QtBot, service_db: Database, ctx: AppContext
) -> None:
    case_id = open_case(service_db, add_customer(service_db, "Star Co"))
    view = make_view(qtbot, ctx)
    view.select_case(case_id)
    dialog = view.resolve_selected()
    assert dialog is not None
    qtbot.mouseClick(dialog.stars.buttons[1], Qt.MouseButton.LeftButton)
    assert dialog.stars.value == 2 and dialog.comment.isEnabled()
    qtbot.mouseClick(dialog.stars.buttons[1], Qt.MouseButton.LeftButton)
    assert dialog.stars.value == 0 and not dialog.comment.isEnabled()
    dialog.reject()


def test_an_overdue_case_is_highlighted_and_counted(
    qtbot: QtBot, service_db: Database, ctx: AppContext
) -> None:
    customer_id = add_customer(service_db, "Waiting Ltd")
    late = open_case(service_db, customer_id, days_ago=10, title="Still waiting")
    fresh = open_case(service_db, customer_id, title="Just in")
    view = make_view(qtbot, ctx)
    counts: list[tuple[int, int]] = []
    view.counts_changed.connect(lambda o, d: counts.append((o, d)))
    view.refresh()
    assert counts[-1] == (2, 1)
    assert view.model.row_of(late) == 0  # the broken promise comes first
    state = view.model.index(0, CasesModel.STATE)
    assert state.data() == "Resolution overdue"
    assert state.data(Qt.ItemDataRole.BackgroundRole) == RED_BACKGROUND
    assert "late" in view.model.index(0, CasesModel.RESOLVE_BY).data()
    fresh_row = view.model.row_of(fresh)
    assert fresh_row is not None
    fresh_state = view.model.index(fresh_row, CasesModel.STATE)
    assert fresh_state.data(Qt.ItemDataRole.BackgroundRole) != RED_BACKGROUND
    assert view.model.row_at(fresh_row).state in (CaseState.ON_TIME, CaseState.DUE_SOON)  # type: ignore[union-attr]
    view.set_scope(CaseScope.OVERDUE)
    assert view.model.rowCount() == 1 and view.model.row_at(0).id == late  # type: ignore[union-attr]


def test_cases_page_in_the_main_window(qtbot: QtBot, service_db: Database, ctx: AppContext) -> None:
    from smbcrm.ui.main_window import MainWindow

    open_case(service_db, add_customer(service_db, "Waiting Ltd"), days_ago=10)
    window = MainWindow(ctx, persist_state=False)
    qtbot.addWidget(window)
    cases_page = window.cases  # type: ignore[attr-defined]
    assert cases_page.item.text() == "Cases  (1)"
    cases_page.show()
    assert window.pages.currentWidget() is window.cases_view  # type: ignore[attr-defined]
    dialog = cases_page.new_case_for_selected()
    assert dialog.customer.customer_id() is None  # not on the customer page: nobody preselected
    dialog.reject()


def test_owner_sets_promises_and_holidays(
    qtbot: QtBot, service_db: Database, ctx: AppContext
) -> None:
    from smbcrm.ui.service_settings_dialog import DAYS, HOURS, ServiceSettingsDialog

    view = make_view(qtbot, ctx)
    assert view.settings_button.isVisible() and view.figures_button.isVisible()
    dialog = view.edit_settings()
    assert isinstance(dialog, ServiceSettingsDialog)
    assert dialog.promise_list.count() == 1
    assert dialog.response.value() == (4, HOURS) and dialog.resolution.value() == (2, DAYS)
    dialog.add_promise()
    dialog.category.insert("质量 Quality")
    dialog.category.textEdited.emit(dialog.category.text())
    dialog.response.amount.setValue(2)
    dialog.resolution.amount.setValue(3)
    dialog.days[5].works.setChecked(True)  # Saturday mornings
    dialog.days[5].end.setTime(dialog.days[5].end.time().fromString("12:00", "HH:mm"))
    dialog.holidays.picker.setDate(date(2026, 12, 31))
    dialog.holidays.add_picked()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible(), dialog.error.text()
    with service_db.new_session() as session:
        quality = cases.promise_for(session, "质量 quality")
        assert quality is not None
        assert (quality.first_response_minutes, quality.resolution_minutes) == (120, 3 * 540)
        calendar = WorkingCalendar.load(session)
    assert calendar.holidays == frozenset({date(2026, 12, 31)})
    assert calendar.hours[5] == ((9 * 60, 12 * 60),)
    assert calendar.timezone == "Asia/Shanghai"


def test_sales_staff_see_their_cases_without_the_owner_buttons(
    qtbot: QtBot, service_db: Database
) -> None:
    from tests.gui.conftest import add_salesperson, context_for

    lily = add_salesperson(service_db, "lily.chen", "Lily Chen")
    with service_db.session() as session:
        customer = make_customer(session, "Lily's customer", owner_id=lily)
        boss = auth.find_user(session, "boss")
        cases.open_case(session, boss, CaseInput(customer.id, "Hers", category="送货 Delivery"))
        other = make_customer(session, "Someone else's")
        cases.open_case(session, boss, CaseInput(other.id, "Not hers"))
    view = make_view(qtbot, context_for(service_db, "lily.chen"))
    assert view.current_scope() == CaseScope.MINE
    assert [view.model.row_at(r).title for r in range(view.model.rowCount())] == ["Hers"]  # type: ignore[union-attr]
    assert not view.settings_button.isVisible() and not view.figures_button.isVisible()
    assert view.edit_settings() is None
    with service_db.new_session() as session:
        assert session.get_one(User, lily).full_name == "Lily Chen"


def test_figures_name_each_column_once(qtbot: QtBot, service_db: Database, ctx: AppContext) -> None:
    view = make_view(qtbot, ctx)
    dialog = view.show_figures()
    assert dialog is not None
    for table in (dialog.by_category, dialog.by_person):
        headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
        assert len(set(headers)) == len(headers), headers
