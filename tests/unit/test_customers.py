"""Customer use cases on both engines: create, validate, edit, conflicts, list pages, search."""

from __future__ import annotations

from datetime import date

import pytest

from smbcrm.errors import ConflictError, PermissionDenied, ValidationError
from smbcrm.models import (
    AssignmentChange,
    Customer,
    CustomerKind,
    CustomerStatus,
    Database,
    Role,
    User,
)
from smbcrm.services import customers as svc
from smbcrm.services.activities import ActivityInput, log_activity, open_follow_ups
from smbcrm.services.customers import CustomerFilter, CustomerInput, CustomerList, SortColumn
from tests.conftest import add_user
from tests.factories import make_customer, make_order


def _actor(session, login: str = "boss") -> User:  # type: ignore[no-untyped-def]
    from smbcrm.services.auth import find_user

    return find_user(session, login)


def test_create_customer_with_contact_phone_and_owner_history(company: Database) -> None:
    with company.session() as session:
        boss = _actor(session)
        customer = svc.create_customer(
            session,
            boss,
            CustomerInput(
                name="  杭州绿源茶业有限公司 ",
                phones=["(+86)139-1234-5678", "0571-8888 6666"],
                emails=["Tea@LvYuan.cn"],
                contact_name="陈静",
                contact_title="采购经理",
                city="杭州",
                owner_id=boss.id,
                tags=["VIP", "华东", "VIP"],
            ),
        )
        cid = customer.id
    with company.new_session() as session:
        detail = svc.customer_detail(session, cid)
    assert detail.name == "杭州绿源茶业有限公司"
    assert detail.phones == ["139 1234 5678", "0571 8888 6666"]
    assert detail.emails == ["Tea@LvYuan.cn"]
    assert detail.tags == ["VIP", "华东"]
    assert detail.contacts[0].name == "陈静" and detail.contacts[0].title == "采购经理"
    assert [(o.from_user, o.to_user, o.reason) for o in detail.ownership] == [
        (None, "Wang Fang", "New customer")
    ]


def test_invalid_input_is_reported_field_by_field(company: Database) -> None:
    bad = CustomerInput(
        name="",
        phones=["12"],
        emails=["li at example"],
        birthday=date(2999, 1, 1),
        kind=CustomerKind.PERSON,
        tax_id="91440300MA5ABCDEFO",  # 18 characters with a forbidden letter O
    )
    errors = svc.validate_customer_input(bad, "CN", today=date(2026, 11, 23))
    assert set(errors) == {"name", "phones", "emails", "birthday", "tax_id"}
    assert "future" in errors["birthday"]
    with company.session() as session, pytest.raises(ValidationError) as caught:
        svc.create_customer(session, _actor(session), bad)
    assert "name" in caught.value.field_errors
    valid_code = CustomerInput(name="华为", tax_id="914403001922038216")
    assert svc.validate_customer_input(valid_code) == {}


def test_edit_changes_fields_and_records_owner_changes(company: Database) -> None:
    sam = add_user(company, "sam", Role.SALES, "Sam")
    with company.session() as session:
        boss = _actor(session)
        cid = svc.create_customer(session, boss, CustomerInput(name="Harbor Lights Ltd")).id
    with company.session() as session:
        boss = _actor(session)
        customer = svc.get_customer(session, cid)
        data = svc.input_from_customer(customer)
        data.owner_id = sam.id
        data.status = CustomerStatus.ACTIVE
        data.phones = ["13800138000"]
        svc.update_customer(session, boss, cid, data, expected_version=customer.version)
    with company.new_session() as session:
        customer = svc.get_customer(session, cid)
        assert customer.owner_id == sam.id and customer.status == CustomerStatus.ACTIVE
        assert customer.primary_phone == "+8613800138000"
        changes = session.query(AssignmentChange).filter_by(customer_id=cid).all()
        assert [(c.from_user_id, c.to_user_id) for c in changes] == [(None, sam.id)]


def test_a_bookkeeper_cannot_be_made_a_customers_salesperson(company: Database) -> None:
    books = add_user(company, "betty", Role.BOOKKEEPER, "Betty Books")
    with pytest.raises(ValidationError) as refused, company.session() as session:
        boss = _actor(session)
        svc.create_customer(session, boss, CustomerInput(name="Ledger Co", owner_id=books.id))
    assert "Betty Books may not be responsible for customers" in str(refused.value)
    assert "owner_id" in refused.value.field_errors
    with company.new_session() as session:
        assert session.query(Customer).filter_by(name="Ledger Co").count() == 0


def test_second_save_of_the_same_customer_gets_a_conflict_naming_the_other_change(
    company: Database,
) -> None:
    with company.session() as session:
        cid = svc.create_customer(session, _actor(session), CustomerInput(name="Shared Co")).id
    with company.new_session() as session:
        seen_version = svc.get_customer(session, cid).version
    # Someone else saves first ...
    with company.session(user_id=None) as session:
        boss = _actor(session)
        session.info["user_id"] = boss.id
        data = svc.input_from_customer(svc.get_customer(session, cid))
        data.notes = "their note"
        svc.update_customer(session, boss, cid, data)
    # ... so our save, based on the old version, is refused with a clear message.
    with company.session() as session, pytest.raises(ConflictError) as caught:
        data = svc.input_from_customer(svc.get_customer(session, cid))
        data.notes = "my note"
        svc.update_customer(session, _actor(session), cid, data, expected_version=seen_version)
    assert "Wang Fang saved Shared Co" in str(caught.value)
    assert "notes" in str(caught.value)


def test_sales_edit_only_their_own_customers(company: Database) -> None:
    add_user(company, "sam", Role.SALES)
    add_user(company, "amy", Role.SALES)
    with company.session() as session:
        sam = _actor(session, "sam")
        mine = svc.create_customer(session, sam, CustomerInput(name="Mine", owner_id=None))
        mine.owner_id = sam.id
        theirs = make_customer(session, "Theirs", owner_id=_actor(session, "amy").id)
        ids = mine.id, theirs.id
    with company.session() as session:
        sam = _actor(session, "sam")
        data = svc.input_from_customer(svc.get_customer(session, ids[0]))
        data.notes = "fine"
        svc.update_customer(session, sam, ids[0], data)
        with pytest.raises(PermissionDenied, match="may not edit Theirs"):
            svc.update_customer(
                session, sam, ids[1], svc.input_from_customer(svc.get_customer(session, ids[1]))
            )


def _book(db: Database) -> None:
    with db.session() as session:
        make_customer(
            session, "深圳市华强电子有限公司", phones=["13800138000"], city="深圳", contact="王芳"
        )
        make_customer(session, "杭州绿源茶业有限公司", phones=["+86 139 1234 5678"], city="杭州")
        make_customer(
            session, "Harbor Lights Trading Co., Ltd.", emails=["info@harbor.sg"], city="Singapore"
        )
        make_customer(session, "Nordwind GmbH", phones=["+49 30 1234567"], city="Hamburg")
        make_customer(
            session, "张伟", kind=CustomerKind.PERSON, birthday=date(1985, 5, 1), city="北京"
        )
        gone = make_customer(session, "Archived Hardware", city="深圳")
        gone.archived_at = date(2026, 1, 1)  # type: ignore[assignment]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("华强", ["深圳市华强电子有限公司"]),
        ("王芳", ["深圳市华强电子有限公司"]),
        ("+86 138-0013-8000", ["深圳市华强电子有限公司"]),
        ("1391234", ["杭州绿源茶业有限公司"]),
        ("HARBOR", ["Harbor Lights Trading Co., Ltd."]),
        ("harbor.sg", ["Harbor Lights Trading Co., Ltd."]),
        ("深圳", ["深圳市华强电子有限公司"]),  # the archived one is not listed
        ("hamburg", ["Nordwind GmbH"]),
        ("张伟", ["张伟"]),
        ("nothing like this", []),
    ],
)
def test_search_finds_by_name_contact_phone_email_and_city(
    db: Database, query: str, expected: list[str]
) -> None:
    _book(db)
    listing = CustomerList("CN")
    with db.new_session() as session:
        rows = listing.page(session, CustomerFilter(text=query))
        assert [r.name for r in rows] == expected
        assert listing.count(session, CustomerFilter(text=query)) == len(expected)


def test_archived_customers_are_found_only_when_asked(db: Database) -> None:
    _book(db)
    listing = CustomerList("CN")
    with db.new_session() as session:
        rows = listing.page(session, CustomerFilter(text="hardware", include_archived=True))
        assert [(r.name, r.archived) for r in rows] == [("Archived Hardware", True)]


def test_pages_are_sorted_by_the_database_in_pinyin_order(db: Database) -> None:
    _book(db)
    listing = CustomerList("CN")
    with db.new_session() as session:
        names = [r.name for r in listing.page(session, CustomerFilter())]
        assert names == [
            "杭州绿源茶业有限公司",  # hang zhou
            "Harbor Lights Trading Co., Ltd.",
            "Nordwind GmbH",
            "深圳市华强电子有限公司",
            "张伟",
        ]
        by_city = [
            r.city
            for r in listing.page(session, CustomerFilter(), sort=SortColumn.CITY, descending=True)
        ]
        assert by_city == sorted(by_city, key=lambda c: (c or "").casefold(), reverse=True)
        first, second = (
            listing.page(session, CustomerFilter(), limit=2),
            listing.page(session, CustomerFilter(), offset=2, limit=2),
        )
        assert [r.name for r in first + second] == names[:4]


def test_search_sees_changes_made_by_another_desktop(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from smbcrm.services import search

    monkeypatch.setattr(search, "RECHECK_AFTER_S", 0.0)  # the other desk saved a while ago
    _book(db)
    listing = CustomerList("CN")
    with db.new_session() as session:
        assert listing.page(session, CustomerFilter(text="newcomer")) == []
    with db.session() as session:  # another desktop adds one and renames one
        make_customer(session, "Newcomer Foods")
        renamed = session.query(Customer).filter_by(name="Nordwind GmbH").one()
        renamed.name = "Südwind GmbH"
    with db.new_session() as session:
        assert [r.name for r in listing.page(session, CustomerFilter(text="newcomer"))] == [
            "Newcomer Foods"
        ]
        assert listing.page(session, CustomerFilter(text="nordwind")) == []
        assert len(listing.page(session, CustomerFilter(text="südwind"))) == 1


def test_detail_shows_orders_activities_and_follow_ups(company: Database) -> None:
    with company.session() as session:
        boss = _actor(session)
        customer = make_customer(session, "Order Co", owner_id=boss.id)
        make_order(session, customer, amount="1200.50", when=date(2025, 3, 1))
        make_order(session, customer, amount="800", when=date(2026, 2, 1))
        log_activity(
            session,
            boss,
            customer.id,
            ActivityInput(
                kind="call",
                subject="Asked for a quote",
                is_opportunity=True,
                follow_up_on=date(2099, 1, 1),
            ),  # type: ignore[arg-type]
        )
        cid = customer.id
    with company.new_session() as session:
        detail = svc.customer_detail(session, cid)
        tasks = open_follow_ups(session)
    assert detail.order_stats.count == 2
    assert {c: str(t) for c, t in detail.order_stats.totals.items()} == {"CNY": "2000.50"}
    assert detail.order_stats.first_order == date(2025, 3, 1)
    assert detail.order_stats.last_order == date(2026, 2, 1)
    assert [a.subject for a in detail.activities] == ["Asked for a quote"]
    assert detail.activities[0].is_opportunity
    assert [(t.customer, t.due_date) for t in tasks] == [("Order Co", date(2099, 1, 1))]


def test_timeline_has_every_kind_of_event_newest_first(company: Database) -> None:
    from datetime import date, datetime

    from sqlalchemy import select

    from smbcrm.models import Activity, ActivityKind, AssignmentChange, Case, User
    from smbcrm.services.customers import customer_detail
    from smbcrm.ui.translation import load_message_wording

    with company.session() as session:
        boss = session.scalars(select(User)).first()
        assert boss is not None
        customer = make_customer(session, "时间线贸易有限公司")
        make_order(session, customer, amount="1200", when=date(2026, 1, 5), number="SO-TL-1")
        case = Case(
            customer_id=customer.id,
            title="Late delivery",
            category="Delivery",
            assignee_id=boss.id,
            opened_at=datetime(2026, 3, 1, 9, 0),
            resolved_at=datetime(2026, 3, 2, 9, 0),
            resolution="Sent by express",
        )
        session.add_all(
            [
                case,
                Activity(
                    customer_id=customer.id,
                    user_id=boss.id,
                    kind=ActivityKind.CALL,
                    subject="Asked for a quote",
                    wanted="A4 paper, 50 boxes",
                    is_opportunity=True,
                    occurred_at=datetime(2026, 2, 1, 10, 0),
                ),
                AssignmentChange(
                    customer_id=customer.id,
                    to_user_id=boss.id,
                    changed_by_id=boss.id,
                    changed_at=datetime(2025, 12, 1, 8, 0),
                    reason="New account",
                ),
            ]
        )
        session.flush()
        cid, case_id = customer.id, case.id
    with company.new_session() as session:
        timeline = customer_detail(session, cid).history
    assert [(e.kind, e.text) for e in timeline] == [
        ("case", f"Case #{case_id} resolved: Sent by express"),
        ("case", f"Case #{case_id} opened [Delivery]: Late delivery"),
        ("activity", "Asked for a quote — wanted: A4 paper, 50 boxes (opportunity)"),
        ("order", "Order SO-TL-1: ¥1,200.00"),
        ("ownership", "Owner: the unassigned pool → Wang Fang (New account)"),
    ]
    assert timeline[2].activity_kind == ActivityKind.CALL
    # In the Chinese interface each entry reads in Chinese around the data people typed.
    wording = load_message_wording("zh")
    assert wording is not None
    assert [wording(e.text) for e in timeline] == [
        f"服务单 #{case_id} 已解决：Sent by express",
        f"服务单 #{case_id} 已创建［Delivery］：Late delivery",
        "Asked for a quote — 需求：A4 paper, 50 boxes（商机）",
        "订单 SO-TL-1：¥1,200.00",
        "负责销售：公共池 → Wang Fang（New account）",
    ]
