"""Normalised match keys: the stored, indexed forms that make records comparable.

Phones become E.164, e-mails lower-case, names a folded form without legal-form words.
The same functions serve ORM writes, bulk imports, searching and duplicate detection,
so a key computed anywhere is the key found everywhere.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from functools import lru_cache

import phonenumbers

DEFAULT_REGION = "CN"

# Longest first, so 股份有限公司 is removed whole rather than leaving 股份.
_CJK_LEGAL_FORMS = sorted(
    [
        "股份有限公司",
        "有限责任公司",
        "有限公司",
        "责任有限公司",
        "有限合伙",
        "股份公司",
        "公司",
        "有限會社",
        "株式会社",
    ],
    key=len,
    reverse=True,
)

_CJK_LEGAL_SUFFIXES = tuple(_CJK_LEGAL_FORMS)

_LATIN_LEGAL_FORMS = {
    "co",
    "company",
    "ltd",
    "limited",
    "inc",
    "incorporated",
    "llc",
    "llp",
    "lp",
    "gmbh",
    "ag",
    "kg",
    "corp",
    "corporation",
    "plc",
    "pte",
    "pvt",
    "pty",
    "bv",
    "nv",
    "sa",
    "sarl",
    "srl",
    "spa",
    "oy",
    "ab",
    "as",
    "kk",
}

_CJK_RANGES = (
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x2FA1F),
    (0x3040, 0x30FF),  # kana
    (0xAC00, 0xD7AF),  # hangul
)

_PUNCT_RE = re.compile(r"[^\w\s]", re.UNICODE)
_SPACE_RE = re.compile(r"\s+")
_DIGITS_RE = re.compile(r"\d+")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_SPLIT_RE = re.compile(r"[;,/、，；|\n]+|\s{2,}|\s+(?:or|或)\s+")


def is_cjk(char: str) -> bool:
    code = ord(char)
    return any(lo <= code <= hi for lo, hi in _CJK_RANGES)


_CJK_CLASS = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _CJK_RANGES)
_CJK_RE = re.compile(f"[{_CJK_CLASS}]")
# A space with a CJK character on either side; the names' words are joined by single spaces.
_CJK_SPACE_RE = re.compile(f"(?<=[{_CJK_CLASS}]) | (?=[{_CJK_CLASS}])")


def contains_cjk(text: str) -> bool:
    return _CJK_RE.search(text) is not None


def fold_text(text: str | None) -> str:
    """NFKC (full-width → half-width), case folded, runs of spaces collapsed."""
    if not text:
        return ""
    # str.split() splits on exactly the characters \s matches (str.isspace), and the join
    # leaves no space at either end: the same as sub(r"\s+", " ").strip(), in C.
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _drop_spaces_between_cjk(text: str) -> str:
    """Spaces next to a CJK character go: "深圳市 华强" is "深圳市华强" (words singly spaced)."""
    if " " not in text:  # most names: nothing to look at
        return text
    return _CJK_SPACE_RE.sub("", text)


@lru_cache(maxsize=65536)
def normalize_name(name: str | None) -> str:
    """Key for matching names: legal-form words (有限公司, Co., Ltd., GmbH...) ignored.

    "深圳市华强电子有限公司" and "深圳市华强电子" share a key; so do "ACME Trading Co., Ltd."
    and "acme  trading".
    """
    text = fold_text(name)
    if not text:
        return ""
    if text.endswith(_CJK_LEGAL_SUFFIXES):  # one C call rules out most names
        for form in _CJK_LEGAL_FORMS:
            if text.endswith(form) and len(text) > len(form):
                text = text[: -len(form)]
                break
    if text.isalnum():
        # One word of letters and digits ("深圳市华强电子"): str.isalnum is exactly \w minus
        # "_", so there is no punctuation, space or legal-form word to take away.
        return text
    # Bracketed asides such as （深圳） or (HK) stay part of the name, without the brackets.
    text = _PUNCT_RE.sub(" ", text.replace("&", " and "))
    words = text.split()
    while len(words) > 1 and words[-1] in _LATIN_LEGAL_FORMS:
        words.pop()
    # "co ltd" leaves "co" behind after "ltd" is dropped; the loop above handles both.
    text = " ".join(words)
    text = _drop_spaces_between_cjk(text)
    return text.strip()


def normalize_email(email: str | None) -> str | None:
    """Lower-cased, trimmed e-mail, or None when it is not an e-mail address."""
    if not email:
        return None
    text = unicodedata.normalize("NFKC", email).strip().strip("<>").strip().lower()
    if text.startswith("mailto:"):
        text = text[len("mailto:") :]
    return text if _EMAIL_RE.match(text) else None


# Notes people add to a number: "13800138000（微信同号）", "(office)", "【主】".
_PHONE_NOTE_RE = re.compile(r"[(\[【][^)\]】\d]*[)\]】]")


_WHOLE_FLOAT_RE = re.compile(r"\d+\.0+")
_SCIENTIFIC_RE = re.compile(r"\d(\.\d+)?[eE]\+?\d+")


def _clean_phone_text(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw).strip()
    text = _PHONE_NOTE_RE.sub(" ", text).strip()
    # Spreadsheets store phones as numbers: 13800138000.0 or 1.38001380E+10.
    if _WHOLE_FLOAT_RE.fullmatch(text):
        text = text.split(".")[0]
    elif _SCIENTIFIC_RE.fullmatch(text):
        with contextlib.suppress(OverflowError, ValueError):
            text = str(int(float(text)))
    return text


# Chinese mobiles are most of what people type; they skip the general parser (~20x faster).
_CN_MOBILE_RE = re.compile(r"^(?:\+|00)?(?:86)?(1[3-9]\d{9})$")
_PHONE_PUNCT_RE = re.compile(r"[\s\-().]")
_MOBILE_SECOND_DIGITS = frozenset("3456789")
# ASCII digits, +, - and spaces only: nothing for NFKC, the note or the spreadsheet-number
# rules of _clean_phone_text to change, so the CN mobile test can run on the raw text.
_PLAIN_PHONE_RE = re.compile(r"[0-9+\- ]+")


def _plain_cn_mobile(raw: object, region: str) -> str | None:
    """+86 key of a mobile typed plainly for CN ("13800138000", "+86 138-0013-8000"), else None.

    What the general path returns for these, without its cleaning or the cache; other
    scripts' digits (which \\d also matches) and other punctuation stay on the general path.
    """
    if type(raw) is not str or not raw.isascii():
        return None
    if len(raw) == 11:
        digits = raw
    elif len(raw) == 14 and raw.startswith("+86"):
        digits = raw[3:]
    else:
        digits = ""
    if digits[:1] == "1" and digits[1] in _MOBILE_SECOND_DIGITS and digits.isdigit():
        return "+86" + digits if region.upper() == "CN" else None
    if region.upper() == "CN" and _PLAIN_PHONE_RE.fullmatch(raw):
        compact = raw.replace(" ", "").replace("-", "")
        mobile = _CN_MOBILE_RE.match(compact)
        if mobile and (compact[0] != "+" or compact.startswith("+86")):
            return "+86" + mobile.group(1)
    return None


def normalize_phone(raw: str | None, region: str = DEFAULT_REGION) -> str | None:
    """E.164 key (+8613800138000) for a phone as people type it, or None if it is not one.

    Handles +86 / (+86) / 0086 prefixes, spaces, dashes, dots, full-width digits and
    numbers without the plus that still start with the region's country code.
    """
    # Imported phones are mostly distinct bare mobiles: answering them before the cache
    # saves the cache's hashing and keeps it for the numbers that need the parser.
    return _plain_cn_mobile(raw, region) or _normalize_phone(raw, region)


@lru_cache(maxsize=65536)
def _normalize_phone(raw: str | None, region: str) -> str | None:
    if raw is None:
        return None
    text = _clean_phone_text(str(raw))
    if not text or not any(ch.isdigit() for ch in text):
        return None
    if region.upper() == "CN":
        compact = _PHONE_PUNCT_RE.sub("", text)
        mobile = _CN_MOBILE_RE.match(compact)
        if mobile and (compact[0] != "+" or compact.startswith("+86")):
            return "+86" + mobile.group(1)
    extension = re.split(r"(?i)\s*(?:ext\.?|x|转|分机)\s*(?=\d+$)", text)
    text = extension[0]
    candidates = [text]
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("00"):
        candidates.insert(0, "+" + digits[2:])
    try:
        country_code = phonenumbers.country_code_for_region(region.upper())
    except Exception:  # pragma: no cover - defensive: unknown region strings
        country_code = 0
    if country_code and digits.startswith(str(country_code)) and not text.startswith("+"):
        candidates.append("+" + digits)
    for candidate in candidates:
        try:
            parsed = phonenumbers.parse(candidate, region.upper())
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    # Not a valid number for any known plan: keep the digits so identical junk still matches.
    if len(digits) >= 5:
        return "+" + digits if text.startswith("+") else digits
    return None


def split_phones(cell: str | None) -> list[str]:
    """Several phones in one cell ("138 0013 8000 / 0755-8888 9999") → separate strings."""
    if not cell:
        return []
    text = _clean_phone_text(str(cell))
    parts = [p.strip() for p in _PHONE_SPLIT_RE.split(text) if p and p.strip()]
    return parts


def format_phone(e164: str | None, region: str = DEFAULT_REGION) -> str:
    """Readable form: national format for the home region, international otherwise."""
    if not e164:
        return ""
    if region.upper() == "CN" and e164.startswith("+861") and len(e164) == 14:
        return f"{e164[3:6]} {e164[6:10]} {e164[10:]}"  # 138 0013 8000, without the parser
    try:
        parsed = phonenumbers.parse(e164, region)
    except phonenumbers.NumberParseException:
        return e164
    if not phonenumbers.is_valid_number(parsed):
        return e164
    if phonenumbers.region_code_for_number(parsed) == region.upper():
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# National digits that parse("+86…") keeps as they are: 2 to 17 ASCII digits starting 2-9
# or 10 (Beijing), which neither CN's trunk prefix "0" nor its carrier codes 11xx/12xx/179xx
# can start with.
_CN_NATIONAL_RE = re.compile(r"[2-9][0-9]{1,16}|10[0-9]{0,15}")


def phone_search_variants(e164: str | None) -> list[str]:
    """Digit strings under which a phone is found by search: E.164 digits and national digits."""
    if not e164:
        return []
    digits = e164.lstrip("+")
    variants = [digits]
    if e164.startswith("+861") and len(e164) == 14:
        return [digits, digits[2:]]  # Chinese mobile: no trunk-0 form
    if e164.startswith("+86") and _CN_NATIONAL_RE.fullmatch(e164, 3):
        # A Chinese landline: the parser would take these digits as the national number
        # unchanged (no trunk prefix or carrier code to strip, no leading zero), ~40x slower.
        national = e164[3:]
        return [digits, national, "0" + national]
    try:
        parsed = phonenumbers.parse(e164 if e164.startswith("+") else "+" + e164, None)
        national = str(parsed.national_number)
        if parsed.italian_leading_zero:
            national = "0" * max(parsed.number_of_leading_zeros or 1, 1) + national
        variants.append(national)
        variants.append("0" + national)  # trunk prefix as locals dial landlines (0755...)
    except phonenumbers.NumberParseException:
        pass
    return variants


def looks_like_phone_query(text: str) -> bool:
    """A search term made of digits and phone punctuation, with enough digits to mean it."""
    folded = unicodedata.normalize("NFKC", text).strip()
    if not folded:
        return False
    digits = sum(ch.isdigit() for ch in folded)
    others = [ch for ch in folded if not ch.isdigit() and ch not in "+-() ."]
    return digits >= 4 and not others


def phone_query_digits(text: str, region: str = DEFAULT_REGION) -> str:
    """Digits to look for when a search term is a phone: national digits if it parses."""
    e164 = normalize_phone(text, region)
    folded = unicodedata.normalize("NFKC", text)
    if e164 and e164.startswith("+") and folded.strip().startswith(("+", "00", "(")):
        variants = phone_search_variants(e164)
        return variants[1] if len(variants) > 1 else variants[0]
    digits = "".join(ch for ch in folded if ch.isdigit())
    return digits


def normalize_key_text(value: str | None) -> str:
    """External-id and messaging-id key: NFKC, trimmed, case folded, inner spaces removed."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    if "." in text and _WHOLE_FLOAT_RE.fullmatch(text.strip()):
        text = text.split(".")[0]
    # str.split() splits on exactly what \s matches: this drops every run of spaces, in C.
    return "".join(text.split()).casefold()


# Readings that a character table gets wrong in common business and place names.
_PINYIN_PHRASES = {
    "重庆": "chong qing",
    "厦门": "xia men",
    "银行": "yin hang",
    "蚌埠": "beng bu",
    "六安": "lu an",
    "长沙": "chang sha",
    "长春": "chang chun",
    "朝阳": "chao yang",
    "乐山": "le shan",
    "曾": "zeng",
    "单": "shan",
    "解": "xie",
    "仇": "qiu",
    "查": "zha",
    "区": "ou",
}
# Characters whose first listed reading is not the one names usually need.
_CHAR_READINGS = {"长": "chang", "都": "du", "行": "xing", "重": "zhong", "藏": "cang"}
_TONE_MARKS = str.maketrans("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ", "aaaaeeeeiiiioooouuuuvvvvvnnnm")

# The phrase readings as a scan from the left finds them: two-character phrases anywhere,
# one-character ones (surnames such as 曾) only as the first or the last character. Every
# alternative starts with a literal, so re scans for their first characters as a set.
_PHRASE_READINGS = {text: f" {reading} " for text, reading in _PINYIN_PHRASES.items()}
_PHRASE_RE = re.compile(
    "|".join(
        [
            *(re.escape(text) for text in _PINYIN_PHRASES if len(text) == 2),
            *(
                # At the start (nothing two characters back) or at the end.
                re.escape(text) + r"(?:(?<![\s\S]{2})|\Z)"
                for text in _PINYIN_PHRASES
                if len(text) == 1
            ),
        ]
    )
)


def _phrase_reading(match: re.Match[str]) -> str:
    return _PHRASE_READINGS[match.group()]


@lru_cache(maxsize=1)
def _pinyin_table() -> dict[str, str]:
    from pypinyin.pinyin_dict import pinyin_dict

    return {
        chr(code): readings.split(",")[0].translate(_TONE_MARKS)
        for code, readings in pinyin_dict.items()
    }


@lru_cache(maxsize=1)
def _pinyin_translation() -> dict[int, str]:
    """str.translate table: every character with a reading → " reading " (spaced apart)."""
    table = _pinyin_table()
    merged = {ord(char): f" {reading} " for char, reading in table.items()}
    merged.update(
        (ord(char), f" {reading} ") for char, reading in _CHAR_READINGS.items() if reading
    )
    return merged


def pinyin_sort_key(name: str | None) -> str:
    """Sort key putting Chinese names in pinyin order among Latin ones (张 near "zhang").

    A per-character table (first reading) is ~60x faster than phrase segmentation and
    orders names the same in nearly every case; known exceptions are listed above.
    """
    # fold_text without its space collapsing, which the split/join at the end does anyway;
    # the ends are stripped now because the surname readings look at the first character.
    text = unicodedata.normalize("NFKC", name).casefold().strip() if name else ""
    if not contains_cjk(text):
        return " ".join(text.split())
    if _PHRASE_RE.search(text):  # most names have none: a search is cheaper than a sub
        text = _PHRASE_RE.sub(_phrase_reading, text)
    # Readings come out spaced apart, so split/join leaves them and the Latin words and
    # digits between them ("ACME 2号" → "acme 2 hao") singly spaced. The rest is casefolded
    # above and the readings are lower-case ASCII: casefolding again would change nothing.
    return " ".join(text.translate(_pinyin_translation()).split())


@lru_cache(maxsize=4096)
def _fold_place(place: str) -> str:
    """fold_text for cities, districts and provinces: a book has few, repeated a lot."""
    return fold_text(place)


def build_search_text(
    name: str | None,
    *,
    contact_names: list[str] | tuple[str, ...] = (),
    phone_keys: list[str] | tuple[str, ...] = (),
    emails: list[str] | tuple[str, ...] = (),
    other_ids: list[str] | tuple[str, ...] = (),
    places: list[str | None] | tuple[str | None, ...] = (),
) -> str:
    """The folded text a customer is found by: name, contacts, phones, e-mails, city...

    Fields are separated by newlines so a search term never matches across two fields.
    Phones appear as every digit string a person might type (E.164, national, with trunk 0).
    """
    # Plain loops: most of these sequences are empty or hold one item, where a generator
    # expression costs more than the work it does.
    parts: list[str] = [fold_text(name)]
    for contact in contact_names:
        parts.append(fold_text(contact))
    for key in phone_keys:
        parts += phone_search_variants(key)
    for email in emails:
        parts.append(email.casefold())
    for other in other_ids:
        parts.append(fold_text(other))
    for place in places:
        if place:
            parts.append(_fold_place(place))
    unique = dict.fromkeys(parts)  # keeps first-seen order
    unique.pop("", None)
    return "\n".join(unique)
