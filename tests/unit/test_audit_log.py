"""The audit trail as people read it, on both engines: a customer's history and the
company-wide log filtered by user, record kind, date range and text."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from smbcrm.errors import PermissionDenied, ValidationError
from smbcrm.models import Database, Role, utcnow
from smbcrm.services import auth, ownership
from smbcrm.services import customers as customers_svc
from smbcrm.services.audit_log import AuditQuery, audit_log, customer_history, staff_names
from smbcrm.services.customers import CustomerInput


@pytest.fixture
def book(company: Database, monkeypatch: pytest.MonkeyPatch) -> tuple[Database, int]:
    monkeypatch.setattr(auth, "hash_password", lambda _password: "not-a-hash")
    with company.session() as session:
        boss = auth.find_user(session, "boss")
        for login, role in [("li", Role.SALES), ("mgr", Role.MANAGER)]:
            auth.add_staff(
                session, boss, login=login, full_name=login.title(), role=role, password="pw-12345"
            )
    with company.session() as session:
        boss = auth.find_user(session, "boss")
        session.info["user_id"] = boss.id
        customer = customers_svc.create_customer(
            session, boss, CustomerInput(name="华强电子有限公司", city="深圳", owner_id=boss.id)
        )
        cid = customer.id
        customers_svc.add_contact(session, boss, cid, name="陈静", phones=["13800138000"])
    with company.session() as session:
        mgr = auth.find_user(session, "mgr")
        session.info["user_id"] = mgr.id
        data = customers_svc.input_from_customer(customers_svc.get_customer(session, cid))
        data.notes = "Prefers WeChat"
        customers_svc.update_customer(session, mgr, cid, data)
        ownership.bulk_reassign(
            session, mgr, [cid], auth.find_user(session, "li").id, reason="Closer to Shenzhen"
        )
    return company, cid


def test_customer_history_lists_every_change_to_it_and_its_contacts(
    book: tuple[Database, int],
) -> None:
    db, cid = book
    with db.new_session() as session:
        li = auth.find_user(session, "li")
        rows = customer_history(session, li, cid)  # sales may read a customer's history
        names = staff_names(session)
    kinds = [(r.entity, r.action.value) for r in rows]
    assert ("customer", "created") in kinds and ("contact", "created") in kinds
    newest = rows[0]
    assert newest.user == "Mgr" and newest.changed_fields(names) == [
        ("salesperson", "Wang Fang", "Li")
    ]
    edit = next(r for r in rows if "notes" in r.changes)
    assert edit.changed_fields() == [("notes", "—", "Prefers WeChat")]
    assert all(r.customer == "华强电子有限公司" for r in rows)


def test_full_log_filters_by_user_entity_dates_and_text(book: tuple[Database, int]) -> None:
    db, _cid = book
    with db.new_session() as session:
        boss, mgr = auth.find_user(session, "boss"), auth.find_user(session, "mgr")
        everything = audit_log(session, boss)
        assert everything.total == len(everything.rows) >= 5
        by_mgr = audit_log(session, boss, AuditQuery(user_id=mgr.id))
        assert by_mgr.total == 2 and {r.user for r in by_mgr.rows} == {"Mgr"}
        contacts = audit_log(session, mgr, AuditQuery(entity="contact"))
        assert [r.summary for r in contacts.rows] == ["陈静"]
        staff = audit_log(session, boss, AuditQuery(entity="user"))
        assert staff.total >= 3  # the owner and the two added staff
        assert audit_log(session, boss, AuditQuery(text="wechat")).total == 1
        assert audit_log(session, boss, AuditQuery(text="Shenzhen")).total == 1
        assert audit_log(session, boss, AuditQuery(text="华强")).total >= 3
        today = utcnow().date()
        assert audit_log(session, boss, AuditQuery(since=today, until=today)).total == (
            everything.total
        )
        yesterday = today - timedelta(days=1)
        assert audit_log(session, boss, AuditQuery(until=yesterday)).total == 0
        page = audit_log(session, boss, AuditQuery(limit=2, offset=1))
        assert [r.id for r in page.rows] == [r.id for r in everything.rows[1:3]]


def test_full_log_is_for_owners_and_managers_with_clear_errors(
    book: tuple[Database, int],
) -> None:
    db, _cid = book
    with db.new_session() as session:
        li = auth.find_user(session, "li")
        with pytest.raises(PermissionDenied, match="may not see the audit log"):
            audit_log(session, li)
        boss = auth.find_user(session, "boss")
        with pytest.raises(ValidationError, match="before the start"):
            audit_log(session, boss, AuditQuery(since=date(2026, 2, 1), until=date(2026, 1, 1)))
        with pytest.raises(ValidationError, match="Unknown record kind"):
            audit_log(session, boss, AuditQuery(entity="spaceship"))
