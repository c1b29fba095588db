"""Benchmark: the duplicate finder's speed at 100,000 customers and its accuracy on labelled sets.

Targets (issue #4, "Accuracy and speed"): a full scan of 100,000 customers in under 10 s
on this 2-core machine, and at the default threshold precision ≥ 0.98 and recall ≥ 0.95
on a book-like labelled set and on a FEBRL-like set of people.

* smbcrm: ``scan_duplicates`` on a SQLite book (loading the customers from the database,
  blocking, judging, reading earlier decisions); run once saving the review queue, then
  without saving, as ``smbcrm dedupe --no-save`` does.
* baseline: the fastest plain-library way to do the same job — key blocking + rapidfuzz
  with rules (:mod:`bench.dedupe_plain`), which reaches the accuracy bar on these sets. It
  reads the same database file with plain ``sqlite3`` (the stored keys as they are; only
  the contact keys more than one customer holds) and, like the scan, runs with the cyclic
  garbage collector paused. It replaced a names-only baseline that was both slower and
  short of the recall bar.

Both run from a book on disk for every set and are scored against the labels: precision,
recall and F1 of the pairs found, and the share of true pairs smbcrm's blocking brings
together at all (candidate recall).

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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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
from bench.dedupe_plain import find_pairs  # noqa: E402
from bench.report import write_section  # noqa: E402
from smbcrm.models import Database  # noqa: E402
from smbcrm.services import auth  # noqa: E402
from smbcrm.services.database import open_database  # noqa: E402
from smbcrm.services.duplicates import DEFAULT_THRESHOLD, scan_duplicates  # noqa: E402
from smbcrm.services.duplicates.blocking import candidate_pairs  # noqa: E402
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
    smbcrm_seconds: float  # median, scan without saving
    baseline_seconds: float
    candidate_recall: float
    saving_seconds: float = 0.0  # the first scan, saving the review queue
    queued: int = 0


def measure(label: str, path: Path, rows: list[LabelledRow], runs: int) -> SetResult:
    """smbcrm's scan and the baseline on the same book file, interleaved run by run."""
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
        times: list[float] = []
        base_times: list[float] = []
        for _ in range(runs):
            start = time.perf_counter()
            result = scan_duplicates(db, save=False)
            times.append(time.perf_counter() - start)
            # smbcrm pauses the cyclic collector for a scan: the baseline gets the same.
            gc.disable()
            try:
                start = time.perf_counter()
                book_ids, base_pairs = find_pairs(path)
                base_times.append(time.perf_counter() - start)
            finally:
                gc.enable()
    finally:
        db.dispose()
    found = [(index_of[c.a_id], index_of[c.b_id]) for c in result.candidates]
    base_found = [(index_of[book_ids[i]], index_of[book_ids[j]]) for i, j in base_pairs]
    records = [to_record(i, row) for i, row in enumerate(rows)]
    return SetResult(
        label,
        len(rows),
        len(truth),
        accuracy(found, truth),
        accuracy(base_found, truth),
        statistics.median(times),
        statistics.median(base_times),
        candidate_recall(records, truth),
        with_save,
        saved.queued,
    )


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

    work = args.book.parent
    scan = measure("book", args.book, book_rows(args.customers, seed=100), args.runs)
    sets = [
        measure(
            "book-like (Chinese and Latin companies and people)",
            work / f"dedupe-labelled-{args.labelled}.db",
            book_rows(args.labelled),
            args.runs,
        ),
        measure(
            "FEBRL-like people (no phone, no e-mail)",
            work / f"dedupe-febrl-{args.febrl_originals}-{args.febrl_duplicates}.db",
            febrl_rows(args.febrl_originals, args.febrl_duplicates),
            args.runs,
        ),
    ]
    fast = scan.smbcrm_seconds < TARGET_SECONDS
    under_reference = scan.smbcrm_seconds < REFERENCE_SECONDS
    ratio = scan.smbcrm_seconds / scan.baseline_seconds
    accurate = all(
        s.smbcrm.precision >= TARGET_PRECISION and s.smbcrm.recall >= TARGET_RECALL
        for s in (scan, *sets)
    )
    more_accurate = all(s.smbcrm.f1 > s.baseline.f1 for s in (scan, *sets))
    ours, base = scan.smbcrm, scan.baseline
    lines = [
        f"Book: {args.customers:,} customers (SQLite file) from the book-like generator, "
        f"{scan.true_pairs:,} true duplicate pairs; default threshold "
        f"{DEFAULT_THRESHOLD:g}; median of {args.runs} runs, the two sides interleaved.",
        "",
        "| step | smbcrm | baseline (key blocking + rapidfuzz + rules) | ratio | target |",
        "|---|---|---|---|---|",
        f"| full scan of {args.customers:,} customers (`scan_duplicates`, from the database) "
        f"| {scan.smbcrm_seconds:.2f} s | {scan.baseline_seconds:.2f} s (reading the same file) "
        f"| {ratio:.2f}× | < {TARGET_SECONDS:.0f} s: {_verdict(fast)}; "
        f"< {REFERENCE_SECONDS} s (reference): {_verdict(under_reference)}; "
        f"≤ 1.0× baseline: {_verdict(ratio <= 1.0)} |",
        f"| the same scan saving the review queue ({scan.queued:,} pairs) "
        f"| {scan.saving_seconds:.2f} s | | | |",
        f"| precision / recall / F1 at {args.customers:,} "
        f"| {ours.precision:.4f} / {ours.recall:.4f} / {ours.f1:.4f} "
        f"| {base.precision:.4f} / {base.recall:.4f} / {base.f1:.4f} "
        f"| | ≥ {TARGET_PRECISION} / ≥ {TARGET_RECALL} |",
        f"| true pairs among smbcrm's blocking candidates | {scan.candidate_recall:.4f} | | | |",
        "",
        "Labelled sets, each from a book on disk, at the default threshold:",
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
        "missing values, swapped given/family names and slipped digits; records with no name "
        "or a date of birth that is no date are left out of it (the import keeps the latter, "
        "without the birthday; the real FEBRL sets below include them).",
        "",
        "smbcrm blocks on phones, e-mails, tax numbers, the name (as written, words sorted, "
        "words reversed, as it sounds in pinyin, one Chinese character left out, Soundex of "
        "given and family name), birthday with day and month in either order and a name's "
        "initial, address with a name's initial, name words with postcode or year of birth "
        "(and a person's city), and a person's ID number with one digit left out; groups too large to pair in full are walked in one or two orders (by name, "
        "by place, by birthday and ID number) with a window of 3. Each candidate pair is "
        "judged field by field with log-odds weights (names with Jaro-Winkler per given and "
        "family name, place words and legal forms ignored, different branches and different "
        "people's given names held back). How much a different ID number, birthday or "
        "name counts against is measured on the book itself: among people who agree on "
        "everything else (one name and birthday; one ID number and birthday; one birthday "
        "at one address), the share that still differ sets that weight, from the usual "
        "weight as a prior. It stays the usual one on the book-like sets; on the FEBRL-like "
        "set, where one person's name is often written otherwise, a different name counts "
        "-2.2 instead of -5 to -8. Most candidate "
        "pairs are ruled out by what their "
        "fields can add at most before names are compared in full; tests check on labelled "
        "sets that these shortcuts never change a pair's score or reasons.",
        "",
        "The baseline (`bench/dedupe_plain.py`, nothing from smbcrm) is the issue's reference "
        "approach written to reach the same accuracy bar as fast as plain libraries allow: it "
        "reads only the columns its rules use and only the contact keys more than one "
        "customer holds (SQLite finds those through its indexes); blocks on shared phones, "
        "e-mails and tax numbers, a name key (Chinese city names and legal forms taken out, "
        "people's Chinese names in pinyin, Latin names also family name first) and a "
        "person's birthday; and judges with rapidfuzz `ratio` and hand-set rules (a shared "
        "identifier and names 60 % alike, a landline and a person's names 85 % alike, and so "
        "on). It replaced a names-only baseline that took 0.93 s for F1 0.954 at 100,000 "
        "(recall 0.927, short of the bar), so the ratio above is against a faster and more "
        "accurate baseline than before.",
        "",
        f"Against issue #4's references measured on this machine (key blocking + rapidfuzz "
        f"0.1–3.6 s at F1 0.98–0.997, splink 3–10 s, recordlinkage about 50 s): the scan took "
        f"{scan.smbcrm_seconds:.2f} s from the database at F1 {ours.f1:.3f}, "
        f"{'under' if under_reference else 'over'} the slowest key-blocking figure and "
        f"{ratio:.2f}× the same-run baseline (F1 {base.f1:.3f}). smbcrm is the more accurate "
        f"on every set: {_verdict(more_accurate)}. The 2-core machine is shared, so the ratio "
        "is the figure to compare between runs. "
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
