"""The storage layer on both engines: migrations, derived keys, audit, optimistic locking."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.orm.exc import StaleDataError

from smbcrm.errors import DatabaseError
from smbcrm.models import AuditEntry, Base, ChangeAction, Customer, Database
from smbcrm.models.db import resolve_url
from smbcrm.services import database as dbsvc
from tests.factories import make_customer


def test_models_and_migrations_agree(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_downgrade_upgrade(db: Database) -> None:
    head = dbsvc.head_revision()
    assert dbsvc.current_revision(db) == head
    dbsvc.downgrade(db, "base")
    assert dbsvc.current_revision(db) is None
    assert "customers" not in inspect(db.engine).get_table_names()
    dbsvc.upgrade(db)
    assert dbsvc.current_revision(db) == head
    assert "customers" in inspect(db.engine).get_table_names()


def test_new_sqlite_file_is_created_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    db = dbsvc.open_database(tmp_path / "new" / "book.db")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
        rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    assert rows == [(dbsvc.head_revision(),)]
    db.dispose()


def test_upgrade_of_an_existing_file_keeps_a_backup_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = dbsvc.open_database(tmp_path / "book.db")
    with db.session() as session:
        make_customer(session, "北京华联商贸有限公司")
    # Pretend a newer smbcrm ships a later schema: the file is now one step behind.
    monkeypatch.setattr(dbsvc, "head_revision", lambda: "9999_future")
    backups = []
    for _ in range(dbsvc.BACKUPS_KEPT + 2):
        backup = dbsvc.upgrade(db)
        assert backup is not None
        backups.append(backup)
        with sqlite3.connect(backup) as copy:
            assert copy.execute("SELECT name FROM customers").fetchall() == [
                ("北京华联商贸有限公司",)
            ]
    kept = sorted(dbsvc.backup_folder(db).glob("book-before-upgrade-*.db"))
    assert len(kept) == dbsvc.BACKUPS_KEPT
    assert backups[-1] in kept
    db.dispose()


def test_a_file_from_a_newer_version_is_not_touched(tmp_path: Path) -> None:
    db = dbsvc.open_database(tmp_path / "book.db")
    with db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffff_newer'")
    with pytest.raises(DatabaseError, match="newer smbcrm"):
        dbsvc.upgrade(db)
    db.dispose()


def test_backup_copies_a_live_database(tmp_path: Path) -> None:
    db = dbsvc.open_database(tmp_path / "book.db")
    with db.session() as session:
        make_customer(session, "张记五金")
    target = dbsvc.backup_sqlite(db, tmp_path / "copies" / "copy.db")
    with sqlite3.connect(target) as copy:
        names = [row[0] for row in copy.execute("SELECT name FROM customers")]
        assert names == ["张记五金"]
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    db.dispose()


def test_a_file_that_is_not_a_database_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("this is a shopping list, not a database")
    with pytest.raises(DatabaseError, match="not an smbcrm database"):
        dbsvc.open_database(path)


def test_postgres_urls_use_psycopg() -> None:
    url = resolve_url("postgresql://crm:pw@server.local/book")
    assert url.drivername == "postgresql+psycopg"
    assert resolve_url("somewhere/book.db").drivername == "sqlite+pysqlite"


def test_match_keys_are_computed_on_every_write(db: Database) -> None:
    with db.session() as session:
        customer = make_customer(
            session,
            "深圳市华强电子有限公司",
            phones=["+86 138-0013-8000"],
            emails=["Sales@HuaQiang.CN "],
            contact="李雷",
            city="深圳",
        )
        customer_id = customer.id
    with db.session() as session:
        customer = session.get_one(Customer, customer_id)
        assert customer.name_key == "深圳市华强电子"
        assert customer.primary_phone == "+8613800138000"
        assert customer.primary_email == "sales@huaqiang.cn"
        assert customer.primary_contact == "李雷"
        assert "13800138000" in customer.search_text
        customer.name = "ＡＣＭＥ　Trading Co., Ltd."
    with db.session() as session:
        customer = session.get_one(Customer, customer_id)
        assert customer.name_key == "acme trading"
        assert customer.sort_key == "acme trading co., ltd."


def test_every_change_is_audited_with_old_and_new_values(company: Database, owner: object) -> None:
    with company.session(user_id=owner.id) as session:  # type: ignore[attr-defined]
        customer = make_customer(session, "Old Name")
        customer_id = customer.id
    with company.session(user_id=owner.id) as session:  # type: ignore[attr-defined]
        session.get_one(Customer, customer_id).name = "New Name"
    with company.session() as session:
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity == "customer", AuditEntry.entity_id == customer_id)
            .order_by(AuditEntry.id)
        ).all()
    assert [e.action for e in entries] == [ChangeAction.CREATED, ChangeAction.UPDATED]
    assert entries[1].changes == {"name": ["Old Name", "New Name"]}
    assert entries[1].user_id == owner.id  # type: ignore[attr-defined]


def test_concurrent_edit_of_the_same_customer_is_detected(db: Database) -> None:
    with db.session() as session:
        customer_id = make_customer(session, "Shared Co").id
    first = db.new_session()
    second = db.new_session()
    try:
        first.get_one(Customer, customer_id).notes = "first desk"
        second.get_one(Customer, customer_id).notes = "second desk"
        first.commit()
        with pytest.raises(StaleDataError):
            second.commit()
    finally:
        first.close()
        second.close()


def test_bulk_writes_store_values_exactly_as_the_orm_does(company: Database) -> None:
    from datetime import date, datetime

    from smbcrm.models import ChangeAction, CustomerKind, CustomerStatus
    from smbcrm.models.bulk import bulk_insert, bulk_update

    moment = datetime(2026, 3, 5, 14, 30, 0)
    with company.session() as session:
        bulk_insert(
            session,
            Customer.__table__,  # type: ignore[arg-type]
            [
                {
                    "name": "批量客户",
                    "kind": CustomerKind.PERSON,
                    "status": CustomerStatus.ACTIVE,
                    "birthday": date(1990, 1, 2),
                    "custom_fields": {"等级": "金"},
                    "version": 1,
                    "name_key": "批量客户",
                    "sort_key": "pi liang ke hu",
                    "search_text": "批量客户",
                    "created_at": moment,
                    "updated_at": moment,
                }
            ],
        )
        customer_id = session.scalar(select(Customer.id).where(Customer.name == "批量客户"))
        bulk_insert(
            session,
            AuditEntry.__table__,  # type: ignore[arg-type]
            [
                {
                    "at": moment,
                    "user_id": None,
                    "entity": "customer",
                    "entity_id": customer_id,
                    "customer_id": customer_id,
                    "action": ChangeAction.CREATED,
                    "changes": {"name": [None, "批量客户"]},
                    "summary": None,
                }
            ],
        )
    with company.new_session() as session:
        customer = session.get_one(Customer, customer_id)
        assert (customer.kind, customer.status, customer.birthday) == (
            CustomerKind.PERSON,
            CustomerStatus.ACTIVE,
            date(1990, 1, 2),
        )
        assert customer.custom_fields == {"等级": "金"}
        assert customer.created_at == moment
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.entity == "customer", AuditEntry.entity_id == customer_id
            )
        ).one()
        assert entry.action == ChangeAction.CREATED and entry.changes == {
            "name": [None, "批量客户"]
        }
    with company.session() as session:
        changed = bulk_update(
            session,
            Customer.__table__,  # type: ignore[arg-type]
            [
                {"b_id": customer_id, "b_version": 1, "version": 2, "city": "深圳"},
                {"b_id": customer_id, "b_version": 7, "version": 8, "city": "never"},
            ],
            where={"id": "b_id", "version": "b_version"},
        )
    assert changed == 1  # the second row's version did not match
    with company.new_session() as session:
        customer = session.get_one(Customer, customer_id)
        assert (customer.city, customer.version) == ("深圳", 2)
