"""How much a different ID number, birthday or name proves, measured on the book itself.

The scoring's weights against (a different ID number, a different birthday, a different
given name) assume a book kept with care: the same person rarely carries two ID numbers.
Books merged from several systems or keyed in twice by hand are not always like that, and
there those weights would hide the very duplicates the user is looking for.

The book shows which it is. People who agree on everything else that identifies them are
almost always one person: the same name and birthday; the same ID number and birthday;
the same birthday at the same address. How often such records still disagree on the remaining
field is how often that field is wrong for one person in this book, and the weight
against is its log-odds (Fellegi–Sunter: a disagreement weighs log((1 - m) / (1 - u)),
and two different people almost never agree, so 1 - u ≈ 1).

The measure starts from the usual weights as if seen on PRIOR_PAIRS pairs, so a small or
clean book keeps them; a disagreement never stops counting against (MILDEST).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, replace
from itertools import combinations

from smbcrm.services.duplicates.records import IdentityRecord
from smbcrm.services.duplicates.scoring import (
    DEFAULT_WEIGHTS,
    PERSON_NAME_STEPS,
    BookWeights,
    compare_names,
    digits_apart,
)

# Pairs the usual weights count as, before the book has a say.
PRIOR_PAIRS = 100
# The least a disagreement counts against, however often the book shows it.
MILDEST = -1.5
# A group this large shares a key many people share (a family's address): no anchor.
ANCHOR_GROUP_MAX = 6
# Slips between two numbers that still read as one number mistyped (see scoring).
SLIPS_ALIKE = 2
# A birthday far more people have than chance gives is a stand-in (1900-01-01 from an old
# system), not a birthday: whole families at one address carry it. Chance spreads people
# over some 30,000 days (80 years); a stand-in has this many times its share, or more.
STAND_IN_BIRTHDAY_PEOPLE = 10
BIRTHDAY_DAYS = 30_000


@dataclass(frozen=True, slots=True)
class FieldMeasure:
    """Anchor pairs that have the field on both sides, and how many of them disagree."""

    pairs: int
    disagree: int

    def weight(self, usual: float) -> float:
        """The weight against for this book: the usual one unless the book shows otherwise."""
        seen = (self.disagree + PRIOR_PAIRS * math.exp(usual)) / (self.pairs + PRIOR_PAIRS)
        return min(MILDEST, max(usual, math.log(seen)))


@dataclass(frozen=True, slots=True)
class Calibration:
    tax: FieldMeasure
    birthday: FieldMeasure
    names: FieldMeasure
    weights: BookWeights


Key = Callable[[IdentityRecord], Hashable | None]


def _anchor_pairs(people: list[IdentityRecord], keys: Iterable[Key]) -> set[tuple[int, int]]:
    """Pairs of positions in ``people`` sharing one of the keys, in small groups only."""
    pairs: set[tuple[int, int]] = set()
    for key in keys:
        groups: dict[Hashable, list[int]] = {}
        for position, record in enumerate(people):
            value = key(record)
            if value is not None:
                groups.setdefault(value, []).append(position)
        for members in groups.values():
            if 2 <= len(members) <= ANCHOR_GROUP_MAX:
                pairs.update(combinations(members, 2))
    return pairs


def _measure(
    people: list[IdentityRecord],
    pairs: set[tuple[int, int]],
    differ: Callable[[IdentityRecord, IdentityRecord], bool],
) -> FieldMeasure:
    disagree = sum(differ(people[i], people[j]) for i, j in pairs)
    return FieldMeasure(len(pairs), disagree)


def _names_differ(a: IdentityRecord, b: IdentityRecord) -> bool:
    names = compare_names(a, b)
    return names.part_mismatch or names.similarity < PERSON_NAME_STEPS[-1][0]


def calibrate(records: list[IdentityRecord]) -> Calibration:
    """The weights against for this book, with what they were measured on."""
    people = [r for r in records if r.person]
    birthdays = Counter(r.birthday for r in people if r.birthday)
    most = max(STAND_IN_BIRTHDAY_PEOPLE, STAND_IN_BIRTHDAY_PEOPLE * len(people) / BIRTHDAY_DAYS)
    stand_ins = {day for day, count in birthdays.items() if count > most}
    if stand_ins:
        people = [replace(r, birthday="") if r.birthday in stand_ins else r for r in people]
    with_tax = [r for r in people if r.tax]
    with_birthday = [r for r in people if r.birthday]

    tax = _measure(
        with_tax,
        _anchor_pairs(with_tax, [lambda r: (r.compact, r.birthday) if r.birthday else None]),
        lambda a, b: digits_apart(a.tax, b.tax) > SLIPS_ALIKE,
    )
    birthday = _measure(
        with_birthday,
        _anchor_pairs(
            with_birthday,
            [
                lambda r: (r.compact, r.tax) if r.tax else None,
                lambda r: (r.compact, r.address, r.postcode) if r.address else None,
            ],
        ),
        lambda a, b: digits_apart(a.birthday, b.birthday) > SLIPS_ALIKE,
    )
    names = _measure(
        people,
        _anchor_pairs(
            people,
            [
                # Not the ID number alone: people are sometimes given their employer's.
                lambda r: (r.tax, r.birthday) if r.tax and r.birthday else None,
                lambda r: (r.birthday, r.address, r.postcode) if r.birthday and r.address else None,
            ],
        ),
        _names_differ,
    )
    usual = DEFAULT_WEIGHTS
    part_mismatch = names.weight(usual.part_mismatch)
    weights = BookWeights(
        person_tax_differ=tax.weight(usual.person_tax_differ),
        birthday_differ=birthday.weight(usual.birthday_differ),
        person_name_floor=names.weight(usual.person_name_floor),
        part_mismatch=part_mismatch,
        part_mismatch_same_id=max(usual.part_mismatch_same_id, part_mismatch),
    )
    return Calibration(tax, birthday, names, weights)


def book_notes(calibration: Calibration) -> list[str]:
    """What the scan weighed differently in this book, and why, for the person reviewing."""
    usual, weights = DEFAULT_WEIGHTS, calibration.weights
    notes = []
    if weights.person_tax_differ > usual.person_tax_differ:
        differ, pairs = calibration.tax.disagree, calibration.tax.pairs
        notes.append(
            f"{differ:,} of {pairs:,} pairs of people with one name and birthday have "
            "different ID numbers: in this book a different ID number counts less against "
            "a duplicate."
        )
    if weights.birthday_differ > usual.birthday_differ:
        differ, pairs = calibration.birthday.disagree, calibration.birthday.pairs
        notes.append(
            f"{differ:,} of {pairs:,} pairs of people with one name and ID number or "
            "address have different birthdays: in this book a different birthday counts "
            "less against a duplicate."
        )
    if weights.part_mismatch > usual.part_mismatch:
        differ, pairs = calibration.names.disagree, calibration.names.pairs
        notes.append(
            f"{differ:,} of {pairs:,} pairs of people with one birthday and ID number or "
            "address have different names: in this book a different name counts less "
            "against a duplicate."
        )
    return notes
