"""Finding the likely duplicate pairs among records held in memory: block, then judge.

Kept apart from the database so the same code serves the scan of the book, the
benchmark's labelled sets and tests.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

from smbcrm.services.collector import collector_paused
from smbcrm.services.duplicates.blocking import candidate_pairs
from smbcrm.services.duplicates.calibration import Calibration, calibrate
from smbcrm.services.duplicates.records import IdentityRecord
from smbcrm.services.duplicates.scoring import (
    Judgement,
    compare_names,
    digits_apart,
    judge,
    weight_for,
)

# How often the judging loop reports progress and looks for Cancel.
CHECK_EVERY = 20_000
# A tax or ID number given by this many customers may be several customers' (see
# shared_tax_numbers); by more than ONE_CUSTOMER_AT_MOST it is, whatever their names.
SHARED_TAX_HOLDERS = 3
ONE_CUSTOMER_AT_MOST = 12
# Names less alike than this are another customer's (a person's given name, a branch).
NAMES_OF_ANOTHER = 75.0

StepReport = Callable[[int, int, str], None]


@dataclass(frozen=True, slots=True)
class FoundPair:
    a: IdentityRecord  # the lower id
    b: IdentityRecord
    judgement: Judgement


@dataclass(frozen=True, slots=True)
class Detection:
    pairs: list[FoundPair]  # score descending
    compared: int  # candidate pairs judged
    calibration: Calibration  # the weights against, as this book showed them


def name_counts(records: list[IdentityRecord]) -> Counter[str]:
    """How many people carry each name (common names prove less)."""
    return Counter(r.compact for r in records if r.person)


def phone_counts(records: list[IdentityRecord]) -> Counter[str]:
    return Counter(phone for r in records for phone in r.phones)


def _others(a: IdentityRecord, b: IdentityRecord) -> bool:
    """Two customers, not one written twice: names unlike, and no one birthday to say
    otherwise (one person's records keep the birthday when a name is badly mistyped)."""
    if a.birthday and b.birthday and digits_apart(a.birthday, b.birthday) <= 1:
        return False
    return compare_names(a, b).similarity < NAMES_OF_ANOTHER


def shared_tax_numbers(records: list[IdentityRecord]) -> frozenset[str]:
    """Tax or ID numbers several different customers give: an employer's number written on
    its staff, the head office's on every branch. One customer keyed in a few times gives
    one number under names alike; these come with names that mostly differ."""
    holders: dict[str, list[IdentityRecord]] = {}
    for record in records:
        if record.tax:
            holders.setdefault(record.tax, []).append(record)
    shared = set()
    for number, group in holders.items():
        if len(group) < SHARED_TAX_HOLDERS:
            continue
        if len(group) > ONE_CUSTOMER_AT_MOST:
            shared.add(number)
            continue
        pairs = list(combinations(group, 2))
        differ = sum(_others(a, b) for a, b in pairs)
        if 2 * differ > len(pairs):
            shared.add(number)
    return frozenset(shared)


def detect(
    records: list[IdentityRecord],
    threshold: float,
    report: StepReport | None = None,
) -> Detection:
    """Every pair scoring at least ``threshold`` (0–100), best first."""
    with collector_paused():
        return _detect(records, threshold, report)


def _detect(
    records: list[IdentityRecord], threshold: float, report: StepReport | None
) -> Detection:
    names = name_counts(records)
    phones = phone_counts(records)
    calibration = calibrate(records)
    weights = calibration.weights
    shared_taxes = shared_tax_numbers(records)

    def on_family(done: int, total: int, label: str) -> None:
        if report is not None:
            report(done, total, f"Grouping customers by {label}…")

    codes = candidate_pairs(records, on_family=on_family)
    floor = weight_for(threshold)
    n = len(records)
    found: list[FoundPair] = []
    total = len(codes)
    for done, code in enumerate(codes):
        if report is not None and done % CHECK_EVERY == 0:
            report(done, total, f"Comparing {total:,} pairs of customers…")
        i, j = divmod(code, n)
        a, b = records[i], records[j]
        count = names.get(a.compact, 1) if a.person and b.person else 1
        judgement = judge(
            a,
            b,
            name_count=count,
            phone_count=phones,
            floor=floor,
            weights=weights,
            shared_taxes=shared_taxes,
        )
        if judgement is None or judgement.weight < floor:
            continue
        if a.id > b.id:
            a, b = b, a
        found.append(FoundPair(a, b, judgement))
    found.sort(key=lambda p: (-p.judgement.weight, p.a.id, p.b.id))
    return Detection(found, total, calibration)
