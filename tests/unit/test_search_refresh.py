"""The search of an open customers list after customers are removed outright (undoing an
import batch or an orders batch) or come back (undoing a merge). Removed rows leave no
``updated_at`` to notice, so a list kept open must see them go without waiting for its
periodic reload. Also: a contact added with phones is saved without SQLAlchemy's "not in
session" warning. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from sqlalchemy import select

from smbcrm.models import Customer, Database, ImportKind, Order, User
from smbcrm.services import search
from smbcrm.services.customers import CustomerFilter, CustomerList, add_contact
from smbcrm.services.importing.apply import apply_plan
from smbcrm.services.importing.orders import OrderImportPlan
from smbcrm.services.importing.service import apply_import, prepare_import
from smbcrm.services.importing.undo import undo_batch
from smbcrm.services.merge import merge_customers, undo_merge
from smbcrm.services.order_links import create_customer_from_order
from tests.factories import make_customer


@pytest.fixture(autouse=True)
def _look_at_every_search(monkeypatch: pytest.MonkeyPatch) -> None:
    # As if the user typed a while after the change: the list looks at the database again.
    monkeypatch.setattr(search, "RECHECK_AFTER_S", 0.0)


def _boss(db: Database) -> User:
    with db.new_session() as session:
        return session.scalars(select(User).where(User.login == "boss")).one()


def _csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _found(db: Database, listing: CustomerList, text: str) -> tuple[list[str], int]:
    with db.new_session() as session:
        names = [r.name for r in listing.page(session, CustomerFilter(text=text))]
        return names, listing.count(session, CustomerFilter(text=text))


def test_customers_an_undone_import_created_leave_an_open_search(
    company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        make_customer(session, "Harbor Lights Trading", city="Ningbo")
    listing = CustomerList(company.default_region())
    assert _found(company, listing, "harbor") == (["Harbor Lights Trading"], 1)
    path = _csv(
        tmp_path / "new.csv",
        ["客户名称,城市", "Harbor Freight Imports,Shanghai", "Harbor View Hotel,Xiamen"],
    )
    batch = apply_plan(company, _boss(company).id, prepare_import(company, path).plan)
    assert batch.created == 2
    assert _found(company, listing, "harbor")[1] == 3

    undo_batch(company, _boss(company).id, batch.batch_id)

    assert _found(company, listing, "harbor") == (["Harbor Lights Trading"], 1)
    assert _found(company, listing, "hotel") == ([], 0)


def test_a_customer_made_from_an_undone_orders_batch_leaves_an_open_search(
    company: Database, tmp_path: Path
) -> None:
    boss = _boss(company)
    path = _csv(
        tmp_path / "orders.csv",
        ["订单号,下单日期,客户名称,城市,金额", "SO-1,2026-03-02,宁波新客户贸易有限公司,宁波,100"],
    )
    plan = prepare_import(company, path, ImportKind.ORDERS, source_system="erp").plan
    assert isinstance(plan, OrderImportPlan)
    batch_id = apply_import(company, boss.id, plan).batch_id
    with company.session(user_id=boss.id) as session:
        order_id = session.scalars(select(Order.id).where(Order.order_number == "SO-1")).one()
        create_customer_from_order(session, session.get_one(User, boss.id), order_id)
    listing = CustomerList(company.default_region())
    assert _found(company, listing, "宁波新客户") == (["宁波新客户贸易有限公司"], 1)

    undo_batch(company, boss.id, batch_id)

    assert _found(company, listing, "宁波新客户") == ([], 0)


def test_an_undone_merge_gives_each_customer_back_its_own_name(company: Database) -> None:
    boss = _boss(company)
    with company.session() as session:
        # Made last, the survivor's name is the one the merge keeps.
        absorbed = make_customer(session, "华强电子深圳分公司").id
        survivor = make_customer(session, "深圳市华强电子有限公司").id
    listing = CustomerList(company.default_region())
    assert _found(company, listing, "分公司")[1] == 1
    with company.session(user_id=boss.id) as session:
        merge_id = merge_customers(session, survivor, [absorbed], boss).merge_id
    # The old name finds the survivor, once.
    assert _found(company, listing, "分公司") == (["深圳市华强电子有限公司"], 1)
    assert _found(company, listing, "华强")[1] == 1

    with company.session(user_id=boss.id) as session:
        undo_merge(session, merge_id, session.get_one(User, boss.id))

    assert _found(company, listing, "分公司") == (["华强电子深圳分公司"], 1)
    assert _found(company, listing, "华强")[1] == 2


def test_a_customer_merged_back_out_and_then_undone_leaves_the_search(
    company: Database, tmp_path: Path
) -> None:
    boss = _boss(company)
    path = _csv(tmp_path / "new.csv", ["客户名称,城市", "Nordwind Hamburg Branch,Hamburg"])
    batch = apply_plan(company, boss.id, prepare_import(company, path).plan)
    with company.session() as session:
        survivor = make_customer(session, "Nordwind GmbH").id
    with company.new_session() as session:
        branch = session.scalars(
            select(Customer.id).where(Customer.name == "Nordwind Hamburg Branch")
        ).one()
    with company.session(user_id=boss.id) as session:
        merge_id = merge_customers(session, survivor, [branch], boss).merge_id
    listing = CustomerList(company.default_region())
    assert _found(company, listing, "branch") == (["Nordwind GmbH"], 1)
    with company.session(user_id=boss.id) as session:
        undo_merge(session, merge_id, session.get_one(User, boss.id))
    assert _found(company, listing, "branch") == (["Nordwind Hamburg Branch"], 1)

    # The merge changed the branch since the import, so the undo is told to go ahead.
    undo_batch(company, boss.id, batch.batch_id, force=True)

    assert _found(company, listing, "branch") == ([], 0)
    assert _found(company, listing, "nordwind") == (["Nordwind GmbH"], 1)


def test_adding_a_contact_with_phones_saves_them_without_a_flush_warning(
    company: Database,
) -> None:
    boss = _boss(company)
    with company.session() as session:
        cid = make_customer(session, "华强电子", phones=["13800138000"]).id
    with company.session(user_id=boss.id) as session, warnings.catch_warnings():
        warnings.simplefilter("error")  # SQLAlchemy's "not in session" warning fails the test
        actor = session.get_one(User, boss.id)
        add_contact(
            session, actor, cid, name="采购部李工", phones=["13699998888"], emails=["li@hq.cn"]
        )
    with company.new_session() as session:
        customer = session.get_one(Customer, cid)
        (contact,) = customer.contacts
        assert sorted(p.value for p in contact.points) == ["13699998888", "li@hq.cn"]
        assert all(p.customer_id == cid for p in contact.points)
        assert len(customer.contact_points) == 3
