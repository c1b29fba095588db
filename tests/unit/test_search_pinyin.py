"""Finding Chinese names typed in pinyin on an English keyboard: whole syllables from any
syllable of the name, the last one cut short, or the initials of consecutive syllables; a
short term only from the start of a syllable, and never through the legal form. Searches
run on SQLite and on PostgreSQL, through the in-memory index and through SQL."""

from __future__ import annotations

import pytest
from pypinyin.pinyin_dict import pinyin_dict
from sqlalchemy import select

from smbcrm.models import Customer, CustomerStatus, Database, User, utcnow
from smbcrm.models.keys import pinyin_sort_key
from smbcrm.services import search
from smbcrm.services.customers import CustomerFilter, CustomerList
from smbcrm.services.merge import merge_customers
from tests.factories import make_customer

BOOK = [
    "张伟",
    "张卫东",
    "王芳",
    "深圳市华强电子有限公司",
    "西安秦川机械有限公司",
    "先锋科技有限公司",
    "上海安达物流有限公司",
    "黄山旅游",
    "Anchor Trading Ltd",
    "Harbor Lights Trading",
]


def _book(db: Database) -> None:
    with db.session() as session:
        for name in BOOK:
            make_customer(session, name, status=CustomerStatus.ACTIVE)


def _names(db: Database, listing: CustomerList, flt: CustomerFilter, **kw: object) -> list[str]:
    with db.new_session() as session:
        return [r.name for r in listing.page(session, flt, **kw)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("zhangwei", ["张伟", "张卫东"]),
        ("zhangw", ["张伟", "张卫东"]),
        ("ZhangWei", ["张伟", "张卫东"]),
        ("wei", ["张伟", "张卫东"]),  # from any syllable, not only the first
        ("zw", ["张伟", "张卫东"]),  # initials
        ("zwd", ["张卫东"]),
        ("wangfang", ["王芳"]),
        ("huaqiang", ["深圳市华强电子有限公司"]),
        ("hqdz", ["深圳市华强电子有限公司"]),
        ("huaqiang 深圳", ["深圳市华强电子有限公司"]),
        ("shanghai", ["上海安达物流有限公司"]),
        # Split two ways: 西安 (xi an) and 先 (xian); 有限 (you xian) is a legal form.
        ("xian", ["西安秦川机械有限公司", "先锋科技有限公司"]),
        # From the start of a syllable only: 安, not huang or shan of 黄山.
        ("an", ["Anchor Trading Ltd", "上海安达物流有限公司", "西安秦川机械有限公司"]),
        ("gongsi", []),  # nobody looks for 公司: it would list every company
        ("yxgs", []),
        ("z", []),  # one letter is not read as pinyin
    ],
)
def test_a_chinese_name_is_found_by_its_pinyin(
    db: Database, query: str, expected: list[str]
) -> None:
    _book(db)
    listing = CustomerList("CN")
    flt = CustomerFilter(text=query)
    assert _names(db, listing, flt) == expected
    with db.new_session() as session:
        assert listing.count(session, flt) == len(expected)
    # Newest name first, as the list shows when sorted the other way.
    assert _names(db, listing, flt, descending=True) == expected[::-1]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("zhangwei", ["张伟", "张卫东", "张伟强"]),
        ("xian", ["西安秦川机械有限公司", "先锋科技有限公司"]),
        ("an", ["Anchor Trading Ltd", "上海安达物流有限公司", "西安秦川机械有限公司"]),
        ("gongsi", []),
    ],
)
def test_pinyin_finds_the_same_when_the_search_runs_in_sql(
    db: Database, query: str, expected: list[str]
) -> None:
    """Archived customers are searched in SQL: pinyin is read there the same way."""
    _book(db)
    with db.session() as session:
        make_customer(session, "张伟强", archived_at=utcnow())
    listing = CustomerList("CN")
    flt = CustomerFilter(text=query, include_archived=True)
    assert _names(db, listing, flt) == expected
    with db.new_session() as session:
        assert listing.count(session, flt) == len(expected)


def test_pinyin_works_with_the_other_filters_and_finds_a_row_position(db: Database) -> None:
    _book(db)
    with db.session() as session:
        make_customer(session, "张伟明", status=CustomerStatus.PROSPECT)
    listing = CustomerList("CN")
    prospects = CustomerFilter(text="zhangwei", status=CustomerStatus.PROSPECT)
    assert _names(db, listing, prospects) == ["张伟明"]
    with db.new_session() as session:
        weiming = session.scalars(select(Customer.id).where(Customer.name == "张伟明")).one()
        # 张伟, 张卫东, 张伟明 in name order: zhang wei, zhang wei dong, zhang wei ming.
        assert listing.position(session, CustomerFilter(text="zw"), weiming) == 2


def test_pinyin_finds_customers_added_later_and_old_names_of_merged_ones(
    company: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "RECHECK_AFTER_S", 0.0)
    db = company
    _book(db)
    listing = CustomerList("CN")
    assert _names(db, listing, CustomerFilter(text="lvyuan")) == []
    with db.session() as session:
        absorbed = make_customer(session, "绿源茶业").id
        survivor = make_customer(session, "杭州绿源茶业有限公司").id
    assert _names(db, listing, CustomerFilter(text="lvyuan")) == [
        "杭州绿源茶业有限公司",
        "绿源茶业",
    ]
    with db.session() as session:
        actor = session.scalars(select(User).where(User.login == "boss")).one()
        merge_customers(session, survivor, [absorbed], actor)
        session.get_one(Customer, survivor).name = "杭州茶业有限公司"
    assert _names(db, listing, CustomerFilter(text="lvyuan")) == ["杭州茶业有限公司"]
    assert _names(db, listing, CustomerFilter(text="lycy")) == ["杭州茶业有限公司"]


def test_a_typed_term_splits_into_syllables_every_way_a_name_can_spell_it() -> None:
    from smbcrm.services.search import pinyin_initials, pinyin_readings

    assert pinyin_readings("zhangwei") == (" zhang wei",)
    assert pinyin_readings("zhangw") == (" zhang w",)
    assert set(pinyin_readings("xian")) >= {" xian", " xi an"}
    assert pinyin_readings("an") == (" an", " a n")
    for not_pinyin in ("z", "harbor", "13812", "张伟", "ab-c"):
        assert pinyin_readings(not_pinyin) == ()
    # At most a few ways, fewest syllables first, however ambiguous the letters.
    many = pinyin_readings("anananananananan")
    assert 0 < len(many) <= search.MAX_PINYIN_READINGS
    assert many[0] == " an an an an an an an an"
    assert pinyin_initials("zw") == "zw"
    assert pinyin_initials("zhui") is None  # no syllable starts with i or u
    assert pinyin_initials("z") is None


def test_every_syllable_a_sort_key_writes_can_be_typed() -> None:
    from smbcrm.services.search import PINYIN_SYLLABLES

    every_character = "".join(chr(code) for code in pinyin_dict)
    written = set(pinyin_sort_key(every_character).split())
    assert written <= PINYIN_SYLLABLES
    assert [
        pinyin_sort_key(form) for form in ("股份有限公司", "有限责任公司", "有限公司", "公司")
    ] == [form.strip() for form in search._LEGAL_FORM_PINYIN]
