"""Importing orders on both engines: linking by code, phone, e-mail and name(+city), review of
the unmatched ones, re-imports, prospect conversion and undo."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from smbcrm.errors import PermissionDenied
from smbcrm.models import (
    Conversion,
    Customer,
    CustomerKind,
    CustomerStatus,
    Database,
    ExternalId,
    ImportBatch,
    ImportKind,
    LinkRoute,
    Merge,
    Order,
    OrderLine,
    Role,
    User,
)
from smbcrm.services import order_links
from smbcrm.services.customers import (
    customer_detail,
    get_customer,
    input_from_customer,
    update_customer,
)
from smbcrm.services.importing.orders import OrderImportPlan, OrderOutcome
from smbcrm.services.importing.service import MappingError, apply_import, prepare_import
from smbcrm.services.importing.undo import list_batches, undo_batch
from tests.conftest import add_user
from tests.factories import make_customer

HEADER = ["订单号", "下单日期", "客户编号", "客户名称", "城市", "手机", "邮箱", "金额", "币种"]


def write_orders(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def row(
    number: str,
    *,
    when: str = "2026-03-02",
    code: str = "",
    name: str = "",
    city: str = "",
    phone: str = "",
    email: str = "",
    amount: str = "100",
    currency: str = "",
) -> list[str]:
    return [number, when, code, name, city, phone, email, amount, currency]


def preview(db: Database, path: Path, source: str = "erp") -> OrderImportPlan:
    plan = prepare_import(db, path, ImportKind.ORDERS, source_system=source).plan
    assert isinstance(plan, OrderImportPlan)
    return plan


def import_orders(db: Database, actor: User, path: Path, source: str = "erp") -> int:
    result = apply_import(db, actor.id, preview(db, path, source))
    return result.batch_id


def orders_by_number(db: Database) -> dict[str, Order]:
    with db.new_session() as session:
        return {o.order_number: o for o in session.scalars(select(Order))}


def test_each_route_links_its_order(owner: User, company: Database, tmp_path: Path) -> None:
    with company.session() as session:
        by_code = make_customer(session, "华强电子有限公司", external={"erp": "K-001"}).id
        by_phone = make_customer(session, "Harbor Lights", phones=["13800138000"]).id
        by_email = make_customer(session, "Mail Co", emails=["buyer@mail.cn"]).id
        by_name = make_customer(session, "杭州绿源茶业有限公司", city="杭州").id
    path = write_orders(
        tmp_path / "orders.csv",
        [
            row("SO-1", code="K-001"),
            row("SO-2", phone="138 0013 8000"),
            row("SO-3", email="Buyer@Mail.cn"),
            row("SO-4", name="杭州绿源茶业", city="杭州市"),  # legal form and 市 left out
            row("SO-5", name="Nobody Ltd"),
        ],
    )
    plan = preview(company, path)
    assert plan.linked_by == {
        LinkRoute.CODE: 1,
        LinkRoute.PHONE: 1,
        LinkRoute.EMAIL: 1,
        LinkRoute.NAME: 1,
    }
    assert [o.order_number for o in plan.unmatched_orders] == ["SO-5"]
    assert plan.order_counts[OrderOutcome.NEW] == 5
    import_orders(company, owner, path)
    orders = orders_by_number(company)
    assert (orders["SO-1"].customer_id, orders["SO-1"].link_route) == (by_code, LinkRoute.CODE)
    assert (orders["SO-2"].customer_id, orders["SO-2"].link_route) == (by_phone, LinkRoute.PHONE)
    assert (orders["SO-3"].customer_id, orders["SO-3"].link_route) == (by_email, LinkRoute.EMAIL)
    assert (orders["SO-4"].customer_id, orders["SO-4"].link_route) == (by_name, LinkRoute.NAME)
    waiting = orders["SO-5"]
    assert waiting.customer_id is None and waiting.link_route is None
    assert waiting.customer_details is not None
    assert waiting.customer_details["name"] == "Nobody Ltd"
    assert "no customer is called Nobody Ltd" in waiting.customer_details["why_unmatched"]
    # The linked orders count in the customer's order history.
    with company.new_session() as session:
        stats = customer_detail(session, by_code).order_stats
    assert (stats.count, stats.totals, stats.first_order) == (
        1,
        {"CNY": Decimal("100.00")},
        date(2026, 3, 2),
    )


def test_code_wins_over_a_phone_that_points_elsewhere(
    owner: User, company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        coded = make_customer(session, "Coded Co", external={"erp": "K-7"}).id
        make_customer(session, "Phone Co", phones=["13900001111"])
    path = write_orders(tmp_path / "o.csv", [row("SO-1", code="K-7", phone="13900001111")])
    plan = preview(company, path)
    order = plan.orders[0]
    assert (order.customer_id, order.route) == (coded, LinkRoute.CODE)
    # The same code from another source system is another customer's code: not used.
    other = preview(company, path, source="shop")
    assert other.orders[0].route == LinkRoute.PHONE


def test_name_with_city_disambiguates_and_a_shared_name_is_left_for_review(
    owner: User, company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        make_customer(session, "张伟", kind=CustomerKind.PERSON, city="北京")
        shanghai = make_customer(session, "张伟", kind=CustomerKind.PERSON, city="上海").id
        make_customer(session, "Twin Trading", city="深圳")
        make_customer(session, "Twin Trading Co., Ltd.", city="深圳")
    path = write_orders(
        tmp_path / "o.csv",
        [
            row("SO-1", name="张伟", city="上海"),
            row("SO-2", name="张伟"),
            row("SO-3", name="Twin Trading", city="深圳"),
            row("SO-4", name="张伟", city="广州"),
        ],
    )
    plan = preview(company, path)
    first, second, third, fourth = plan.orders
    assert (first.customer_id, first.route) == (shanghai, LinkRoute.NAME)
    assert second.customer_id is None and "2 customers are called 张伟" in second.reason
    assert (
        third.customer_id is None and "2 customers are called Twin Trading in 深圳" in third.reason
    )
    assert fourth.customer_id is None and "the order says 广州" in fourth.reason


def test_a_merged_away_customer_resolves_to_its_survivor(
    owner: User, company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        survivor = make_customer(session, "Survivor Co").id
        absorbed = make_customer(session, "Old Record", external={"erp": "K-9"})
        absorbed.merged_into_id = survivor
    path = write_orders(tmp_path / "o.csv", [row("SO-1", code="K-9")])
    assert preview(company, path).orders[0].customer_id == survivor


def test_unmatched_order_becomes_a_customer_with_the_buyers_other_orders(
    owner: User, company: Database, tmp_path: Path
) -> None:
    path = write_orders(
        tmp_path / "o.csv",
        [
            row("SO-1", code="N-1", name="新客户贸易有限公司", city="宁波", phone="13700001111"),
            row("SO-2", code="N-1", when="2026-03-05"),
            row("SO-3", name="新客户贸易", city="宁波市"),  # same buyer, no code
            row("SO-4", name="Someone Else"),
        ],
    )
    batch_id = import_orders(company, owner, path)
    with company.new_session() as session:
        groups = order_links.unmatched_orders(session)
        assert {tuple(sorted(o.order_number for o in g.orders)) for g in groups} == {
            ("SO-1", "SO-2"),
            ("SO-3",),
            ("SO-4",),
        }
        first_id = session.scalar(select(Order.id).where(Order.order_number == "SO-1"))
    assert first_id is not None
    with company.session(user_id=owner.id) as session:
        actor = session.get_one(User, owner.id)
        result = order_links.create_customer_from_order(session, actor, first_id)
    assert result.created and sorted(result.linked) == ["SO-1", "SO-2", "SO-3"]
    orders = orders_by_number(company)
    assert {orders[n].customer_id for n in ("SO-1", "SO-2", "SO-3")} == {result.customer_id}
    assert orders["SO-1"].link_route == LinkRoute.CREATED
    assert orders["SO-4"].customer_id is None
    with company.new_session() as session:
        customer = get_customer(session, result.customer_id)
        assert customer.status == CustomerStatus.ACTIVE and customer.city == "宁波"
        assert [(e.system, e.key) for e in customer.external_ids] == [("erp", "N-1")]
        assert customer.primary_phone == "+8613700001111"
        assert order_links.unmatched_count(session) == 1
    # Undoing the import takes the customer made from its order away too.
    undo_batch(company, owner.id, batch_id)
    with company.new_session() as session:
        assert session.get(Customer, result.customer_id) is None
        assert session.scalar(select(func.count()).select_from(Order)) == 0


def test_link_by_hand_converts_a_prospect_and_remembers_the_code(
    owner: User, company: Database, tmp_path: Path
) -> None:
    seller = add_user(company, "lilei", Role.SALES, "Li Lei")
    with company.session() as session:
        prospect = make_customer(
            session, "Prospect Co", status=CustomerStatus.PROSPECT, owner_id=seller.id
        ).id
    path = write_orders(
        tmp_path / "o.csv",
        [row("SO-9", code="X-1", name="PC Trading"), row("SO-8", code="X-1", when="2026-01-05")],
    )
    import_orders(company, owner, path)
    with company.session(user_id=owner.id) as session:
        actor = session.get_one(User, owner.id)
        result = order_links.link_order_number(
            session, actor, "SO-9", prospect, source_system="erp"
        )
    assert result.converted and result.linked == ["SO-9"]
    with company.new_session() as session:
        customer = get_customer(session, prospect)
        assert customer.status == CustomerStatus.ACTIVE
        assert [(e.system, e.key) for e in customer.external_ids] == [("erp", "X-1")]
        conversion = session.scalars(select(Conversion)).one()
        assert (conversion.customer_id, conversion.prospect_owner_id) == (prospect, seller.id)
        detail = customer_detail(session, prospect)
    assert detail.conversion == (
        "Became a customer with order SO-9 on 2026-03-02; prospect owned by Li Lei"
    )
    assert orders_by_number(company)["SO-9"].link_route == LinkRoute.MANUAL
    # Taught the code: the buyer's next order links by code without help.
    again = write_orders(tmp_path / "again.csv", [row("SO-10", code="X-1")])
    assert preview(company, again).orders[0].customer_id == prospect


def test_a_salesperson_may_not_link_orders(owner: User, company: Database, tmp_path: Path) -> None:
    seller = add_user(company, "lilei", Role.SALES, "Li Lei")
    import_orders(company, owner, write_orders(tmp_path / "o.csv", [row("SO-1", name="X")]))
    with company.session() as session:
        customer = make_customer(session, "Anyone").id
    with company.session(user_id=seller.id) as session, pytest.raises(PermissionDenied):
        actor = session.get_one(User, seller.id)
        order_links.link_order_number(session, actor, "SO-1", customer)


def test_reimporting_the_same_file_changes_nothing(
    owner: User, company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        make_customer(session, "Coded Co", external={"erp": "K-1"})
    path = write_orders(
        tmp_path / "o.csv", [row("SO-1", code="K-1"), row("SO-2", name="Unknown Buyer")]
    )
    import_orders(company, owner, path)
    plan = preview(company, path)
    assert plan.order_counts[OrderOutcome.UNCHANGED] == 2
    assert plan.order_counts[OrderOutcome.NEW] == plan.order_counts[OrderOutcome.CHANGED] == 0
    before = orders_by_number(company)
    batch_id = apply_import(company, owner.id, plan).batch_id
    after = orders_by_number(company)
    assert {n: (o.id, o.amount, o.customer_id) for n, o in after.items()} == {
        n: (o.id, o.amount, o.customer_id) for n, o in before.items()
    }
    with company.new_session() as session:
        batch = session.get_one(ImportBatch, batch_id)
        assert (batch.created_count, batch.updated_count, batch.unchanged_count) == (0, 0, 2)


def test_a_changed_reimport_updates_and_undo_restores(
    owner: User, company: Database, tmp_path: Path
) -> None:
    import_orders(
        company, owner, write_orders(tmp_path / "a.csv", [row("SO-1", name="Late Buyer")])
    )
    with company.session() as session:
        late = make_customer(session, "Late Buyer").id  # added after the first import
    header = [*HEADER, "订单状态"]
    changed = write_orders(
        tmp_path / "b.csv", [[*row("SO-1", name="Late Buyer", amount="120.50"), "已发货"]], header
    )
    plan = preview(company, changed)
    order = plan.orders[0]
    assert order.outcome == OrderOutcome.CHANGED
    assert order.changes["amount"] == (Decimal("100.00"), Decimal("120.50"))
    assert order.changes["status"] == (None, "已发货")
    assert order.changes["customer"] == (None, late)
    batch_id = apply_import(company, owner.id, plan).batch_id
    updated = orders_by_number(company)["SO-1"]
    assert (updated.amount, updated.status, updated.customer_id) == (
        Decimal("120.50"),
        "已发货",
        late,
    )
    result = undo_batch(company, owner.id, batch_id)
    assert result.orders_restored == 1 and result.orders_removed == 0
    restored = orders_by_number(company)["SO-1"]
    assert (restored.amount, restored.status, restored.customer_id) == (
        Decimal("100.00"),
        None,
        None,
    )


def test_a_prospect_becomes_a_customer_with_its_first_order_and_undo_reverts_it(
    owner: User, company: Database, tmp_path: Path
) -> None:
    seller = add_user(company, "lilei", Role.SALES, "Li Lei")
    with company.session() as session:
        prospect = make_customer(
            session,
            "Prospect Co",
            status=CustomerStatus.PROSPECT,
            owner_id=seller.id,
            external={"erp": "P-1"},
        ).id
        edited = make_customer(
            session, "Edited Later", status=CustomerStatus.PROSPECT, phones=["13600001234"]
        ).id
    path = write_orders(
        tmp_path / "o.csv",
        [
            row("SO-1002", code="P-1", when="2026-03-05"),
            row("SO-1001", code="P-1", when="2026-03-02"),
            row("SO-2001", phone="13600001234"),
        ],
    )
    plan = preview(company, path)
    assert plan.conversions == 2
    result = apply_import(company, owner.id, plan)
    assert result.conversions == 2
    with company.new_session() as session:
        assert get_customer(session, prospect).status == CustomerStatus.ACTIVE
        conversion = session.scalars(
            select(Conversion).where(Conversion.customer_id == prospect)
        ).one()
        first = session.get_one(Order, conversion.order_id)
        assert first.order_number == "SO-1001"
        assert conversion.order_date == date(2026, 3, 2)
        assert conversion.prospect_owner_id == seller.id
        assert conversion.import_batch_id == result.batch_id
        assert customer_detail(session, prospect).conversion == (
            "Became a customer with order SO-1001 on 2026-03-02; prospect owned by Li Lei"
        )
    # Someone edits one of them after the import: that one stays a customer on undo.
    with company.session(user_id=owner.id) as session:
        actor = session.get_one(User, owner.id)
        data = input_from_customer(get_customer(session, edited))
        data.city = "厦门"
        update_customer(session, actor, edited, data)
    undone = undo_batch(company, owner.id, result.batch_id)
    assert undone.restored == 1 and undone.orders_removed == 3
    assert undone.kept_active == [f"Edited Later (ID {edited})"]
    with company.new_session() as session:
        assert get_customer(session, prospect).status == CustomerStatus.PROSPECT
        assert get_customer(session, edited).status == CustomerStatus.ACTIVE
        assert (
            session.scalar(
                select(func.count())
                .select_from(Conversion)
                .where(Conversion.customer_id == prospect)
            )
            == 0
        )
        rows = list_batches(session)
    assert rows[0].kind == "orders" and rows[0].status.value == "undone"


def test_rows_with_one_order_number_are_one_order_with_lines(
    owner: User, company: Database, tmp_path: Path
) -> None:
    header = ["Order no", "Date", "Customer code", "Product", "Qty", "Unit price", "Amount"]
    path = write_orders(
        tmp_path / "lines.csv",
        [
            # Each line's amount under "Amount": the order is their sum.
            ["A-1", "2026-03-01", "K-1", "Green tea 绿茶", "2", "50", "100"],
            ["A-1", "2026-03-01", "K-1", "Teapot", "1", "80", "80"],
            # The order's total repeated on every line.
            ["A-2", "2026-03-02", "K-1", "Cups", "4", "10", "55"],
            ["A-2", "2026-03-02", "K-1", "Saucers", "3", "5", "55"],
            # Lines continued without a number (merged cells in Excel).
            ["A-3", "2026-03-03", "K-1", "Tray", "1 件", "30", "45"],
            ["", "", "", "Cloth", "3", "5", ""],
        ],
        header,
    )
    plan = preview(company, path)
    assert [(o.order_number, o.amount, len(o.lines)) for o in plan.orders] == [
        ("A-1", Decimal("180.00"), 2),
        ("A-2", Decimal("55.00"), 2),
        ("A-3", Decimal("45.00"), 2),
    ]
    assert [r.row_number for r in plan.orders[2].rows] == [6, 7]
    import_orders(company, owner, path)
    with company.new_session() as session:
        lines = session.execute(
            select(Order.order_number, OrderLine.product, OrderLine.quantity, OrderLine.amount)
            .join(OrderLine, OrderLine.order_id == Order.id)
            .order_by(Order.order_number, OrderLine.line_no)
        ).all()
    assert [(n, p, q, a) for n, p, q, a in lines] == [
        ("A-1", "Green tea 绿茶", Decimal("2"), Decimal("100.00")),
        ("A-1", "Teapot", Decimal("1"), Decimal("80.00")),
        ("A-2", "Cups", Decimal("4"), Decimal("40.00")),
        ("A-2", "Saucers", Decimal("3"), Decimal("15.00")),
        ("A-3", "Tray", Decimal("1"), Decimal("30.00")),
        ("A-3", "Cloth", Decimal("3"), Decimal("15.00")),
    ]


def test_bad_input_gives_row_numbered_problems(
    owner: User, company: Database, tmp_path: Path
) -> None:
    path = write_orders(
        tmp_path / "bad.csv",
        [
            row("SO-1", name="Fine Co"),
            row("SO-2", name="X", when="2026-02-30"),
            row("SO-3", name="X", amount="-20"),
            row("SO-4", name="X", amount=""),
            row("SO-5", name="X", currency="XYZ"),
            row("", name="X"),
            row("SO-7", name="X", currency="美元", amount="$1,200.50"),
        ],
    )
    plan = preview(company, path)
    problems = {r.row_number: r.problem_text() for r in plan.error_rows}
    assert sorted(problems) == [3, 4, 5, 6, 7]
    assert "February 2026 has 28 days" in problems[3]
    assert "'-20' is a negative amount" in problems[4]
    assert "the amount is empty" in problems[5]
    assert "'XYZ' is not a currency" in problems[6]
    assert "the order number is empty" in problems[7]
    assert all(text.startswith("column '") for text in problems.values())
    fine = {o.order_number: o for o in plan.orders if o.outcome == OrderOutcome.NEW}
    assert sorted(fine) == ["SO-1", "SO-7"]
    assert (fine["SO-7"].amount, fine["SO-7"].currency) == (Decimal("1200.50"), "USD")
    result = apply_import(company, owner.id, plan)
    assert (result.created, result.errors) == (2, 5)
    # Without an order-number column nothing is read at all.
    no_number = write_orders(
        tmp_path / "nonumber.csv",
        [["2026-03-01", "K-1", "10"]],
        ["Date", "Customer code", "Amount"],
    )
    with pytest.raises(MappingError, match="order number"):
        preview(company, no_number)


def test_customer_history_shows_merges(owner: User, company: Database) -> None:
    with company.session() as session:
        survivor = make_customer(session, "Survivor Co").id
        gone = make_customer(session, "Duplicate Co")
        gone.merged_into_id = survivor
        session.add(
            Merge(survivor_id=survivor, absorbed_ids=[gone.id], snapshot={}, merged_by_id=owner.id)
        )
    with company.new_session() as session:
        history = customer_detail(session, survivor).history
    assert [(h.kind, h.text, h.by) for h in history] == [
        ("merge", "Merged in: Duplicate Co", "Wang Fang")
    ]


def test_unmatched_report_lists_every_waiting_order(
    owner: User, company: Database, tmp_path: Path
) -> None:
    import_orders(
        company,
        owner,
        write_orders(
            tmp_path / "o.csv",
            [row("SO-1", name="=cmd", phone="13800138000"), row("SO-2", name="B")],
        ),
    )
    target = tmp_path / "out" / "unmatched.csv"
    with company.session(user_id=owner.id) as session:
        actor = session.get_one(User, owner.id)
        count = order_links.write_unmatched_report(
            session, actor, target, order_links.unmatched_orders(session)
        )
    assert count == 2
    with target.open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:3] == ["Order number", "Date", "Amount"]
    assert {r[0] for r in rows[1:]} == {"SO-1", "SO-2"}
    assert "'=cmd" in {r[6] for r in rows[1:]}  # never a formula in Excel


def test_external_id_table_is_untouched_by_automatic_links(
    owner: User, company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        make_customer(session, "Phone Co", phones=["13800138000"])
    import_orders(
        company,
        owner,
        write_orders(tmp_path / "o.csv", [row("SO-1", code="Z-1", phone="13800138000")]),
    )
    with company.new_session() as session:
        assert session.scalar(select(func.count()).select_from(ExternalId)) == 0


def test_bookkeepers_import_orders_but_not_customers_and_sales_neither(
    company: Database, tmp_path: Path
) -> None:
    from smbcrm.errors import PermissionDenied
    from smbcrm.models import Role
    from smbcrm.services.importing.apply import apply_plan
    from tests.conftest import add_user

    books = add_user(company, "zhao.kuai", Role.BOOKKEEPER)
    sales = add_user(company, "li.lei", Role.SALES)
    path = write_orders(tmp_path / "orders.csv", [row("SO-1", name="Nobody Ltd")])
    with pytest.raises(PermissionDenied):
        import_orders(company, sales, path)
    assert orders_by_number(company) == {}
    import_orders(company, books, path)
    assert set(orders_by_number(company)) == {"SO-1"}
    customers = tmp_path / "customers.csv"
    customers.write_text("客户名称\n新客户\n", encoding="utf-8")
    with pytest.raises(PermissionDenied):
        apply_plan(company, books.id, prepare_import(company, customers).plan)
