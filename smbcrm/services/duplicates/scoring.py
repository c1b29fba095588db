"""How alike two customers are, as a score out of 100 and the reasons in words.

Each identifying field adds evidence for or against "the same customer": a shared mobile
or tax number weighs a lot, a shared landline or address less (families and colleagues
share them), a different birthday or tax number counts strongly against, and so do names
that differ where it matters (two people's given names, two branches of one chain). The
weights are log-odds, so they add up; the score is that sum as a percentage (logistic).
A field one side lacks says nothing either way: records with only names and addresses,
or only company names and cities, are judged by what they have.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein
from rapidfuzz.fuzz import ratio

from smbcrm.models.keys import format_phone
from smbcrm.services.duplicates.records import IdentityRecord, is_known_place, sound_of

# Evidence, in natural-log odds.
W_MOBILE = 5.0
W_LANDLINE = 2.5
W_LANDLINE_PERSON = 1.0  # a household's or an office's line: shared by several people
W_PHONE_SHARED_WIDELY = 1.0  # a number many customers give: a switchboard, a family line
W_PHONES_DIFFER = -1.5
W_PHONES_DIFFER_PERSON = -3.0  # a person keeps one mobile for years; a company has many lines
W_EMAIL = 5.0
W_EMAIL_ALIKE = 2.5
W_EMAIL_SAME_USER = 1.0
W_EMAILS_DIFFER = -0.7
W_TAX = 6.0
W_TAX_TYPO = 2.5
W_TAX_DIFFER = -5.0
W_TAX_SHARED_WIDELY = 1.0  # one number several people give: their employer's, a placeholder
W_BIRTHDAY = 4.0
W_BIRTHDAY_TYPO = 1.5
W_BIRTHDAY_DIFFER = -4.5
W_ADDRESS_SAME = 2.5
W_ADDRESS_SAME_PERSON = 1.5  # families and flatmates share one
W_ADDRESS_ALIKE = 1.5
W_ADDRESS_CLOSE = 0.5
W_ADDRESS_DIFFER = -2.5
W_POSTCODE = 1.0
W_POSTCODE_SAME_CITY = 0.3  # in the same city a postcode adds little (518000 is all of 深圳)
W_POSTCODE_DIFFER = -1.0
W_CITY = 0.7
W_CITY_DIFFER_COMPANY = -2.5
W_CITY_DIFFER_PERSON = -1.5
W_KIND_DIFFER = -1.0
CITY_TYPO = 85.0  # "caboolture" / "caboorture": one place mistyped, not two places
CITY_SLIP_LETTERS = 5  # a place name this long with one slip is that place mistyped
W_CONTACT = 1.5
W_BRANCHES = -6.0
W_PLACES_DIFFER = -2.0
# Companies' names by how alike they are (percent floor → weight).
COMPANY_NAME_STEPS = ((97.0, 5.0), (92.0, 4.0), (85.0, 2.5), (75.0, 0.5), (65.0, -2.0))
COMPANY_NAME_FLOOR = -5.0
# People's names are common: a same name is weaker evidence, a different one stronger.
PERSON_NAME_STEPS = ((97.0, 3.0), (92.0, 2.2), (86.0, 1.0), (75.0, -1.5))
PERSON_NAME_FLOOR = -5.0
W_PART_MISMATCH = -8.0  # the given names (or the family names) are different names
# ... yet one ID number: twins share a birthday, never an ID number, so a name changed.
W_PART_MISMATCH_SAME_ID = -4.0
# A given or family name one slip from another counts as this alike (a typo) when it has
# at least NAME_SLIP_LETTERS letters (neighbours swapped: one letter fewer).
PART_SLIP = 90.0
NAME_SLIP_LETTERS = 4
SLIP_RATIO = 66.0  # "zeo" / "zoe", the least alike one slip makes two words (ratio 66.7)
PARTS_DIFFER = 50.0  # given (or family) names less alike than this are different names
W_NAME_SUBSET = 1.0  # "Smith" and "John Smith": a part missing, the rest the same
# "Jade Sterling Imports" / "Sterling Jade Imports": likely one company, not certainly.
COMPANY_TRANSPOSED = 92.0
NAME_SHARED_WIDELY = 2  # more customers than this with one person's name: weaker evidence
# A two-character Chinese name (王芳) is shared by thousands: it proves less than most names.
SHORT_CJK_NAME_SAME = 2.0
# A word in each company name the other lacks ("Harbor Meridian" / "Aurora Meridian").
COMPANY_WORDS_DIFFER = 74.0
WORD_ALIKE = 75.0
# Mailboxes every company has: the same one at two domains says nothing.
GENERIC_MAILBOXES = frozenset(
    [
        "info",
        "sales",
        "office",
        "contact",
        "admin",
        "service",
        "support",
        "hello",
        "mail",
        "enquiries",
        "enquiry",
        "kefu",
        "hr",
        "marketing",
        "account",
        "accounts",
        "billing",
        "order",
        "orders",
        "noreply",
        "webmaster",
    ]
)
MAX_REASONS = 6
# The most a name can add (a company's same name), and the rounding a bound may differ by.
NAME_WEIGHT_MAX = COMPANY_NAME_STEPS[0][1]
BOUND_SLACK = 1e-9


class NameMatch(Enum):
    SAME = "same"
    SAME_WITHOUT_PLACE = "same without place"
    TRANSPOSED = "transposed"
    SOUNDS = "sounds"
    PINYIN = "pinyin"
    SUBSET = "subset"
    ALIKE = "alike"


@dataclass(frozen=True, slots=True)
class BookWeights:
    """The evidence against, where a book's own records can show it is weaker than usual.

    A different ID number, birthday or name counts strongly against "one person" in a book
    kept with care. In a book where the same person is often written with another ID
    number or given name (records keyed in twice by hand, or merged from systems that
    disagree), it proves less; see :mod:`.calibration`, which measures that.
    """

    person_tax_differ: float = W_TAX_DIFFER
    birthday_differ: float = W_BIRTHDAY_DIFFER
    person_name_floor: float = PERSON_NAME_FLOOR
    part_mismatch: float = W_PART_MISMATCH
    part_mismatch_same_id: float = W_PART_MISMATCH_SAME_ID


DEFAULT_WEIGHTS = BookWeights()


@dataclass(slots=True)  # not frozen: made for every pair judged, and frozen is slower
class NameComparison:
    similarity: float  # 0..100
    match: NameMatch
    part_mismatch: bool  # given (or family) names are different names


def probability(weight: float) -> float:
    """Log-odds → percentage."""
    if weight >= 30:
        return 100.0
    if weight <= -30:
        return 0.0
    return 100.0 / (1.0 + math.exp(-weight))


def weight_for(score: float) -> float:
    """Percentage → log-odds (the inverse of :func:`probability`)."""
    share = min(max(score / 100.0, 1e-9), 1 - 1e-9)
    return math.log(share / (1 - share))


# -- names --------------------------------------------------------------------------------


def _latin_parts(tokens: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """A Latin name as (given, family): its first and last word and, as a stray space may
    split one name in two ("rolli ns"), the first word with the rest joined and all but
    the last word joined with the last."""
    if len(tokens) < 2:
        return ()
    first, last = tokens[0], tokens[-1]
    if len(tokens) == 2:
        return ((first, last),)
    return ((first, last), (first, "".join(tokens[1:])), ("".join(tokens[:-1]), last))


def _part_alike(x: str, y: str) -> float:
    """Two given (or family) names: Jaro-Winkler, the measure made for names' typos."""
    if x == y:
        return 100.0
    if len(x) == 1 or len(y) == 1:  # an initial
        return 100.0 if x[0] == y[0] else 0.0
    if x.startswith(y) or y.startswith(x):  # "chris" / "christopher"
        return 90.0
    alike = max(JaroWinkler.similarity(x, y) * 100.0, ratio(x, y))
    # One slip leaves two names at least SLIP_RATIO alike by ratio: most pairs need no look.
    if SLIP_RATIO <= alike < PART_SLIP and _one_slip(x, y, NAME_SLIP_LETTERS):
        return PART_SLIP
    return alike


def _one_slip(x: str, y: str, letters: int) -> bool:
    """One slip between two words of at least ``letters`` letters: a letter wrong, missing
    or extra, or two neighbours swapped — which also counts in a word one letter shorter
    ("zeo" / "zoe", which Jaro-Winkler cannot see in so short a word).

    A shorter word with a letter changed is mostly another word (Tom / Tim, Ryde / Hyde).
    """
    shorter = min(len(x), len(y))
    if shorter < letters - 1 or OSA.distance(x, y, score_cutoff=1) > 1:
        return False
    return shorter >= letters or (len(x) == len(y) and sorted(x) == sorted(y))


def _closest_parts(
    a: IdentityRecord, b: IdentityRecord
) -> tuple[float, tuple[str, str] | None] | None:
    """How alike two Latin-script people's given and family names are: the weaker of the two.

    Families share the family name, so the name as a whole says little; the given names
    tell people apart. Either order of the parts is allowed (a swapped given/family name),
    and a name split by a stray space is also read joined. With the weaker part, the two
    names as read (given and family name) when that took joining words, else None.
    """
    tokens_a, tokens_b = a.tokens, b.tokens
    if len(tokens_a) == 2 and len(tokens_b) == 2:  # most names: one reading each
        (given_a, family_a), (given_b, family_b) = tokens_a, tokens_b
        straight = min(_part_alike(given_a, given_b), _part_alike(family_a, family_b))
        swapped = min(_part_alike(given_a, family_b), _part_alike(family_a, given_b))
        return max(straight, swapped), None
    splits_a, splits_b = _latin_parts(tokens_a), _latin_parts(tokens_b)
    if not splits_a or not splits_b:
        return None
    best = -1.0
    read: tuple[str, str] | None = None
    for joined_a, (given_a, family_a) in enumerate(splits_a):
        for joined_b, (given_b, family_b) in enumerate(splits_b):
            straight = min(_part_alike(given_a, given_b), _part_alike(family_a, family_b))
            swapped = min(_part_alike(given_a, family_b), _part_alike(family_a, given_b))
            alike = max(straight, swapped)
            if alike > best:
                best = alike
                read = None
                if joined_a or joined_b:
                    as_b = (given_b, family_b) if straight >= swapped else (family_b, given_b)
                    read = (f"{given_a} {family_a}", " ".join(as_b))
    return best, read


def _single_word_like_a_part(a: IdentityRecord, b: IdentityRecord) -> bool:
    """The name of one word is a word of the other name mistyped ("smiht" / "John Smith"):
    a part missing, as when it is that word exactly."""
    single, other = (a, b) if len(a.tokens) == 1 else (b, a)
    word = single.tokens[0]
    return any(_part_alike(word, part) >= PART_SLIP for part in other.tokens)


def _cjk_parts_mismatch(a: IdentityRecord, b: IdentityRecord) -> bool:
    """Two people named in Chinese whose given names (or family names) are different names."""
    x, y = a.compact, b.compact
    if not (2 <= len(x) <= 4 and 2 <= len(y) <= 4):
        return False
    family_a, family_b = x[0], y[0]
    given_a, given_b = x[1:], y[1:]
    family_same = family_a == family_b or sound_of(family_a) == sound_of(family_b)
    if not family_same:
        # 张伟 / 伟张 is a swap, not two families.
        return set(x) != set(y)
    if set(given_a) & set(given_b):
        return False
    sound_a, sound_b = sound_of(given_a), sound_of(given_b)
    return sound_a != sound_b and ratio(sound_a, sound_b) < 75


def compare_names(a: IdentityRecord, b: IdentityRecord) -> NameComparison:
    person = a.person and b.person
    if a.core == b.core:
        match = NameMatch.SAME if a.key == b.key else NameMatch.SAME_WITHOUT_PLACE
        return NameComparison(100.0, match, False)
    mismatch = False
    if a.cjk == b.cjk:
        if not a.cjk and a.sorted_core == b.sorted_core:
            return NameComparison(
                100.0 if person else COMPANY_TRANSPOSED, NameMatch.TRANSPOSED, False
            )
        if a.compact == b.compact:
            return NameComparison(100.0, NameMatch.SAME, False)
        similarity = ratio(a.core, b.core)
        match = NameMatch.ALIKE
        if a.cjk:
            if a.sound == b.sound:
                similarity, match = max(similarity, 96.0), NameMatch.SOUNDS
            mismatch = person and _cjk_parts_mismatch(a, b)
        else:
            similarity = max(
                similarity, ratio(a.sorted_core, b.sorted_core), ratio(a.compact, b.compact)
            )
            set_a, set_b = set(a.tokens), set(b.tokens)
            # A part missing: that word exactly, or a single word mistyped of the other's.
            if (
                set_a < set_b
                or set_b < set_a
                or (
                    person
                    and (len(a.tokens) == 1) != (len(b.tokens) == 1)
                    and _single_word_like_a_part(a, b)
                )
            ):
                match = NameMatch.SUBSET
            if person:
                parts = _closest_parts(a, b)
                if parts is not None:
                    alike, read = parts
                    mismatch = alike < PARTS_DIFFER
                    if match is NameMatch.ALIKE:
                        if read is not None:
                            similarity = max(similarity, ratio(*read))
                        similarity = min(similarity, alike)
            elif match is NameMatch.ALIKE and _words_differ(a.tokens, b.tokens):
                similarity = min(similarity, COMPANY_WORDS_DIFFER)
    else:
        # One written in Chinese, the other in pinyin or another Latin spelling.
        cjk, latin = (a, b) if a.cjk else (b, a)
        sound = cjk.sound
        similarity = max(ratio(sound, latin.compact), ratio(sound, "".join(reversed(latin.tokens))))
        match = NameMatch.PINYIN if similarity >= 97 else NameMatch.ALIKE
    return NameComparison(similarity, match, mismatch)


def _words_differ(x: tuple[str, ...], y: tuple[str, ...]) -> bool:
    """Each name has a word the other has nothing like: two names, not one name mistyped."""

    def lone(words: tuple[str, ...], others: tuple[str, ...]) -> bool:
        return any(w not in others and all(ratio(w, o) < WORD_ALIKE for o in others) for w in words)

    return len(x) > 1 and len(y) > 1 and lone(x, y) and lone(y, x)


def _name_weight(
    a: IdentityRecord,
    b: IdentityRecord,
    names: NameComparison,
    name_count: int,
    weights: BookWeights = DEFAULT_WEIGHTS,
    *,
    id_shared: bool = False,
) -> float:
    person = a.person and b.person
    steps, floor = (
        (PERSON_NAME_STEPS, weights.person_name_floor)
        if person
        else (COMPANY_NAME_STEPS, COMPANY_NAME_FLOOR)
    )
    similarity = names.similarity
    weight = floor
    for at_least, step_weight in steps:
        if similarity >= at_least:
            weight = step_weight
            break
    if names.match is NameMatch.SUBSET:
        weight = max(weight, W_NAME_SUBSET)
    if person:
        if a.cjk and b.cjk and len(a.compact) == 2 and weight > SHORT_CJK_NAME_SAME:
            weight = SHORT_CJK_NAME_SAME
        if names.part_mismatch:
            same_id = bool(a.tax) and a.tax == b.tax and not id_shared
            weight = min(
                weight, weights.part_mismatch_same_id if same_id else weights.part_mismatch
            )
        elif weight > 0 and name_count > NAME_SHARED_WIDELY:
            # 张伟 or John Smith: many people carry the name, so it proves less.
            weight -= min(2.5, 0.6 * math.log2(name_count / NAME_SHARED_WIDELY) + 0.5)
    if a.branch and b.branch and a.key != b.key:
        weight += W_BRANCHES
    elif a.name_places and b.name_places and not (a.name_places & b.name_places):
        weight += W_PLACES_DIFFER  # 重庆啤酒 / 青岛啤酒: the place is part of what differs
    return weight


def _name_reason(a: IdentityRecord, b: IdentityRecord, names: NameComparison) -> str:
    match = names.match
    if match is NameMatch.SAME:
        # People have no legal form: theirs differ in spaces or capitals only.
        if (a.person and b.person) or a.name.strip() == b.name.strip():
            return "same name"
        return "same name, legal form aside"
    if match is NameMatch.SAME_WITHOUT_PLACE:
        return "same name apart from the place"
    if match is NameMatch.TRANSPOSED:
        return "same name, words in another order"
    if match is NameMatch.SOUNDS:
        return f"names sound alike: {a.name} / {b.name}"
    if match is NameMatch.PINYIN:
        return f"same name in pinyin: {a.name} / {b.name}"
    if match is NameMatch.SUBSET and names.similarity < 90:
        return "one name holds the other"
    return f"names {math.floor(names.similarity):.0f}% alike"


# -- the other fields ---------------------------------------------------------------------


@lru_cache(maxsize=65536)
def shown_phone(key: str) -> str:
    """International form, "+86 138 0013 8000", whatever the book's home region."""
    if key.startswith("+86") and key[3:].isdigit():
        # Chinese numbers without the (slow) parser: mobiles 3-4-4, landlines area + number.
        national = key[3:]
        if national.startswith("1") and len(national) == 11:
            return f"+86 {national[:3]} {national[3:7]} {national[7:]}"
        area = 2 if national.startswith(("10", "2")) else 3
        number = national[area:]
        if 7 <= len(number) <= 8:
            return f"+86 {national[:area]} {number[:-4]} {number[-4:]}"
    return format_phone(key, "ZZ")


def _shown_date(digits: str) -> str:
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"


def digits_apart(x: str, y: str) -> int:
    """Slips between two numbers: digits wrong, missing or extra, neighbours swapped (max 3).

    A birthday with day and month swapped (1980-04-09 / 1980-09-04) counts as one slip.
    """
    apart = OSA.distance(x, y, score_cutoff=3)
    if (
        apart > 1
        and len(x) == len(y) == 8
        and x[:4] == y[:4]
        and x[4:6] == y[6:]
        and x[6:] == y[4:6]
    ):
        return 1
    return apart


def _digits_alike(x: str, y: str) -> bool:
    return digits_apart(x, y) <= 1


@dataclass(slots=True)
class Judgement:
    weight: float
    reasons: list[str]
    against: list[str]

    @property
    def score(self) -> float:
        return round(probability(self.weight), 1)

    def all_reasons(self) -> tuple[str, ...]:
        return tuple((self.reasons + self.against)[:MAX_REASONS])


def judge(
    a: IdentityRecord,
    b: IdentityRecord,
    *,
    name_count: int = 1,
    phone_count: dict[str, int] | None = None,
    floor: float | None = None,
    weights: BookWeights = DEFAULT_WEIGHTS,
    shared_taxes: frozenset[str] = frozenset(),
) -> Judgement | None:
    """How alike ``a`` and ``b`` are; None when the weight cannot reach ``floor`` (log-odds)."""
    weight = 0.0
    reasons: list[str] = []
    against: list[str] = []

    # Strong identifiers first: what they add decides whether the rest is worth a look.
    shared_phone = None
    if a.phones and b.phones:
        small, large = (
            (a.phones, b.phones) if len(a.phones) <= len(b.phones) else (b.phones, a.phones)
        )
        best = 0.0
        for key, mobile in small.items():
            if key in large:
                if mobile or large[key]:
                    value = W_MOBILE
                else:
                    value = W_LANDLINE_PERSON if (a.person and b.person) else W_LANDLINE
                if phone_count is not None and phone_count.get(key, 0) > 3:
                    value = W_PHONE_SHARED_WIDELY
                if value > best:
                    best, shared_phone = value, key
        if shared_phone is None:
            weight += W_PHONES_DIFFER_PERSON if (a.person and b.person) else W_PHONES_DIFFER
        else:
            weight += best
    shared_email = None
    if a.emails and b.emails:
        common = a.emails & b.emails
        if common:
            shared_email = min(common)
            weight += W_EMAIL
    tax_same = False
    tax_shared = False
    tax_apart = 0
    if a.tax and b.tax:
        if a.tax == b.tax:
            tax_same = True
            tax_shared = a.tax in shared_taxes
            weight += W_TAX_SHARED_WIDELY if tax_shared else W_TAX
        else:
            tax_apart = digits_apart(a.tax, b.tax)
            if tax_apart == 1:
                weight += W_TAX_TYPO
            elif tax_apart > 2:  # two slips: too close to call either way
                weight += weights.person_tax_differ if a.person and b.person else W_TAX_DIFFER
                against.append(f"different {'ID' if a.person else 'tax'} numbers")
    if floor is not None:
        # Most pairs a blocking key brings together are plainly two customers: what the
        # other fields can add at most, then what the names can, rules them out before the
        # names are compared in full. (Bounds, never below the weight: what passes is judged
        # exactly as without them; BOUND_SLACK absorbs the rounding of adding up another way.)
        floor -= BOUND_SLACK
        rest = _most_the_rest_can_add(a, b, weights)
        if weight + rest + NAME_WEIGHT_MAX < floor:
            return None
        if weight + rest + _name_weight_at_most(a, b, weights) < floor:
            return None
    names = compare_names(a, b)
    weight += _name_weight(a, b, names, name_count, weights, id_shared=tax_shared)
    if floor is not None and weight + rest < floor:
        return None

    if shared_phone is not None:
        mobile = bool(a.phones.get(shared_phone) or b.phones.get(shared_phone))
        reasons.append(f"same {'mobile' if mobile else 'phone'} {shown_phone(shared_phone)}")
    if shared_email is not None:
        reasons.append(f"same e-mail {shared_email}")
    elif a.emails and b.emails:
        weight += _email_evidence(a, b, reasons)
    if tax_same:
        reasons.append(f"same {'ID' if a.person else 'tax'} number {a.tax.upper()}")
    elif tax_apart == 1:
        reasons.append(
            f"{'ID' if a.person else 'tax'} numbers alike: {a.tax.upper()} / {b.tax.upper()}"
        )
    reasons.insert(0, _name_reason(a, b, names))
    if names.part_mismatch:
        against.append(_which_names_differ(a, b))
    if a.branch and b.branch and a.key != b.key:
        against.append("different branches")

    if a.birthday and b.birthday:
        apart = 0 if a.birthday == b.birthday else digits_apart(a.birthday, b.birthday)
        if apart == 0:
            weight += W_BIRTHDAY
            reasons.append(f"same birthday {_shown_date(a.birthday)}")
        elif apart == 1:
            weight += W_BIRTHDAY_TYPO
            reasons.append(
                f"birthdays alike: {_shown_date(a.birthday)} / {_shown_date(b.birthday)}"
            )
        elif apart > 2:
            weight += weights.birthday_differ
            against.append(
                f"different birthdays {_shown_date(a.birthday)} / {_shown_date(b.birthday)}"
            )
    if a.address and b.address:
        weight += _address_evidence(a, b, reasons, against)
    if a.postcode and b.postcode:
        if a.postcode == b.postcode:
            weight += W_POSTCODE_SAME_CITY if (a.city and a.city == b.city) else W_POSTCODE
            reasons.append(f"same postcode {a.postcode.upper()}")
        elif not _digits_alike(a.postcode, b.postcode):
            weight += W_POSTCODE_DIFFER
    if a.city and b.city:
        if a.city == b.city:
            weight += W_CITY
            shown = (
                a.city_shown if a.city_shown == b.city_shown else f"{a.city_shown} / {b.city_shown}"
            )
            reasons.append(f"same city {shown}")
        elif ratio(a.city, b.city) < CITY_TYPO and not _city_slip(a, b):
            weight += W_CITY_DIFFER_PERSON if a.person else W_CITY_DIFFER_COMPANY
            against.append(f"different cities {a.city_shown} / {b.city_shown}")
    elif a.province and b.province and a.province != b.province:
        weight += W_CITY_DIFFER_PERSON
    if a.person != b.person:
        weight += W_KIND_DIFFER
    if a.contacts and b.contacts and not (a.person or b.person):
        common_contacts = a.contacts & b.contacts
        if common_contacts:
            weight += W_CONTACT
            reasons.append(f"same contact {min(common_contacts)}")
    return Judgement(weight, reasons, against)


def _name_weight_at_most(
    a: IdentityRecord, b: IdentityRecord, weights: BookWeights = DEFAULT_WEIGHTS
) -> float:
    """At least what :func:`_name_weight` gives: the same steps from the same ratios, without
    what can only lower a name's weight (given names, words that differ, a common name).

    This bound and the next mirror :func:`judge`; tests/unit/test_duplicates_fast_paths.py
    fails when they fall below what it finds.
    """
    person = a.person and b.person
    steps, weight = (
        (PERSON_NAME_STEPS, weights.person_name_floor)
        if person
        else (COMPANY_NAME_STEPS, COMPANY_NAME_FLOOR)
    )
    if a.cjk != b.cjk or a.core == b.core:
        weight = steps[0][1]
    else:
        if a.cjk:
            similarity = 100.0 if a.compact == b.compact else ratio(a.core, b.core)
            if similarity < 96.0 and a.sound == b.sound:
                similarity = 96.0
        elif person and (len(a.tokens) > 2 or len(b.tokens) > 2):
            similarity = 100.0  # read with a stray space closed, perhaps one name
        else:
            similarity = max(
                ratio(a.core, b.core),
                ratio(a.sorted_core, b.sorted_core),
                ratio(a.compact, b.compact),
            )
        for at_least, step_weight in steps:
            if similarity >= at_least:
                weight = step_weight
                break
        if weight < W_NAME_SUBSET and not a.cjk:
            set_a, set_b = set(a.tokens), set(b.tokens)
            if set_a < set_b or set_b < set_a:
                weight = W_NAME_SUBSET
            elif person and (len(a.tokens) == 1) != (len(b.tokens) == 1):
                weight = W_NAME_SUBSET  # perhaps one word mistyped of the other's
    if person and a.cjk and b.cjk and len(a.compact) == 2 and weight > SHORT_CJK_NAME_SAME:
        weight = SHORT_CJK_NAME_SAME
    if a.branch and b.branch and a.key != b.key:
        weight += W_BRANCHES
    elif a.name_places and b.name_places and a.name_places.isdisjoint(b.name_places):
        weight += W_PLACES_DIFFER
    return weight


def _most_the_rest_can_add(
    a: IdentityRecord, b: IdentityRecord, weights: BookWeights = DEFAULT_WEIGHTS
) -> float:
    """At least what the fields after the names add in :func:`judge`: exact where that is
    cheap to know (birthdays, postcodes, cities, kind, contacts), a ceiling elsewhere."""
    person = a.person and b.person
    most = 0.0
    if a.emails and b.emails:
        most += W_EMAIL_ALIKE
    if a.birthday and b.birthday:
        if a.birthday == b.birthday:
            most += W_BIRTHDAY
        else:
            apart = digits_apart(a.birthday, b.birthday)
            if apart == 1:
                most += W_BIRTHDAY_TYPO
            elif apart > 2:
                most += weights.birthday_differ
    if a.address and b.address:
        if a.address == b.address:
            most += W_ADDRESS_SAME_PERSON if person else W_ADDRESS_SAME
        elif (
            a.address_numbers
            and b.address_numbers
            and a.address_numbers.isdisjoint(b.address_numbers)
        ):
            pass  # another house number: at best "close", which adds nothing
        else:
            most += W_ADDRESS_ALIKE + (W_ADDRESS_SAME - W_ADDRESS_ALIKE) / 2
    if a.postcode and b.postcode:
        if a.postcode == b.postcode:
            most += W_POSTCODE_SAME_CITY if (a.city and a.city == b.city) else W_POSTCODE
        elif not _digits_alike(a.postcode, b.postcode):
            most += W_POSTCODE_DIFFER
    if a.city and b.city:
        if a.city == b.city:
            most += W_CITY
        elif ratio(a.city, b.city) < CITY_TYPO and not _city_slip(a, b):
            most += W_CITY_DIFFER_PERSON if a.person else W_CITY_DIFFER_COMPANY
    elif a.province and b.province and a.province != b.province:
        most += W_CITY_DIFFER_PERSON
    if a.person != b.person:
        most += W_KIND_DIFFER
    if (
        a.contacts
        and b.contacts
        and not (a.person or b.person)
        and not a.contacts.isdisjoint(b.contacts)
    ):
        most += W_CONTACT
    return most


def _which_names_differ(a: IdentityRecord, b: IdentityRecord) -> str:
    """The reason against two people whose names are different names: which part differs."""
    if a.cjk and b.cjk:
        same_family = sound_of(a.compact[:1]) == sound_of(b.compact[:1])
        return "different given names" if same_family else "different people's names"
    # The part the two have alike, read either way round: a family name when it is last
    # in one of them, else the given name.
    best, given_alike = 0.0, False
    for given_a, family_a in _latin_parts(a.tokens):
        for given_b, family_b in _latin_parts(b.tokens):
            for alike, given in (
                (_part_alike(given_a, given_b), True),
                (_part_alike(family_a, family_b), False),
                (_part_alike(given_a, family_b), False),
                (_part_alike(family_a, given_b), False),
            ):
                if alike > best or (alike == best and not given):
                    best, given_alike = alike, given
    if best < PART_SLIP:
        return "different people's names"
    return "different family names" if given_alike else "different given names"


def _city_slip(a: IdentityRecord, b: IdentityRecord) -> bool:
    """Two cities less than CITY_TYPO alike that are one place mistyped all the same:
    "casual" / "casula" and "mosn an" / "mosman" (place keys have no spaces).

    One slip makes another place of a short name (Ryde / Hyde; only neighbours swapped,
    Ryde / Ryed, count there), of a name written in Chinese (a wrong character) and of
    China's provinces and larger cities in pinyin (Suzhou / Fuzhou, Hubei / Hebei): those
    are never taken for a typo.
    """
    x, y = a.city, b.city
    return (
        -1 <= len(x) - len(y) <= 1
        and a.city_shown.isascii()
        and b.city_shown.isascii()
        and not (is_known_place(x) and is_known_place(y))
        and _one_slip(x, y, CITY_SLIP_LETTERS)
    )


def _email_evidence(a: IdentityRecord, b: IdentityRecord, reasons: list[str]) -> float:
    best = W_EMAILS_DIFFER
    for x in a.emails:
        user_x, _, domain_x = x.partition("@")
        for y in b.emails:
            user_y, _, domain_y = y.partition("@")
            if domain_x == domain_y and len(user_x) >= 4 and _alike_user(user_x, user_y):
                if best < W_EMAIL_ALIKE:
                    best = W_EMAIL_ALIKE
                    reasons.append(f"e-mails alike: {x} / {y}")
            elif (
                user_x == user_y
                and len(user_x) >= 5
                and user_x not in GENERIC_MAILBOXES
                and best < W_EMAIL_SAME_USER
            ):
                best = W_EMAIL_SAME_USER
                reasons.append(f"same e-mail name: {x} / {y}")
    return best


_MAILBOX_PUNCTUATION = str.maketrans("", "", "._-+")


def _alike_user(x: str, y: str) -> bool:
    """zhang.wei / zhangwei / zhangwie: one person's mailbox; zhangwei12 / zhangwei90: two."""
    x, y = x.translate(_MAILBOX_PUNCTUATION), y.translate(_MAILBOX_PUNCTUATION)
    if x == y:
        return True
    if len(x) < 6 or "".join(filter(str.isdigit, x)) != "".join(filter(str.isdigit, y)):
        return False
    return Levenshtein.distance(x, y, score_cutoff=1) <= 1


def _address_evidence(
    a: IdentityRecord, b: IdentityRecord, reasons: list[str], against: list[str]
) -> float:
    if a.address == b.address:
        reasons.append("same address")
        return W_ADDRESS_SAME_PERSON if (a.person and b.person) else W_ADDRESS_SAME
    similarity = max(
        ratio(a.address, b.address), ratio(a.address.replace(" ", ""), b.address.replace(" ", ""))
    )
    if similarity < 85:
        # "189" / "189 park parade": one address is part of the other.
        words_a, words_b = set(a.address.split()), set(b.address.split())
        if words_a <= words_b or words_b <= words_a:
            similarity = 85.0
    numbers_differ = (
        a.address_numbers and b.address_numbers and not (a.address_numbers & b.address_numbers)
    )
    if numbers_differ:
        similarity = min(similarity, 60.0)  # neighbours: same street, another house
    if similarity >= 92:
        reasons.append(f"addresses {math.floor(similarity):.0f}% alike")
        return W_ADDRESS_ALIKE + (W_ADDRESS_SAME - W_ADDRESS_ALIKE) / 2
    if similarity >= 80:
        reasons.append(f"addresses {math.floor(similarity):.0f}% alike")
        return W_ADDRESS_ALIKE
    if similarity >= 65:
        return W_ADDRESS_CLOSE
    if similarity < 50:
        against.append("different addresses")
        return W_ADDRESS_DIFFER
    return 0.0
