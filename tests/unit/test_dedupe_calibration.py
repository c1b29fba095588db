"""The weights against, measured on the book: a field the book shows to be unreliable for
one person proves less there, and only that field, and only as far as the book shows it."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest

from bench.dedupe_data import LabelledRow, book_rows, insert_rows, to_record
from smbcrm.errors import set_message_wording
from smbcrm.models import Database
from smbcrm.services.duplicates import DEFAULT_THRESHOLD, scan_duplicates
from smbcrm.services.duplicates.calibration import MILDEST, book_notes, calibrate
from smbcrm.services.duplicates.engine import detect
from smbcrm.services.duplicates.records import IdentityRecord, make_record
from smbcrm.services.duplicates.scoring import DEFAULT_WEIGHTS, judge
from smbcrm.ui.translation import load_message_wording

GIVEN = [
    "olivia",
    "jack",
    "emily",
    "thomas",
    "chloe",
    "lachlan",
    "sophie",
    "riley",
    "mia",
    "cooper",
    "ruby",
    "harrison",
    "zara",
    "oscar",
    "isla",
    "hudson",
    "maya",
    "archer",
    "leah",
    "flynn",
    "ava",
    "samuel",
    "eliza",
    "nathan",
]
FAMILY = [
    "henderson",
    "mcdonald",
    "whitfield",
    "gallagher",
    "pemberton",
    "castellano",
    "ashworth",
    "drummond",
    "fairbanks",
    "kowalski",
    "lindqvist",
    "moreau",
    "okonkwo",
    "rosenthal",
    "sutherland",
    "thackeray",
]


class Book:
    """People written into a book, some of them twice, as a small factory."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.records: list[IdentityRecord] = []
        self.names = [f"{g} {f}" for g in GIVEN for f in FAMILY]
        self.random.shuffle(self.names)

    def fresh_id(self) -> str:
        return str(self.random.randrange(1_000_000, 9_999_999))

    def birthday(self) -> date:
        return date(1940, 1, 1) + timedelta(days=self.random.randrange(25_000))

    def add(self, name: str, **fields: Any) -> IdentityRecord:
        record = make_record(len(self.records) + 1, kind="person", name=name, **fields)
        self.records.append(record)
        return record

    def people_written_twice(self, count: int, *, other_id_share: float) -> None:
        """``count`` people, each keyed in twice; a share of the second copies carry some
        other ID number (someone else's, or the number mistyped beyond recognition)."""
        for _ in range(count):
            name = self.names.pop()
            fields = dict(birthday=self.birthday(), tax=self.fresh_id(), postcode="2600")
            self.add(name, **fields)
            if self.random.random() < other_id_share:
                fields["tax"] = self.fresh_id()
            self.add(name, **fields)


def test_a_book_kept_with_care_keeps_the_usual_weights() -> None:
    records = [to_record(i, row) for i, row in enumerate(book_rows(3000, seed=31))]
    assert calibrate(records).weights == DEFAULT_WEIGHTS


def test_a_book_whose_people_often_carry_two_id_numbers_counts_a_different_one_less() -> None:
    book = Book(seed=1)
    book.people_written_twice(300, other_id_share=0.3)
    calibration = calibrate(book.records)
    assert calibration.tax.pairs == 300
    assert 60 <= calibration.tax.disagree <= 120
    weights = calibration.weights
    assert DEFAULT_WEIGHTS.person_tax_differ < weights.person_tax_differ <= MILDEST
    # Only the ID number: birthdays and names agree wherever the book can tell.
    assert weights.birthday_differ == DEFAULT_WEIGHTS.birthday_differ
    assert weights.part_mismatch == DEFAULT_WEIGHTS.part_mismatch
    assert weights.person_name_floor == DEFAULT_WEIGHTS.person_name_floor


def test_such_a_book_proposes_a_person_written_with_another_id_number() -> None:
    book = Book(seed=2)
    book.people_written_twice(300, other_id_share=0.3)
    born = date(1961, 5, 17)
    first = book.add("harriet blackwood", birthday=born, tax="4417302", postcode="2600")
    again = book.add("harriet blackwod", birthday=born, tax="8125530")
    # In a careful book the other ID number would keep the two apart ...
    usual = judge(first, again)
    assert usual is not None and usual.score < DEFAULT_THRESHOLD
    # ... but in this one it is how the same person is often written.
    found = {(p.a.id, p.b.id): p for p in detect(book.records, DEFAULT_THRESHOLD).pairs}
    pair = found.get((first.id, again.id))
    assert pair is not None
    assert "different ID numbers" in pair.judgement.all_reasons()


def test_twins_stay_apart_in_a_book_whose_id_numbers_are_unreliable() -> None:
    book = Book(seed=3)
    book.people_written_twice(300, other_id_share=0.3)
    home = dict(birthday=date(1990, 2, 14), address="12 banksia street", postcode="2600")
    emma = book.add("emma walker", tax="5550101", **home)
    grace = book.add("grace walker", tax="8302417", **home)
    found = {(p.a.id, p.b.id) for p in detect(book.records, DEFAULT_THRESHOLD).pairs}
    assert (emma.id, grace.id) not in found


def test_a_book_whose_people_are_often_written_with_another_given_name_counts_that_less() -> None:
    book = Book(seed=4)
    for _ in range(200):
        given, family = book.names.pop().split()
        fields = dict(birthday=book.birthday(), address="7 wattle road", postcode="2600")
        book.add(f"{given} {family}", **fields)
        other = given if book.random.random() < 0.7 else book.random.choice(GIVEN)
        book.add(f"{other} {family}", **fields)
    weights = calibrate(book.records).weights
    assert DEFAULT_WEIGHTS.part_mismatch < weights.part_mismatch <= MILDEST
    assert DEFAULT_WEIGHTS.person_name_floor < weights.person_name_floor <= MILDEST


def test_colleagues_given_their_employers_tax_number_say_nothing_about_names() -> None:
    book = Book(seed=5)
    for _ in range(60):
        employer = book.fresh_id()
        for _ in range(4):
            book.add(book.names.pop(), tax=employer, birthday=book.birthday())
    calibration = calibrate(book.records)
    assert calibration.names.pairs == 0
    assert calibration.weights == DEFAULT_WEIGHTS


def test_a_few_disagreements_move_the_weight_only_a_little() -> None:
    book = Book(seed=6)
    book.people_written_twice(4, other_id_share=1.0)
    calibration = calibrate(book.records)
    assert (calibration.tax.pairs, calibration.tax.disagree) == (4, 4)
    assert DEFAULT_WEIGHTS.person_tax_differ < calibration.weights.person_tax_differ < -3.0


def test_however_often_a_field_differs_a_difference_still_counts_against() -> None:
    book = Book(seed=7)
    book.people_written_twice(300, other_id_share=1.0)
    assert calibrate(book.records).weights.person_tax_differ == pytest.approx(MILDEST)


def test_a_stand_in_birthday_shared_by_whole_families_is_no_anchor() -> None:
    book = Book(seed=8)
    stand_in = date(1900, 1, 1)  # what an old system wrote where it had no birthday
    for house in range(40):
        family = FAMILY[house % len(FAMILY)]
        for given in book.random.sample(GIVEN, 3):
            book.add(f"{given} {family}", birthday=stand_in, address=f"{house} hill st")
    calibration = calibrate(book.records)
    assert calibration.names.pairs == 0
    assert calibration.weights == DEFAULT_WEIGHTS


def _rows(records: list[IdentityRecord]) -> list[LabelledRow]:
    """The factory's people as rows to write into a real book."""
    return [
        LabelledRow(
            entity=i,
            kind="person",
            name=r.name,
            birthday=date(int(r.birthday[:4]), int(r.birthday[4:6]), int(r.birthday[6:])),
            tax_id=r.tax,
            postcode=r.postcode or None,
        )
        for i, r in enumerate(records)
    ]


def test_the_scan_says_what_it_weighed_differently_in_this_book(company: Database) -> None:
    book = Book(seed=9)
    book.people_written_twice(150, other_id_share=0.3)
    born = date(1961, 5, 17)
    book.add("harriet blackwood", birthday=born, tax="4417302", postcode="2600")
    book.add("harriet blackwod", birthday=born, tax="8125530")
    ids = insert_rows(company, _rows(book.records))
    result = scan_duplicates(company)
    assert (ids[-2], ids[-1]) in {(c.a_id, c.b_id) for c in result.candidates}
    (note,) = result.book_notes
    assert [note] == book_notes(calibrate(book.records))
    assert "of 150 pairs of people with one name and birthday have different ID numbers" in note
    wording = load_message_wording("zh")
    assert wording is not None
    set_message_wording(wording)
    try:
        chinese = wording(note)
    finally:
        set_message_wording(None)
    assert chinese != note and "证件号不同" in chinese and "150" in chinese


def test_a_careful_book_gets_no_note(company: Database) -> None:
    book = Book(seed=10)
    book.people_written_twice(150, other_id_share=0.0)
    insert_rows(company, _rows(book.records))
    assert scan_duplicates(company).book_notes == ()
