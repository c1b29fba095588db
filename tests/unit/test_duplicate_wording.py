"""The reasons two customers look alike, in a Chinese window: every reason the scan gives
on the labelled sets reads in Chinese, with its values (phones, names, dates) kept."""

from __future__ import annotations

from bench.dedupe_data import book_rows, febrl_rows, to_record
from smbcrm.errors import worded
from smbcrm.services.duplicates.engine import detect
from smbcrm.ui.translation import MessageWording, load_message_wording


def _chinese() -> MessageWording:
    wording = load_message_wording("zh")
    assert wording is not None
    return wording


def _all_reasons() -> set[str]:
    reasons: set[str] = set()
    for rows in (book_rows(3000, seed=21), febrl_rows(400, 200, seed=22)):
        records = [to_record(i, row) for i, row in enumerate(rows)]
        # A low threshold: the reasons against a pair are given too.
        for pair in detect(records, 20.0).pairs:
            reasons.update(pair.judgement.all_reasons())
    return reasons


def test_every_reason_the_scan_gives_reads_in_chinese() -> None:
    reasons = _all_reasons()
    reason_in = _chinese()
    assert len({r.split(" ")[0] for r in reasons}) >= 4  # same, names, different, …
    english = sorted(r for r in reasons if reason_in(r) == r)
    assert not english, f"no Chinese for: {english[:20]}"
    for reason in reasons:
        chinese = reason_in(reason)
        # The values stay: every digit of the English reason is in the Chinese one.
        assert sorted(c for c in reason if c.isdigit()) == sorted(c for c in chinese if c.isdigit())


def test_reasons_read_as_written_in_english_and_unknown_ones_are_kept() -> None:
    reasons = ("same mobile +86 138 0013 8000", "names 94% alike")
    assert tuple(map(worded, reasons)) == reasons  # no wording installed: as written
    reason_in = _chinese()
    assert tuple(map(reason_in, reasons)) == ("手机相同 +86 138 0013 8000", "名称相似度 94%")
    assert reason_in("same name, legal form aside") == "名称相同（不计公司类型）"
    assert reason_in("same e-mail name: li.lei / lilei") == "邮箱用户名相同：li.lei / lilei"
    assert reason_in("something new") == "something new"
