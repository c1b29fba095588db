"""Undoing a customers import in the cases that used to go wrong: large batches, staff the
import added, merges made since, later edits a forced undo throws away, list columns, and
rows left for review. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from smbcrm.errors import Cancelled, NotFoundError, SmbcrmError
from smbcrm.models import (
    AssignmentChange,
    AuditEntry,
    BatchStatus,
    ChangeAction,
    Customer,
    Database,
    ImportBatch,
    ImportReviewItem,
    Merge,
    User,
)
from smbcrm.services.auth import set_password
from smbcrm.services.cases import CaseInput, open_case
from smbcrm.services.customers import (
    CustomerFilter,
    CustomerList,
    add_contact,
    input_from_customer,
    update_customer,
)
from smbcrm.services.importing.apply import BatchResult, apply_plan
from smbcrm.services.importing.plan import ImportOptions, OnDuplicate
from smbcrm.services.importing.review import pending_reviews, resolve_review
from smbcrm.services.importing.service import prepare_import
from smbcrm.services.importing.undo import UndoBlockedByMerge, UndoConflict, undo_batch
from smbcrm.services.merge import merge_customers, undo_merge
from smbcrm.services.progress import CancelToken, Progress
from tests.factories import make_customer

LIST_COLUMNS = (
    "name_key",
    "sort_key",
    "tax_id_key",
    "city_key",
    "primary_phone",
    "primary_email",
    "primary_contact",
    "search_text",
)


def _csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _boss(db: Database) -> int:
    with db.new_session() as session:
        return int(session.scalars(select(User.id).where(User.login == "boss")).one())


def _import(db: Database, path: Path, **options: Any) -> BatchResult:
    prepared = prepare_import(db, path, options=ImportOptions(**options))
    return apply_plan(db, _boss(db), prepared.plan)


def _customer_id(db: Database, name: str) -> int:
    with db.new_session() as session:
        return int(session.scalars(select(Customer.id).where(Customer.name == name)).one())


def _count(db: Database, model: Any) -> int:
    with db.new_session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _merge(db: Database, survivor: int, others: list[int]) -> int:
    with db.session(user_id=_boss(db)) as session:
        boss = session.get_one(User, _boss(db))
        return merge_customers(session, survivor, others, boss).merge_id


def _undo_merge(db: Database, merge_id: int) -> None:
    with db.session(user_id=_boss(db)) as session:
        undo_merge(session, merge_id, session.get_one(User, _boss(db)))


# -- 1. large batches --------------------------------------------------------------------


def _statements_to_undo(db: Database, tmp_path: Path, prefix: str, rows: int) -> int:
    """Import ``rows`` customers, then a file that changes each of them (new city, phone,
    contact, code and tag) and adds as many new ones; count the statements undoing it runs."""
    first = ["客户编号,客户名称,手机,城市"] + [
        f"{prefix}{i},{prefix}老客户{i},1391{ord(prefix[0]) % 10}{i:06d},广州" for i in range(rows)
    ]
    _import(db, _csv(tmp_path / f"{prefix}-1.csv", first))
    second = ["客户编号,客户名称,手机,邮箱,城市,联系人,标签"] + [
        line
        for i in range(rows)
        for line in (
            f"{prefix}{i},{prefix}老客户{i},1372{ord(prefix[0]) % 10}{i:06d},"
            f"{prefix.lower()}{i}@example.cn,深圳,联系人{i},展会",
            f"{prefix}N{i},{prefix}新客户{i},1383{ord(prefix[0]) % 10}{i:06d},,深圳,新联系人{i},展会",
        )
    ]
    batch = _import(db, _csv(tmp_path / f"{prefix}-2.csv", second))
    assert (batch.created, batch.updated) == (rows, rows)
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        undone = undo_batch(db, _boss(db), batch.batch_id)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert (undone.restored, undone.removed) == (rows, rows)
    with db.new_session() as session:
        cities = session.scalars(
            select(Customer.city).where(Customer.name.like(f"{prefix}%"))
        ).all()
        assert cities == ["广州"] * rows
    return statements


def test_undoing_a_batch_runs_as_many_statements_for_300_rows_as_for_5(
    company: Database, tmp_path: Path
) -> None:
    few = _statements_to_undo(company, tmp_path, "A", 5)
    many = _statements_to_undo(company, tmp_path, "B", 300)
    assert many == few


# -- 2. staff the import added --------------------------------------------------------------


def test_a_batch_that_added_staff_is_undone_and_the_staff_go_with_it(
    company: Database, tmp_path: Path
) -> None:
    _import(company, _csv(tmp_path / "1.csv", ["客户名称,手机,城市", "深圳华强,13800138000,深圳"]))
    existing = _customer_id(company, "深圳华强")
    with company.new_session() as session:
        owner_before = session.get_one(Customer, existing).owner_id
    batch = _import(
        company,
        _csv(
            tmp_path / "2.csv",
            [
                "客户名称,手机,城市,负责销售",
                "深圳华强,13800138000,深圳,李新人",
                "新客户,13900139000,广州,李新人",
            ],
        ),
        create_missing_staff=True,
    )
    assert batch.created_staff == ["李新人 (lixinren)"]

    undone = undo_batch(company, _boss(company), batch.batch_id)

    assert undone.staff_removed == ["李新人 (lixinren)"] and undone.staff_kept == []
    assert any("李新人 (lixinren)" in note for note in undone.notes)
    with company.new_session() as session:
        assert session.scalar(select(User).where(User.login == "lixinren")) is None
        assert session.get_one(Customer, existing).owner_id == owner_before
        assert session.scalar(select(Customer).where(Customer.name == "新客户")) is None
        # No record of owners names the person any more, and the removal is audited.
        staff_id = session.scalars(
            select(AuditEntry.entity_id).where(
                AuditEntry.entity == "user", AuditEntry.action == ChangeAction.CREATED
            )
        ).all()[-1]
        assert (
            session.scalar(
                select(func.count())
                .select_from(AssignmentChange)
                .where(
                    (AssignmentChange.to_user_id == staff_id)
                    | (AssignmentChange.from_user_id == staff_id)
                )
            )
            == 0
        )
        assert session.scalar(
            select(AuditEntry.id).where(
                AuditEntry.entity == "user",
                AuditEntry.entity_id == staff_id,
                AuditEntry.action == ChangeAction.DELETED,
            )
        )


def test_staff_the_import_added_who_are_in_use_since_are_kept_and_the_undo_says_why(
    company: Database, tmp_path: Path
) -> None:
    _import(company, _csv(tmp_path / "1.csv", ["客户名称,手机", "深圳华强,13800138000"]))
    existing = _customer_id(company, "深圳华强")
    batch = _import(
        company,
        _csv(tmp_path / "2.csv", ["客户名称,手机,负责销售", "深圳华强,13800138000,李新人"]),
        create_missing_staff=True,
    )
    with company.session(user_id=_boss(company)) as session:
        boss = session.get_one(User, _boss(company))
        staff = session.scalars(select(User).where(User.login == "lixinren")).one()
        set_password(session, boss, staff, "a-long-password-1")
        make_customer(session, "老王五金", owner_id=staff.id)
        staff_id = staff.id

    undone = undo_batch(company, _boss(company), batch.batch_id)

    assert undone.staff_kept == ["李新人 (lixinren)"] and undone.staff_removed == []
    assert any(
        "Kept 李新人 (lixinren)" in note and "owns 1 customer," in note and "has a password" in note
        for note in undone.notes
    )
    with company.new_session() as session:
        assert session.get(User, staff_id) is not None
        customer = session.get_one(Customer, existing)
        assert customer.owner_id is None
        reasons = session.scalars(
            select(AssignmentChange.reason).where(AssignmentChange.customer_id == existing)
        ).all()
        assert reasons[-1] == f"Undo of import batch {batch.batch_id}"


# -- 3. merges made since ------------------------------------------------------------------


def test_an_undo_after_a_merge_names_the_merge_and_goes_ahead_once_it_is_undone(
    company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        old = make_customer(session, "老客户", phones=["13700000001"], contact="赵经理").id
    batch = _import(
        company,
        _csv(
            tmp_path / "new.csv",
            [
                "客户名称,手机",
                "新客户甲,13800138001",
                "新客户乙,13800138002",
                "新客户丙,13800138003",
            ],
        ),
    )
    first, second, third = (_customer_id(company, f"新客户{n}") for n in "甲乙丙")
    absorbing = _merge(company, first, [old])  # an existing customer merged into a new one
    together = _merge(company, third, [second])  # two new ones merged with each other
    customers_before = _count(company, Customer)

    for force in (False, True):
        with pytest.raises(UndoBlockedByMerge) as refused:
            undo_batch(company, _boss(company), batch.batch_id, force=force)
        text = str(refused.value)
        assert refused.value.merge_ids == [together, absorbing]
        assert f"Merge {absorbing}: 老客户 (ID {old}) into 新客户甲 (ID {first})." in text
        assert f"Merge {together}: 新客户乙 (ID {second}) into 新客户丙 (ID {third})." in text
        assert f"Undo merges {together}, {absorbing}, newest first" in text
    assert _count(company, Customer) == customers_before

    _undo_merge(company, together)
    _undo_merge(company, absorbing)
    # The merges changed the new customers, so the undo asks first.
    with pytest.raises(UndoConflict):
        undo_batch(company, _boss(company), batch.batch_id)
    undone = undo_batch(company, _boss(company), batch.batch_id, force=True)

    assert undone.removed == 3 and undone.kept == []
    with company.new_session() as session:
        assert session.scalars(select(Customer.id)).all() == [old]
        survivor = session.get_one(Customer, old)
        assert [p.value for p in survivor.contact_points] == ["13700000001"]
        assert survivor.merged_into_id is None
        # The undone merges that kept a removed customer went with it.
        assert session.scalars(select(Merge.id)).all() == []


def test_a_new_customer_merged_into_an_existing_one_is_not_left_behind(
    company: Database, tmp_path: Path
) -> None:
    """Undo of the batch, then of the merge, used to bring the batch's customer back."""
    with company.session() as session:
        old = make_customer(session, "甲公司", phones=["13800000001"]).id
    batch = _import(company, _csv(tmp_path / "b.csv", ["客户名称,手机", "乙公司,13700000007"]))
    new = _customer_id(company, "乙公司")
    merge_id = _merge(company, old, [new])
    with pytest.raises(UndoBlockedByMerge):
        undo_batch(company, _boss(company), batch.batch_id, force=True)
    _undo_merge(company, merge_id)
    undo_batch(company, _boss(company), batch.batch_id, force=True)
    with company.new_session() as session:
        assert session.scalars(select(Customer.name)).all() == ["甲公司"]
        assert session.get_one(ImportBatch, batch.batch_id).status == BatchStatus.UNDONE


def test_a_merge_made_before_the_import_does_not_stop_its_undo(
    company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        keep = make_customer(session, "华强电子", phones=["13800138000"], city="广州").id
        gone = make_customer(session, "华强电子（旧）", phones=["13900139000"]).id
    _merge(company, keep, [gone])
    batch = _import(
        company, _csv(tmp_path / "u.csv", ["客户名称,手机,城市", "华强电子,13800138000,深圳"])
    )
    assert batch.updated == 1
    undone = undo_batch(company, _boss(company), batch.batch_id)
    assert undone.restored == 1
    with company.new_session() as session:
        assert session.get_one(Customer, keep).city == "广州"


# -- 4. what a forced undo throws away -----------------------------------------------------


def test_the_later_edits_list_says_what_undoing_anyway_would_lose(
    company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        kept_city = make_customer(session, "绿源茶业", phones=["13600136000"], city="杭州").id
        kept_notes = make_customer(session, "华强电子", phones=["13500135000"], city="广州").id
    batch = _import(
        company,
        _csv(
            tmp_path / "e.csv",
            [
                "客户名称,手机,城市",
                "新客户N,13800138000,深圳",
                "绿源茶业,13600136000,上海",
                "华强电子,13500135000,深圳",
            ],
        ),
    )
    new = _customer_id(company, "新客户N")
    boss_id = _boss(company)
    with company.session(user_id=boss_id) as session:
        boss = session.get_one(User, boss_id)
        for cid, change in ((new, "notes"), (kept_city, "city"), (kept_notes, "notes")):
            customer = session.get_one(Customer, cid)
            data = input_from_customer(customer)
            if change == "notes":
                data.notes = "客户要求每月初报价"
            else:
                data.city = "宁波"
            if cid == new:
                data.phones = [*data.phones, "13911112222"]
            update_customer(session, boss, cid, data)
        add_contact(session, boss, new, name="采购部李工", phones=["13699998888"])

    with pytest.raises(UndoConflict) as asked:
        undo_batch(company, boss_id, batch.batch_id)
    conflict = asked.value
    assert conflict.later_edits == [
        f"新客户N (ID {new})",
        f"绿源茶业 (ID {kept_city})",
        f"华强电子 (ID {kept_notes})",
    ]
    removed, replaced, stays = conflict.details
    assert removed.startswith(f"新客户N (ID {new}) was created by the import; undoing removes it")
    for lost in ("notes", "phone 13911112222", "contact 采购部李工", "phone 13699998888"):
        assert lost in removed
    assert replaced.startswith(f"绿源茶业 (ID {kept_city}): undoing puts back")
    assert "replacing what was changed since in city" in replaced
    assert "stay" in stays and "notes" not in stays
    assert all(detail in str(conflict) for detail in conflict.details)

    undo_batch(company, boss_id, batch.batch_id, force=True)
    with company.new_session() as session:
        assert session.get(Customer, new) is None
        assert session.get_one(Customer, kept_city).city == "杭州"
        notes_kept = session.get_one(Customer, kept_notes)
        assert (notes_kept.city, notes_kept.notes) == ("广州", "客户要求每月初报价")


# -- 5. list columns -----------------------------------------------------------------------


def test_undo_puts_the_list_columns_and_search_back_as_they_were(
    company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        existing = make_customer(session, "华强电子", emails=["x@huaqiang.cn"], city="广州").id
    with company.new_session() as session:
        customer = session.get_one(Customer, existing)
        before = {column: getattr(customer, column) for column in LIST_COLUMNS}
    batch = _import(
        company,
        _csv(
            tmp_path / "s.csv",
            [
                "客户编号,客户名称,手机,邮箱,联系人,城市,标签",
                "H1,华强电子,13800138000,x@huaqiang.cn,王芳,深圳,展会",
            ],
        ),
    )
    assert batch.updated == 1
    listing = CustomerList(company.default_region())
    with company.new_session() as session:
        assert [r.name for r in listing.page(session, CustomerFilter(text="王芳"))] == ["华强电子"]

    undo_batch(company, _boss(company), batch.batch_id)

    # A desktop opened now, so nothing comes from a copy of the list made before.
    listing = CustomerList(company.default_region())
    with company.new_session() as session:
        customer = session.get_one(Customer, existing)
        assert {column: getattr(customer, column) for column in LIST_COLUMNS} == before
        assert customer.tags == [] and customer.contacts == []
        for text in ("138 0013 8000", "王芳", "H1"):
            assert listing.page(session, CustomerFilter(text=text)) == []
        assert [r.name for r in listing.page(session, CustomerFilter(text="广州"))] == ["华强电子"]


# -- 6. rows left for review ---------------------------------------------------------------


def test_undoing_a_batch_closes_the_rows_it_left_for_review(
    company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        make_customer(session, "深圳华强电子有限公司", phones=["13800138000"], city="广州")
    batch = _import(
        company,
        _csv(tmp_path / "r.csv", ["客户名称,手机,城市", "深圳华强电子有限公司,13800138000,深圳"]),
        on_duplicate=OnDuplicate.REVIEW,
    )
    assert batch.review == 1
    with company.new_session() as session:
        [row] = pending_reviews(session)

    undone = undo_batch(company, _boss(company), batch.batch_id)

    assert "Closed 1 row of the import that was waiting for review." in undone.notes
    with company.new_session() as session:
        assert pending_reviews(session) == []
    with pytest.raises(NotFoundError):
        resolve_review(company, _boss(company), row.id, "create")


def test_rows_of_a_batch_undone_before_are_not_offered_for_review(
    company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        make_customer(session, "深圳华强电子有限公司", phones=["13800138000"])
    batch = _import(
        company,
        _csv(tmp_path / "r.csv", ["客户名称,手机", "深圳华强电子有限公司,13800138000"]),
        on_duplicate=OnDuplicate.REVIEW,
    )
    # A book undone by an earlier version, which left the rows waiting.
    with company.session() as session:
        session.get_one(ImportBatch, batch.batch_id).status = BatchStatus.UNDONE
        item = session.scalars(select(ImportReviewItem.id)).one()
    with company.new_session() as session:
        assert pending_reviews(session) == []
    customers = _count(company, Customer)
    with pytest.raises(SmbcrmError, match="was undone"):
        resolve_review(company, _boss(company), item, "create")
    assert _count(company, Customer) == customers


# -- what else keeps a new customer, and all or nothing -----------------------------------


def test_new_customers_that_other_records_refer_to_are_kept_with_the_reason(
    company: Database, tmp_path: Path
) -> None:
    batch = _import(
        company,
        _csv(
            tmp_path / "k.csv",
            [
                "客户名称,手机",
                "有投诉的客户,13800138001",
                "介绍人,13800138002",
                "无关的客户,13800138003",
            ],
        ),
    )
    complained, referrer = _customer_id(company, "有投诉的客户"), _customer_id(company, "介绍人")
    boss_id = _boss(company)
    with company.session(user_id=boss_id) as session:
        boss = session.get_one(User, boss_id)
        open_case(session, boss, CaseInput(customer_id=complained, title="货物破损"))
        make_customer(session, "老客户", referred_by_id=referrer)

    undone = undo_batch(company, boss_id, batch.batch_id)

    assert undone.removed == 1
    assert sorted(undone.kept) == sorted(
        [f"有投诉的客户 (ID {complained})", f"介绍人 (ID {referrer})"]
    )
    assert f"Kept, as they have service cases: 有投诉的客户 (ID {complained})." in undone.notes
    assert (
        f"Kept, as other customers name them as their referrer: 介绍人 (ID {referrer})."
        in undone.notes
    )


def test_a_cancelled_undo_leaves_everything_as_it_was(company: Database, tmp_path: Path) -> None:
    with company.session() as session:
        existing = make_customer(session, "华强电子", phones=["13800138000"], city="广州").id
    batch = _import(
        company,
        _csv(
            tmp_path / "c.csv",
            [
                "客户名称,手机,城市,负责销售",
                "华强电子,13800138000,深圳,李新人",
                "新客户,13900139000,,李新人",
            ],
        ),
        create_missing_staff=True,
    )
    customers, users = _count(company, Customer), _count(company, User)
    token = CancelToken()
    reports: list[int] = []

    def cancel_late(done: int, _total: int, _message: str) -> None:
        reports.append(done)
        if len(reports) == 2:
            token.cancel()

    with pytest.raises(Cancelled):
        undo_batch(company, _boss(company), batch.batch_id, progress=Progress(cancel_late, token))
    assert (_count(company, Customer), _count(company, User)) == (customers, users)
    with company.new_session() as session:
        assert session.get_one(Customer, existing).city == "深圳"
        assert session.get_one(ImportBatch, batch.batch_id).status == BatchStatus.APPLIED
