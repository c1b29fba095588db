"""Importing customers end to end on both engines: files the tests build themselves."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select

from smbcrm.errors import Cancelled, PermissionDenied
from smbcrm.models import (
    AssignmentChange,
    AuditEntry,
    BatchStatus,
    Customer,
    CustomerStatus,
    Database,
    ImportBatch,
    ImportKind,
    ImportReviewItem,
    Role,
    User,
)
from smbcrm.services.customers import (
    CustomerInput,
    get_customer,
    input_from_customer,
    update_customer,
)
from smbcrm.services.importing.apply import ImportRefused, apply_plan
from smbcrm.services.importing.fields import Field
from smbcrm.services.importing.mapping import save_mapping
from smbcrm.services.importing.plan import ImportOptions, OnDuplicate, Outcome
from smbcrm.services.importing.problems import write_problem_rows
from smbcrm.services.importing.service import MappingError, prepare_import
from smbcrm.services.importing.undo import UndoConflict, list_batches, undo_batch
from smbcrm.services.progress import CancelToken, Progress
from tests.conftest import add_user
from tests.factories import make_customer

HEADER = ["客户编号", "客户名称", "联系人", "手机", "邮箱", "城市", "负责销售", "生日"]


def gbk_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    """What Excel on Chinese Windows saves: GBK, a title block above the header, a totals row."""
    with path.open("w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["客户名单"])
        writer.writerow(["导出日期：2024-03-01"])
        writer.writerow([])
        writer.writerow(header)
        writer.writerows(rows)
        writer.writerow(["合计", f"{len(rows)} 家"])
    return path


ROWS = [
    [
        "C001",
        "深圳市华强电子有限公司",
        "王芳",
        "13800138000",
        "wang@huaqiang.cn",
        "深圳",
        "Wang Fang",
        "",
    ],
    ["C002", "杭州绿源茶业有限公司", "陈静", "+86 139-1234-5678", "", "杭州", "", ""],
    ["C003", "张伟", "", "(+86)137 0000 1111", "zhangwei@mail.cn", "北京", "", "1985年5月1日"],
]


def _owner_id(db: Database) -> int:
    with db.new_session() as session:
        return session.scalar(select(User.id).where(User.login == "boss"))  # type: ignore[return-value]


def run_import(db: Database, path: Path, **options: object) -> tuple[object, object]:
    prepared = prepare_import(db, path, ImportKind.CUSTOMERS, options=ImportOptions(**options))  # type: ignore[arg-type]
    result = apply_plan(db, _owner_id(db), prepared.plan)
    return prepared, result


def customer_count(db: Database) -> int:
    with db.new_session() as session:
        return int(session.scalar(select(func.count()).select_from(Customer)) or 0)


def test_gbk_csv_with_title_block_imports_and_a_second_run_changes_nothing(
    company: Database, tmp_path: Path
) -> None:
    path = gbk_csv(tmp_path / "客户.csv", ROWS)
    prepared, result = run_import(company, path)
    plan = prepared.plan  # type: ignore[attr-defined]
    assert prepared.table.header_row == 4  # type: ignore[attr-defined]
    assert [r.outcome for r in plan.rows] == [Outcome.CREATE] * 3
    assert (result.created, result.updated, result.errors) == (3, 0, 0)  # type: ignore[attr-defined]
    with company.new_session() as session:
        huaqiang = session.scalar(select(Customer).where(Customer.name == "深圳市华强电子有限公司"))
        assert huaqiang is not None
        assert huaqiang.primary_phone == "+8613800138000"
        assert huaqiang.primary_email == "wang@huaqiang.cn"
        assert huaqiang.primary_contact == "王芳"
        assert huaqiang.owner is not None and huaqiang.owner.login == "boss"
        assert [(e.system, e.key) for e in huaqiang.external_ids] == [("import", "C001")]
        person = session.scalar(select(Customer).where(Customer.name == "张伟"))
        assert person is not None and person.birthday == date(1985, 5, 1)  # so a person
        assert person.kind.value == "person"
        owner_history = session.scalars(
            select(AssignmentChange).where(AssignmentChange.customer_id == huaqiang.id)
        ).all()
        assert len(owner_history) == 1 and owner_history[0].import_batch_id == result.batch_id  # type: ignore[attr-defined]

    again, second = run_import(company, path)
    assert [r.outcome for r in again.plan.rows] == [Outcome.UNCHANGED] * 3  # type: ignore[attr-defined]
    assert "same import customer code C001" in again.plan.rows[0].reason  # type: ignore[attr-defined]
    assert (second.created, second.updated) == (0, 0)  # type: ignore[attr-defined]
    assert customer_count(company) == 3


def test_xlsx_with_merged_title_totals_numbers_as_phones_and_text_dates(
    company: Database, tmp_path: Path
) -> None:
    path = tmp_path / "prospects.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("展会名单")
    title = book.add_format({"bold": True, "align": "center"})
    sheet.merge_range(0, 0, 0, 5, "2024 春季展会客户名单", title)
    sheet.write(1, 0, "导出日期")
    sheet.write(1, 1, "2024-03-01")
    sheet.write_row(3, 0, ["Company", "Contact", "Mobile", "E-mail", "City", "Birthday", "Type"])
    sheet.write_row(
        4,
        0,
        [
            "Harbor Lights Trading Co., Ltd.",
            "Tom Baker",
            13800138000,
            "TOM@harbor.sg",
            "Singapore",
            None,
            "company",
        ],
    )
    sheet.write_row(
        5, 0, ["李娜", "", 1.38001380e10 + 1, "lina@mail.cn", "上海", "2024/3/5", "个人"]
    )
    sheet.write(6, 0, "Total")
    sheet.write_formula(6, 2, "=SUM(C5:C6)")
    book.close()
    prepared, result = run_import(company, path)
    plan = prepared.plan  # type: ignore[attr-defined]
    assert len(plan.rows) == 2, [r.raw for r in plan.rows]
    assert result.created == 2  # type: ignore[attr-defined]
    with company.new_session() as session:
        lina = session.scalar(select(Customer).where(Customer.name == "李娜"))
        assert lina is not None
        assert lina.birthday == date(2024, 3, 5)
        assert lina.primary_phone == "+8613800138001"
        harbor = session.scalar(select(Customer).where(Customer.name.like("Harbor%")))
        assert harbor is not None and harbor.primary_email == "tom@harbor.sg"


def test_updates_say_which_customer_and_why(company: Database, tmp_path: Path) -> None:
    with company.session() as session:
        by_mail = make_customer(session, "Old Mail Name", emails=["wang@huaqiang.cn"], city="深圳")
        by_phone = make_customer(session, "杭州绿源茶业", phones=["13912345678"], city="杭州")
        by_name = make_customer(session, "张伟", city="北京")
        ids = by_mail.id, by_phone.id, by_name.id
    rows = [
        ["", "深圳市华强电子有限公司", "王芳", "", "WANG@huaqiang.cn", "深圳", "", ""],
        ["", "杭州绿源茶业有限公司", "", "139 1234 5678", "", "杭州", "", ""],
        ["", "张伟", "", "", "", "北京", "", ""],
    ]
    prepared, result = run_import(company, gbk_csv(tmp_path / "a.csv", rows))
    plan = prepared.plan  # type: ignore[attr-defined]
    assert [r.customer_id for r in plan.rows] == list(ids)
    assert "same e-mail wang@huaqiang.cn" in plan.rows[0].reason
    assert "same phone 139 1234 5678" in plan.rows[1].reason
    assert "same name in 北京" in plan.rows[2].reason
    assert plan.rows[0].changes["name"] == ("Old Mail Name", "深圳市华强电子有限公司")
    assert result.created == 0 and result.updated == 2  # type: ignore[attr-defined]
    assert plan.rows[2].outcome == Outcome.UNCHANGED


def test_possible_duplicates_wait_for_a_decision(company: Database, tmp_path: Path) -> None:
    with company.session() as session:
        existing = make_customer(session, "深圳市华强电子有限公司", city="广州").id
    rows = [["", "深圳市华强电子", "", "", "", "深圳", "", ""]]
    prepared, result = run_import(company, gbk_csv(tmp_path / "d.csv", rows))
    row = prepared.plan.rows[0]  # type: ignore[attr-defined]
    assert row.outcome == Outcome.DUPLICATE and row.customer_id == existing
    assert "city 广州 vs 深圳" in row.reason
    assert result.review == 1 and result.created == 0  # type: ignore[attr-defined]
    with company.new_session() as session:
        items = session.scalars(select(ImportReviewItem)).all()
        assert [(i.row_number, i.candidate_id) for i in items] == [(5, existing)]
    _prepared, created = run_import(
        company, gbk_csv(tmp_path / "d2.csv", rows), on_duplicate=OnDuplicate.CREATE
    )
    assert created.created == 1  # type: ignore[attr-defined]


def test_bad_cells_are_reported_and_saved_with_a_problem_column(
    company: Database, tmp_path: Path
) -> None:
    rows = [
        ["C010", "Good Co", "", "13800138000", "good@x.cn", "", "", ""],
        ["C011", "Bad Mail Co", "", "", "not-an-email", "", "", ""],
        ["C012", "Bad Phone Co", "", "12ab", "", "", "", ""],
        ["C013", "", "", "", "", "", "", ""],
    ]
    path = gbk_csv(tmp_path / "bad.csv", rows)
    prepared = prepare_import(company, path)
    plan = prepared.plan
    errors = {r.row_number: r.problem_text() for r in plan.error_rows}
    assert set(errors) == {6, 7, 8}
    assert "column '邮箱'" in errors[6] and "not-an-email" in errors[6]
    assert "column '手机'" in errors[7] and "'12ab' is not a phone number" in errors[7]
    assert "name is empty" in errors[8]
    out = tmp_path / "problems.xlsx"
    assert write_problem_rows(plan, out) == 3
    sheet = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    assert sheet[0][-1] == "Problem" and sheet[0][1:-1] == HEADER
    assert sheet[1][2] == "Bad Mail Co" and "not an e-mail" in sheet[1][-1]

    with pytest.raises(ImportRefused, match="3 of 4 rows"):
        apply_plan(
            company,
            _owner_id(company),
            prepare_import(company, path, options=ImportOptions(all_or_nothing=True)).plan,
        )
    assert customer_count(company) == 0
    result = apply_plan(company, _owner_id(company), plan)
    assert (result.created, result.errors) == (1, 3)
    assert customer_count(company) == 1


def test_a_file_without_a_name_column_is_refused_clearly(company: Database, tmp_path: Path) -> None:
    path = tmp_path / "phones.csv"
    path.write_text("手机,城市\n13800138000,深圳\n", encoding="utf-8")
    with pytest.raises(MappingError, match="No column is mapped to the customer's name"):
        prepare_import(company, path)


def test_unknown_salespeople_go_to_the_pool_unless_created(
    company: Database, tmp_path: Path
) -> None:
    rows = [
        ["C020", "Pool Co", "", "", "", "", "刘洋", ""],
        ["C021", "Pool Two", "", "", "", "", "刘洋", ""],
    ]
    path = gbk_csv(tmp_path / "o.csv", rows)
    prepared = prepare_import(company, path, options=ImportOptions(on_duplicate=OnDuplicate.UPDATE))
    assert prepared.plan.unknown_staff == {"刘洋": [5, 6]}
    assert "unassigned pool" in prepared.plan.rows[0].warnings[0]
    apply_plan(company, _owner_id(company), prepared.plan)
    with company.new_session() as session:
        assert session.scalar(select(Customer.owner_id).where(Customer.name == "Pool Co")) is None
    prepared = prepare_import(company, path, options=ImportOptions(create_missing_staff=True))
    result = apply_plan(company, _owner_id(company), prepared.plan)
    assert result.created_staff == ["刘洋 (liuyang)"]
    assert result.updated == 2
    with company.new_session() as session:
        owner = session.scalar(
            select(User)
            .join(Customer, Customer.owner_id == User.id)
            .where(Customer.name == "Pool Co")
        )
        assert owner is not None and owner.full_name == "刘洋" and owner.role == Role.SALES


def test_undo_restores_updates_and_removes_what_the_batch_created(
    company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        kept = make_customer(
            session,
            "深圳市华强电子有限公司",
            emails=["wang@huaqiang.cn"],
            city="广州",
            status=CustomerStatus.PROSPECT,
        )
        kept_id = kept.id
    path = gbk_csv(tmp_path / "u.csv", ROWS)
    _prepared, result = run_import(company, path)
    assert (result.created, result.updated) == (2, 1)  # type: ignore[attr-defined]
    with company.new_session() as session:
        updated = get_customer(session, kept_id)
        assert updated.city == "深圳" and len(updated.contact_points) == 2
    undo = undo_batch(company, _owner_id(company), result.batch_id)  # type: ignore[attr-defined]
    assert (undo.restored, undo.removed) == (1, 2)
    assert customer_count(company) == 1
    with company.new_session() as session:
        restored = get_customer(session, kept_id)
        assert restored.city == "广州"
        assert [p.value for p in restored.contact_points] == ["wang@huaqiang.cn"]
        assert restored.external_ids == []
        assert restored.owner_id is None
        assert session.get_one(ImportBatch, result.batch_id).status == BatchStatus.UNDONE  # type: ignore[attr-defined]
        assert list_batches(session)[0].status == BatchStatus.UNDONE


def test_undo_after_later_edits_lists_them_and_asks(company: Database, tmp_path: Path) -> None:
    _prepared, result = run_import(company, gbk_csv(tmp_path / "l.csv", ROWS))
    with company.session() as session:
        boss = session.get_one(User, _owner_id(company))
        customer = session.scalar(select(Customer).where(Customer.name == "杭州绿源茶业有限公司"))
        assert customer is not None
        data = input_from_customer(customer)
        data.notes = "edited by hand after the import"
        update_customer(session, boss, customer.id, data)
    with pytest.raises(UndoConflict) as caught:
        undo_batch(company, _owner_id(company), result.batch_id)  # type: ignore[attr-defined]
    assert caught.value.later_edits == [f"杭州绿源茶业有限公司 (ID {customer.id})"]
    assert customer_count(company) == 3
    undo = undo_batch(company, _owner_id(company), result.batch_id, force=True)  # type: ignore[attr-defined]
    assert undo.removed == 3
    assert customer_count(company) == 0


def test_a_cancelled_import_leaves_the_database_as_it_was(
    company: Database, tmp_path: Path
) -> None:
    rows = [
        [f"C{i:04d}", f"客户{i}号有限公司", "", f"138{i:08d}", "", "深圳", "", ""]
        for i in range(3000)
    ]
    prepared = prepare_import(company, gbk_csv(tmp_path / "big.csv", rows))
    token = CancelToken()

    def cancel_midway(done: int, total: int, message: str) -> None:
        if done >= 2000:
            token.cancel()

    with pytest.raises(Cancelled):
        apply_plan(
            company, _owner_id(company), prepared.plan, progress=Progress(cancel_midway, token)
        )
    assert customer_count(company) == 0
    with company.new_session() as session:
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0
        assert (
            session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "customer")
            )
            == 0
        )


def test_saved_mapping_is_reused_for_the_same_headers(company: Database, tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("Firma;Handy;Ort\nNordwind GmbH;+49 30 1234567;Hamburg\n", encoding="utf-8")
    with pytest.raises(MappingError):
        prepare_import(company, path)
    with company.session() as session:
        from smbcrm.services.importing.mapping import auto_map

        mapping = auto_map(["Firma", "Handy", "Ort"], ImportKind.CUSTOMERS)
        mapping.columns = {0: Field.NAME, 1: Field.MOBILE, 2: Field.CITY}
        mapping.source_system = "german-crm"
        save_mapping(
            session,
            session.get_one(User, _owner_id(company)),
            "German CRM",
            ["Firma", "Handy", "Ort"],
            mapping,
        )
    prepared = prepare_import(company, path)
    assert prepared.mapping.name == "German CRM" and prepared.mapping.source_system == "german-crm"
    assert [r.outcome for r in prepared.plan.rows] == [Outcome.CREATE]


def test_known_source_systems_most_used_first(company: Database) -> None:
    from smbcrm.models import ExternalId
    from smbcrm.services.importing.mapping import auto_map, known_source_systems

    with company.session() as session:
        assert known_source_systems(session) == []
        for i in range(3):
            customer = make_customer(session, f"ERP customer {i}")
            session.add(ExternalId(customer=customer, system="erp", key=f"C{i}", key_norm=f"c{i}"))
        shop = make_customer(session, "Web shop buyer")
        session.add(ExternalId(customer=shop, system="Web shop", key="W1", key_norm="w1"))
        mapping = auto_map(["Firma"], ImportKind.CUSTOMERS)
        mapping.source_system = "German CRM"
        save_mapping(session, session.get_one(User, _owner_id(company)), "G", ["Firma"], mapping)
    with company.session() as session:
        assert known_source_systems(session) == ["erp", "Web shop", "German CRM"]


def test_sales_staff_may_not_import(company: Database, tmp_path: Path) -> None:
    sam = add_user(company, "sam", Role.SALES)
    prepared = prepare_import(company, gbk_csv(tmp_path / "s.csv", ROWS))
    with pytest.raises(PermissionDenied):
        apply_plan(company, sam.id, prepared.plan)
    assert customer_count(company) == 0


def test_rows_about_the_same_new_customer_become_one(company: Database, tmp_path: Path) -> None:
    rows = [
        ["C030", "Twin Co", "Alice", "13800000001", "", "", "", ""],
        ["C030", "Twin Co", "Bob", "13800000002", "", "", "", ""],
    ]
    prepared, result = run_import(company, gbk_csv(tmp_path / "t.csv", rows))
    assert [r.outcome for r in prepared.plan.rows] == [Outcome.CREATE, Outcome.SAME_AS_ROW]  # type: ignore[attr-defined]
    assert result.created == 1  # type: ignore[attr-defined]
    with company.new_session() as session:
        twin = session.scalar(select(Customer).where(Customer.name == "Twin Co"))
        assert twin is not None
        assert sorted(c.name for c in twin.contacts) == ["Alice", "Bob"]
        assert sorted(p.key for p in twin.contact_points) == ["+8613800000001", "+8613800000002"]


def test_manual_customers_keep_their_data_when_matched(company: Database, tmp_path: Path) -> None:
    with company.session() as session:
        boss = session.get_one(User, _owner_id(company))
        from smbcrm.services.customers import create_customer

        create_customer(
            session, boss, CustomerInput(name="Hand Made", phones=["13800138000"], notes="keep me")
        )
    rows = [["", "Hand Made", "", "138 0013 8000", "", "", "", ""]]
    _prepared, result = run_import(company, gbk_csv(tmp_path / "m.csv", rows))
    assert result.updated == 0  # type: ignore[attr-defined]
    with company.new_session() as session:
        assert (
            session.scalar(select(Customer.notes).where(Customer.name == "Hand Made")) == "keep me"
        )


def test_rows_left_for_review_are_decided_one_by_one(company: Database, tmp_path: Path) -> None:
    from smbcrm.services.importing.review import ReviewDecision, pending_reviews, resolve_review

    with company.session() as session:
        existing = make_customer(session, "深圳市华强电子有限公司", city="广州").id
    rows = [
        ["R1", "深圳市华强电子", "李雷", "13800138000", "", "深圳", "", ""],
        ["R2", "深圳市华强电子", "韩梅梅", "13900139000", "", "东莞", "", ""],
        ["R3", "深圳市华强电子", "", "", "", "佛山", "", ""],
    ]
    run_import(company, gbk_csv(tmp_path / "r.csv", rows))
    with company.new_session() as session:
        pending = pending_reviews(session)
    assert [(p.row_number, p.candidate_id, p.candidate_name) for p in pending] == [
        (5, existing, "深圳市华强电子有限公司"),
        (6, existing, "深圳市华强电子有限公司"),
        (7, existing, "深圳市华强电子有限公司"),
    ]
    assert "13800138000" in pending[0].details and "李雷" in pending[0].details
    owner = _owner_id(company)
    created = resolve_review(company, owner, pending[0].id, ReviewDecision.CREATE)
    added_to = resolve_review(company, owner, pending[1].id, ReviewDecision.UPDATE)
    assert resolve_review(company, owner, pending[2].id, ReviewDecision.SKIP) is None
    assert added_to == existing and created not in (None, existing)
    with company.new_session() as session:
        assert pending_reviews(session) == []
        new = session.get_one(Customer, created)
        assert (new.city, new.primary_phone, [e.key for e in new.external_ids]) == (
            "深圳",
            "+8613800138000",
            ["R1"],
        )
        old = session.get_one(Customer, existing)
        assert old.city == "东莞" and old.primary_phone == "+8613900139000"
        assert [c.name for c in old.contacts] == ["韩梅梅"]
        audited = session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.entity == "customer", AuditEntry.entity_id == existing
            )
        ).all()
        assert len(audited) >= 2  # created, then updated by the decision


def test_an_edit_after_the_preview_stops_the_import_with_nothing_written(
    company: Database, tmp_path: Path
) -> None:
    from smbcrm.errors import ConflictError

    with company.session() as session:
        existing = make_customer(session, "深圳市华强电子有限公司", phones=["13800138000"]).id
    rows = [
        ["", "深圳市华强电子有限公司", "王芳", "13800138000", "", "深圳", "", ""],
        ["", "杭州绿源茶业有限公司", "陈静", "13900139000", "", "杭州", "", ""],
    ]
    prepared = prepare_import(company, gbk_csv(tmp_path / "e.csv", rows), ImportKind.CUSTOMERS)
    assert prepared.plan.rows[0].outcome == Outcome.UPDATE
    with company.session(user_id=_owner_id(company)) as session:
        boss = session.get_one(User, _owner_id(company))
        customer = get_customer(session, existing)
        edited = input_from_customer(customer)
        edited.notes = "called today"
        update_customer(session, boss, existing, edited, expected_version=customer.version)
    before = customer_count(company)
    with pytest.raises(ConflictError) as refused:
        apply_plan(company, _owner_id(company), prepared.plan)
    assert "深圳市华强电子有限公司 (row 5)" in str(refused.value)
    assert "Preview the file again" in str(refused.value)
    assert customer_count(company) == before
    with company.new_session() as session:
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0
        assert session.get_one(Customer, existing).city is None


def test_rows_about_one_existing_customer_update_it_in_turn(
    company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        existing = make_customer(session, "Harbor Trading", phones=["13800138000"]).id
        other = make_customer(session, "Other Co", phones=["13700137000"]).id
    rows = [
        # Another customer's update first, changing the same columns as the second Harbor
        # row: the two Harbor updates must still be written in their order.
        ["", "Other Co", "", "13700137000", "other@harbor.cn", "", "", ""],
        ["", "Harbor Trading", "Li Lei", "13800138000", "", "Shenzhen", "", ""],
        ["", "Harbor Trading", "", "13800138000", "han@harbor.cn", "", "", ""],
    ]
    _prepared, result = run_import(company, gbk_csv(tmp_path / "t.csv", rows))
    assert result.updated == 3  # type: ignore[attr-defined]
    with company.new_session() as session:
        customer = session.get_one(Customer, existing)
        assert customer.city == "Shenzhen" and customer.version == 3
        assert [c.name for c in customer.contacts] == ["Li Lei"]
        assert customer.primary_email == "han@harbor.cn"
        assert session.get_one(Customer, other).primary_email == "other@harbor.cn"
    with company.new_session() as session:
        batch_id = list_batches(session)[0].id
    undo_batch(company, _owner_id(company), batch_id)
    with company.new_session() as session:
        customer = session.get_one(Customer, existing)
        assert customer.city is None and customer.contacts == []
