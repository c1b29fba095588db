"""Referrals on both engines: whom a customer referred and the revenue it brought, the top
referrers, setting "referred by" (no self, no circles, live customers, edit rights), and the
picker's choices."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from smbcrm.errors import PermissionDenied, ValidationError
from smbcrm.models import AuditEntry, Customer, Database, Role, User
from smbcrm.services import referrals
from smbcrm.services.auth import find_user
from smbcrm.services.customers import CustomerList
from tests.conftest import add_user
from tests.factories import make_customer, make_order

TODAY = date(2026, 11, 23)


def test_referrals_of_a_customer_with_their_revenue(company: Database) -> None:
    with company.session() as session:
        referrer = make_customer(session, "老客户 Old Friend Ltd", city="深圳")
        big = make_customer(session, "Big Buyer", referred_by_id=referrer.id, city="广州")
        quiet = make_customer(session, "Quiet Co", referred_by_id=referrer.id)
        make_customer(session, "Not Referred")
        merged = make_customer(session, "Merged Away", referred_by_id=referrer.id)
        merged.merged_into_id = big.id
        make_order(session, big, amount="1000.10", when=TODAY - timedelta(days=30))
        make_order(session, big, amount="500", when=TODAY - timedelta(days=400))
        make_order(session, quiet, amount="20", when=TODAY - timedelta(days=366))
        make_order(session, merged, amount="9999", when=TODAY)  # not counted: merged away
        referrer_id, big_id = referrer.id, big.id

    with company.new_session() as session:
        found = referrals.referrals_of(session, referrer_id, today=TODAY)
    assert [(c.name, c.orders, c.revenue, c.revenue_12m) for c in found.customers] == [
        ("Big Buyer", 2, Decimal("1500.10"), Decimal("1000.10")),
        ("Quiet Co", 1, Decimal("20.00"), Decimal("0.00")),
    ]
    assert found.customers[0].last_order == TODAY - timedelta(days=30)
    assert (found.revenue, found.revenue_12m, found.currency) == (
        Decimal("1520.10"),
        Decimal("1000.10"),
        "CNY",
    )
    with company.new_session() as session:
        nobody = referrals.referrals_of(session, big_id, today=TODAY)
    assert nobody.customers == [] and nobody.revenue == 0 and nobody.currency == "CNY"


def test_top_referrers_by_revenue_then_by_how_many(company: Database) -> None:
    with company.session() as session:
        boss = find_user(session, "boss")
        gold = make_customer(session, "Gold Referrer", owner_id=boss.id)
        busy = make_customer(session, "Busy Referrer")
        recent = make_customer(session, "Recent Referrer")
        make_customer(session, "Never Referred Anyone")
        for n in range(3):
            make_customer(session, f"Busy's friend {n}", referred_by_id=busy.id)
        rich = make_customer(session, "Rich Friend", referred_by_id=gold.id)
        make_customer(session, "Idle Friend", referred_by_id=gold.id)
        new = make_customer(session, "New Friend", referred_by_id=recent.id)
        make_order(session, rich, amount="5000", when=date(2025, 1, 10))
        make_order(session, new, amount="800", when=date(2026, 10, 1))

    with company.new_session() as session:
        every = referrals.top_referrers(session)
        since = referrals.top_referrers(session, since=date(2026, 1, 1))
        first = referrals.top_referrers(session, limit=1)
    assert [(r.name, r.referred, r.buying, r.revenue) for r in every.rows] == [
        ("Gold Referrer", 2, 1, Decimal("5000.00")),
        ("Recent Referrer", 1, 1, Decimal("800.00")),
        ("Busy Referrer", 3, 0, Decimal("0.00")),
    ]
    assert every.rows[0].owner == "Wang Fang" and every.currency == "CNY"
    assert [(r.name, r.revenue) for r in since.rows] == [
        ("Recent Referrer", Decimal("800.00")),
        ("Busy Referrer", Decimal("0.00")),  # referred 3: ahead of Gold's 2
        ("Gold Referrer", Decimal("0.00")),
    ]
    assert [r.name for r in first.rows] == ["Gold Referrer"]


def test_set_referred_by_refuses_self_circles_and_dead_customers(company: Database) -> None:
    with company.session() as session:
        a = make_customer(session, "A Ltd")
        b = make_customer(session, "B Ltd", referred_by_id=a.id)
        c = make_customer(session, "C Ltd", referred_by_id=b.id)
        archived = make_customer(session, "Archived Ltd")
        archived.archived_at = datetime(2026, 1, 1)
        merged = make_customer(session, "Merged Ltd")
        merged.merged_into_id = c.id
        ids = {x.name: x.id for x in (a, b, c, archived, merged)}

    with company.session() as session:
        boss = find_user(session, "boss")

        def refused(customer: str, referrer: str) -> str:
            with pytest.raises(ValidationError) as caught:
                referrals.set_referred_by(session, boss, ids[customer], ids[referrer])
            return caught.value.field_errors["referred_by_id"]

        assert "cannot refer themselves" in refused("A Ltd", "A Ltd")
        # A referred B, B referred C: C cannot have referred A (nor B).
        assert "referred (directly or through others) by this customer" in refused("A Ltd", "C Ltd")
        assert "through others" in refused("B Ltd", "C Ltd")
        assert "archived" in refused("A Ltd", "Archived Ltd")
        assert "merged into C Ltd; choose C Ltd" in refused("A Ltd", "Merged Ltd")
        with pytest.raises(ValidationError, match="no customer with ID 999999"):
            referrals.set_referred_by(session, boss, ids["A Ltd"], 999999)

        # Allowed: C pointed straight at A (no circle), and B's referrer cleared.
        referrals.set_referred_by(session, boss, ids["C Ltd"], ids["A Ltd"])
        referrals.set_referred_by(session, boss, ids["B Ltd"], None)
    with company.new_session() as session:
        assert session.get_one(Customer, ids["C Ltd"]).referred_by_id == ids["A Ltd"]
        assert session.get_one(Customer, ids["B Ltd"]).referred_by_id is None
        # Audited like any edit of the customer.
        changes = session.scalars(
            select(AuditEntry.changes).where(
                AuditEntry.entity == "customer", AuditEntry.entity_id == ids["C Ltd"]
            )
        ).all()
        assert any("referred_by_id" in (change or {}) for change in changes)


def test_only_those_who_may_edit_the_customer_set_its_referrer(company: Database) -> None:
    seller = add_user(company, "li.na", Role.SALES, "Li Na")
    with company.session() as session:
        theirs = make_customer(session, "Li Na's Customer", owner_id=seller.id)
        others = make_customer(session, "Someone Else's")
        referrer = make_customer(session, "Referrer Ltd")
        ids = (theirs.id, others.id, referrer.id)
    with company.session() as session:
        li_na = session.get_one(User, seller.id)
        referrals.set_referred_by(session, li_na, ids[0], ids[2])
        with pytest.raises(PermissionDenied, match="may not edit Someone Else's"):
            referrals.set_referred_by(session, li_na, ids[1], ids[2])


def test_referrer_choices_search_like_the_customer_list(company: Database) -> None:
    with company.session() as session:
        huaqiang = make_customer(session, "华强电子", city="深圳", phones=["13800138000"])
        make_customer(session, "华联商贸", city="上海")
        make_customer(session, "Blue Sky Imports", city="Ningbo")
        huaqiang_id = huaqiang.id
    listing = CustomerList("CN")
    with company.new_session() as session:
        found = referrals.referrer_choices(session, "华", customer_list=listing)
        assert [c.name for c in found] == ["华联商贸", "华强电子"]
        by_phone = referrals.referrer_choices(session, "138 0013", customer_list=listing)
        assert [c.label for c in by_phone] == ["华强电子 · 深圳 · 138 0013 8000"]
        # The customer being edited is not offered as their own referrer.
        assert (
            referrals.referrer_choices(
                session, "华强", exclude_id=huaqiang_id, customer_list=listing
            )
            == []
        )
        assert referrals.referrer_choices(session, "  ") == []
        assert len(referrals.referrer_choices(session, "华", limit=1)) == 1
