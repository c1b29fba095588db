"""``smbcrm dedupe`` end to end: import a FEBRL-style list of people, find its duplicates.

The list is made by the benchmark's FEBRL-like generator (given name, surname, street
number, two address lines, suburb, postcode, state, date of birth as 19560409, social
security number, record id), imported with ``--on-duplicate create`` so every record
becomes a customer, scanned with ``smbcrm dedupe --report``, and the report's pairs are
mapped back to record ids through ``smbcrm export customers``.
"""

from __future__ import annotations

import csv
import random
from itertools import combinations, product
from pathlib import Path

from python_calamine import CalamineWorkbook

from bench.dedupe_data import febrl_records, write_febrl_csv
from tests.e2e.test_cli import smbcrm

REPORT_HEADER = ["ID A", "ID B", "Name A", "Name B", "Score", "Reasons"]


def _book(tmp_path: Path) -> tuple[str, list[str]]:
    db = str(tmp_path / "book.db")
    made = smbcrm(
        "--db", db, "init", "--company", "Linkage Test", "--owner", "boss", password="boss-pass-1"
    )
    assert made.returncode == 0, made.stderr
    records = febrl_records(120, 60, seed=31)
    source = write_febrl_csv(tmp_path / "people.csv", records)
    imported = smbcrm(
        "--db", db, "import", str(source), "--source", "febrl", "--on-duplicate", "create"
    )
    assert imported.returncode == 0, imported.stderr
    return db, [r.rec_id for r in records]


def _ids_by_record(db: str, tmp_path: Path) -> dict[int, str]:
    """smbcrm customer ID → the record id the customer was imported from."""
    out = tmp_path / "customers.csv"
    exported = smbcrm("--db", db, "export", "customers", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {int(row["ID"]): row["External IDs"].split(":", 1)[-1].strip() for row in rows}


def _truth(record_ids: list[str]) -> set[frozenset[str]]:
    by_person: dict[str, list[str]] = {}
    for rec_id in record_ids:
        by_person.setdefault(rec_id.split("-")[1], []).append(rec_id)
    return {frozenset(pair) for group in by_person.values() for pair in combinations(group, 2)}


def test_febrl_style_list_imported_then_deduplicated(tmp_path: Path) -> None:
    db, record_ids = _book(tmp_path)
    by_id = _ids_by_record(db, tmp_path)
    imported = set(by_id.values())
    # Every record with a name and a readable date of birth became its own customer.
    assert len(by_id) >= len(record_ids) - 12
    truth = {pair for pair in _truth(record_ids) if pair <= imported}
    assert len(truth) >= 50

    report = tmp_path / "pairs.csv"
    ran = smbcrm("--db", db, "dedupe", "--report", str(report))
    assert ran.returncode == 0, ran.stderr
    assert "pairs queued for review" in ran.stdout
    with report.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == REPORT_HEADER
    found = {frozenset((by_id[int(row[0])], by_id[int(row[1])])) for row in rows[1:]}
    assert all(float(row[4]) >= 80 and row[5] for row in rows[1:])
    hits = len(found & truth)
    assert hits / len(truth) >= 0.9, sorted(map(sorted, truth - found))[:5]
    assert hits / len(found) >= 0.95, sorted(map(sorted, found - truth))[:5]

    # The same pairs in Excel, this time without touching the queue, at a stricter threshold.
    workbook = tmp_path / "pairs.xlsx"
    again = smbcrm(
        "--db", db, "dedupe", "--report", str(workbook), "--threshold", "0.95", "--no-save"
    )
    assert again.returncode == 0, again.stderr
    assert "left as it was" in again.stdout
    sheet = CalamineWorkbook.from_path(str(workbook)).get_sheet_by_index(0).to_python()
    assert sheet[0] == REPORT_HEADER
    strict = {frozenset((by_id[int(row[0])], by_id[int(row[1])])) for row in sheet[1:]}
    assert strict and strict <= found
    assert all(float(row[4]) >= 95 for row in sheet[1:])


def test_dedupe_prints_a_table_and_refuses_a_bad_threshold(tmp_path: Path) -> None:
    db, _record_ids = _book(tmp_path)
    ran = smbcrm("--db", db, "dedupe")
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0].split()[:3] == ["Score", "ID", "A"]
    assert any("same ID number" in line or "same birthday" in line for line in lines[1:])
    assert lines[-1].endswith("pairs queued for review.")
    bad = smbcrm("--db", db, "dedupe", "--threshold", "120")
    assert bad.returncode != 0
    assert "120 is not a score" in bad.stderr


def test_dedupe_weighs_id_numbers_less_in_a_book_that_shows_them_unreliable(
    tmp_path: Path,
) -> None:
    """People keyed in twice, a third of them the second time with another ID number."""
    rng = random.Random(5)
    given = ["olivia", "jack", "emily", "thomas", "chloe", "lachlan", "sophie", "riley"]
    family = ["henderson", "whitfield", "gallagher", "pemberton", "ashworth", "drummond"]
    rows = []
    for number, (first, last) in enumerate(product(given, family)):
        born = f"{rng.randrange(1940, 2000)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        id_number = str(rng.randrange(1_000_000, 9_999_999))
        rows.append([f"P{number}-a", f"{first} {last}", born, id_number, "2600"])
        if rng.random() < 0.35:
            id_number = str(rng.randrange(1_000_000, 9_999_999))
        rows.append([f"P{number}-b", f"{first} {last}", born, id_number, "2600"])
    rows.append(["H-a", "harriet blackwood", "1961-05-17", "4417302", "2600"])
    rows.append(["H-b", "harriet blackwod", "1961-05-17", "8125530", ""])
    source = tmp_path / "people.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Customer Code", "Name", "Birthday", "ID Number", "Postcode"])
        writer.writerows(rows)
    db = str(tmp_path / "book.db")
    made = smbcrm(
        "--db", db, "init", "--company", "Linkage Test", "--owner", "boss", password="boss-pass-1"
    )
    assert made.returncode == 0, made.stderr
    imported = smbcrm("--db", db, "import", str(source), "--on-duplicate", "create")
    assert imported.returncode == 0, imported.stderr

    report = tmp_path / "pairs.csv"
    ran = smbcrm("--db", db, "dedupe", "--no-save", "--report", str(report))
    assert ran.returncode == 0, ran.stderr
    assert "pairs of people with one name and birthday have different ID numbers" in ran.stdout
    assert "in this book a different ID number counts less" in ran.stdout
    with report.open(encoding="utf-8-sig", newline="") as handle:
        pairs = list(csv.DictReader(handle))
    harriet = [row for row in pairs if row["Name A"].lower().startswith("harriet")]
    assert len(harriet) == 1 and "different ID numbers" in harriet[0]["Reasons"]
