"""Benchmark: the duplicate finder's speed at 100,000 customers and its accuracy on labelled sets.

Targets (issue #4, "Accuracy and speed"): a full scan of 100,000 customers in under 10 s
on this 2-core machine, and at the default threshold precision ≥ 0.98 and recall ≥ 0.95
on a book-like labelled set and on a FEBRL-like set of people.

* smbcrm: ``scan_duplicates`` on a SQLite book (loading the customers from the database,
  blocking, judging, reading earlier decisions); run once saving the review queue, then
  without saving, as ``smbcrm dedupe --no-save`` does.
* baseline: the fastest plain-library way — exact-key blocking (phone, e-mail, tax number,
  normalised name, birthday) and rapidfuzz ``token_sort_ratio`` on names plus bonuses for
  a shared identifier. For the full scan it does the same step as smbcrm: it reads the
  same database file (plain ``sqlite3``, the stored keys as they are) and, like the scan,
  runs with the cyclic garbage collector paused. On the labelled sets both judge rows
  already in memory.

Both are scored against the labels: precision, recall and F1 of the pairs found, and the
share of true pairs the blocking brings together at all (candidate recall).

Run: ``python bench/bench_dedupe.py [--customers N]``; figures go to
``docs/benchmarks.md`` (section "Duplicate finder").
"""

from __future__ import annotations

import argparse
import gc
import sqlite3
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz  # noqa: E402

from bench.dedupe_data import (  # noqa: E402
    Accuracy,
    LabelledRow,
    accuracy,
    book_rows,
    febrl_rows,
    insert_rows,
    to_record,
    true_pairs,
)
from bench.report import write_section  # noqa: E402
from smbcrm.models import Database  # noqa: E402
from smbcrm.models.keys import normalize_name  # noqa: E402
from smbcrm.services import auth  # noqa: E402
from smbcrm.services.database import open_database  # noqa: E402
from smbcrm.services.duplicates import DEFAULT_THRESHOLD, scan_duplicates  # noqa: E402
from smbcrm.services.duplicates.blocking import candidate_pairs  # noqa: E402
from smbcrm.services.duplicates.engine import detect  # noqa: E402
from smbcrm.services.duplicates.records import IdentityRecord  # noqa: E402

TARGET_SECONDS = 10.0
# Measured for issue #4 on this machine: key blocking + rapidfuzz 0.1–3.6 s (F1 0.98–0.997),
# splink 3–10 s, recordlinkage about 50 s. "Better than all three" means faster than the
# slowest of the first, and here also no slower than the same-run baseline.
REFERENCE_SECONDS = 3.6
TARGET_PRECISION = 0.98
TARGET_RECALL = 0.95


# -- the book on disk --------------------------------------------------------------------------


def build_book(path: Path, rows: Sequence[LabelledRow]) -> list[int]:
    """A migrated SQLite book holding ``rows`` (reused when it already does); their ids."""
    if path.exists():
        with sqlite3.connect(path) as existing:
            try:
                ids = [r[0] for r in existing.execute("SELECT id FROM customers ORDER BY id")]
            except sqlite3.Error:
                ids = []
        if len(ids) == len(rows):
            return ids
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = open_database(path)
    auth.create_company(db, "Bench Trading", "boss", "Boss", "bench-password")
    ids = insert_rows(db, rows)
    with db.engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return ids


# -- the baseline -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlainRow:
    name: str
    phones: frozenset[str]
    emails: frozenset[str]
    tax: str
    birthday: str
    city: str
    address: str


def plain_rows(records: Sequence[IdentityRecord]) -> list[PlainRow]:
    """The stored keys a plain approach reads (E.164 phones, lower-case e-mails, name key)."""
    return [
        PlainRow(
            normalize_name(r.name),
            frozenset(r.phones),
            r.emails,
            r.tax,
            r.birthday,
            r.city,
            r.address,
        )
        for r in records
    ]


_BOOK_CUSTOMERS_SQL = (
    "SELECT id, name_key, tax_id_key, birthday, address, city_key FROM customers"
    " WHERE archived_at IS NULL AND merged_into_id IS NULL"
)
_BOOK_POINTS_SQL = (
    "SELECT customer_id, kind, key FROM contact_points"
    " WHERE key IS NOT NULL AND kind IN ('mobile', 'phone', 'email')"
)


def plain_rows_from_book(path: Path) -> tuple[list[int], list[PlainRow]]:
    """The same book read the plain way: ``sqlite3``, the stored keys as they are."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        phones: dict[int, set[str]] = defaultdict(set)
        emails: dict[int, set[str]] = defaultdict(set)
        for cid, kind, key in connection.execute(_BOOK_POINTS_SQL):
            (emails if kind == "email" else phones)[cid].add(key)
        ids: list[int] = []
        rows: list[PlainRow] = []
        nothing: frozenset[str] = frozenset()
        for cid, name, tax, birthday, address, city in connection.execute(_BOOK_CUSTOMERS_SQL):
            ids.append(cid)
            rows.append(
                PlainRow(
                    name or "",
                    frozenset(phones[cid]) if cid in phones else nothing,
                    frozenset(emails[cid]) if cid in emails else nothing,
                    tax or "",
                    birthday.replace("-", "") if birthday else "",
                    city or "",
                    " ".join(address.casefold().split()) if address else "",
                )
            )
        return ids, rows
    finally:
        connection.close()


def baseline(rows: Sequence[PlainRow]) -> list[tuple[int, int]]:
    """Exact-key blocking, then rapidfuzz on the names with the other fields as plain rules.

    A pair is a duplicate when it shares a phone, e-mail or tax number and the names are
    at least 60 % alike, or when the names are 90 % alike and the birthday, the address or
    the city (with no birthday or phone saying otherwise) agrees.
    """
    groups: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        for phone in row.phones:
            groups["p" + phone].append(index)
        for email in row.emails:
            groups["e" + email].append(index)
        if row.tax:
            groups["t" + row.tax].append(index)
        if row.name:
            groups["n" + row.name].append(index)
        if row.birthday and row.name:
            groups["b" + row.birthday + row.name[:1]].append(index)
    candidates: set[tuple[int, int]] = set()
    for members in groups.values():
        if 1 < len(members) <= 50:
            candidates.update(combinations(members, 2))
    found = []
    for i, j in candidates:
        a, b = rows[i], rows[j]
        names = fuzz.token_sort_ratio(a.name, b.name)
        shared = (a.phones & b.phones) or (a.emails & b.emails) or (a.tax and a.tax == b.tax)
        if shared:
            if names >= 60:
                found.append((i, j))
            continue
        if names < 90:
            continue
        if a.birthday and b.birthday:
            if a.birthday == b.birthday:
                found.append((i, j))
            continue
        same_address = bool(a.address) and a.address == b.address
        same_city = bool(a.city) and a.city == b.city and not (a.phones and b.phones)
        if same_address or (same_city and not a.tax):
            found.append((i, j))
    return found


# -- measuring ----------------------------------------------------------------------------------


def candidate_recall(records: list[IdentityRecord], truth: set[tuple[int, int]]) -> float:
    n = len(records)
    pairs = {divmod(code, n) for code in candidate_pairs(records)}
    return len(pairs & truth) / len(truth) if truth else 1.0


@dataclass
class SetResult:
    label: str
    rows: int
    true_pairs: int
    smbcrm: Accuracy
    baseline: Accuracy
    smbcrm_seconds: float
    baseline_seconds: float
    candidate_recall: float


def in_memory(label: str, rows: list[LabelledRow]) -> SetResult:
    """Both approaches on one labelled set held in memory (records as the book stores them)."""
    truth = true_pairs(rows)
    records = [to_record(i, row) for i, row in enumerate(rows)]
    start = time.perf_counter()
    found = detect(records, DEFAULT_THRESHOLD)
    ours = time.perf_counter() - start
    plain = plain_rows(records)
    gc.disable()  # as detect() does
    try:
        start = time.perf_counter()
        base_found = baseline(plain)
        base = time.perf_counter() - start
    finally:
        gc.enable()
    return SetResult(
        label,
        len(rows),
        len(truth),
        accuracy(((p.a.id, p.b.id) for p in found.pairs), truth),
        accuracy(base_found, truth),
        ours,
        base,
        candidate_recall(records, truth),
    )


def full_scan(path: Path, rows: list[LabelledRow], runs: int) -> dict[str, float]:
    ids = build_book(path, rows)
    index_of = {cid: i for i, cid in enumerate(ids)}
    truth = true_pairs(rows)
    db = Database.open(path)
    try:
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DELETE FROM duplicate_pairs")
        start = time.perf_counter()
        saved = scan_duplicates(db)
        with_save = time.perf_counter() - start
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            result = scan_duplicates(db, save=False)
            times.append(time.perf_counter() - start)
    finally:
        db.dispose()
    found = [(index_of[c.a_id], index_of[c.b_id]) for c in result.candidates]
    score = accuracy(found, truth)
    records = [to_record(i, row) for i, row in enumerate(rows)]
    # The baseline does the same step: from the same database file to the pairs found.
    # smbcrm pauses the cyclic collector for a scan: the baseline gets the same.
    base_times = []
    for _ in range(runs):
        gc.disable()
        try:
            start = time.perf_counter()
            book_ids, plain = plain_rows_from_book(path)
            base_pairs = baseline(plain)
            base_times.append(time.perf_counter() - start)
        finally:
            gc.enable()
    base_found = [(index_of[book_ids[i]], index_of[book_ids[j]]) for i, j in base_pairs]
    base_score = accuracy(base_found, truth)
    return {
        "scan": statistics.median(times),
        "scan_saving": with_save,
        "queued": float(saved.queued),
        "baseline": statistics.median(base_times),
        "precision": score.precision,
        "recall": score.recall,
        "f1": score.f1,
        "base_precision": base_score.precision,
        "base_recall": base_score.recall,
        "base_f1": base_score.f1,
        "candidate_recall": candidate_recall(records, truth),
        "true_pairs": float(len(truth)),
    }


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--labelled", type=int, default=20_000, help="rows of the book-like set")
    parser.add_argument("--febrl-originals", type=int, default=5_000)
    parser.add_argument("--febrl-duplicates", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--book", type=Path, default=Path("/tmp/smbcrm-bench/dedupe.db"))
    parser.add_argument("--no-report", action="store_true")
    args = parser.parse_args()

    big = book_rows(args.customers, seed=100)
    scan = full_scan(args.book, big, args.runs)
    sets = [
        in_memory("book-like (Chinese and Latin companies and people)", book_rows(args.labelled)),
        in_memory(
            "FEBRL-like people (no phone, no e-mail)",
            febrl_rows(args.febrl_originals, args.febrl_duplicates),
        ),
    ]
    fast = scan["scan"] < TARGET_SECONDS
    under_reference = scan["scan"] < REFERENCE_SECONDS
    ratio = scan["scan"] / scan["baseline"]
    accurate = all(
        s.smbcrm.precision >= TARGET_PRECISION and s.smbcrm.recall >= TARGET_RECALL for s in sets
    ) and (scan["precision"] >= TARGET_PRECISION and scan["recall"] >= TARGET_RECALL)
    lines = [
        f"Book: {args.customers:,} customers (SQLite file) from the book-like generator, "
        f"{int(scan['true_pairs']):,} true duplicate pairs; default threshold "
        f"{DEFAULT_THRESHOLD:g}; median of {args.runs} runs.",
        "",
        "| step | smbcrm | baseline (key blocking + rapidfuzz) | ratio | target |",
        "|---|---|---|---|---|",
        f"| full scan of {args.customers:,} customers (`scan_duplicates`, from the database) "
        f"| {scan['scan']:.2f} s | {scan['baseline']:.2f} s (reading the same file) "
        f"| {ratio:.2f}× | < {TARGET_SECONDS:.0f} s: {_verdict(fast)}; "
        f"< {REFERENCE_SECONDS} s (reference): {_verdict(under_reference)}; "
        f"≤ 1.0× baseline: {_verdict(ratio <= 1.0)} |",
        f"| the same scan saving the review queue ({int(scan['queued']):,} pairs) "
        f"| {scan['scan_saving']:.2f} s | | | |",
        f"| precision / recall / F1 at {args.customers:,} "
        f"| {scan['precision']:.4f} / {scan['recall']:.4f} / {scan['f1']:.4f} "
        f"| {scan['base_precision']:.4f} / {scan['base_recall']:.4f} / {scan['base_f1']:.4f} "
        f"| | ≥ {TARGET_PRECISION} / ≥ {TARGET_RECALL} |",
        f"| true pairs among the blocking's candidates | {scan['candidate_recall']:.4f} | | | |",
        "",
        "Labelled sets, judged in memory at the default threshold:",
        "",
        "| set | rows | true pairs | smbcrm P / R / F1 | baseline P / R / F1 "
        "| candidate recall | smbcrm time | baseline time |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in sets:
        lines.append(
            f"| {s.label} | {s.rows:,} | {s.true_pairs:,} "
            f"| {s.smbcrm.precision:.4f} / {s.smbcrm.recall:.4f} / {s.smbcrm.f1:.4f} "
            f"| {s.baseline.precision:.4f} / {s.baseline.recall:.4f} / {s.baseline.f1:.4f} "
            f"| {s.candidate_recall:.4f} | {s.smbcrm_seconds:.2f} s | {s.baseline_seconds:.2f} s |"
        )
    lines += [
        "",
        "Duplicates in the book-like set arise as real ones do: typos and homophones (the "
        "input method's wrong character), legal forms added or dropped, the city put into or "
        "left out of a name, transposed names, a Chinese name written in pinyin, full-width "
        "characters, phones and e-mails written differently, missing fields, a changed mobile. "
        "Hard non-duplicates are in it too: branches of one chain, a colleague at the same "
        "company (same office address and landline), family members sharing a landline, and "
        "people of the same common name. The FEBRL-like set has only names, address, suburb, "
        "postcode, state, date of birth and an ID number, with typos, OCR and phonetic errors, "
        "missing values, swapped given/family names and slipped digits; records the import "
        "refuses (no name, a date of birth that is no date) are left out as the import leaves "
        "them out.",
        "",
        "smbcrm blocks on phones, e-mails, tax numbers, the name (as written, words sorted, "
        "words reversed, as it sounds in pinyin, one Chinese character left out, Soundex of "
        "given and family name), birthday with day and month in either order and a name's "
        "initial, address with a name's initial, and name words with postcode or year of "
        "birth; groups too large to pair in full are walked in one or two orders (by name, "
        "by place, by birthday and ID number) with a window of 3. Each candidate pair is "
        "judged field by field with log-odds weights (names with Jaro-Winkler per given and "
        "family name, place words and legal forms ignored, different branches and different "
        "people's given names held back). Most candidate pairs are ruled out by what their "
        "fields can add at most (exact for birthdays, postcodes and cities, the same name "
        "ratios without the comparisons that only lower a weight) before names are compared "
        "in full; tests check on labelled sets that these shortcuts never change a pair's "
        "score or reasons.",
        "",
        f"Against issue #4's references measured on this machine (key blocking + rapidfuzz "
        f"0.1–3.6 s at F1 0.98–0.997, splink 3–10 s, recordlinkage about 50 s): the scan took "
        f"{scan['scan']:.2f} s from the database at F1 {scan['f1']:.3f}, "
        f"{'under' if under_reference else 'over'} the slowest key-blocking figure and "
        f"{ratio:.2f}× the same-run baseline, which reads the same file with plain "
        "sqlite3 and pauses the garbage collector as the scan does. The 2-core machine is shared, so the ratio is the figure to "
        "compare between runs. "
        f"Targets met: speed (< {TARGET_SECONDS:.0f} s) {_verdict(fast)}, under "
        f"{REFERENCE_SECONDS} s {_verdict(under_reference)}, no slower than the baseline "
        f"{_verdict(ratio <= 1.0)}, accuracy {_verdict(accurate)}.",
    ]
    print("\n".join(lines))
    if not args.no_report:
        write_section(ROOT / "docs" / "benchmarks.md", "Duplicate finder", lines)
    return 0 if fast and accurate else 1


if __name__ == "__main__":
    raise SystemExit(main())
