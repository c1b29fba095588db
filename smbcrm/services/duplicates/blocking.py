"""Which pairs of customers are worth comparing at all: blocking on normalised keys.

Comparing every customer with every other is 5 billion pairs at 100,000 customers. Two
records that may be one customer share at least one key: a phone, an e-mail, a tax
number, the name (as written, with its words sorted, with any one character left out, as
it sounds), a birthday (day and month in either order), an address, or one word of the
name together with the postcode, the city or the year of birth. Each family of keys is
grouped on its own, so memory stays small. A key shared by too many customers (a common
name, a switchboard number) does not pair them all: those customers are put in name order
and each is paired with its next few neighbours only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import combinations

from smbcrm.services.duplicates.records import IdentityRecord

# Largest group paired in full; beyond it, neighbours in a few orders within the window.
BLOCK_CAP = 16
WINDOW = 3
# Looser keys (name words, sounds-alike codes): small groups only, larger ones say nothing.
LOOSE_CAP = 6
# Words of a name too common to say anything when paired with a city or postcode.
_NOISE_WORDS = frozenset({"and", "the", "of", "de", "la", "du", "van", "von", "der"})
_SOUNDEX = str.maketrans("abcdefghijklmnopqrstuvwxyz", "01230120022455012623010202")


def soundex(word: str) -> str:
    """American Soundex (Robert → R163): names spelled alike by ear share it."""
    letters = [ch for ch in word if "a" <= ch <= "z"]
    if not letters:
        return word
    first = letters[0]
    codes = "".join(letters).translate(_SOUNDEX)
    out = [first.upper()]
    previous = codes[0]
    for ch, code in zip(letters[1:], codes[1:], strict=True):
        if code != "0" and code != previous:
            out.append(code)
            if len(out) == 4:
                break
        if ch not in "hw":
            previous = code
    return "".join(out).ljust(4, "0")


def _identifier_keys(r: IdentityRecord) -> Iterator[str]:
    yield from r.phones
    yield from r.emails
    if r.tax:
        yield "#" + r.tax


def _name_keys(r: IdentityRecord) -> Iterator[str]:
    compact = r.compact
    if not compact:
        return
    yield compact
    tokens = r.tokens
    if len(tokens) > 1:
        yield "~" + r.sorted_core.replace(" ", "")
    if r.cjk:
        # How it sounds, which is also how it is written in pinyin: 张伟 meets "Zhang Wei".
        # People's short names sound alike by the hundred: within one city only.
        sound = r.sound
        if sound != compact:
            yield sound + "|" + r.city if r.person and len(compact) <= 3 else sound
        return
    if 1 < len(tokens) <= 3:
        yield "".join(reversed(tokens))  # "Wei Zhang", "YiHao Feng"


def _loose_name_keys(r: IdentityRecord) -> Iterator[str]:
    """People's names that sound alike (Soundex of given and family name, either order)."""
    tokens = r.tokens
    if r.person and not r.cjk and len(tokens) >= 2:
        yield "!" + "".join(sorted((soundex(tokens[0]), soundex(tokens[-1]))))


def _deletions(r: IdentityRecord) -> list[str]:
    """A company's Chinese name with any one character left out.

    (People's two- and three-character names meet by how they sound instead.)
    """
    compact = r.compact
    if r.person or not r.cjk or not 3 <= len(compact) <= 14:
        return []
    return [compact[:i] + compact[i + 1 :] for i in range(len(compact))]


def _one_character_apart(records: list[IdentityRecord], add: Callable[[int], None]) -> None:
    """Pairs whose Chinese names differ by one character more or less (华强电子 / 华强子).

    Only a name is matched against the others' names-less-one-character, never two
    shortened names against each other: those would pair every 华X电子 with every 华Y电子.
    """
    n = len(records)
    by_name: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        if record.cjk and not record.person and len(record.compact) >= 2:
            by_name.setdefault(record.compact, []).append(index)
    for index, record in enumerate(records):
        for shorter in _deletions(record):
            for other in by_name.get(shorter, ())[:BLOCK_CAP]:
                add(index * n + other if index < other else other * n + index)


def _word_keys(r: IdentityRecord) -> Iterator[str]:
    """One word of a Latin name with the postcode or the year of birth."""
    if r.cjk or not (r.postcode or r.birthday):
        return
    year = r.birthday[:4]
    for word in r.tokens:
        if len(word) < 2 or word in _NOISE_WORDS:
            continue
        if r.postcode:
            yield f"{word}|p{r.postcode}"
        if year:
            yield f"{word}|y{year}"


def _initials(r: IdentityRecord) -> set[str]:
    """First letters of a name's words (of its pinyin for Chinese): what typos rarely touch."""
    if r.cjk:
        return {r.sound[:1]}
    return {t[0] for t in r.tokens if t}


def _birthday_keys(r: IdentityRecord) -> Iterator[str]:
    """Birthday (day and month in either order) with the initial of a word of the name.

    Any word: a swapped given and family name still meets. Birthday alone would pair
    everyone born on one day.
    """
    if not r.birthday:
        return
    day_month = sorted((r.birthday[4:6], r.birthday[6:]))
    day = r.birthday[:4] + "".join(day_month)
    for initial in _initials(r):
        yield day + initial


def _address_keys(r: IdentityRecord) -> Iterator[str]:
    """The address with a name's initial: an office building holds many companies."""
    if len(r.address) >= 6:
        address = r.address.replace(" ", "")
        for initial in _initials(r):
            yield address + "|" + initial


SortKey = Callable[[IdentityRecord], str]


def _by_name(r: IdentityRecord) -> str:
    return r.sorted_core


def _by_place(r: IdentityRecord) -> str:
    return r.city + r.address + r.postcode


def _by_birth_and_number(r: IdentityRecord) -> str:
    return r.birthday + r.tax


# (what is compared, the keys, the orders in which a group too large to pair in full is
# walked with a window — records alike in one of them end up close — or none: left out)
KEY_FAMILIES: tuple[
    tuple[str, Callable[[IdentityRecord], Iterable[str]], tuple[SortKey, ...]], ...
] = (
    ("phones, e-mails and tax numbers", _identifier_keys, (_by_name, _by_place)),
    ("names", _name_keys, (_by_place, _by_birth_and_number)),
    ("people's names that sound alike", _loose_name_keys, ()),
    ("birthdays", _birthday_keys, (_by_name,)),
    ("addresses", _address_keys, ()),
    ("name words with postcode or year of birth", _word_keys, ()),
)


def candidate_pairs(
    records: list[IdentityRecord],
    *,
    on_family: Callable[[int, int, str], None] | None = None,
) -> set[int]:
    """Pairs sharing a key, each encoded as ``i * n + j`` (indices into ``records``, i < j)."""
    n = len(records)
    pairs: set[int] = set()
    add = pairs.add
    for position, (label, keys_of, orders) in enumerate(KEY_FAMILIES):
        if on_family is not None:
            on_family(position, len(KEY_FAMILIES), label)
        groups: dict[str, list[int]] = {}
        for index, record in enumerate(records):
            for key in keys_of(record):
                group = groups.get(key)
                if group is None:
                    groups[key] = [index]
                elif group[-1] != index:
                    group.append(index)
        for group in groups.values():
            size = len(group)
            if size < 2:
                continue
            if size <= (BLOCK_CAP if orders else LOOSE_CAP):
                for i, j in combinations(group, 2):
                    add(i * n + j)  # groups are built in index order: i < j
                continue
            if not orders:
                continue
            members = [(records[k], k) for k in group]
            for sort_key in orders:
                members.sort(key=lambda member: sort_key(member[0]))
                ordered = [k for _r, k in members]
                for start, i in enumerate(ordered):
                    for j in ordered[start + 1 : start + 1 + WINDOW]:
                        add(i * n + j if i < j else j * n + i)
        del groups
    if on_family is not None:
        on_family(len(KEY_FAMILIES), len(KEY_FAMILIES), "names one character apart")
    _one_character_apart(records, add)
    return pairs
