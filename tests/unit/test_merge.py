"""Merging customers and undoing merges, on both engines.

The central check compares a full picture of every record around the merged customers
(orders, contacts, contact points, activities, follow-ups, external ids, tags, teams,
ownership records, conversions, cases, ratings, review candidates, referrals, tombstones,
duplicate pairs and every customer column) before a merge and after its undo.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from smbcrm.errors import NotFoundError, PermissionDenied, SmbcrmError, ValidationError
from smbcrm.models import (
    Activity,
    ActivityKind,
    AssignmentChange,
    AuditEntry,
    Case,
    ChangeAction,
    Contact,
    ContactPoint,
    Conversion,
    Customer,
    CustomerKind,
    CustomerStatus,
    Database,
    DuplicatePair,
    DuplicateStatus,
    ExternalId,
    FollowUp,
    ImportBatch,
    ImportKind,
    ImportReviewItem,
    Order,
    Role,
    SatisfactionRating,
    Tag,
    Tier,
    User,
    customer_tags,
    customer_team,
    utcnow,
)
from smbcrm.services import auth, merge
from smbcrm.services.customers import (
    CustomerFilter,
    CustomerList,
    archive_customer,
    customer_detail,
)
from smbcrm.services.importing.apply import apply_plan
from smbcrm.services.importing.plan import ImportOptions
from smbcrm.services.importing.service import prepare_import
from smbcrm.services.merge import MergeUndoConflict
from tests.conftest import add_user
from tests.factories import make_customer, make_order

_NOT_COMPARED = {"version", "updated_at"}  # these move on with every write, by design


@pytest.fixture
def staff(company: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setattr(auth, "hash_password", lambda _password: "not-a-hash")
    add_user(company, "li", Role.SALES, "Li Lei")
    add_user(company, "han", Role.SALES, "Han Meimei")
    add_user(company, "mgr", Role.MANAGER, "Ma Li")
    return company


def _user(session: Session, login: str) -> User:
    return auth.find_user(session, login)


def _set_updated(session: Session, customer_id: int, when: datetime) -> None:
    session.execute(update(Customer).where(Customer.id == customer_id).values(updated_at=when))


def _tag(session: Session, name: str) -> Tag:
    tag = session.scalar(select(Tag).where(Tag.name == name))
    if tag is None:
        tag = Tag(name=name)
        session.add(tag)
        session.flush()
    return tag


def _rows(session: Session, table: Any, where: Any) -> dict[Any, dict[str, Any]]:
    """Every column of every matching row, keyed by id (or by the whole row if it has none)."""
    found: dict[Any, dict[str, Any]] = {}
    for row in session.execute(select(table).where(where)).mappings():
        values = {k: v for k, v in row.items() if k not in _NOT_COMPARED}
        key = values.get("id", tuple(sorted(values.items())))
        found[key] = values
    return found


def picture(session: Session, ids: list[int]) -> dict[str, Any]:
    """Everything a merge of ``ids`` could touch, as plain rows."""
    session.expire_all()
    c = Customer.__table__.c
    tables: dict[str, Any] = {
        "customers": (Customer.__table__, c.id.in_(ids)),
        "pointing": (
            Customer.__table__,
            c.referred_by_id.in_(ids) | c.merged_into_id.in_(ids),
        ),
    }
    for name, model, column in (
        ("orders", Order, "customer_id"),
        ("contacts", Contact, "customer_id"),
        ("contact_points", ContactPoint, "customer_id"),
        ("external_ids", ExternalId, "customer_id"),
        ("activities", Activity, "customer_id"),
        ("follow_ups", FollowUp, "customer_id"),
        ("assignment_changes", AssignmentChange, "customer_id"),
        ("conversions", Conversion, "customer_id"),
        ("cases", Case, "customer_id"),
        ("ratings", SatisfactionRating, "customer_id"),
        ("review_items", ImportReviewItem, "candidate_id"),
    ):
        table = model.__table__
        tables[name] = (table, table.c[column].in_(ids))
    tables["tags"] = (customer_tags, customer_tags.c.customer_id.in_(ids))
    tables["team"] = (customer_team, customer_team.c.customer_id.in_(ids))
    pairs = DuplicatePair.__table__
    tables["pairs"] = (pairs, pairs.c.customer_a_id.in_(ids) | pairs.c.customer_b_id.in_(ids))
    return {name: _rows(session, table, where) for name, (table, where) in tables.items()}


def _assert_same(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert set(before) == set(after)
    for name in before:
        assert after[name] == before[name], f"{name} differ after the undo"


class Book:
    """Three customers of one company written three ways, and everything around them."""

    def __init__(self, db: Database) -> None:
        with db.session() as session:
            li, han, mgr = _user(session, "li"), _user(session, "han"), _user(session, "mgr")
            boss = _user(session, "boss")
            self.referrer = make_customer(session, "推荐人有限公司").id
            a = make_customer(
                session,
                "深圳市华强电子有限公司",
                phones=["13800138000"],
                emails=["sales@huaqiang.cn"],
                contact="王芳",
                external={"erp": "C001"},
                owner_id=li.id,
                city="深圳",
                district="福田区",
                address="华强北路 1 号",
                notes="老客户，月结。",
                custom_fields={"行业": "电子"},
                tier=Tier.B,
                status=CustomerStatus.ACTIVE,
            )
            a.team.append(han)
            a.tags.append(_tag(session, "VIP"))
            b = make_customer(
                session,
                "南山贸易行",
                phones=["+86 138-0013-8000", "13900000001"],
                emails=["buyer@nanshan.cn"],
                contact="李雷",
                external={"erp": "C002", "shop": "S9"},
                owner_id=han.id,
                city="广州",
                tax_id="91440300MA5DC0XK1A",
                website="nanshan.example.cn",
                notes="展会名单 2025",
                custom_fields={"规模": "50人"},
                referred_by_id=self.referrer,
                status=CustomerStatus.PROSPECT,
            )
            b.team.append(mgr)
            b.tags.append(_tag(session, "展会"))
            c = make_customer(
                session,
                "Huaqiang Electronics",
                emails=["SALES@huaqiang.cn"],
                contact="Tom Lee",
                external={"shop": "S10"},
                kind=CustomerKind.COMPANY,
                website="huaqiang.example.com",
                tier=Tier.A,
                status=CustomerStatus.LAPSED,
            )
            c.tags.extend([_tag(session, "VIP"), _tag(session, "海外")])
            session.flush()
            # An older tombstone of C, and a customer B referred.
            self.old = make_customer(session, "华强 Electronics HK").id
            session.execute(
                update(Customer).where(Customer.id == self.old).values(merged_into_id=c.id)
            )
            self.referred = make_customer(session, "被推荐客户", referred_by_id=b.id).id
            self.a, self.b, self.c = a.id, b.id, c.id
            for cid, n in ((a.id, 2), (b.id, 3), (c.id, 2)):
                for i in range(n):
                    make_order(session, session.get(Customer, cid), amount=str(100 * (i + 1)))
            order_b = session.scalar(select(Order.id).where(Order.customer_id == b.id))
            activity = Activity(
                customer_id=b.id, user_id=han.id, kind=ActivityKind.CALL, subject="报价"
            )
            session.add(activity)
            session.add(Activity(customer_id=c.id, kind=ActivityKind.NOTE, subject="Met at fair"))
            session.flush()
            session.add(
                FollowUp(
                    customer_id=b.id,
                    assignee_id=han.id,
                    title="回访",
                    due_date=date(2026, 12, 1),
                    activity_id=activity.id,
                    order_id=order_b,
                )
            )
            session.add(
                AssignmentChange(customer_id=b.id, from_user_id=None, to_user_id=han.id, reason="x")
            )
            session.add(Conversion(customer_id=c.id, order_id=None, prospect_owner_id=boss.id))
            case = Case(customer_id=c.id, title="Late delivery")
            session.add(case)
            session.flush()
            session.add(SatisfactionRating(customer_id=c.id, case_id=case.id, score=4))
            batch = ImportBatch(
                kind=ImportKind.CUSTOMERS,
                source_system="import",
                file_name="x.xlsx",
                status="applied",
            )
            session.add(batch)
            session.flush()
            session.add(
                ImportReviewItem(
                    batch_id=batch.id, row_number=2, values={}, candidate_id=b.id, reason="?"
                )
            )
            ids = sorted([a.id, b.id, c.id])
            session.add(
                DuplicatePair(customer_a_id=ids[0], customer_b_id=ids[1], score=91.0, reasons=[])
            )
            session.add(
                DuplicatePair(
                    customer_a_id=ids[1],
                    customer_b_id=ids[2],
                    score=85.0,
                    reasons=[],
                    status=DuplicateStatus.LATER,
                    decided_by_id=boss.id,
                    decided_at=datetime(2026, 10, 1, 9, 30),
                )
            )
            session.add(
                DuplicatePair(
                    customer_a_id=min(a.id, self.referrer),
                    customer_b_id=max(a.id, self.referrer),
                    score=80.0,
                    reasons=[],
                )
            )
            _set_updated(session, a.id, datetime(2026, 1, 1))
            _set_updated(session, b.id, datetime(2026, 6, 1))
            _set_updated(session, c.id, datetime(2026, 3, 1))

    @property
    def ids(self) -> list[int]:
        return [self.a, self.b, self.c, self.old, self.referred, self.referrer]


@pytest.fixture
def book(staff: Database) -> Book:
    return Book(staff)


def _merge(db: Database, survivor: int, others: list[int], **kw: Any) -> merge.MergeResult:
    with db.session() as session:
        boss = _user(session, "boss")
        session.info["user_id"] = boss.id
        return merge.merge_customers(session, survivor, others, boss, **kw)


def _undo(db: Database, merge_id: int, **kw: Any) -> merge.UndoMergeResult:
    with db.session() as session:
        boss = _user(session, "boss")
        return merge.undo_merge(session, merge_id, boss, **kw)


def test_three_way_merge_moves_everything_and_undo_restores_every_record(
    staff: Database, book: Book
) -> None:
    with staff.new_session() as session:
        before = picture(session, book.ids)
    result = _merge(staff, book.a, [book.b, book.c])
    assert result.absorbed_ids == [book.b, book.c]
    assert result.moved["orders"] == 5
    assert result.moved["contacts"] == 2
    assert result.moved["external_ids"] == 3
    assert result.moved["activities"] == 2
    assert result.moved["follow_ups"] == 1
    assert result.moved["assignment_changes"] == 1
    assert result.moved["conversions"] == result.moved["cases"] == result.moved["ratings"] == 1
    assert result.moved["review_items"] == 1
    assert result.moved["duplicate_points"] == 2  # B's mobile and C's e-mail are A's already
    assert result.moved["tags"] == 2  # 展会 and 海外; VIP was there
    assert result.moved["referrals"] == 1 and result.moved["tombstones"] == 1

    with staff.new_session() as session:
        a = session.get_one(Customer, book.a)
        for model in (Order, Contact, ExternalId, Activity, FollowUp, Conversion, Case):
            left = session.scalars(
                select(model.id).where(model.customer_id.in_([book.b, book.c]))  # type: ignore[attr-defined]
            ).all()
            assert left == [], model
        assert len(session.scalars(select(Order).where(Order.customer_id == a.id)).all()) == 7
        keys = [p.key for p in a.contact_points if p.contact_id is None]
        assert sorted(keys) == sorted(
            ["+8613800138000", "+8613900000001", "sales@huaqiang.cn", "buyer@nanshan.cn"]
        )
        assert [c.name for c in a.contacts if c.is_primary] == ["王芳"]  # one primary contact
        assert {t.name for t in a.tags} == {"VIP", "展会", "海外"}
        assert {u.login for u in a.team} == {"han", "mgr"} - {a.owner.login if a.owner else ""}
        assert {(e.system, e.key) for e in a.external_ids} == {
            ("erp", "C001"),
            ("erp", "C002"),
            ("shop", "S9"),
            ("shop", "S10"),
        }
        # Defaults: B is the most recently updated; the status is the furthest along (A's
        # "active") and the tier the best (C's "A").
        assert a.name == "南山贸易行"
        assert a.status == CustomerStatus.ACTIVE and a.tier == Tier.A
        assert a.city == "深圳" and a.address == "华强北路 1 号"  # A's is the fullest address
        assert a.tax_id == "91440300MA5DC0XK1A"
        assert a.notes is not None and "老客户" in a.notes and "展会名单 2025" in a.notes
        assert a.custom_fields == {"行业": "电子", "规模": "50人"}
        assert a.referred_by_id == book.referrer
        # Derived columns recomputed from the moved records.
        assert "李雷" in a.search_text and "c002" in a.search_text and "s10" in a.search_text
        assert a.primary_contact == "王芳"
        for cid in (book.b, book.c, book.old):
            assert session.get_one(Customer, cid).merged_into_id == a.id
        assert session.get_one(Customer, book.referred).referred_by_id == a.id
        statuses = {
            (p.customer_a_id, p.customer_b_id): p.status
            for p in session.scalars(select(DuplicatePair))
        }
        merged_pairs = [s for pair, s in statuses.items() if book.referrer not in pair]
        assert merged_pairs == [DuplicateStatus.MERGED] * 2
        assert DuplicateStatus.OPEN in statuses.values()  # A with another customer: untouched
        assert customer_detail(session, book.b).id == a.id
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.action == ChangeAction.MERGED)
        ).all()
        assert {e.entity_id for e in audit} == {book.a, book.b, book.c}
        assert all(e.user_id is not None for e in audit)
        rows = merge.list_merges(session, book.b)
        assert [(r.id, r.survivor_id, r.merged_by) for r in rows] == [
            (result.merge_id, book.a, "Wang Fang")
        ]
        assert [name for _id, name in rows[0].absorbed] == ["南山贸易行", "Huaqiang Electronics"]

    undone = _undo(staff, result.merge_id)
    assert undone.restored_ids == [book.b, book.c]
    for key in ("orders", "contacts", "external_ids", "activities", "follow_ups"):
        assert undone.moved_back[key] == result.moved[key], key
    assert undone.moved_back["duplicate_points"] == 2
    with staff.new_session() as session:
        after = picture(session, book.ids)
        _assert_same(before, after)
        undo_rows = merge.list_merges(session)
        assert undo_rows[0].undone_at is not None
        restored = session.scalars(
            select(AuditEntry.entity_id).where(AuditEntry.action == ChangeAction.RESTORED)
        ).all()
        assert sorted(restored) == sorted([book.a, book.b, book.c])
    with pytest.raises(ValidationError, match="already undone"):
        _undo(staff, result.merge_id)


def test_preview_offers_each_field_with_defaults_and_choices_override_them(
    staff: Database, book: Book
) -> None:
    with staff.new_session() as session:
        preview = merge.merge_preview(session, [book.a, book.b, book.c], survivor_id=book.a)
        assert preview.survivor_id == book.a
        assert [s.id for s in preview.sides] == [book.a, book.b, book.c]
        assert [s.order_count for s in preview.sides] == [2, 3, 2]
        fields = {f.field: f for f in preview.fields}
        for name in ("name", "owner_id", "status", "tier", "city", "address", "birthday",
                     "tax_id", "website", "notes", "source", "referred_by_id", "kind"):  # fmt: skip
            assert name in fields, name
        assert fields["name"].default_id == book.b  # most recently updated, non-empty
        assert fields["name"].differs
        assert fields["owner_id"].values == {book.a: "Li Lei", book.b: "Han Meimei", book.c: ""}
        assert fields["owner_id"].default_id == book.b
        assert fields["website"].default_id == book.b  # B newer than C
        assert fields["tax_id"].default_id == book.b  # the only non-empty one
        assert fields["address"].default_id == book.a  # nobody else has a street
        assert fields["city"].default_id == book.a  # the city of the fullest address
        assert fields["status"].default_id == book.a  # active beats lapsed and prospect
        assert fields["tier"].default_id == book.c  # A beats B
        assert fields["birthday"].differs is False
        assert fields["custom_fields.规模"].default_id == book.b
        assert fields["referred_by_id"].values[book.b] == f"推荐人有限公司 (ID {book.referrer})"
        assert preview.moves["orders"] == 5
        assert preview.moves["duplicate_points"] == 2
        assert preview.moves["tags"] == 2
        # Without a survivor asked for, the one with most orders is suggested.
        assert merge.merge_preview(session, [book.a, book.b]).survivor_id == book.b

    result = _merge(
        staff,
        book.a,
        [book.b, book.c],
        choices={"name": book.c, "owner_id": book.a, "city": book.a, "notes": book.b},
    )
    with staff.new_session() as session:
        a = session.get_one(Customer, result.survivor_id)
        assert a.name == "Huaqiang Electronics"
        assert a.owner is not None and a.owner.login == "li"
        assert a.city == "深圳"
        assert a.notes is not None and a.notes.startswith("展会名单 2025")
        assert "老客户" in a.notes
        # The owner did not change, so no ownership record was written for the merge.
        changes = session.scalars(
            select(AssignmentChange.reason).where(AssignmentChange.customer_id == a.id)
        ).all()
        assert not any(r.startswith("Merge") for r in changes)
        with pytest.raises(ValidationError, match="listed twice"):
            merge.merge_preview(session, [book.a, book.a])
    with pytest.raises(ValidationError, match="not a field the merge chooses"):
        _merge(staff, book.referrer, [book.referred], choices={"colour": book.referrer})
    with pytest.raises(ValidationError, match="one of the merged customers"):
        _merge(staff, book.referrer, [book.referred], choices={"name": 999_999})


def test_owner_change_is_recorded_and_undone(staff: Database, book: Book) -> None:
    result = _merge(staff, book.a, [book.b])  # B's owner (Han) is the default: newer
    with staff.new_session() as session:
        a = session.get_one(Customer, book.a)
        assert a.owner is not None and a.owner.login == "han"
        assert "han" not in {u.login for u in a.team}  # the owner is not on their own team
        change = session.scalars(
            select(AssignmentChange)
            .where(AssignmentChange.customer_id == a.id)
            .order_by(AssignmentChange.id.desc())
        ).first()
        assert change is not None and change.reason.startswith(f"Merge {result.merge_id}")
    _undo(staff, result.merge_id)
    with staff.new_session() as session:
        a = session.get_one(Customer, book.a)
        assert a.owner is not None and a.owner.login == "li"
        assert {u.login for u in a.team} == {"han"}
        reasons = session.scalars(
            select(AssignmentChange.reason).where(AssignmentChange.customer_id == a.id)
        ).all()
        assert not any(r.startswith("Merge") for r in reasons)


def _xlsx(path: Path, rows: list[list[Any]]) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("客户")
    for r, row in enumerate([["客户编号", "客户名称", "手机", "城市", "联系人"], *rows]):
        for col, value in enumerate(row):
            sheet.write_string(r, col, value)
    workbook.close()
    return path


def _import(db: Database, path: Path) -> int:
    with db.new_session() as session:
        boss_id = _user(session, "boss").id
    prepared = prepare_import(db, path, ImportKind.CUSTOMERS, options=ImportOptions())
    return apply_plan(db, boss_id, prepared.plan).batch_id


def test_undo_after_a_later_import_asks_about_fields_edited_since(
    staff: Database, tmp_path: Path
) -> None:
    _import(
        staff,
        _xlsx(
            tmp_path / "first.xlsx",
            [
                ["K001", "东方商行", "13700000001", "上海", "赵敏"],
                ["K002", "东方商行浦东店", "13700000002", "杭州", "周芷若"],
            ],
        ),
    )
    with staff.new_session() as session:
        first = session.scalar(select(Customer.id).where(Customer.name == "东方商行"))
        second = session.scalar(select(Customer.id).where(Customer.name == "东方商行浦东店"))
        assert first is not None and second is not None
        ids = [first, second]
        before = picture(session, ids)
    result = _merge(staff, first, [second], choices={"name": first, "city": second})

    # The accounting system's next export: K002 is now the survivor (its code moved there);
    # the row moves the city and brings a new phone and contact.
    _import(
        staff,
        _xlsx(tmp_path / "later.xlsx", [["K002", "东方商行", "13700000009", "南京", "张无忌"]]),
    )
    with staff.new_session() as session:
        survivor = session.get_one(Customer, first)
        assert survivor.city == "南京"
        assert survivor.primary_phone is not None
        assert "张无忌" in [c.name for c in survivor.contacts]

    with pytest.raises(MergeUndoConflict) as asked:
        _undo(staff, result.merge_id)
    questions = asked.value.questions
    assert [q.key for q in questions] == ["city"]
    assert "City was changed to “南京” after the merge by Wang Fang on" in questions[0].text
    assert "restore “上海”" in questions[0].text
    assert [value for value, _label in questions[0].options] == ["keep", "restore"]
    with staff.new_session() as session:  # asking changed nothing
        assert session.get_one(Customer, second).merged_into_id == first

    # Keep the later value: tried, then rolled back, to try the other answer too.
    with staff.new_session() as session:
        boss = _user(session, "boss")
        merge.undo_merge(session, result.merge_id, boss, answers={"city": "keep"})
        session.flush()
        assert session.get_one(Customer, first).city == "南京"
        session.rollback()

    with pytest.raises(ValidationError, match="keep' or 'restore"):
        _undo(staff, result.merge_id, answers={"city": "maybe"})
    undone = _undo(staff, result.merge_id, answers={"city": "restore"})
    assert undone.moved_back["external_ids"] == 1
    with staff.new_session() as session:
        survivor = session.get_one(Customer, first)
        absorbed = session.get_one(Customer, second)
        assert survivor.city == "上海"
        assert absorbed.merged_into_id is None
        # What the later import created stays with the survivor; what moved went back.
        assert "张无忌" in [c.name for c in survivor.contacts]
        assert [c.name for c in absorbed.contacts] == ["周芷若"]
        assert [(e.system, e.key) for e in absorbed.external_ids] == [("import", "K002")]
        assert "+8613700000009" in {p.key for p in survivor.contact_points}
        now = picture(session, ids)
        assert now["customers"][second] == before["customers"][second]
        assert now["contacts"].keys() - before["contacts"].keys()  # the later contact


def test_undo_asks_about_fields_a_later_import_changed_that_the_merge_left_alone(
    staff: Database, tmp_path: Path
) -> None:
    _import(
        staff,
        _xlsx(
            tmp_path / "first.xlsx",
            [
                ["K001", "甲公司", "13700000001", "上海", "赵敏"],
                ["K002", "乙公司", "13700000002", "北京", "周芷若"],
            ],
        ),
    )
    with staff.new_session() as session:
        first = session.scalars(select(Customer.id).where(Customer.name == "甲公司")).one()
        second = session.scalars(select(Customer.id).where(Customer.name == "乙公司")).one()
    # The survivor keeps its own name and city: the merge changes neither.
    result = _merge(staff, first, [second], choices={"name": first, "city": first})
    # The next export of the source still calls K002 乙公司, now in 天津: its code moved to
    # the survivor, so the row renames and moves 甲公司.
    batch = _import(
        staff, _xlsx(tmp_path / "later.xlsx", [["K002", "乙公司(新名)", "13700000002", "天津", ""]])
    )
    with staff.new_session() as session:
        assert session.get_one(Customer, first).name == "乙公司(新名)"

    with pytest.raises(MergeUndoConflict) as asked:
        _undo(staff, result.merge_id)
    questions = {q.key: q.text for q in asked.value.questions}
    assert set(questions) == {"name", "city"}
    assert questions["name"] == (
        f"Name was changed to “乙公司(新名)” by import batch {batch} after the merge; its row "
        "may have been about a customer this undo puts back: keep “乙公司(新名)” on "
        "乙公司(新名), or restore “甲公司”?"
    )
    with staff.new_session() as session:  # asking changed nothing
        assert session.get_one(Customer, second).merged_into_id == first

    _undo(staff, result.merge_id, answers={"name": "restore", "city": "restore"})
    with staff.new_session() as session:
        survivor = session.get_one(Customer, first)
        absorbed = session.get_one(Customer, second)
        assert (survivor.name, survivor.city) == ("甲公司", "上海")
        assert (absorbed.name, absorbed.city, absorbed.merged_into_id) == ("乙公司", "北京", None)


def test_two_merges_into_one_survivor_undo_in_either_order(staff: Database, book: Book) -> None:
    with staff.new_session() as session:
        before = picture(session, book.ids)
    first = _merge(staff, book.a, [book.b])
    second = _merge(staff, book.a, [book.c])
    with staff.new_session() as session:
        assert session.get_one(Customer, book.old).merged_into_id == book.a
    _undo(staff, first.merge_id)
    with staff.new_session() as session:
        a = session.get_one(Customer, book.a)
        # B's tag went back with B; C's stays while C is merged in.
        assert {t.name for t in a.tags} == {"VIP", "海外"}
        assert session.get_one(Customer, book.b).merged_into_id is None
        assert session.get_one(Customer, book.c).merged_into_id == book.a
    _undo(staff, second.merge_id, answers={"name": "restore", "notes": "restore"})
    with staff.new_session() as session:
        _assert_same(before, picture(session, book.ids))


def test_second_merge_undone_first(staff: Database, book: Book) -> None:
    with staff.new_session() as session:
        before = picture(session, book.ids)
    first = _merge(staff, book.a, [book.b])
    second = _merge(staff, book.a, [book.c])
    _undo(staff, second.merge_id)
    _undo(staff, first.merge_id)
    with staff.new_session() as session:
        _assert_same(before, picture(session, book.ids))


def test_undo_refused_while_the_survivor_is_merged_away(staff: Database, book: Book) -> None:
    first = _merge(staff, book.a, [book.b])
    later = _merge(staff, book.c, [book.a])
    with pytest.raises(SmbcrmError, match=f"undo merge {later.merge_id} first"):
        _undo(staff, first.merge_id)
    with staff.new_session() as session:
        # B's records went on to C with A's.
        assert session.get_one(Customer, book.b).merged_into_id == book.c
    _undo(staff, later.merge_id, answers={"name": "restore"})
    _undo(staff, first.merge_id)
    with staff.new_session() as session:
        assert session.get_one(Customer, book.b).merged_into_id is None
        assert session.scalar(select(Order.id).where(Order.customer_id == book.b)) is not None


def test_search_by_an_old_name_or_code_finds_the_survivor_once(staff: Database, book: Book) -> None:
    listing = CustomerList(staff.default_region())
    with staff.new_session() as session:
        assert [r.id for r in listing.page(session, CustomerFilter(text="南山贸易"))] == [book.b]
    result = _merge(staff, book.a, [book.b, book.c], choices={"name": book.a})
    listing.index.touch()
    with staff.new_session() as session:
        for text in ("南山贸易", "Huaqiang Electronics", "C002", "S10", "华强 Electronics HK"):
            rows = listing.page(session, CustomerFilter(text=text))
            assert [r.id for r in rows] == [book.a], text
            assert listing.count(session, CustomerFilter(text=text)) == 1, text
        # A fresh desktop (full load) finds it the same way.
        fresh = CustomerList(staff.default_region())
        assert [r.id for r in fresh.page(session, CustomerFilter(text="南山"))] == [book.a]
        assert fresh.position(session, CustomerFilter(text="南山"), book.a) == 0
        assert fresh.index.matching_ids(["南山贸易行"]) == [book.a]
        # With archived customers included the list searches in SQL: same answer.
        archived_too = CustomerFilter(text="南山贸易", include_archived=True)
        assert [r.id for r in listing.page(session, archived_too)] == [book.a]
        assert listing.count(session, archived_too) == 1
    _undo(staff, result.merge_id)
    listing.index.touch()
    with staff.new_session() as session:
        assert [r.id for r in listing.page(session, CustomerFilter(text="南山贸易"))] == [book.b]
        assert [r.id for r in listing.page(session, CustomerFilter(text="S10"))] == [book.c]


def test_salespeople_may_not_merge_or_undo(staff: Database, book: Book) -> None:
    with staff.new_session() as session:
        li = _user(session, "li")
        with pytest.raises(PermissionDenied, match="may not merge customers"):
            merge.merge_customers(session, book.a, [book.b], li)
    result = _merge(staff, book.a, [book.b])
    with staff.new_session() as session:
        li = _user(session, "li")
        with pytest.raises(PermissionDenied):
            merge.undo_merge(session, result.merge_id, li)
        mgr = _user(session, "mgr")
        merge.undo_merge(session, result.merge_id, mgr)  # a manager may


def test_bad_merges_are_refused_clearly(staff: Database, book: Book) -> None:
    with pytest.raises(ValidationError, match=f"Customer {book.b} is listed twice"):
        _merge(staff, book.a, [book.b, book.b])
    with pytest.raises(ValidationError, match="listed twice"):
        _merge(staff, book.a, [book.a])
    with pytest.raises(ValidationError, match="at least two"):
        _merge(staff, book.a, [])
    with pytest.raises(ValidationError, match="already merged into customer"):
        _merge(staff, book.a, [book.old])
    with pytest.raises(NotFoundError, match="999999"):
        _merge(staff, book.a, [999_999])
    with staff.session() as session:
        boss = _user(session, "boss")
        archive_customer(session, boss, book.referrer)
    with pytest.raises(ValidationError, match="is archived; restore it first"):
        _merge(staff, book.a, [book.referrer])
    with pytest.raises(NotFoundError, match="no merge 4242"):
        _undo(staff, 4242)
    with staff.new_session() as session:
        assert session.scalar(select(Customer.merged_into_id).where(Customer.id == book.b)) is None


def test_a_customer_with_thousands_of_orders_merges_quickly(staff: Database) -> None:
    with staff.session() as session:
        keep = make_customer(session, "大客户").id
        other = make_customer(session, "大客户（旧）").id
        session.execute(
            insert(Order),
            [
                {
                    "customer_id": other,
                    "source_system": "erp",
                    "order_number": f"SO{i:06d}",
                    "order_date": date(2025, 1, 1) + timedelta(days=i % 365),
                    "amount": Decimal("10.00"),
                    "created_at": utcnow(),
                }
                for i in range(5000)
            ],
        )
    started = time.perf_counter()
    result = _merge(staff, keep, [other])
    merged_in = time.perf_counter() - started
    assert result.moved["orders"] == 5000
    started = time.perf_counter()
    undone = _undo(staff, result.merge_id)
    undone_in = time.perf_counter() - started
    assert undone.moved_back["orders"] == 5000
    assert merged_in < 5 and undone_in < 5, (merged_in, undone_in)


def test_what_two_merges_both_brought_stays_until_both_are_undone(staff: Database) -> None:
    with staff.session() as session:
        made = [
            make_customer(session, "恒通五金"),
            make_customer(session, "恒通五金（旧）", phones=["13611112222"]),
            make_customer(session, "Hengtong Hardware", phones=["136 1111 2222"]),
        ]
        for customer in made[1:]:
            customer.tags.append(_tag(session, "五金"))
        session.flush()
        ids = [c.id for c in made]
        keep, first, second = ids
        before = picture(session, ids)
    one = _merge(staff, keep, [first], choices={"name": keep})
    two = _merge(staff, keep, [second], choices={"name": keep})
    assert two.moved["duplicate_points"] == 1 and two.moved["tags"] == 0
    _undo(staff, one.merge_id)
    with staff.new_session() as session:
        survivor = session.get_one(Customer, keep)
        # The second customer's phone and tag are still merged in, so they stay.
        assert [p.key for p in survivor.contact_points] == ["+8613611112222"]
        assert [t.name for t in survivor.tags] == ["五金"]
        assert survivor.primary_phone == "+8613611112222"
    _undo(staff, two.merge_id)
    with staff.new_session() as session:
        now = picture(session, ids)
        survivor = session.get_one(Customer, keep)
        assert survivor.contact_points == [] and survivor.tags == []
    # The phone came back to the second customer as a record again (its id may differ).
    for rows in (before["contact_points"], now["contact_points"]):
        for row in rows.values():
            row.pop("id")
    before["contact_points"] = sorted(before["contact_points"].values(), key=repr)
    now["contact_points"] = sorted(now["contact_points"].values(), key=repr)
    _assert_same(before, now)


def test_an_import_whose_new_customer_was_merged_since_is_undone_after_the_merge(
    staff: Database, book: Book, tmp_path: Path
) -> None:
    from smbcrm.services.importing.undo import UndoBlockedByMerge, undo_batch

    path = tmp_path / "new.csv"
    path.write_text("客户名称,手机\n新来的贸易公司,13911112222\n", encoding="utf-8")
    with staff.new_session() as session:
        boss_id = _user(session, "boss").id
    batch = apply_plan(staff, boss_id, prepare_import(staff, path).plan).batch_id
    with staff.new_session() as session:
        created = session.scalars(
            select(Customer.id).where(Customer.name == "新来的贸易公司")
        ).one()
    result = _merge(staff, book.a, [created])
    # Undone first, the batch would leave the tombstone for the merge to bring back.
    with pytest.raises(UndoBlockedByMerge) as refused:
        undo_batch(staff, boss_id, batch, force=True)
    assert refused.value.merge_ids == [result.merge_id]
    _undo(staff, result.merge_id)
    undone = undo_batch(staff, boss_id, batch, force=True)
    assert undone.removed == 1 and undone.kept == []
    with staff.new_session() as session:
        assert session.get(Customer, created) is None
