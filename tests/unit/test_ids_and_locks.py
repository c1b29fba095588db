"""IDs of removed records are never given to new ones, on a new file and on one upgraded
from schema 0007; a write while another program holds SQLite's write lock is refused with
a message, with nothing written."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import func, inspect, select

from smbcrm.errors import DatabaseError
from smbcrm.models import (
    Activity,
    ActivityKind,
    Base,
    Case,
    Conversion,
    Customer,
    Database,
    DuplicatePair,
    ExportEntry,
    FollowUp,
    ImportBatch,
    ImportKind,
    ImportProblem,
    ImportReviewItem,
    Order,
    OrderLine,
    SatisfactionRating,
    SavedMapping,
    ServicePromise,
    Tag,
    User,
)
from smbcrm.models import db as db_module
from smbcrm.models.bulk import bulk_insert, next_new_id
from smbcrm.models.db import DATABASE_BUSY, sqlite_path
from smbcrm.services import auth
from smbcrm.services import database as dbsvc
from smbcrm.services.export.service import export
from smbcrm.services.importing.apply import apply_plan
from smbcrm.services.importing.service import prepare_import
from smbcrm.services.importing.undo import undo_batch
from smbcrm.services.merge import merge_customers
from tests.conftest import OWNER_PASSWORD, add_user
from tests.factories import make_customer, make_order

# Records other records, exports, the audit log, import undo or merge snapshots refer to.
HELD_ELSEWHERE = {
    "customers",
    "contacts",
    "contact_points",
    "external_ids",
    "orders",
    "conversions",
    "import_batches",
    "import_review_items",
    "merges",
    "duplicate_pairs",
    "cases",
    "satisfaction_ratings",
    "service_promises",
    "users",
    "activities",
    "follow_ups",
    "assignment_changes",
    "tags",
    "saved_mappings",
}


# -- IDs ----------------------------------------------------------------------------------


def test_a_removed_records_id_is_never_given_to_a_new_one(db: Database) -> None:
    with db.session() as session:
        make_customer(session, "甲公司")
        removed = make_customer(session, "乙公司")
        order = make_order(session, removed)
        removed_ids = (removed.id, order.id)
    with db.session() as session:
        session.delete(session.get_one(Order, removed_ids[1]))
        session.delete(session.get_one(Customer, removed_ids[0]))
    with db.session() as session:
        newcomer = make_customer(session, "丙公司")
        new_order = make_order(session, newcomer)
        assert newcomer.id > removed_ids[0]
        assert new_order.id > removed_ids[1]


def test_customers_an_undone_import_removed_leave_their_ids_behind(
    company: Database, owner: User, tmp_path: Path
) -> None:
    """An older export carrying removed customers' IDs must not update newer customers."""
    db, boss = company, owner
    first = tmp_path / "first.csv"
    first.write_text("客户名称,手机\n甲公司,13800000001\n乙公司,13800000002\n", "utf-8")
    batch = apply_plan(db, boss.id, prepare_import(db, first).plan).batch_id
    with db.new_session() as session:
        removed = set(session.scalars(select(Customer.id)))
    undo_batch(db, boss.id, batch)
    second = tmp_path / "second.csv"
    second.write_text("客户名称,手机\n丙公司,13900000003\n", "utf-8")
    apply_plan(db, boss.id, prepare_import(db, second).plan)
    with db.new_session() as session:
        newcomer = session.scalars(select(Customer.id).where(Customer.name == "丙公司")).one()
    assert newcomer > max(removed)


def test_every_table_whose_ids_are_held_elsewhere_keeps_them_unique(
    sqlite_db: Database,
) -> None:
    in_models = {
        table.name
        for table in Base.metadata.sorted_tables
        if table.dialect_options["sqlite"]["autoincrement"]
    }
    assert in_models == HELD_ELSEWHERE
    with sqlite3.connect(sqlite_path(sqlite_db.url)) as connection:  # type: ignore[arg-type]
        migrated = {
            name
            for name, sql in connection.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
            )
            if "AUTOINCREMENT" in sql
        }
    assert migrated == in_models


def test_ids_numbered_by_a_bulk_writer_start_above_every_id_ever_used(
    sqlite_db: Database,
) -> None:
    customers = Customer.__table__
    with sqlite_db.session() as session:
        for name in ("甲", "乙", "丙"):
            make_customer(session, name)
        session.delete(session.get_one(Customer, 3))
    with sqlite_db.session() as session:
        assert next_new_id(session, customers) == 4  # type: ignore[arg-type]
        bulk_insert(session, customers, [_bare_customer_row(4, "丁"), _bare_customer_row(5, "戊")])  # type: ignore[arg-type]
        session.execute(customers.delete().where(customers.c.id == 5))  # type: ignore[attr-defined]
    with sqlite_db.session() as session:
        assert next_new_id(session, customers) == 6  # type: ignore[arg-type]
        assert make_customer(session, "己").id == 6


def _bare_customer_row(customer_id: int, name: str) -> dict[str, Any]:
    moment = datetime(2026, 3, 5, 9, 0)
    return {
        "id": customer_id,
        "kind": "company",
        "name": name,
        "status": "active",
        "custom_fields": {},
        "version": 1,
        "name_key": name,
        "sort_key": name,
        "search_text": name,
        "created_at": moment,
        "updated_at": moment,
    }


# -- upgrading a file from schema 0007 ------------------------------------------------------


def _file_at_0007(path: Path) -> Database:
    db = Database.open(path)
    with db.engine.begin() as connection:
        command.upgrade(dbsvc.alembic_config(connection), "0007")
    return db


Snapshot = tuple[dict[str, list[Any]], dict[str, str]]


def _filled_file_at_0007(path: Path, tmp_path: Path) -> Snapshot:
    """A book with a record in every table, taken back to schema 0007, and its snapshot as
    filled. It is filled at the newest schema, which the models are written for (later
    schemas add columns 0007 lacks), and going back keeps every record."""
    db = dbsvc.open_database(path)
    _fill(db, tmp_path)
    db.dispose()
    filled = _snapshot(path)
    db = Database.open(path)
    dbsvc.downgrade(db, "0007")
    assert dbsvc.current_revision(db) == "0007"
    db.dispose()
    return filled


def _fill(db: Database, tmp_path: Path) -> None:
    """A book with a record in every table: imported, merged, with orders, cases, visits."""
    boss = auth.create_company(db, "Acme Trading", "boss", "Wang Fang", OWNER_PASSWORD)
    seller = add_user(db, "li", name="Li Lei")
    sheet = tmp_path / "prospects.csv"
    sheet.write_text(
        "客户编号,客户名称,联系人,手机,城市,负责销售\n"
        "P1,杭州绿源茶业有限公司,陈静,13912345678,杭州,Li Lei\n"
        "P2,张伟,,13700001111,北京,\n",
        encoding="utf-8",
    )
    apply_plan(db, boss.id, prepare_import(db, sheet, ImportKind.CUSTOMERS).plan)
    with db.session(user_id=boss.id) as session:
        actor = session.get_one(User, boss.id)
        first = make_customer(
            session,
            "深圳市华强电子有限公司",
            phones=["13800138000"],
            emails=["wang@huaqiang.cn"],
            contact="王芳",
            external={"erp": "C001"},
            owner_id=seller.id,
        )
        twin = make_customer(session, "华强电子", phones=["13800138000"], referred_by_id=first.id)
        other = make_customer(session, "北京华联商贸有限公司", referred_by_id=first.id)
        order = make_order(session, twin, amount="1280.50", when=date(2026, 2, 3))
        order.lines.append(OrderLine(product="茶叶", quantity=2, amount=order.amount))
        make_order(session, other)
        visit = Activity(customer_id=twin.id, user_id=seller.id, kind=ActivityKind.VISIT)
        session.add(visit)
        session.flush()
        session.add(
            FollowUp(
                customer_id=twin.id, activity_id=visit.id, title="回访", due_date=date(2026, 3, 1)
            )
        )
        case = Case(customer_id=other.id, title="发货延迟", created_by_id=boss.id)
        session.add(case)
        session.flush()
        session.add(SatisfactionRating(customer_id=other.id, case_id=case.id, score=4))
        low, high = sorted((first.id, other.id))
        session.add(DuplicatePair(customer_a_id=low, customer_b_id=high, score=0.4))
        merge_customers(session, first.id, [twin.id], actor)
        first.tags.append(Tag(name="VIP"))
        first.team.append(session.get_one(User, seller.id))
        session.add(Conversion(customer_id=other.id, order_id=order.id))
        session.add(ServicePromise(category="投诉", first_response_minutes=240))
        batch = session.scalars(select(ImportBatch)).one()
        session.add(
            ImportReviewItem(
                batch_id=batch.id, row_number=3, values={}, candidate_id=other.id, reason="同名"
            )
        )
        session.add(ImportProblem(batch_id=batch.id, row_number=4, cells=["x"], problem="无名称"))
        session.add(
            SavedMapping(
                name="ERP", kind=ImportKind.CUSTOMERS, source_system="erp", signature=[], columns={}
            )
        )
        session.add(ExportEntry(kind="customers", file_name="customers.xlsx", user_id=boss.id))
        # A removed customer in the middle: its ID is still free there, as before.
        gone = make_customer(session, "临时客户")
        make_customer(session, "最新客户")
    with db.session() as session:
        session.delete(session.get_one(Customer, gone.id))


def _snapshot(path: Path) -> Snapshot:
    """Every row of every table, and every table's columns, keys, indexes and checks (as
    text: reflected column types do not compare equal to themselves)."""
    db = Database.open(path)
    try:
        inspector = inspect(db.engine)
        tables = [t for t in inspector.get_table_names() if t != "alembic_version"]
        shapes = {
            table: repr(
                {
                    "columns": inspector.get_columns(table),
                    "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
                    "foreign keys": sorted(inspector.get_foreign_keys(table), key=repr),
                    "indexes": sorted(inspector.get_indexes(table), key=repr),
                    "unique": sorted(inspector.get_unique_constraints(table), key=repr),
                    "checks": sorted(inspector.get_check_constraints(table), key=repr),
                }
            )
            for table in tables
        }
        with db.engine.connect() as connection:
            rows = {
                table: connection.exec_driver_sql(f'SELECT * FROM "{table}" ORDER BY rowid').all()
                for table in tables
            }
    finally:
        db.dispose()
    return rows, shapes


def test_upgrading_a_populated_0007_file_keeps_everything_and_never_reuses_ids(
    tmp_path: Path,
) -> None:
    path = tmp_path / "book.db"
    rows_before, shapes_before = _filled_file_at_0007(path, tmp_path)
    assert [table for table, rows in _snapshot(path)[0].items() if not rows] == []

    db = dbsvc.open_database(path)
    assert dbsvc.current_revision(db) == dbsvc.head_revision()
    # The rebuilt tables do not stay in the write-ahead log while the file is open.
    assert Path(f"{path}-wal").stat().st_size == 0
    rows_after, shapes_after = _snapshot(path)
    assert rows_after == rows_before  # nothing cascaded away, nothing changed
    assert shapes_after == shapes_before  # every column, key, index and check kept

    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        counters = dict(connection.exec_driver_sql("SELECT name, seq FROM sqlite_sequence").all())
    for table in HELD_ELSEWHERE:
        highest = max((row[0] for row in rows_before[table]), default=None)
        assert counters.get(table) == highest, table

    with db.session() as session:
        newest = session.scalar(select(func.max(Customer.id)))
        session.delete(session.get_one(Customer, newest))
    with db.session() as session:
        assert make_customer(session, "新客户").id == newest + 1  # type: ignore[operator]
    db.dispose()


def test_the_upgrade_can_be_undone_and_done_again_with_the_records_kept(
    tmp_path: Path,
) -> None:
    path = tmp_path / "book.db"
    rows_filled, _shapes = _filled_file_at_0007(path, tmp_path)
    rows_before, shapes_before = _snapshot(path)
    db = dbsvc.open_database(path)
    dbsvc.downgrade(db, "0007")
    db.dispose()
    assert _snapshot(path) == (rows_before, shapes_before)
    with sqlite3.connect(path) as connection:
        (sql,) = connection.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'customers'"
        ).fetchone()
        assert "AUTOINCREMENT" not in sql
    db = dbsvc.open_database(path)
    assert _snapshot(path)[0] == rows_filled
    db.dispose()


def test_the_rebuild_refuses_to_run_with_foreign_keys_on(tmp_path: Path) -> None:
    """Dropping the old copy of a table would otherwise cascade to the rows pointing at it."""
    path = tmp_path / "book.db"
    _filled_file_at_0007(path, tmp_path)
    db = Database.open(path)
    refused = pytest.raises(RuntimeError, match="foreign keys off")
    with refused, db.engine.begin() as connection:
        command.upgrade(dbsvc.alembic_config(connection), "head")
    assert dbsvc.current_revision(db) == "0007"
    db.dispose()


def test_a_migration_that_would_leave_records_pointing_nowhere_changes_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "book.db"
    _filled_file_at_0007(path, tmp_path)
    db = Database.open(path)
    rows_before, _shapes = _snapshot(path)
    broken = pytest.raises(DatabaseError, match=r"would leave records in .*contacts.* pointing")
    with broken, dbsvc._schema_change(db) as connection:
        connection.exec_driver_sql(
            "DELETE FROM customers WHERE id = (SELECT min(customer_id) FROM contacts)"
        )
    assert _snapshot(path)[0] == rows_before
    db.dispose()


def test_a_migration_that_fails_half_way_leaves_the_schema_as_it_was(tmp_path: Path) -> None:
    db = _file_at_0007(tmp_path / "book.db")
    failing = pytest.raises(RuntimeError, match="half way")
    with failing, dbsvc._schema_change(db) as connection:
        connection.exec_driver_sql("DROP INDEX ix_orders_order_date")
        connection.exec_driver_sql("CREATE TABLE half_done (id INTEGER PRIMARY KEY)")
        raise RuntimeError("half way")
    inspector = inspect(db.engine)
    assert "half_done" not in inspector.get_table_names()
    assert "ix_orders_order_date" in {index["name"] for index in inspector.get_indexes("orders")}
    db.dispose()


def test_a_file_with_records_already_pointing_nowhere_is_still_upgraded(
    tmp_path: Path,
) -> None:
    path = tmp_path / "book.db"
    _file_at_0007(path).dispose()
    with sqlite3.connect(path) as connection:  # foreign keys are off on a plain connection
        connection.execute(
            "INSERT INTO contacts (customer_id, name, name_key, is_primary, created_at,"
            " updated_at) VALUES (404, '无主联系人', '无主联系人', 0, '2026-01-01', '2026-01-01')"
        )
    db = dbsvc.open_database(path)
    assert dbsvc.current_revision(db) == dbsvc.head_revision()
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == [
            ("contacts", 1, "customers", 0)
        ]
    db.dispose()


# -- another program holds the write lock ---------------------------------------------------


@pytest.fixture
def quick_to_give_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """A short busy timeout, set before the test's first connection."""
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 200)


@contextmanager
def write_lock_held(path: Path) -> Iterator[None]:
    """Another program (a second smbcrm, a backup tool) in the middle of writing."""
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


def _row_counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as connection:
        return {
            table: int(connection.exec_driver_sql(f'SELECT count(*) FROM "{table}"').scalar() or 0)
            for table in inspect(connection).get_table_names()
        }


def test_import_undo_and_export_say_the_database_is_busy_and_write_nothing(
    quick_to_give_up: None, sqlite_db: Database, tmp_path: Path
) -> None:
    boss = auth.create_company(sqlite_db, "Acme Trading", "boss", "Wang Fang", OWNER_PASSWORD)
    sheet = tmp_path / "customers.csv"
    sheet.write_text("客户名称,手机\n深圳华强,13800138000\n杭州绿源,13912345678\n", "utf-8")
    batch_id = apply_plan(sqlite_db, boss.id, prepare_import(sqlite_db, sheet).plan).batch_id
    plan = prepare_import(sqlite_db, sheet).plan
    before = _row_counts(sqlite_db)
    target = tmp_path / "customers.xlsx"
    path = sqlite_path(sqlite_db.url)
    assert path is not None
    with write_lock_held(path):
        attempts = [
            lambda: apply_plan(sqlite_db, boss.id, plan),
            lambda: undo_batch(sqlite_db, boss.id, batch_id),
            lambda: export(sqlite_db, boss.id, "customers", target),
            lambda: _save_a_customer(sqlite_db),
        ]
        for attempt in attempts:
            with pytest.raises(DatabaseError) as refused:
                attempt()
            assert str(refused.value) == DATABASE_BUSY
    assert _row_counts(sqlite_db) == before
    assert not target.exists()
    _save_a_customer(sqlite_db)  # once the other program is done, writing works again


def _save_a_customer(db: Database) -> None:
    with db.session() as session:
        make_customer(session, "张记五金")


def test_an_upgrade_while_the_file_is_busy_changes_nothing(
    quick_to_give_up: None, tmp_path: Path
) -> None:
    path = tmp_path / "book.db"
    db = _file_at_0007(path)
    with write_lock_held(path), pytest.raises(DatabaseError, match="database is busy"):
        dbsvc.upgrade(db)
    assert dbsvc.current_revision(db) == "0007"
    dbsvc.upgrade(db)
    assert dbsvc.current_revision(db) == dbsvc.head_revision()
    db.dispose()
