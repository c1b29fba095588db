"""Which pairs of customers are worth comparing at all: blocking on normalised keys.

Comparing every customer with every other is 5 billion pairs at 100,000 customers. Two
records that may be one customer share at least one key: a phone, an e-mail, a tax
number (a person's ID number also with any one digit left out), the name (as written,
with its words sorted, with any one character left out, as it sounds), a birthday (day
and month in either order), an address, or one word of the name together with the
postcode, the year of birth or a person's city. Each family of keys is grouped on its
own, so memory stays small, and its keys are counted before they are grouped: most keys
belong to one customer only and need no group. A key shared by too many customers (a
common name, a switchboard number) does not pair them all: those customers are put in
name order and each is paired with its next few neighbours only.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from itertools import combinations, compress

from smbcrm.services.duplicates.records import IdentityRecord

# Largest group paired in full; beyond it, neighbours in a few orders within the window.
BLOCK_CAP = 16
WINDOW = 3
# Looser keys (name words, sounds-alike codes): small groups only, larger ones say nothing.
LOOSE_CAP = 6
# People's ID numbers this long are also paired one slip apart; shorter ones would pair
# too many people by chance.
ID_SLIP_LENGTH = 7
# Words of a name too common to say anything when paired with a city or postcode.
_NOISE_WORDS = frozenset({"and", "the", "of", "de", "la", "du", "van", "von", "der"})
_SOUNDEX = str.maketrans("abcdefghijklmnopqrstuvwxyz", "01230120022455012623010202")


@lru_cache(maxsize=16384)
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


# One family's keys as two parallel lists: the key, and the index of the record it is from.
Keys = tuple[list[str], list[int]]


def _identifier_keys(records: list[IdentityRecord]) -> Keys:
    keys: list[str] = []
    owners: list[int] = []
    for index, r in enumerate(records):
        if r.phones:
            keys += r.phones
            owners += [index] * len(r.phones)
        if r.emails:
            keys += r.emails
            owners += [index] * len(r.emails)
        number = r.tax
        if number:
            keys.append("#" + number)
            owners.append(index)
            if r.person and len(number) >= ID_SLIP_LENGTH:
                # Left out in turn, each character: a person's ID numbers one slip apart (a
                # digit wrong, missing or extra, neighbours swapped) share one of these keys
                # or, a digit missing, the number itself.
                keys += ["#" + number[:i] + number[i + 1 :] for i in range(len(number))]
                owners += [index] * len(number)
    return keys, owners


def _name_keys(records: list[IdentityRecord]) -> Keys:
    keys: list[str] = []
    owners: list[int] = []
    for index, r in enumerate(records):
        compact = r.compact
        if not compact:
            continue
        keys.append(compact)
        owners.append(index)
        tokens = r.tokens
        if len(tokens) > 1:
            keys.append("~" + r.sorted_core.replace(" ", ""))
            owners.append(index)
        if r.cjk:
            # How it sounds, which is also how it is written in pinyin: 张伟 meets "Zhang Wei".
            # People's short names sound alike by the hundred: within one city only.
            sound = r.sound
            if sound != compact:
                keys.append(sound + "|" + r.city if r.person and len(compact) <= 3 else sound)
                owners.append(index)
        elif 1 < len(tokens) <= 3:
            keys.append("".join(reversed(tokens)))  # "Wei Zhang", "YiHao Feng"
            owners.append(index)
    return keys, owners


def _loose_name_keys(records: list[IdentityRecord]) -> Keys:
    """People's names that sound alike (Soundex of given and family name, either order)."""
    keys: list[str] = []
    owners: list[int] = []
    for index, r in enumerate(records):
        tokens = r.tokens
        if r.person and not r.cjk and len(tokens) >= 2:
            keys.append("!" + "".join(sorted((soundex(tokens[0]), soundex(tokens[-1])))))
            owners.append(index)
    return keys, owners


def _deletions(compact: str) -> list[str]:
    """A name with any one character left out."""
    return [compact[:i] + compact[i + 1 :] for i in range(len(compact))]


def _one_character_apart(records: list[IdentityRecord], pairs: set[int]) -> None:
    """Pairs whose Chinese company names differ by one character more or less (华强电子 / 华强子).

    Only a name is matched against the others' names-less-one-character, never two
    shortened names against each other: those would pair every 华X电子 with every 华Y电子.
    (People's two- and three-character names meet by how they sound instead.)
    """
    n = len(records)
    by_name: dict[str, list[int]] = {}
    shortened: list[str] = []
    owners: list[int] = []
    for index, r in enumerate(records):
        if r.cjk and not r.person:
            compact = r.compact
            if len(compact) >= 2:
                by_name.setdefault(compact, []).append(index)
            if 3 <= len(compact) <= 14:
                shortened += _deletions(compact)
                owners += [index] * len(compact)
    # Most shortened names are nobody's name: look them all up at once, walk only the hits.
    hits = map(by_name.__contains__, shortened)
    for index, shorter in compress(zip(owners, shortened, strict=True), hits):
        for other in by_name[shorter][:BLOCK_CAP]:
            pairs.add(index * n + other if index < other else other * n + index)


def _initials(r: IdentityRecord) -> set[str]:
    """First letters of a name's words (of its pinyin for Chinese): what typos rarely touch."""
    if r.cjk:
        return {r.sound[:1]}
    return {t[0] for t in r.tokens if t}


def _birthday_keys(records: list[IdentityRecord]) -> Keys:
    """Birthday (day and month in either order) with the initial of a word of the name.

    Any word: a swapped given and family name still meets. Birthday alone would pair
    everyone born on one day.
    """
    keys: list[str] = []
    owners: list[int] = []
    for index, r in enumerate(records):
        birthday = r.birthday
        if not birthday:
            continue
        day_month = sorted((birthday[4:6], birthday[6:]))
        day = birthday[:4] + "".join(day_month)
        for initial in _initials(r):
            keys.append(day + initial)
            owners.append(index)
    return keys, owners


def _address_keys(records: list[IdentityRecord]) -> Keys:
    """The address with a name's initial: an office building holds many companies."""
    keys: list[str] = []
    owners: list[int] = []
    for index, r in enumerate(records):
        if len(r.address) >= 6:
            address = r.address.replace(" ", "") + "|"
            for initial in _initials(r):
                keys.append(address + initial)
                owners.append(index)
    return keys, owners


def _word_keys(records: list[IdentityRecord]) -> Keys:
    """One word of a Latin name with the postcode, the year of birth or a person's city."""
    keys: list[str] = []
    owners: list[int] = []
    for index, r in enumerate(records):
        if r.cjk:
            continue
        postcode = "|p" + r.postcode if r.postcode else ""
        # Companies' name words meet in a city by the hundred ("trading"): people's only.
        city = "|c" + r.city if r.city and r.person else ""
        year = "|y" + r.birthday[:4] if r.birthday else ""
        if not (postcode or city or year):
            continue
        for word in r.tokens:
            if len(word) < 2 or word in _NOISE_WORDS:
                continue
            if postcode:
                keys.append(word + postcode)
                owners.append(index)
            if city:
                keys.append(word + city)
                owners.append(index)
            if year:
                keys.append(word + year)
                owners.append(index)
    return keys, owners


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
    tuple[str, Callable[[list[IdentityRecord]], Keys], tuple[SortKey, ...]], ...
] = (
    ("phones, e-mails and tax numbers", _identifier_keys, (_by_name, _by_place)),
    ("names", _name_keys, (_by_place, _by_birth_and_number)),
    ("people's names that sound alike", _loose_name_keys, ()),
    ("birthdays", _birthday_keys, (_by_name,)),
    ("addresses", _address_keys, ()),
    ("name words with postcode, city or year of birth", _word_keys, ()),
)


def shared_keys(keys: list[str], owners: list[int]) -> dict[str, list[int]]:
    """The records (indices, ascending, each once) of every key more than one record has.

    ``owners`` never decreases (keys are made record by record). Most keys belong to one
    record only: remembering each key's first owner in one dictionary pass leaves only
    the repeats to be grouped, which is what costs.
    """
    first: dict[str, int] = {}
    first_owner = first.setdefault
    groups: dict[str, list[int]] = {}
    for key, owner in zip(keys, owners, strict=True):
        earlier = first_owner(key, owner)
        if earlier == owner:  # the key's first record, or that record giving it twice
            continue
        group = groups.get(key)
        if group is None:
            groups[key] = [earlier, owner]
        elif group[-1] != owner:
            group.append(owner)
    return groups


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
        cap = BLOCK_CAP if orders else LOOSE_CAP
        for group in shared_keys(*keys_of(records)).values():
            size = len(group)
            if size < 2:
                continue
            if size <= cap:
                if size == 2:
                    add(group[0] * n + group[1])
                else:
                    pairs.update(i * n + j for i, j in combinations(group, 2))  # i < j
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
    if on_family is not None:
        on_family(len(KEY_FAMILIES), len(KEY_FAMILIES), "names one character apart")
    _one_character_apart(records, pairs)
    return pairs
