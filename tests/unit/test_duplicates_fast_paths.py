"""The duplicate finder's shortcuts find exactly what the careful way finds.

The scan of a whole book takes shortcuts: records read with plain SELECTs, keys counted
before they are grouped, pairs ruled out by what their fields can add at most. Each is
checked here against the plain way on labelled sets, so a faster path can never quietly
change which pairs are proposed, their scores or their reasons.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bench.dedupe_data import LabelledRow, book_rows, febrl_rows, insert_rows, to_record
from smbcrm.models import Database
from smbcrm.services.duplicates.blocking import KEY_FAMILIES, candidate_pairs, shared_keys
from smbcrm.services.duplicates.engine import name_counts, phone_counts
from smbcrm.services.duplicates.records import IdentityRecord, load_records
from smbcrm.services.duplicates.scoring import (
    DEFAULT_WEIGHTS,
    BookWeights,
    _name_weight,
    _name_weight_at_most,
    compare_names,
    judge,
    weight_for,
)

# Thresholds from lenient to strict: every early exit is tried near every score.
THRESHOLDS = (20.0, 50.0, 70.0, 80.0, 90.0, 95.0, 99.0)
# The mildest weights against a book can show (see calibration): the bounds follow them.
MILD_WEIGHTS = BookWeights(
    person_tax_differ=-1.5,
    birthday_differ=-1.5,
    person_name_floor=-1.5,
    part_mismatch=-1.5,
    part_mismatch_same_id=-1.5,
)


def labelled_sets() -> list[list[LabelledRow]]:
    return [book_rows(3000, seed=21), febrl_rows(400, 200, seed=22)]


def judged_pairs(
    records: list[IdentityRecord],
) -> list[tuple[IdentityRecord, IdentityRecord, int]]:
    """Every pair the blocking proposes, with the name count the scan judges it with."""
    names = name_counts(records)
    n = len(records)
    pairs = []
    for code in sorted(candidate_pairs(records)):
        a, b = records[code // n], records[code % n]
        pairs.append((a, b, names.get(a.compact, 1) if a.person and b.person else 1))
    return pairs


@pytest.mark.parametrize("weights", [DEFAULT_WEIGHTS, MILD_WEIGHTS], ids=["usual", "mild"])
@pytest.mark.parametrize("rows", labelled_sets(), ids=["book-like", "febrl-like"])
def test_ruling_pairs_out_early_never_changes_a_judgement(
    rows: Sequence[LabelledRow], weights: BookWeights
) -> None:
    records = [to_record(i, row) for i, row in enumerate(rows)]
    pairs = judged_pairs(records)
    phones = phone_counts(records)
    assert len(pairs) > 300
    ruled_out = 0
    for a, b, count in pairs:
        careful = judge(a, b, name_count=count, phone_count=phones, weights=weights)
        assert careful is not None
        for threshold in THRESHOLDS:
            floor = weight_for(threshold)
            quick = judge(a, b, name_count=count, phone_count=phones, floor=floor, weights=weights)
            if careful.weight < floor:
                ruled_out += quick is None
                continue
            assert quick is not None, (a.name, b.name, threshold, careful)
            assert quick.weight == careful.weight
            assert quick.all_reasons() == careful.all_reasons()
        names = compare_names(a, b)
        assert _name_weight_at_most(a, b, weights) >= _name_weight(a, b, names, count, weights)
    assert ruled_out > len(pairs)  # the shortcuts do rule most pairs out


def test_shared_keys_group_as_a_plain_grouping_does() -> None:
    records = [to_record(i, row) for i, row in enumerate(book_rows(800, seed=23))]
    for _label, keys_of, _orders in KEY_FAMILIES:
        keys, owners = keys_of(records)
        plain: dict[str, list[int]] = {}
        for key, owner in zip(keys, owners, strict=True):
            members = plain.setdefault(key, [])
            if owner not in members:
                members.append(owner)
        expected = {key: members for key, members in plain.items() if len(members) > 1}
        assert owners == sorted(owners)  # what shared_keys relies on
        assert shared_keys(keys, owners) == expected
    # One record giving one key twice is still one member.
    assert shared_keys(["x", "x", "y", "x"], [0, 0, 1, 2]) == {"x": [0, 2]}


def test_records_read_from_the_book_are_the_records_made_one_by_one(company: Database) -> None:
    rows = book_rows(600, seed=24)
    ids = insert_rows(company, rows)
    with company.engine.connect() as connection:
        loaded = {record.id: record for record in load_records(connection)}
        some = load_records(connection, ids[:5])
    assert len(loaded) == len(rows)
    for customer_id, row in zip(ids, rows, strict=True):
        assert loaded[customer_id] == to_record(customer_id, row)
    assert [r.id for r in some] == ids[:5]
    assert some == [loaded[customer_id] for customer_id in ids[:5]]
