"""What a customer is identified by, in the forms duplicate detection compares.

A record holds one customer's identifying fields already folded for comparison: the name
without legal-form words and without the place names people add or leave out ("深圳市华强
电子" and "华强电子" are one name), phones as E.164, e-mails lower-case, the birthday as
digits, the address with its abbreviations and leading province/city/district removed.
The whole book is loaded with three plain SELECTs (driver tuples, no ORM objects) and each
record is put together once by :func:`_record`, with what a book repeats (its places)
worked out once per distinct value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from sqlalchemy import Connection

from smbcrm.models.db import driver_rows
from smbcrm.models.enums import PHONE_KINDS, ContactPointKind, CustomerKind
from smbcrm.models.keys import (
    contains_cjk,
    fold_text,
    normalize_email,
    normalize_key_text,
    normalize_name,
    normalize_phone,
    pinyin_sort_key,
    split_phones,
)

# Chinese provinces and the larger cities: names add them or leave them out at will
# ("深圳市华强电子" / "华强电子（深圳）"), so they do not count as part of a name.
_CJK_PLACE_NAMES = (
    "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 "
    "广东 海南 四川 贵州 云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门 "
    "深圳 广州 东莞 佛山 珠海 中山 惠州 汕头 杭州 宁波 温州 义乌 绍兴 嘉兴 台州 金华 南京 苏州 "
    "无锡 常州 南通 扬州 徐州 合肥 福州 厦门 泉州 济南 青岛 烟台 潍坊 郑州 武汉 长沙 成都 西安 "
    "昆明 贵阳 南宁 南昌 太原 石家庄 沈阳 大连 长春 哈尔滨 兰州 乌鲁木齐 海口 三亚 呼和浩特 银川 西宁 拉萨"
)
_CJK_PLACES = _CJK_PLACE_NAMES.split()
_LATIN_PLACE_NAMES = (
    "beijing tianjin shanghai chongqing hebei shanxi liaoning jilin heilongjiang jiangsu zhejiang "
    "anhui fujian jiangxi shandong henan hubei hunan guangdong hainan sichuan guizhou yunnan "
    "shaanxi gansu qinghai taiwan guangxi xinjiang hongkong hk macau macao shenzhen guangzhou "
    "dongguan foshan zhuhai zhongshan huizhou hangzhou ningbo wenzhou yiwu nanjing suzhou wuxi "
    "changzhou xiamen quanzhou fuzhou jinan qingdao zhengzhou wuhan changsha chengdu xian "
    "kunming shenyang dalian china singapore"
)
_LATIN_PLACES = frozenset(_LATIN_PLACE_NAMES.split())
_LATIN_LEGAL_WORDS = frozenset(
    ["co", "ltd", "limited", "inc", "llc", "llp", "gmbh", "ag", "corp", "plc", "pte", "pty"]
)
# A place followed by the administrative word people write after it.
_PLACE_RE = re.compile(
    "(?:" + "|".join(sorted(_CJK_PLACES, key=len, reverse=True)) + ")(?:省|市|自治区|特别行政区)?"
)
_ADMIN_SUFFIX = ("特别行政区", "自治区", "省", "市", "区", "县")
# Legal forms wherever they stand: "华强电子有限公司（深圳）" keeps its 有限公司 in the key.
_CJK_LEGAL_RE = re.compile(
    "股份有限公司|有限责任公司|责任有限公司|有限公司|股份公司|有限合伙|公司$"
)
# Words that make a name one branch of a chain ("华润万家（福田分店）", "ACME Shanghai Branch").
_BRANCH_RE = re.compile(r"分公司|分店|门店|分部|营业部|办事处|分厂|支行|\bbranch\b|\boutlet\b")
# Each of the Chinese words has one of these characters: most names have none, and looking
# for them is far cheaper than the search.
_BRANCH_HINTS = frozenset("分店营办支")
_NON_WORD_RE = re.compile(r"[^\w]+")
_STREET_WORDS = {
    "street": "st",
    "str": "st",
    "road": "rd",
    "avenue": "ave",
    "av": "ave",
    "drive": "dr",
    "place": "pl",
    "crescent": "cres",
    "court": "ct",
    "lane": "ln",
    "highway": "hwy",
    "parade": "pde",
    "terrace": "tce",
    "circuit": "cct",
    "close": "cl",
    "boulevard": "blvd",
    "square": "sq",
    "building": "bldg",
    "floor": "fl",
    "room": "rm",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
}
_DIGITS_RE = re.compile(r"\d+")
_MOBILE_KINDS = frozenset({"mobile"})


@lru_cache(maxsize=1)
def _reading_table() -> dict[int, str]:
    """Character → toneless reading, for comparing Chinese text by how it sounds."""
    from pypinyin.pinyin_dict import pinyin_dict

    table: dict[int, str] = {}
    marks = str.maketrans("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ", "aaaaeeeeiiiioooouuuuvvvvvnnnm")
    for code, readings in pinyin_dict.items():
        table[code] = readings.split(",")[0].translate(marks)
    return table


@lru_cache(maxsize=200_000)
def sound_of(text: str) -> str:
    """Chinese characters as toneless pinyin, run together ("张伟" → "zhangwei"); Latin as is.

    One reading per character: enough to see that 张伟 and 章玮 sound alike, far cheaper
    than phrase segmentation.
    """
    if not contains_cjk(text):
        return text.replace(" ", "")
    return text.translate(_reading_table()).replace(" ", "")


def is_known_place(key: str) -> bool:
    """A Chinese province or larger city in pinyin (a place key): "suzhou", "hubei"."""
    return key in _LATIN_PLACES


@lru_cache(maxsize=4096)
def place_key(text: str | None) -> str:
    """A city or province as compared: "深圳市", "深圳" and "Shenzhen" are one place."""
    folded = fold_text(text)
    if not folded:
        return ""
    for suffix in _ADMIN_SUFFIX:
        if folded.endswith(suffix) and len(folded) > len(suffix) + 1:
            folded = folded[: -len(suffix)]
            break
    if folded.endswith(" city"):
        folded = folded[:-5]
    if contains_cjk(folded):
        return pinyin_sort_key(folded).replace(" ", "")
    return _NON_WORD_RE.sub("", folded)


def _strip_places(key: str, own_places: tuple[str, ...]) -> tuple[str, frozenset[str]]:
    """The name without place words, and the places it named (as place keys)."""
    if key.isascii() or not contains_cjk(key):
        return _strip_latin_places(key, own_places)
    text = _CJK_LEGAL_RE.sub(" ", key) if "公司" in key or "有限" in key else key
    named: set[str] | None = None
    for own, with_suffixes, own_key in _own_cjk_places(own_places):
        if own in text:
            named = named or set()
            named.add(own_key)
            for suffixed in with_suffixes:  # 上海市 whole, not 上海 leaving 市
                text = text.replace(suffixed, " ")
            text = text.replace(own, " ")
    places = _PLACE_RE.findall(text)
    if places:
        named = named or set()
        named.update(map(place_key, places))
        text = _PLACE_RE.sub(" ", text)
    if " " in text:
        text = _drop_cjk_spaces(" ".join(text.split()))
        length = len(text.replace(" ", ""))
    else:
        length = len(text)
    # A name that is only a place (or one character besides it) keeps its place.
    core = text if length >= 2 else key
    return core, frozenset(named) if named else _NO_PLACES


@lru_cache(maxsize=8192)
def _own_cjk_places(own_places: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...], str], ...]:
    """A customer's Chinese place names: each with its administrative words and its key."""
    return tuple(
        (own, tuple(own + suffix for suffix in _ADMIN_SUFFIX), place_key(own))
        for own in own_places
        if len(own) >= 2 and contains_cjk(own)
    )


def _strip_latin_places(key: str, own_places: tuple[str, ...]) -> tuple[str, frozenset[str]]:
    words = key.split()
    own_keys = _place_keys(own_places)
    named: set[str] = set()
    kept = []
    for position, word in enumerate(words):
        if word in _LATIN_PLACES or word in own_keys:
            named.add(place_key(word))
        elif position == 0 or word not in _LATIN_LEGAL_WORDS:
            kept.append(word)  # "ACME Co Ltd (Hamburg Branch)": the legal form is inside
    if not kept:
        return key, frozenset(named)
    return " ".join(kept), frozenset(named) if named else _NO_PLACES


@lru_cache(maxsize=4096)
def _place_keys(own_places: tuple[str, ...]) -> frozenset[str]:
    return frozenset(place_key(p) for p in own_places if p)


def _is_branch(name_key: str) -> bool:
    if not (
        "branch" in name_key
        or "outlet" in name_key
        or (not name_key.isascii() and not _BRANCH_HINTS.isdisjoint(name_key))
    ):
        return False
    return _BRANCH_RE.search(name_key) is not None


_CJK_GAP_RE = re.compile(r"(?<=[^\x00-\x7f]) | (?=[^\x00-\x7f])")


def _drop_cjk_spaces(text: str) -> str:
    return _CJK_GAP_RE.sub("", text) if " " in text else text


def address_key(address: str | None, own_places: Iterable[str] = ()) -> str:
    """An address as compared: folded, abbreviations unified, leading places dropped."""
    folded = fold_text(address)
    if not folded:
        return ""
    text = _NON_WORD_RE.sub(" ", folded)
    if text.isascii() or not contains_cjk(text):
        words = text.split()
        return " ".join(map(_STREET_WORDS.get, words, words))
    text = text.replace(" ", "")
    for own in own_places:
        if own and text.startswith(own):
            text = text[len(own) :]
    while True:
        match = _PLACE_RE.match(text)
        if match is None or match.end() == len(text):
            break
        text = text[match.end() :]
    return text


_NO_PLACES: frozenset[str] = frozenset()


@dataclass(slots=True)
class IdentityRecord:
    """One customer's identifying fields, folded for comparison."""

    id: int
    person: bool
    name: str  # as the customer is called, for reasons and reports
    key: str  # normalize_name: legal forms dropped
    core: str  # the key without place words
    tokens: tuple[str, ...]  # Latin words of the core; a CJK core is one token
    sorted_core: str  # the words in alphabetical order (transposed names)
    compact: str  # the core without spaces (split or joined words)
    sound: str  # the compact name as it sounds (pinyin for Chinese), see sound_of
    cjk: bool
    name_places: frozenset[str]
    branch: bool
    phones: dict[str, bool]  # E.164 → is a mobile
    emails: frozenset[str]
    tax: str
    birthday: str  # YYYYMMDD or ""
    address: str
    address_numbers: frozenset[str]
    postcode: str
    city: str  # place key
    city_shown: str
    province: str
    contacts: frozenset[str]


def _birthday_text(value: object) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    text = str(value)[:10]
    return text.replace("-", "") if len(text) == 10 else ""


@lru_cache(maxsize=8192)
def _own_places(city: str | None, province: str | None, district: str | None) -> tuple[str, ...]:
    """A customer's own places as a name may mention them: "深圳市" and "深圳"."""
    folded = [fold_text(p) for p in (city, province, district) if p]
    for place in list(folded):
        for suffix in _ADMIN_SUFFIX:
            if place.endswith(suffix) and len(place) > len(suffix) + 1:
                folded.append(place[: -len(suffix)])
                break
    return tuple(folded)


@dataclass(frozen=True, slots=True)
class _Places:
    """Where a customer is, in every form a record needs (a book has few distinct ones)."""

    own: tuple[str, ...]  # as a name or an address may mention them
    city: str  # place keys
    city_shown: str
    province: str


@lru_cache(maxsize=8192)
def _places(city: str | None, province: str | None, district: str | None) -> _Places:
    return _Places(
        _own_places(city, province, district),
        place_key(city),
        (city or "").strip(),
        place_key(province),
    )


@lru_cache(maxsize=8192)
def _postcode_key(postcode: str) -> str:
    return _NON_WORD_RE.sub("", fold_text(postcode))


def _record(
    customer_id: int,
    person: bool,
    name: str,
    name_key: str,
    places: _Places,
    phones: dict[str, bool],
    emails: frozenset[str],
    tax: str,
    birthday: str,
    address: str | None,
    postcode: str | None,
    contacts: frozenset[str],
) -> IdentityRecord:
    """The one place a record is put together: for a single customer and for the whole book."""
    core, named = _strip_places(name_key, places.own) if name_key else ("", _NO_PLACES)
    cjk = not core.isascii() and contains_cjk(core)
    compact = core.replace(" ", "") if " " in core else core
    if cjk:
        tokens: tuple[str, ...] = (compact,)
        sound = compact.translate(_reading_table()).replace(" ", "")  # sound_of, uncached
    else:
        tokens = tuple(core.split())
        sound = compact
    sorted_core = " ".join(sorted(tokens)) if len(tokens) > 1 else compact
    address_text = address_key(address, places.own) if address else ""
    return IdentityRecord(
        customer_id,
        person,
        name,
        name_key,
        core,
        tokens,
        sorted_core,
        compact,
        sound,
        cjk,
        named,
        _is_branch(name_key),
        phones,
        emails,
        tax,
        birthday,
        address_text,
        frozenset(_DIGITS_RE.findall(address_text)) if address_text else _NO_PLACES,
        _postcode_key(postcode) if postcode else "",
        places.city,
        places.city_shown,
        places.province,
        contacts,
    )


def make_record(
    customer_id: int,
    *,
    kind: str,
    name: str,
    key: str | None = None,
    phones: dict[str, bool] | None = None,
    emails: Iterable[str] = (),
    tax: str | None = None,
    birthday: object = None,
    address: str | None = None,
    postcode: str | None = None,
    city: str | None = None,
    province: str | None = None,
    district: str | None = None,
    contacts: Iterable[str] = (),
) -> IdentityRecord:
    """A record from a customer's plain values (keys already normalised where stored)."""
    return _record(
        customer_id,
        kind == CustomerKind.PERSON.value,
        name,
        key if key is not None else normalize_name(name),
        _places(city, province, district),
        phones or {},
        frozenset(emails) if emails else _NO_PLACES,
        tax or "",
        _birthday_text(birthday),
        address,
        postcode,
        frozenset(c for c in contacts if c) if contacts else _NO_PLACES,
    )


def draft_phones(raw: Iterable[str], region: str) -> dict[str, bool]:
    """Phones as a person typed them (several to a cell allowed) → E.164 → is a mobile."""
    found: dict[str, bool] = {}
    for cell in raw:
        for part in split_phones(cell) or [cell]:
            key = normalize_phone(part, region)
            if key:
                found[key] = is_mobile_key(key)
    return found


def draft_emails(raw: Iterable[str]) -> list[str]:
    return [key for key in (normalize_email(e) for e in raw) if key]


def draft_tax(raw: str | None) -> str:
    return normalize_key_text(raw)


_MOBILE_PREFIXES = ("+861",)


def is_mobile_key(key: str) -> bool:
    """A Chinese mobile by its shape; elsewhere only the stored kind tells."""
    return key.startswith(_MOBILE_PREFIXES) and len(key) == 14


# -- loading the book ---------------------------------------------------------------------

_CUSTOMERS_SQL = (
    "SELECT id, kind, name, name_key, tax_id_key, birthday, address, postcode, city, province,"
    " district FROM customers WHERE archived_at IS NULL AND merged_into_id IS NULL"
)
_POINTS_SQL = (
    "SELECT customer_id, kind, key FROM contact_points"
    " WHERE key IS NOT NULL AND kind IN ('mobile', 'phone', 'email')"
)
_CONTACTS_SQL = "SELECT customer_id, name_key FROM contacts WHERE name_key <> ''"


def _only(ids: Iterable[int] | None, column: str) -> str:
    if ids is None:
        return ""
    listed = ",".join(str(int(i)) for i in ids) or "NULL"
    return f" AND {column} IN ({listed})"


def load_records(connection: Connection, ids: Iterable[int] | None = None) -> list[IdentityRecord]:
    """Every live customer's record (or those of ``ids``), with three plain SELECTs."""
    wanted = None if ids is None else sorted(set(ids))
    phones: dict[int, dict[str, bool]] = {}
    email_lists: dict[int, list[str]] = {}
    email_kind = ContactPointKind.EMAIL.value
    for cid, kind, key in driver_rows(connection, _POINTS_SQL + _only(wanted, "customer_id")):
        if kind == email_kind:
            email_lists.setdefault(cid, []).append(key)
        elif kind in PHONE_KINDS:
            owned = phones.setdefault(cid, {})
            owned[key] = owned.get(key, False) or kind in _MOBILE_KINDS or is_mobile_key(key)
    emails = {cid: frozenset(keys) for cid, keys in email_lists.items()}
    contact_lists: dict[int, list[str]] = {}
    for cid, contact_key in driver_rows(connection, _CONTACTS_SQL + _only(wanted, "customer_id")):
        contact_lists.setdefault(cid, []).append(contact_key)
    contacts = {cid: frozenset(keys) for cid, keys in contact_lists.items()}
    person = CustomerKind.PERSON.value
    return [
        _record(
            cid,
            kind == person,
            name,
            name_key if name_key is not None else normalize_name(name),
            _places(city, province, district),
            phones.get(cid) or {},
            emails.get(cid, _NO_PLACES),
            tax or "",
            _birthday_text(birthday),
            address,
            postcode,
            contacts.get(cid, _NO_PLACES),
        )
        for (
            cid,
            kind,
            name,
            name_key,
            tax,
            birthday,
            address,
            postcode,
            city,
            province,
            district,
        ) in driver_rows(connection, _CUSTOMERS_SQL + _only(wanted, "id"))
    ]
