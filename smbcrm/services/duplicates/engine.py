"""Finding the likely duplicate pairs among records held in memory: block, then judge.

Kept apart from the database so the same code serves the scan of the book, the
benchmark's labelled sets and tests.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from smbcrm.services.collector import collector_paused
from smbcrm.services.duplicates.blocking import candidate_pairs
from smbcrm.services.duplicates.calibration import Calibration, calibrate
from smbcrm.services.duplicates.records import IdentityRecord
from smbcrm.services.duplicates.scoring import Judgement, judge, weight_for

# How often the judging loop reports progress and looks for Cancel.
CHECK_EVERY = 20_000

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
        judgement = judge(a, b, name_count=count, phone_count=phones, floor=floor, weights=weights)
        if judgement is None or judgement.weight < floor:
            continue
        if a.id > b.id:
            a, b = b, a
        found.append(FoundPair(a, b, judgement))
    found.sort(key=lambda p: (-p.judgement.weight, p.a.id, p.b.id))
    return Detection(found, total, calibration)
