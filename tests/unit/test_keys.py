"""Match keys: the same customer written differently must produce the same key."""

from __future__ import annotations

import pytest

from smbcrm.models.keys import (
    build_search_text,
    format_phone,
    normalize_email,
    normalize_name,
    normalize_phone,
    pinyin_sort_key,
    split_phones,
)
from smbcrm.services.search import search_terms


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "+86 138 0013 8000",
        "+86-138-0013-8000",
        "(+86)138-0013-8000",
        "0086 13800138000",
        "8613800138000",
        "１３８００１３８０００",
        "＋８６ １３８ ００１３ ８０００",
        " 138.0013.8000 ",
        "13800138000.0",
        "1.38001380E+10",
        "13800138000（微信同号）",
        "138 0013 8000 (mobile)",
    ],
)
def test_chinese_mobiles_written_any_way_share_one_key(raw: str) -> None:
    assert normalize_phone(raw, "CN") == "+8613800138000"


def test_landlines_and_foreign_numbers() -> None:
    assert normalize_phone("0755-8888 9999", "CN") == "+8675588889999"
    assert normalize_phone("+49 30 1234567", "CN") == "+49301234567"
    assert normalize_phone("(212) 555-0123", "US") == "+12125550123"
    assert normalize_phone("no phone", "CN") is None
    assert normalize_phone("", "CN") is None


def test_default_country_decides_numbers_without_a_code() -> None:
    assert normalize_phone("0612345678", "NL") == "+31612345678"
    assert normalize_phone("0612345678", "CN") != "+31612345678"


def test_several_phones_in_one_cell() -> None:
    assert split_phones("13800138000 / 0755-88889999；13900001111") == [
        "13800138000",
        "0755-88889999",
        "13900001111",
    ]


def test_email_key_is_lower_case_and_checked() -> None:
    assert normalize_email("  Li.Lei@Example.COM ") == "li.lei@example.com"
    assert normalize_email("mailto:Sales@ACME.de") == "sales@acme.de"
    assert normalize_email("not an email") is None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("深圳市华强电子有限公司", "深圳市华强电子"),
        ("深圳市华强电子股份有限公司", "深圳市 华强电子"),
        ("杭州绿源茶业有限责任公司", "杭州绿源茶业公司"),
        ("ACME Trading Co., Ltd.", "acme  trading"),
        ("Acme Trading Inc.", "ACME TRADING LLC"),
        ("Nordwind GmbH", "NORDWIND"),
        ("ＡＣＭＥ Ｔｒａｄｉｎｇ", "Acme Trading"),
    ],
)
def test_names_match_without_legal_form_width_case_or_spacing(a: str, b: str) -> None:
    assert normalize_name(a) == normalize_name(b)
    assert normalize_name(a)


def test_different_companies_keep_different_keys() -> None:
    assert normalize_name("华强电子深圳分公司") != normalize_name("华强电子上海分公司")
    assert normalize_name("Company") == "company"  # a legal-form word alone stays a name


def test_pinyin_sort_puts_chinese_among_latin_names() -> None:
    names = ["张伟", "Apple Co", "王芳", "Zebra Ltd", "阿里"]
    ordered = sorted(names, key=pinyin_sort_key)
    assert ordered == ["阿里", "Apple Co", "王芳", "Zebra Ltd", "张伟"]  # a-li, wang, ze, zhang


def test_search_text_holds_every_way_to_find_a_customer() -> None:
    text = build_search_text(
        "华强电子",
        contact_names=["王芳"],
        phone_keys=["+8613800138000"],
        emails=["a@b.cn"],
        places=["深圳"],
    )
    for needle in ("华强", "王芳", "13800138000", "8613800138000", "a@b.cn", "深圳"):
        assert needle in text


def test_search_terms_turn_phones_into_digits() -> None:
    assert search_terms("+86 138-0013-8000") == ["13800138000"]
    assert search_terms("138 0013") == ["1380013"]
    assert search_terms("  深圳   王 ") == ["深圳", "王"]
    assert search_terms("ACME") == ["acme"]


def test_readable_phone() -> None:
    assert format_phone("+8613800138000", "CN") == "138 0013 8000"
    assert format_phone("+49301234567", "CN").startswith("+49")
