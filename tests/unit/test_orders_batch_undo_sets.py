"""Undoing an orders import in the cases that used to go wrong: many customers made from
its unmatched orders, merges made since, orders linked by hand or changed by a later import,
and records that refer to what the undo removes. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from smbcrm.models import (
    BatchStatus,
    Conversion,
    Customer,
    CustomerStatus,
    Database,
    FollowUp,
    ImportBatch,
    ImportKind,
    LinkRoute,
    Order,
    OrderLine,
    User,
)
from smbcrm.services import order_links
from smbcrm.services.after_sales import AfterSalesSettings, save_after_sales_settings
from smbcrm.services.cases import CaseInput, open_case
from smbcrm.services.importing.orders import OrderImportPlan
from smbcrm.services.importing.service import apply_import, prepare_import
from smbcrm.services.importing.undo import UndoBlockedByMerge, UndoConflict, undo_batch
from smbcrm.services.merge import merge_customers, undo_merge
from tests.factories import make_customer

HEADER = ["订单号", "下单日期", "客户编号", "客户名称", "手机", "产品", "数量", "单价", "金额"]


def _order(
    number: str,
    *,
    code: str = "",
    name: str = "",
    phone: str = "",
    product: str = "绿茶",
    quantity: str = "1",
    amount: str = "100",
    when: str = "2026-03-02",
) -> list[str]:
    return [number, when, code, name, phone, product, quantity, amount, amount]


def _import(db: Database, path: Path, rows: list[list[str]]) -> int:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    plan = prepare_import(db, path, ImportKind.ORDERS, source_system="erp").plan
    assert isinstance(plan, OrderImportPlan)
    return apply_import(db, _boss(db), plan).batch_id


def _boss(db: Database) -> int:
    with db.new_session() as session:
        return int(session.scalars(select(User.id).where(User.login == "boss")).one())


def _order_id(db: Database, number: str) -> int:
    with db.new_session() as session:
        return int(session.scalars(select(Order.id).where(Order.order_number == number)).one())


def _make_customer_from(db: Database, number: str) -> int:
    """What `smbcrm orders create-customer NUMBER` does."""
    order_id = _order_id(db, number)
    with db.session(user_id=_boss(db)) as session:
        boss = session.get_one(User, _boss(db))
        return order_links.create_customer_from_order(session, boss, order_id).customer_id


def _link_by_hand(db: Database, number: str, customer_id: int) -> None:
    """What `smbcrm orders link NUMBER CUSTOMER_ID --move` does."""
    with db.session(user_id=_boss(db)) as session:
        boss = session.get_one(User, _boss(db))
        order_links.link_order_number(
            session, boss, number, customer_id, source_system="erp", move=True
        )


def _merge(db: Database, survivor: int, others: list[int]) -> int:
    """Merge ``others`` into ``survivor``, which keeps its name."""
    with db.session(user_id=_boss(db)) as session:
        boss = session.get_one(User, _boss(db))
        return merge_customers(session, survivor, others, boss, choices={"name": survivor}).merge_id


def _undo_merge(db: Database, merge_id: int) -> None:
    with db.session(user_id=_boss(db)) as session:
        undo_merge(session, merge_id, session.get_one(User, _boss(db)))


def _counts(db: Database) -> tuple[int, ...]:
    with db.new_session() as session:
        return tuple(
            int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Customer, Order, OrderLine, Conversion, FollowUp)
        )


def _status(db: Database, batch_id: int) -> BatchStatus:
    with db.new_session() as session:
        return session.get_one(ImportBatch, batch_id).status


# -- 1. many customers made from its orders ------------------------------------------------


def _statements_to_undo(db: Database, tmp_path: Path, prefix: str, count: int) -> int:
    """An orders batch that links ``count`` orders to customers, converts ``count``
    prospects, re-imports ``count`` earlier orders with a new amount, lines and customer,
    and leaves ``count`` unmatched ones that become customers by hand; count the
    statements undoing it runs."""
    earlier = [_order(f"{prefix}E{i}", code=f"{prefix}L{i}") for i in range(count)]
    _import(db, tmp_path / f"{prefix}-1.csv", earlier)
    with db.session() as session:
        for i in range(count):
            make_customer(session, f"{prefix}老客户{i}", external={"erp": f"{prefix}K{i}"})
            make_customer(session, f"{prefix}后来的客户{i}", external={"erp": f"{prefix}L{i}"})
            make_customer(
                session,
                f"{prefix}潜在客户{i}",
                status=CustomerStatus.PROSPECT,
                external={"erp": f"{prefix}P{i}"},
            )
    rows = [
        row
        for i in range(count)
        for row in (
            _order(f"{prefix}K{i}-1", code=f"{prefix}K{i}"),
            _order(f"{prefix}P{i}-1", code=f"{prefix}P{i}"),
            _order(
                f"{prefix}E{i}", code=f"{prefix}L{i}", product="红茶", quantity="2", amount="120"
            ),
            _order(
                f"{prefix}U{i}", name=f"{prefix}新买家{i}", phone=f"139{ord(prefix) % 10}{i:07d}"
            ),
        )
    ]
    batch_id = _import(db, tmp_path / f"{prefix}-2.csv", rows)
    for i in range(count):
        _make_customer_from(db, f"{prefix}U{i}")
    statements = 0

    def counted(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(db.engine, "before_cursor_execute", counted)
    try:
        undone = undo_batch(db, _boss(db), batch_id)
    finally:
        event.remove(db.engine, "before_cursor_execute", counted)
    assert (undone.removed, undone.restored) == (count, count)
    assert (undone.orders_removed, undone.orders_restored) == (3 * count, count)
    with db.new_session() as session:
        assert not session.scalars(
            select(Customer.id).where(Customer.name.like(f"{prefix}新买家%"))
        ).all()
        restored = session.scalars(
            select(Order).where(Order.order_number.like(f"{prefix}E%"))
        ).all()
        assert {(o.amount, o.customer_id, o.lines[0].product) for o in restored} == {
            (Decimal("100.00"), None, "绿茶")
        }
    return statements


def test_undoing_an_orders_batch_runs_as_many_statements_for_25_customers_as_for_3(
    company: Database, tmp_path: Path
) -> None:
    few = _statements_to_undo(company, tmp_path, "A", 3)
    many = _statements_to_undo(company, tmp_path, "B", 25)
    assert many == few


# -- 2. merges made since --------------------------------------------------------------------


def test_a_customer_made_from_its_orders_and_merged_since_stops_the_undo(
    company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        old = make_customer(session, "老客户", external={"erp": "K-1"}).id
        other = make_customer(session, "另一家", phones=["13700000009"]).id
    batch_id = _import(
        company,
        tmp_path / "o.csv",
        [
            _order("SO-1", code="K-1"),
            _order("U-1", name="新买家甲", phone="13900000001"),
            _order("U-2", name="新买家乙", phone="13900000002"),
        ],
    )
    first, second = _make_customer_from(company, "U-1"), _make_customer_from(company, "U-2")
    absorbed_by_old = _merge(company, old, [first])  # made from its order, merged away
    absorbing = _merge(company, second, [other])  # made from its order, kept by a merge
    before = _counts(company)

    for force in (False, True):
        with pytest.raises(UndoBlockedByMerge) as refused:
            undo_batch(company, _boss(company), batch_id, force=force)
        text = str(refused.value)
        assert refused.value.merge_ids == [absorbing, absorbed_by_old]
        assert text.startswith(
            f"Import batch {batch_id} cannot be undone yet: customers its orders were linked "
            "to were merged afterwards"
        )
        assert f"Merge {absorbed_by_old}: 新买家甲 (ID {first}) into 老客户 (ID {old})." in text
        assert f"Merge {absorbing}: 另一家 (ID {other}) into 新买家乙 (ID {second})." in text
    assert _counts(company) == before
    assert _status(company, batch_id) == BatchStatus.APPLIED

    _undo_merge(company, absorbing)
    _undo_merge(company, absorbed_by_old)
    undone = undo_batch(company, _boss(company), batch_id)

    assert undone.orders_removed == 3
    # The merges changed them, so they stay, and the undo says why.
    assert undone.kept == [f"新买家甲 (ID {first})", f"新买家乙 (ID {second})"]
    assert (
        f"Kept, as they were changed after the import: 新买家甲 (ID {first}), "
        f"新买家乙 (ID {second})." in undone.notes
    )
    with company.new_session() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 0
        assert session.get_one(Customer, first).merged_into_id is None
        assert session.get_one(Customer, other).merged_into_id is None


def test_a_customer_its_orders_were_linked_to_merged_since_stops_the_undo(
    company: Database, tmp_path: Path
) -> None:
    """Orders moved to the survivor would be undone behind the merge's back."""
    with company.session() as session:
        linked = make_customer(session, "华强电子", external={"erp": "K-1"}).id
        duplicate_before = make_customer(session, "华强电子（旧）").id
        keeper = make_customer(session, "华强集团").id
        absorbing = make_customer(session, "绿源茶业", external={"erp": "K-2"}).id
        taken_in = make_customer(session, "绿源茶业（重复）").id
    earlier = _merge(company, linked, [duplicate_before])  # before the import: no matter
    batch_id = _import(
        company, tmp_path / "o.csv", [_order("SO-1", code="K-1"), _order("SO-2", code="K-2")]
    )
    moved_away = _merge(company, keeper, [linked])  # SO-1 now sits with the survivor
    took_in = _merge(company, absorbing, [taken_in])
    before = _counts(company)

    with pytest.raises(UndoBlockedByMerge) as refused:
        undo_batch(company, _boss(company), batch_id)

    assert refused.value.merge_ids == [took_in, moved_away]
    assert earlier not in refused.value.merge_ids
    assert f"Merge {moved_away}: 华强电子 (ID {linked}) into 华强集团 (ID {keeper})." in str(
        refused.value
    )
    assert _counts(company) == before
    _undo_merge(company, took_in)
    _undo_merge(company, moved_away)
    undone = undo_batch(company, _boss(company), batch_id)
    assert undone.orders_removed == 2
    with company.new_session() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 0
        assert session.get_one(Customer, duplicate_before).merged_into_id == linked


def test_a_prospect_its_orders_converted_and_merged_since_stops_the_undo(
    company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        prospect = make_customer(
            session, "潜在客户", status=CustomerStatus.PROSPECT, external={"erp": "P-1"}
        ).id
        duplicate = make_customer(session, "潜在客户（重复）", status=CustomerStatus.PROSPECT).id
    batch_id = _import(company, tmp_path / "o.csv", [_order("SO-1", code="P-1")])
    merge_id = _merge(company, prospect, [duplicate])
    before = _counts(company)

    with pytest.raises(UndoBlockedByMerge) as refused:
        undo_batch(company, _boss(company), batch_id)

    assert refused.value.merge_ids == [merge_id]
    assert _counts(company) == before
    _undo_merge(company, merge_id)
    # The merge and its undo changed the customer since: it stays one, and says so.
    undone = undo_batch(company, _boss(company), batch_id)
    assert undone.kept_active == [f"潜在客户 (ID {prospect})"]


# -- 3. later edits ---------------------------------------------------------------------------


def test_orders_it_created_that_were_linked_by_hand_are_listed_before_undoing(
    company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        known = make_customer(session, "华强电子").id
        prospect = make_customer(session, "潜在客户", status=CustomerStatus.PROSPECT).id
    batch_id = _import(
        company,
        tmp_path / "o.csv",
        [_order("U-1", name="不认识的买家"), _order("U-2", name="另一个买家")],
    )
    _link_by_hand(company, "U-1", known)
    _link_by_hand(company, "U-2", prospect)  # the prospect's first sale: a customer now
    before = _counts(company)

    with pytest.raises(UndoConflict) as asked:
        undo_batch(company, _boss(company), batch_id)

    conflict = asked.value
    assert conflict.subject == "orders" and conflict.later_edits == ["U-1", "U-2"]
    assert conflict.details == [
        f"Order U-1 was linked by hand to 华强电子 (ID {known}) after the import; undoing "
        "removes the order.",
        f"Order U-2 was linked by hand to 潜在客户 (ID {prospect}) after the import; undoing "
        "removes the order.",
    ]
    assert str(conflict).startswith(
        f"2 orders of import batch {batch_id} were changed after the import:"
    )
    assert _counts(company) == before

    undone = undo_batch(company, _boss(company), batch_id, force=True)
    assert (undone.orders_removed, undone.restored) == (2, 1)
    with company.new_session() as session:
        assert session.get_one(Customer, prospect).status == CustomerStatus.PROSPECT
        assert session.scalar(select(func.count()).select_from(Conversion)) == 0


def test_an_order_it_linked_that_was_moved_by_hand_since_keeps_that_link(
    company: Database, tmp_path: Path
) -> None:
    _import(company, tmp_path / "a.csv", [_order("SO-1", code="L-1", amount="100")])
    with company.session() as session:
        matched = make_customer(session, "按编号匹配的客户", external={"erp": "L-1"}).id
        right_one = make_customer(session, "真正的买家").id
    batch_id = _import(company, tmp_path / "b.csv", [_order("SO-1", code="L-1", amount="120")])
    with company.new_session() as session:
        assert session.get_one(Order, _order_id(company, "SO-1")).customer_id == matched
    _link_by_hand(company, "SO-1", right_one)

    undone = undo_batch(company, _boss(company), batch_id)

    assert undone.orders_restored == 1
    assert "Orders linked by hand after the import keep that link: SO-1." in undone.notes
    with company.new_session() as session:
        order = session.get_one(Order, _order_id(company, "SO-1"))
        assert (order.amount, order.customer_id, order.link_route) == (
            Decimal("100.00"),
            right_one,
            LinkRoute.MANUAL,
        )


def test_orders_a_later_import_changed_are_listed_and_undone_in_any_order(
    company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        make_customer(session, "华强电子", external={"erp": "K-1"})
    first = _import(company, tmp_path / "1.csv", [_order("SO-1", code="K-1")])
    second = _import(
        company,
        tmp_path / "2.csv",
        [_order("SO-1", code="K-1", amount="120"), _order("SO-2", code="K-1")],
    )
    third = _import(
        company,
        tmp_path / "3.csv",
        [
            _order("SO-1", code="K-1", product="红茶", quantity="3", amount="150"),
            _order("SO-2", code="K-1", amount="90"),
        ],
    )
    before = _counts(company)

    with pytest.raises(UndoConflict) as asked:
        undo_batch(company, _boss(company), second)

    assert asked.value.later_edits == ["SO-1", "SO-2"]
    assert asked.value.details == [
        f"Order SO-1 was changed again by import batch {third}; undoing puts back what this "
        "import changed and replaces that change.",
        f"Order SO-2 was changed by import batch {third} after this import; undoing removes "
        "the order with that change.",
    ]
    assert _counts(company) == before
    undone = undo_batch(company, _boss(company), second, force=True)
    assert (undone.orders_removed, undone.orders_restored) == (1, 1)
    with company.new_session() as session:
        assert session.get_one(Order, _order_id(company, "SO-1")).amount == Decimal("100.00")

    with pytest.raises(UndoConflict):
        undo_batch(company, _boss(company), first)
    undo_batch(company, _boss(company), first, force=True)
    # The orders the last import changed are gone: undoing it restores nothing, and fails
    # on nothing (it had new lines for SO-1).
    undone = undo_batch(company, _boss(company), third)
    assert (undone.orders_removed, undone.orders_restored) == (0, 0)
    with company.new_session() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 0
        assert session.scalar(select(func.count()).select_from(OrderLine)) == 0


# -- 4. what refers to what the undo removes --------------------------------------------------


def test_customers_made_from_its_orders_that_others_refer_to_are_kept_with_the_reason(
    company: Database, tmp_path: Path
) -> None:
    batch_id = _import(
        company,
        tmp_path / "o.csv",
        [
            _order("U-1", name="有投诉的买家", phone="13900000001"),
            _order("U-2", name="介绍人", phone="13900000002"),
            _order("U-3", name="普通买家", phone="13900000003"),
        ],
    )
    complained = _make_customer_from(company, "U-1")
    referrer = _make_customer_from(company, "U-2")
    plain = _make_customer_from(company, "U-3")
    with company.session(user_id=_boss(company)) as session:
        boss = session.get_one(User, _boss(company))
        open_case(session, boss, CaseInput(customer_id=complained, title="货物破损"))
        make_customer(session, "被介绍的客户", referred_by_id=referrer)

    undone = undo_batch(company, _boss(company), batch_id)

    assert undone.removed == 1
    assert undone.kept == [f"有投诉的买家 (ID {complained})", f"介绍人 (ID {referrer})"]
    assert f"Kept, as they have service cases: 有投诉的买家 (ID {complained})." in undone.notes
    assert (
        f"Kept, as other customers name them as their referrer: 介绍人 (ID {referrer})."
        in undone.notes
    )
    with company.new_session() as session:
        assert session.get(Customer, plain) is None
        assert session.scalar(select(func.count()).select_from(Order)) == 0


def test_a_prospect_it_converted_through_an_earlier_order_is_a_prospect_again(
    company: Database, tmp_path: Path
) -> None:
    """The order stays (an earlier import made it) but loses the link: no sale is left,
    and the after-sales call planned for it goes too."""
    with company.session(user_id=_boss(company)) as session:
        save_after_sales_settings(
            session, session.get_one(User, _boss(company)), AfterSalesSettings(7)
        )
    when = (date.today() - timedelta(days=2)).isoformat()
    _import(company, tmp_path / "a.csv", [_order("SO-1", code="P-1", when=when)])
    with company.session() as session:
        prospect = make_customer(
            session, "潜在客户", status=CustomerStatus.PROSPECT, external={"erp": "P-1"}
        ).id
    batch_id = _import(company, tmp_path / "b.csv", [_order("SO-1", code="P-1", when=when)])
    with company.new_session() as session:
        assert session.get_one(Customer, prospect).status == CustomerStatus.ACTIVE
        assert session.scalar(select(func.count()).select_from(FollowUp)) == 1

    undone = undo_batch(company, _boss(company), batch_id)

    assert (undone.restored, undone.orders_restored, undone.kept_active) == (1, 1, [])
    with company.new_session() as session:
        assert session.get_one(Customer, prospect).status == CustomerStatus.PROSPECT
        assert session.get_one(Order, _order_id(company, "SO-1")).customer_id is None
        assert session.scalar(select(func.count()).select_from(Conversion)) == 0
        assert session.scalar(select(func.count()).select_from(FollowUp)) == 0
