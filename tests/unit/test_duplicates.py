"""The duplicate finder: judging pairs, scanning the book, the review queue, the warning on create.

Judging is tested on records made in memory; the scan, the queue, decisions and the
look-up while typing run on SQLite and on PostgreSQL (the ``db`` fixture).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bench.dedupe_data import (
    LabelledRow,
    accuracy,
    book_rows,
    febrl_rows,
    insert_rows,
    to_record,
    true_pairs,
)
from smbcrm.errors import Cancelled, NotFoundError, PermissionDenied, ValidationError
from smbcrm.models import (
    Customer,
    CustomerKind,
    Database,
    DuplicatePair,
    DuplicateStatus,
    ImportKind,
    Role,
    User,
    utcnow,
)
from smbcrm.services import duplicates
from smbcrm.services.duplicates import (
    DEFAULT_THRESHOLD,
    DraftIdentity,
    decide_pair,
    queue_count,
    review_queue,
    scan_duplicates,
    similar_customers,
)
from smbcrm.services.duplicates.engine import detect
from smbcrm.services.duplicates.records import IdentityRecord
from smbcrm.services.duplicates.scoring import judge
from smbcrm.services.importing.apply import apply_plan
from smbcrm.services.importing.fields import Field, fold_header, header_index
from smbcrm.services.importing.plan import (
    ImportOptions,
    OnDuplicate,
    join_address_parts,
    person_name,
)
from smbcrm.services.importing.service import prepare_import
from smbcrm.services.progress import CancelToken, Progress
from tests.conftest import add_user
from tests.factories import make_customer


def record(customer_id: int, name: str, **fields: Any) -> IdentityRecord:
    kind = fields.pop("kind", "company")
    phones = fields.pop("phones", [])
    emails = fields.pop("emails", [])
    row = LabelledRow(
        entity=customer_id,
        kind=kind,
        name=name,
        phones=[(k, v) for k, v in phones],
        emails=list(emails),
        **fields,
    )
    return to_record(customer_id, row)


def verdict(a: IdentityRecord, b: IdentityRecord) -> tuple[float, tuple[str, ...]]:
    judged = judge(a, b)
    assert judged is not None
    return judged.score, judged.all_reasons()


def proposed(a: IdentityRecord, b: IdentityRecord) -> bool:
    return verdict(a, b)[0] >= DEFAULT_THRESHOLD


# -- each reason, in words ------------------------------------------------------------------


def test_same_mobile_however_written_is_a_reason_with_the_number() -> None:
    a = record(1, "深圳市华强电子有限公司", phones=[("mobile", "13800138000")], city="深圳")
    b = record(2, "华强电子", phones=[("mobile", "+86 138-0013-8000")], city="深圳市")
    score, reasons = verdict(a, b)
    assert score >= DEFAULT_THRESHOLD
    assert "same mobile +86 138 0013 8000" in reasons
    assert "same city 深圳 / 深圳市" in reasons
    assert reasons[0] == "same name apart from the place"


def test_same_email_tax_number_postcode_address_reasons() -> None:
    a = record(
        1,
        "ACME Trading Co., Ltd.",
        emails=["Sales@ACME.cn"],
        tax_id="91440300MA5F0XYZ12",
        address="广东省深圳市南山区科技园路1号",
        postcode="518000",
        city="深圳",
    )
    b = record(
        2,
        "ACME Trading",
        emails=["sales@acme.cn"],
        tax_id="91440300ma5f0xyz12",
        address="南山区科技园路1号",
        postcode="518000",
        city="Shenzhen",
    )
    score, reasons = verdict(a, b)
    assert score >= DEFAULT_THRESHOLD
    assert reasons[0] == "same name, legal form aside"
    assert "same e-mail sales@acme.cn" in reasons
    assert "same tax number 91440300MA5F0XYZ12" in reasons
    assert "same address" in reasons  # the province and city in front do not count
    assert "same postcode 518000" in reasons
    assert "same city 深圳 / Shenzhen" in reasons


def test_name_typo_birthday_and_percentage_reasons() -> None:
    a = record(1, "Katherine Mitchell", kind="person", birthday=date(1980, 4, 9))
    b = record(2, "Katherine Mitchel", kind="person", birthday=date(1980, 4, 9))
    score, reasons = verdict(a, b)
    assert score >= DEFAULT_THRESHOLD
    assert reasons[0].startswith("names ") and reasons[0].endswith("% alike")
    assert 90 <= int(reasons[0].split()[1].rstrip("%")) < 100
    assert "same birthday 1980-04-09" in reasons


def test_birthday_with_day_and_month_swapped_is_alike_not_different() -> None:
    a = record(1, "Wang Fang", kind="person", birthday=date(1980, 4, 9), city="Shanghai")
    b = record(2, "Wang Fang", kind="person", birthday=date(1980, 9, 4), city="Shanghai")
    _score, reasons = verdict(a, b)
    assert "birthdays alike: 1980-04-09 / 1980-09-04" in reasons


# -- how names vary -------------------------------------------------------------------------


def test_transposed_names_are_one_person() -> None:
    a = record(1, "John Smith", kind="person", phones=[("mobile", "+44 7700 900123")])
    b = record(2, "Smith, John", kind="person", phones=[("mobile", "+447700900123")])
    score, reasons = verdict(a, b)
    assert score >= DEFAULT_THRESHOLD
    assert reasons[0] == "same name, words in another order"


def test_chinese_name_in_pinyin_and_homophones() -> None:
    a = record(1, "张伟明", kind="person", phones=[("mobile", "13900139000")], city="北京")
    b = record(2, "Zhang Weiming", kind="person", phones=[("mobile", "139 0013 9000")])
    assert verdict(a, b)[1][0] == "same name in pinyin: 张伟明 / Zhang Weiming"
    c = record(3, "鑫荣食品有限公司", city="武汉", phones=[("mobile", "13700137000")])
    d = record(4, "新荣食品", city="武汉", phones=[("mobile", "13700137000")])
    score, reasons = verdict(c, d)
    assert score >= DEFAULT_THRESHOLD
    assert reasons[0] == "names sound alike: 鑫荣食品有限公司 / 新荣食品"


def test_full_width_characters_are_the_same_name_and_phone() -> None:
    a = record(1, "ＡＣＭＥ Ｔｒａｄｉｎｇ", phones=[("mobile", "１３８００１３８０００")])
    b = record(2, "ACME Trading Ltd", phones=[("mobile", "13800138000")])
    score, reasons = verdict(a, b)
    assert score >= DEFAULT_THRESHOLD
    assert "same mobile +86 138 0013 8000" in reasons


def test_legal_forms_are_ignored_wherever_they_stand() -> None:
    a = record(1, "源东贸易有限责任公司（武汉）", city="武汉", address="工业路307号")
    b = record(2, "源东贸易有限公司", city="武汉", address="湖北省武汉市工业路307号")
    assert proposed(a, b)
    c = record(3, "Golden Sun Trading GmbH", city="Hamburg")
    d = record(4, "Golden Sun Trading Co., Ltd.", city="Hamburg")
    assert verdict(c, d)[1][0] == "same name, legal form aside"


# -- hard non-duplicates --------------------------------------------------------------------


def test_two_branches_of_one_chain_are_not_proposed() -> None:
    shenzhen = record(
        1,
        "红灯笼餐饮有限公司",
        city="深圳",
        address="南山区科技园路1号",
        phones=[("mobile", "13800000001"), ("phone", "0755-86001234")],
    )
    guangzhou = record(
        2,
        "红灯笼餐饮有限公司",
        city="广州",
        address="天河区中山路8号",
        phones=[("mobile", "13900000002"), ("phone", "020-88001234")],
    )
    assert not proposed(shenzhen, guangzhou)
    futian = record(3, "华润万家（福田分店）", city="深圳", phones=[("phone", "0755-83001111")])
    nanshan = record(4, "华润万家（南山分店）", city="深圳", phones=[("phone", "0755-26002222")])
    score, reasons = verdict(futian, nanshan)
    assert score < DEFAULT_THRESHOLD and "different branches" in reasons


def test_colleagues_and_family_sharing_a_line_are_not_one_person() -> None:
    office = dict(address="南山区科技园路1号", city="深圳", postcode="518000")
    wang = record(
        1, "王芳", kind="person", phones=[("mobile", "13800000001"), ("phone", "0755-86001234")],
        **office,
    )  # fmt: skip
    li = record(
        2, "李娜", kind="person", phones=[("mobile", "13800000002"), ("phone", "0755-86001234")],
        **office,
    )  # fmt: skip
    assert not proposed(wang, li)
    home = dict(address="12 Park Road", city="Sydney", phones=[("phone", "+61 2 9876 5432")])
    john = record(3, "John Stephens", kind="person", birthday=date(1970, 1, 2), **home)
    mary = record(4, "Mary Stephens", kind="person", birthday=date(1972, 5, 6), **home)
    score, reasons = verdict(john, mary)
    assert score < DEFAULT_THRESHOLD
    assert "different given names" in reasons


def test_people_of_one_common_name_with_their_own_mobiles_are_not_proposed() -> None:
    a = record(1, "张伟", kind="person", city="上海", phones=[("mobile", "13800000001")])
    b = record(2, "张伟", kind="person", city="上海", phones=[("mobile", "13900000002")])
    assert not proposed(a, b)


# -- a labelled set, judged in memory -------------------------------------------------------


def test_small_labelled_sets_reach_the_targets_at_the_default_threshold() -> None:
    for rows in (book_rows(2000, seed=7), febrl_rows(500, 250, seed=9)):
        truth = true_pairs(rows)
        records = [to_record(i, row) for i, row in enumerate(rows)]
        found = detect(records, DEFAULT_THRESHOLD)
        score = accuracy(((p.a.id, p.b.id) for p in found.pairs), truth)
        assert score.precision >= 0.98, score
        assert score.recall >= 0.95, score


# -- the scan over the book -----------------------------------------------------------------


@pytest.fixture
def boss(company: Database) -> User:
    with company.new_session() as session:
        return session.scalars(select(User).where(User.login == "boss")).one()


def add(db: Database, name: str, **fields: Any) -> int:
    with db.session() as session:
        return make_customer(session, name, **fields).id


def obvious_pair(db: Database) -> tuple[int, int]:
    first = add(db, "Golden Sun Trading Co., Ltd.", phones=["13800138000"], city="Shenzhen")
    second = add(db, "Golden Sun Trading", phones=["+86 138 0013 8000"], city="深圳")
    add(db, "Blue River Logistics", phones=["13912345678"], city="Shanghai")
    add(db, "Zhejiang Porcelain Works", city="Hangzhou")
    return first, second


def pairs_in(db: Database) -> dict[tuple[int, int], DuplicateStatus]:
    with db.new_session() as session:
        rows = session.execute(
            select(DuplicatePair.customer_a_id, DuplicatePair.customer_b_id, DuplicatePair.status)
        )
        return {(a, b): DuplicateStatus(s) for a, b, s in rows}


def test_scan_queues_the_pair_and_not_the_same_is_remembered(company: Database, boss: User) -> None:
    first, second = obvious_pair(company)
    result = scan_duplicates(company)
    assert result.customers_scanned == 4
    assert [(c.a_id, c.b_id) for c in result.candidates] == [(first, second)]
    candidate = result.candidates[0]
    assert candidate.a_name == "Golden Sun Trading Co., Ltd." and candidate.score >= 90
    assert "same mobile +86 138 0013 8000" in candidate.reasons
    assert result.queued == 1 and result.suppressed == 0
    with company.session() as session:
        assert queue_count(session) == 1
        [pair] = review_queue(session)
        assert (pair.a.id, pair.b.id) == (first, second)
        assert pair.a.phone == "138 0013 8000" and pair.b.city == "深圳"
        assert pair.status == DuplicateStatus.OPEN and pair.reasons == candidate.reasons
        decide_pair(session, pair.pair_id, DuplicateStatus.NOT_SAME, session.get_one(User, boss.id))

    again = scan_duplicates(company)
    assert again.candidates == [] and again.suppressed == 1 and again.queued == 0
    assert pairs_in(company) == {(first, second): DuplicateStatus.NOT_SAME}
    with company.new_session() as session:
        assert review_queue(session) == [] and queue_count(session) == 0


def test_later_stays_later_and_pairs_no_longer_found_leave_the_queue(
    company: Database, boss: User
) -> None:
    first, second = obvious_pair(company)
    third = add(company, "Red Lantern Foods", phones=["13700137000"], city="Guangzhou")
    fourth = add(company, "Red Lantern Foods Ltd", phones=["13700137000"], city="Guangzhou")
    scan_duplicates(company)
    with company.session() as session:
        pair_id = next(p.pair_id for p in review_queue(session) if p.a.id == first)
        decide_pair(session, pair_id, DuplicateStatus.LATER, session.get_one(User, boss.id))
    # One of the second pair changes its name and phone: it is no longer a likely duplicate.
    with company.session() as session:
        customer = session.get_one(Customer, fourth)
        customer.name = "Jade Harbour Imports"
        customer.contact_points[0].value = "13611112222"
    result = scan_duplicates(company)
    assert pairs_in(company) == {(first, second): DuplicateStatus.LATER}
    assert result.queued == 0
    with company.new_session() as session:
        queue = review_queue(session)
        assert [(p.a.id, p.status) for p in queue] == [(first, DuplicateStatus.LATER)]
        assert review_queue(session, include_later=False) == []
    assert third  # the open pair it was in is gone, not left waiting


def test_archived_or_merged_customers_leave_the_queue(company: Database) -> None:
    _first, second = obvious_pair(company)
    scan_duplicates(company)
    with company.session() as session:
        session.get_one(Customer, second).archived_at = utcnow()
    with company.new_session() as session:
        assert review_queue(session) == [] and queue_count(session) == 0
    assert scan_duplicates(company).customers_scanned == 3


def test_cancelled_scan_writes_nothing(company: Database) -> None:
    obvious_pair(company)
    seen: list[str] = []
    token = CancelToken()

    def cancel_when_saving(_done: int, _total: int, message: str) -> None:
        seen.append(message)
        if message.startswith("Saving"):
            token.cancel()

    with pytest.raises(Cancelled):
        scan_duplicates(company, progress=Progress(cancel_when_saving, token))
    assert any(m.startswith("Saving") for m in seen)
    assert pairs_in(company) == {}


def test_scan_without_saving_leaves_the_queue_alone(company: Database) -> None:
    obvious_pair(company)
    result = scan_duplicates(company, save=False)
    assert len(result.candidates) == 1 and result.queued == 1
    assert pairs_in(company) == {}


def test_threshold_must_be_a_score(company: Database) -> None:
    with pytest.raises(ValidationError, match="not a score"):
        scan_duplicates(company, threshold=0)
    with pytest.raises(ValidationError, match="not a score"):
        scan_duplicates(company, threshold=120)


def test_decisions_need_the_merge_permission_and_a_real_pair(company: Database, boss: User) -> None:
    obvious_pair(company)
    scan_duplicates(company)
    sam = add_user(company, "sam", Role.SALES)
    with company.session() as session:
        [pair] = review_queue(session)
        with pytest.raises(PermissionDenied):
            decide_pair(
                session, pair.pair_id, DuplicateStatus.NOT_SAME, session.get_one(User, sam.id)
            )
        owner = session.get_one(User, boss.id)
        with pytest.raises(ValidationError):
            decide_pair(session, pair.pair_id, DuplicateStatus.MERGED, owner)
        with pytest.raises(NotFoundError):
            decide_pair(session, pair.pair_id + 1000, DuplicateStatus.LATER, owner)
        decide_pair(session, pair.pair_id, DuplicateStatus.LATER, owner)
        decide_pair(session, pair.pair_id, DuplicateStatus.OPEN, owner)
        stored = session.get_one(DuplicatePair, pair.pair_id)
        assert stored.status == DuplicateStatus.OPEN and stored.decided_by_id is None


def test_labelled_book_scanned_from_the_database_meets_the_targets(company: Database) -> None:
    rows = book_rows(1500, seed=11)
    ids = insert_rows(company, rows)
    index_of = {cid: i for i, cid in enumerate(ids)}
    result = scan_duplicates(company, save=False)
    assert result.customers_scanned == len(rows)
    found = [(index_of[c.a_id], index_of[c.b_id]) for c in result.candidates]
    score = accuracy(found, true_pairs(rows))
    assert score.precision >= 0.98 and score.recall >= 0.95, score
    # What was found in memory is what the scan finds from the database.
    records = [to_record(i, row) for i, row in enumerate(rows)]
    in_memory = {(p.a.id, p.b.id) for p in detect(records, DEFAULT_THRESHOLD).pairs}
    assert {(min(a, b), max(a, b)) for a, b in found} == in_memory


# -- the warning while a new customer is typed ------------------------------------------------


def test_similar_customers_by_phone_typed_any_way(company: Database) -> None:
    existing = add(
        company, "Golden Sun Trading Co., Ltd.", phones=["138 0013 8000"], city="Shenzhen"
    )
    add(company, "Blue River Logistics", phones=["139 1234 5678"], city="Shanghai")
    with company.new_session() as session:
        for typed in (
            "13800138000",
            "+86 138-0013-8000",
            "0086 138 0013 8000",
            "１３８００１３８０００",
        ):
            found = similar_customers(session, DraftIdentity(phones=(typed,)))
            assert [m.id for m in found] == [existing], typed
            assert "same mobile +86 138 0013 8000" in found[0].reasons
            assert found[0].city == "Shenzhen" and found[0].phone == "138 0013 8000"


def test_similar_customers_by_a_name_typo_and_not_itself(company: Database) -> None:
    existing = add(company, "Nordwind Harbour Logistics GmbH", city="Hamburg")
    chinese = add(company, "深圳市华强电子有限公司", city="深圳")
    add(company, "Zhejiang Porcelain Works", city="Hangzhou")
    with company.new_session() as session:
        found = similar_customers(session, DraftIdentity(name="Nordwind Harbor Logistics"))
        assert [m.id for m in found] == [existing]
        assert found[0].reasons[0].startswith("names ")
        assert [m.id for m in similar_customers(session, DraftIdentity(name="华强电子"))] == [
            chinese
        ]
        assert similar_customers(session, DraftIdentity(name="Blue Ocean Foods")) == []
        assert (
            similar_customers(
                session, DraftIdentity(name="Nordwind Harbour Logistics"), exclude_id=existing
            )
            == []
        )
    # A customer added since the last look is found too.
    newer = add(company, "Blue Ocean Foods Ltd", city="London")
    with company.new_session() as session:
        assert [
            m.id for m in similar_customers(session, DraftIdentity(name="Blue Ocean Foods"))
        ] == [newer]


def test_similar_customers_does_not_warn_about_a_common_name_alone(company: Database) -> None:
    add(company, "张伟", kind=CustomerKind.PERSON, city="上海", phones=["13800000001"])
    with company.new_session() as session:
        draft = DraftIdentity(name="张伟", kind=CustomerKind.PERSON, phones=("13900000002",))
        assert similar_customers(session, draft) == []
        same_phone = DraftIdentity(name="张伟", kind=CustomerKind.PERSON, phones=("13800000001",))
        assert len(similar_customers(session, same_phone)) == 1


def test_package_exports_the_contract() -> None:
    for name in (
        "DEFAULT_THRESHOLD",
        "Candidate",
        "ScanResult",
        "PairSide",
        "QueuedPair",
        "DraftIdentity",
        "SimilarCustomer",
        "scan_duplicates",
        "review_queue",
        "queue_count",
        "decide_pair",
        "similar_customers",
    ):
        assert hasattr(duplicates, name)


# -- importing lists that give a person's name and address in parts --------------------------


def test_febrl_style_columns_make_people_with_joined_addresses(
    company: Database, boss: User, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    header = (
        "rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, "
        "state, date_of_birth, soc_sec_id"
    )
    lines = [
        header,
        "rec-1-org, michaela, neumann, 8, stanley street, miami, winston hills, 4223, nsw, "
        "19151111, 5304218",
        # The same person again: with --on-duplicate create it stays a record of its own.
        "rec-1-dup-0, michaela, neumann, 8, stanley st, miami, winston hills, 4223, nsw, "
        "19151111, 5304218",
        "rec-2-org, , smith, , , , bondi, 2026, nsw, , ",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    options = ImportOptions(on_duplicate=OnDuplicate.CREATE)
    prepared = prepare_import(company, path, ImportKind.CUSTOMERS, options=options)
    mapping = prepared.plan.mapping
    assert [mapping.columns[i] for i in range(11)] == [
        Field.EXTERNAL_ID,
        Field.GIVEN_NAME,
        Field.FAMILY_NAME,
        Field.ADDRESS,
        Field.ADDRESS,
        Field.ADDRESS,
        Field.CITY,
        Field.POSTCODE,
        Field.PROVINCE,
        Field.BIRTHDAY,
        Field.TAX_ID,
    ]
    result = apply_plan(company, boss.id, prepared.plan)
    assert result.created == 3 and result.errors == 0
    with company.new_session() as session:
        people = session.scalars(select(Customer).order_by(Customer.id)).all()
        first = people[0]
        assert (first.name, first.kind) == ("michaela neumann", CustomerKind.PERSON)
        assert first.address == "8 stanley street, miami"
        assert (first.city, first.province, first.postcode) == ("winston hills", "nsw", "4223")
        assert first.birthday == date(1915, 11, 11) and first.tax_id == "5304218"
        assert people[2].name == "smith" and people[2].kind == CustomerKind.PERSON
    result_scan = scan_duplicates(company, save=False)
    assert [(c.a_id, c.b_id) for c in result_scan.candidates] == [(people[0].id, people[1].id)]


def test_chinese_family_and_given_name_columns() -> None:
    assert person_name("伟", "张") == "张伟"
    assert person_name("John", "Smith") == "John Smith"
    assert person_name("", "Smith") == "Smith"
    assert (
        join_address_parts(["广东省深圳市", "南山区科技园路1号"]) == "广东省深圳市南山区科技园路1号"
    )
    assert join_address_parts(["12", "Park Road", "Unit 4"]) == "12 Park Road, Unit 4"
    index = header_index(ImportKind.CUSTOMERS)
    assert index[fold_header("姓")] == Field.FAMILY_NAME
    assert index[fold_header("名")] == Field.GIVEN_NAME
    assert index[fold_header("First name")] == Field.GIVEN_NAME
    assert index[fold_header("Last name")] == Field.FAMILY_NAME
    assert index[fold_header("身份证号")] == Field.TAX_ID
    assert index[fold_header("Record ID")] == Field.EXTERNAL_ID
    assert index[fold_header("suburb")] == Field.CITY


def test_a_phone_or_email_already_on_file_warns_even_under_another_name(
    company: Database,
) -> None:
    existing = add(
        company, "Golden Sun Trading Co., Ltd.", phones=["138 0013 8000"], city="Shenzhen"
    )
    with company.new_session() as session:
        found = similar_customers(
            session, DraftIdentity(name="Comfort Living", phones=("+86 138-0013-8000",))
        )
        assert [m.id for m in found] == [existing]
        assert found[0].reasons == ("same phone +86 138 0013 8000",)
        assert (
            similar_customers(
                session, DraftIdentity(name="Comfort Living", phones=("13900000000",))
            )
            == []
        )
