"""Find customers as you type: substring search over name, contacts, phones, e-mails, city,
and over the pinyin of the name.

A plain ``LIKE '%…%'`` cannot use an index, and a 2-character Chinese name is too short for
trigram indexes, so every keystroke would scan the customers table (~250 ms at 100,000
customers). Instead each desktop keeps the folded search text of every live customer in
memory (≈10 MB per 100,000, and 4 MB of pinyin), laid end to end in name order, and scans
it with ``str.find`` (C speed). Because the text is in name order, the first page of
matches sorted by name is simply the first matches found: a term that matches half the book
answers as fast as one that matches nobody. The count asked for next goes on from where the
page stopped.

The copy is refreshed incrementally from ``updated_at`` and the highest id, so edits made
on other desktops of a team database show up too. A customer removed outright (undoing an
import or an orders batch removes the customers it created) leaves no row to notice, so
each look also counts the customers table: when the count differs from the rows the copy
knows, the copy is read again in full. A full reload also happens every few minutes.

A merged-away customer (a tombstone) is still found by its old name: its search text is
added to the record of the customer it was merged into, so searching the old name finds
the survivor, once.

Pinyin: a sales user on an English keyboard types a Chinese name without tones. Beside the
folded text, a term of two or more ASCII letters (every typed word is a term) also matches

- the pinyin of the name, which is its sort key (张伟 → "zhang wei"), read from the start of
  any syllable on across the next ones, the last one perhaps cut short: "zhangwei",
  "zhangw" and "wei" find 张伟, "huaqiang" finds 深圳市华强电子有限公司. A term may split
  into syllables in several ways ("xian": 先 or 西安); each way is tried.
- the initials of consecutive syllables of the name: "zw" finds 张伟, "hqdz"
  深圳市华强电子有限公司.

Short terms must not flood the list. Matching only from the start of a syllable, "an" finds
安 and 昂 (an, ang) but not every zhang and wang; the legal form ending a company name
(有限公司 …) is left out of its pinyin, so "xian" finds 西安 and 先, not every 有限公司, and
"gs" no company at all; a single letter is not read as pinyin. Pinyin matches stay in name
order among the others, like any match. A Latin name's sort key is its words, read the same
way: a name spelled in pinyin is found like a Chinese one, and a word's first letter counts
as an initial ("hlt" finds Harbor Lights Trading); for two letters that adds little to what
the plain substring finds anyway. Contact names are not read as pinyin: the index has only
the name's sort key, and turning every contact into pinyin would cost seconds at each load.
The pinyin and the initials come from the sort keys the index reads anyway, all names at
once, in a few passes in C. Searches that include archived customers run in SQL
(``term_condition``): pinyin is read the same way there, initials are not.
"""

from __future__ import annotations

import bisect
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from itertools import accumulate, repeat
from operator import add, itemgetter

from sqlalchemy import ColumnElement, case, func, literal, or_, select
from sqlalchemy.orm import Session

from smbcrm.models import Customer
from smbcrm.models.keys import DEFAULT_REGION, fold_text, looks_like_phone_query, phone_query_digits

# Between records: a term can never match across two customers.
_RECORD_SEP = "\x1e"
FULL_RELOAD_EVERY_S = 300.0
# A page and its count asked for together need one look at the database, not two.
RECHECK_AFTER_S = 0.5

# Every syllable a sort key spells (tones dropped, ü as v): what a typed term splits into.
_SYLLABLES_TEXT = """
    a ai an ang ao ba bai ban bang bao bei ben beng bi bian biang biao bie bin bing bo bong
    bu ca cai can cang cao ce cei cen ceng cha chai chan chang chao che chen cheng chi chong
    chou chu chua chuai chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai
    dan dang dao de den deng di dian diao die din ding diu dong dou du duan dui dun duo e ei
    en eng er fa fan fang fei fen feng fiao fo fou fu ga gai gan gang gao ge gei gen geng
    gong gou gu gua guai guan guang gui gun guo ha hai han hang hao he hei hen heng hm hong
    hou hu hua huai huan huang hui hun huo ji jia jian jiang jiao jie jin jing jiong jiu ju
    juan jue jun ka kai kan kang kao ke ken keng kong kou ku kua kuai kuan kuang kui kun kuo
    la lai lan lang lao le lei leng li lia lian liang liao lie lin ling liu lo long lou lu
    luan lun luo lv lve m ma mai man mang mao me mei men meng mi mian miao mie min ming miu
    mo mou mu n na nai nan nang nao ne nei nen neng ni nian niang niao nie nin ning niu nong
    nou nu nuan nun nuo nv nve o ou pa pai pan pang pao pei pen peng pi pian piao pie pin
    ping po pou pu qi qia qian qiang qiao qie qin qing qiong qiu qu quan que qun ran rang
    rao re ren reng ri rong rou ru rua ruan rui run ruo sa sai san sang sao se sen seng sha
    shai shan shang shao she shen sheng shi shou shu shua shuai shuan shuang shui shun shuo
    si song sou su suan sui sun suo ta tai tan tang tao te teng ti tian tiao tie ting tong
    tou tu tuan tui tun tuo wa wai wan wang wei wen weng wo wong wu xi xia xian xiang xiao
    xie xin xing xiong xiu xu xuan xue xun ya yan yang yao ye yi yin ying yo yong you yu
    yuan yue yun za zai zan zang zao ze zei zen zeng zha zhai zhan zhang zhao zhe zhen zheng
    zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo zi zong zou zu zuan zui zun
    zuo
"""
PINYIN_SYLLABLES = frozenset(_SYLLABLES_TEXT.split())
_SYLLABLE_STARTS = frozenset(s[:n] for s in PINYIN_SYLLABLES for n in range(1, len(s) + 1))
# Interjections (呣, 嗯, 噷) are in no name: as whole syllables inside a term they would only
# multiply the readings ("zhang" as "zha n g").
_WHOLE_SYLLABLES = PINYIN_SYLLABLES - {"m", "n", "hm"}
_LONGEST_SYLLABLE = max(map(len, PINYIN_SYLLABLES))
# Ways to split one term that are tried, fewest syllables first: each costs one more scan
# of the pinyin, and a term ambiguous beyond this is long enough to be rare anyway.
MAX_PINYIN_READINGS = 8
# No syllable starts with these: a term holding one cannot be initials.
_NEVER_INITIALS = frozenset("iuv")
# The pinyin of the legal forms at the end of Chinese company names (股份有限公司, 有限责任公司,
# 有限公司, 公司), longest first, as pinyin_sort_key spells them. They are left out of the
# names' pinyin: "xian" would find nearly every 有限公司, and "gs" every company.
_LEGAL_FORM_PINYIN = (
    " gu fen you xian gong si",
    " you xian ze ren gong si",
    " you xian gong si",
    " gong si",
)
# Title-casing the sort keys and dropping what stays lower case leaves the initials.
_NOT_INITIALS = b" abcdefghijklmnopqrstuvwxyz"


def search_terms(text: str, region: str = DEFAULT_REGION) -> list[str]:
    """What a typed query looks for: each word folded; a phone becomes its digits.

    "+86 138-0013-8000" is one phone term; "张 深圳" is two terms that must both match.
    """
    text = text.strip()
    if not text:
        return []
    if looks_like_phone_query(text):
        digits = phone_query_digits(text, region)
        return [digits] if digits else []
    terms = []
    for word in fold_text(text).split(" "):
        if not word:
            continue
        if looks_like_phone_query(word):
            word = phone_query_digits(word, region) or word
        terms.append(word)
    return terms


def _is_pinyin_term(term: str) -> bool:
    return len(term) >= 2 and term.isascii() and term.isalpha()


@lru_cache(maxsize=4096)
def pinyin_readings(term: str) -> tuple[str, ...]:
    """How a term typed in toneless pinyin splits into syllables, as a name's pinyin spells
    them after a space: "zhangw" → (" zhang w",); "xian" → (" xian", " xi an", " xia n", …).

    Every syllable but the last is whole; the last may be cut short. Fewest syllables first.
    """
    term = term.lower()
    if not _is_pinyin_term(term):
        return ()
    size = len(term)
    # readable[i]: term[i:] is whole syllables and then the start of one.
    readable = [False] * size
    for start in range(size - 1, -1, -1):
        readable[start] = term[start:] in _SYLLABLE_STARTS or any(
            term[start:end] in _WHOLE_SYLLABLES and readable[end]
            for end in range(start + 1, min(size, start + _LONGEST_SYLLABLE) + 1)
            if end < size
        )
    if not readable[0]:
        return ()
    readings: list[list[str]] = []

    def split(start: int, taken: list[str]) -> None:
        if len(readings) >= MAX_PINYIN_READINGS * 8:  # enough to pick the best from
            return
        if term[start:] in _SYLLABLE_STARTS:
            readings.append([*taken, term[start:]])
        for end in range(min(size - 1, start + _LONGEST_SYLLABLE), start, -1):
            if term[start:end] in _WHOLE_SYLLABLES and readable[end]:
                split(end, [*taken, term[start:end]])

    split(0, [])
    readings.sort(key=len)  # stable: longer syllables first among equally many
    return tuple(" " + " ".join(r) for r in readings[:MAX_PINYIN_READINGS])


def pinyin_initials(term: str) -> str | None:
    """The term as initials of consecutive syllables ("zw" for 张伟), if it can be that."""
    term = term.lower()
    if not _is_pinyin_term(term) or not _NEVER_INITIALS.isdisjoint(term):
        return None
    return term


@dataclass(frozen=True, slots=True)
class _Term:
    text: str  # found in the folded search text
    # Found in the names' pinyin: the letters from a syllable start, a space or none between
    # any two. The name's own syllables make it a reading of the term, so this one scan does
    # the work of a scan for each reading.
    pinyin: re.Pattern[str] | None
    initials: str | None  # found in the names' syllable initials

    @property
    def places(self) -> int:
        return 1 + (self.pinyin is not None) + (self.initials is not None)


@lru_cache(maxsize=4096)
def _term(text: str) -> _Term:
    pinyin = re.compile(" " + " ?".join(map(re.escape, text))) if pinyin_readings(text) else None
    return _Term(text, pinyin, pinyin_initials(text))


def term_condition(customer: type[Customer], term: str) -> ColumnElement[bool]:
    """The term as SQL, for searches the index cannot answer (archived customers): in the
    search text, or as pinyin in the name's sort key without its legal form. Initials are
    the index's alone: the table stores none."""
    in_text = customer.search_text.contains(term, autoescape=True)
    readings = pinyin_readings(term)
    if not readings:
        return in_text
    key = customer.sort_key
    without_form = case(
        *[
            (key.endswith(form, autoescape=True), func.substr(key, 1, func.length(key) - len(form)))
            for form in _LEGAL_FORM_PINYIN
        ],
        else_=key,
    )
    pinyin = literal(" ") + without_form  # a space before every syllable, the first one too
    return or_(in_text, *[pinyin.contains(reading, autoescape=True) for reading in readings])


def _latest(session: Session) -> tuple[datetime | None, int | None]:
    # Two statements: each max() alone is answered from its index; together they scan.
    latest = session.scalar(select(func.max(Customer.updated_at)))
    max_id = session.scalar(select(func.max(Customer.id)))
    return latest, max_id


def _row_count(session: Session) -> int:
    # SQLite counts a table from its b-tree without reading rows (0.1 ms at 100,000);
    # PostgreSQL scans its smallest index (a few ms).
    return int(session.scalar(select(func.count()).select_from(Customer)) or 0)


_FIRST = itemgetter(0)
_SECOND = itemgetter(1)
_THIRD = itemgetter(2)


def _ascii(text: str) -> str:
    """The text with "?" for each character beyond ASCII (rare in sort keys): same positions,
    and an ASCII string takes a byte a character and is scanned fastest."""
    return text if text.isascii() else text.encode("ascii", "replace").decode("ascii")


def _starts_of(records: Sequence[str], separator: int) -> list[int]:
    """Where each record starts in the records joined with ``separator`` characters between."""
    # All in C (map, operator, accumulate): this runs on every rebuild, over every record.
    starts = list(accumulate(map(add, map(len, records), repeat(separator)), initial=0))
    starts.pop()  # where a record after the last would start
    return starts


class _Place:
    """Records laid end to end in name order (the search text, the pinyin or the initials)
    and what to look for in them: a substring, or a pattern."""

    __slots__ = ("blob", "pattern", "starts")

    def __init__(self, blob: str, starts: list[int], pattern: str | re.Pattern[str]) -> None:
        self.blob = blob
        self.starts = starts
        self.pattern = pattern

    def hits(self, first: int, stop: int, found: set[int]) -> None:
        """Add to ``found`` the records from ``first`` up to ``stop`` that hold the pattern."""
        blob, starts, pattern = self.blob, self.starts, self.pattern
        end = starts[stop] if stop < len(starts) else len(blob)
        if isinstance(pattern, str):
            position = blob.find(pattern, starts[first], end)
            while position != -1:
                index = bisect.bisect_right(starts, position, first, stop) - 1
                found.add(index)
                if index + 1 >= stop:
                    return
                position = blob.find(pattern, starts[index + 1], end)
        else:
            for match in pattern.finditer(blob, starts[first], end):
                found.add(bisect.bisect_right(starts, match.start(), first, stop) - 1)


class SearchIndex:
    """In-memory search text of every live customer, in name order, kept fresh."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._entries: dict[int, tuple[str, str]] = {}  # id → (sort key, search text)
        # Merged-away customers: id → (the customer it was merged into, sort key, search text).
        self._tombstones: dict[int, tuple[int, str, str]] = {}
        self._archived: set[int] = set()  # not searched, but rows the count includes
        self._texts: list[str] = []  # in name order: each record's text and its tombstones'
        self._blob = ""
        self._starts: list[int] = []
        self._ids: list[int] = []  # in name order, like the blob
        # The names' pinyin (" zhang wei") and their initials ("zw"), record by record
        # in the same order as the blob: ASCII text, so scanning it is cheap.
        self._pinyin_blob = ""
        self._pinyin_starts: list[int] = []
        self._initials_blob = ""
        self._initials_starts: list[int] = []
        # The last search's matches so far, and whether they are all: (terms, from the end).
        self._last_scan: tuple[tuple[tuple[str, ...], bool], list[int], bool] | None = None
        self._dirty = True
        self._seen_updated_at: datetime | None = None
        self._seen_max_id = 0
        self._loaded_at = 0.0
        self._checked_at = 0.0

    # -- keeping it fresh -------------------------------------------------------------
    def invalidate(self) -> None:
        """Force a full reload on the next search."""
        with self._lock:
            self._loaded_at = 0.0

    def touch(self) -> None:
        """Look at the database again on the next search (after this desktop saved)."""
        with self._lock:
            self._checked_at = 0.0

    def _known_rows(self) -> int:
        return len(self._entries) + len(self._tombstones) + len(self._archived)

    def refresh(self, session: Session) -> None:
        """Pick up customers created, changed, archived, merged or removed since the last look."""
        with self._lock:
            now = time.monotonic()
            if self._loaded_at == 0.0 or now - self._loaded_at > FULL_RELOAD_EVERY_S:
                self._full_load(session)
                self._checked_at = now
                return
            if now - self._checked_at < RECHECK_AFTER_S:
                return
            self._checked_at = now
            latest, max_id = _latest(session)
            if latest != self._seen_updated_at or (max_id or 0) != self._seen_max_id:
                self._read_changes(session, latest, max_id or 0)
            if _row_count(session) != self._known_rows():
                # Rows went without a trace (removed outright), or a change was committed
                # after a later one was seen: only reading everything again is sure.
                self._full_load(session)

    def _read_changes(self, session: Session, latest: datetime | None, max_id: int) -> None:
        since = self._seen_updated_at
        stmt = select(
            Customer.id,
            Customer.sort_key,
            Customer.search_text,
            Customer.archived_at,
            Customer.merged_into_id,
        )
        if since is not None:
            stmt = stmt.where((Customer.updated_at >= since) | (Customer.id > self._seen_max_id))
        for cid, sort_key, text, archived_at, merged_into in session.execute(stmt):
            self._entries.pop(cid, None)
            self._tombstones.pop(cid, None)
            self._archived.discard(cid)
            if merged_into is not None:
                self._tombstones[cid] = (merged_into, sort_key or "", text or "")
            elif archived_at is not None:
                self._archived.add(cid)
            else:
                self._entries[cid] = (sort_key or "", text or "")
        self._seen_updated_at = latest
        self._seen_max_id = max_id
        self._dirty = True

    def _full_load(self, session: Session) -> None:
        latest, max_id = _latest(session)
        rows = session.execute(
            select(Customer.id, Customer.sort_key, Customer.search_text).where(
                Customer.archived_at.is_(None), Customer.merged_into_id.is_(None)
            )
        )
        self._entries = {cid: (sort_key or "", text or "") for cid, sort_key, text in rows}
        merged = session.execute(
            select(
                Customer.id, Customer.merged_into_id, Customer.sort_key, Customer.search_text
            ).where(Customer.merged_into_id.is_not(None))
        )
        self._tombstones = {
            cid: (into, sort_key or "", text or "")
            for cid, into, sort_key, text in merged
            if into is not None
        }
        self._archived = set(
            session.scalars(
                select(Customer.id).where(
                    Customer.archived_at.is_not(None), Customer.merged_into_id.is_(None)
                )
            )
        )
        self._seen_updated_at = latest
        self._seen_max_id = max_id or 0
        self._loaded_at = time.monotonic()
        self._dirty = True

    def _survivor_of(self, customer_id: int) -> int | None:
        """The live customer a tombstone was (perhaps in steps) merged into."""
        seen: set[int] = set()
        while customer_id in self._tombstones and customer_id not in seen:
            seen.add(customer_id)
            customer_id = self._tombstones[customer_id][0]
        return customer_id if customer_id in self._entries else None

    def _rebuild(self) -> None:
        entries = self._entries
        # (sort key, id, text) tuples sort in name order without a Python key function, and
        # map/itemgetter take them apart in C: this runs after every change seen.
        rows = sorted(
            zip(map(_FIRST, entries.values()), entries, map(_SECOND, entries.values()), strict=True)
        )
        keys: list[str] = list(map(_FIRST, rows))
        ids: list[int] = list(map(_SECOND, rows))
        texts: list[str] = list(map(_THIRD, rows))
        for cid, (_into, key, text) in sorted(self._tombstones.items()):
            survivor = self._survivor_of(cid)
            if survivor is None:
                continue
            # The old name joins the survivor's record; newline-separated like the fields of
            # one record, so no match runs from one into the next.
            at = bisect.bisect_left(rows, (entries[survivor][0], survivor))
            if text:
                texts[at] += "\n" + text
            if key:
                keys[at] += "\n " + key
        self._blob = _RECORD_SEP.join(texts)
        self._texts = texts
        self._starts = _starts_of(texts, 1)
        self._ids = ids
        self._last_scan = None
        if not ids:
            self._pinyin_blob = self._initials_blob = ""
            self._pinyin_starts, self._initials_starts = [], []
            self._dirty = False
            return
        # Each record's pinyin starts with a space, so every syllable follows one; each ends
        # with the separator, so a legal form is dropped from the end of names all at once.
        pinyin = _ascii(" " + (_RECORD_SEP + " ").join(keys) + _RECORD_SEP)
        for form in _LEGAL_FORM_PINYIN:
            pinyin = pinyin.replace(form + _RECORD_SEP, _RECORD_SEP)
        records = pinyin.split(_RECORD_SEP)
        records.pop()  # after the last separator
        self._pinyin_blob = pinyin
        self._pinyin_starts = _starts_of(records, 1)
        # " Zhang Wei" keeps "ZW" once every lower-case letter and space is gone: done in C
        # over all names at once, rather than name by name.
        initials = (
            pinyin.encode("ascii").title().translate(None, _NOT_INITIALS).lower().decode("ascii")
        )
        self._initials_blob = initials
        initials_records = initials.split(_RECORD_SEP)
        initials_records.pop()  # after the last separator
        self._initials_starts = _starts_of(initials_records, 1)
        self._dirty = False

    def _ready(self) -> None:
        if self._dirty:
            self._rebuild()

    # -- searching --------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._entries)

    def _places(self, term: _Term) -> list[_Place]:
        """Where a term is looked for: the search text, and maybe the pinyin and initials."""
        places = [_Place(self._blob, self._starts, term.text)]
        if term.pinyin is not None:
            places.append(_Place(self._pinyin_blob, self._pinyin_starts, term.pinyin))
        if term.initials is not None:
            places.append(_Place(self._initials_blob, self._initials_starts, term.initials))
        return places

    @staticmethod
    def _record(blob: str, starts: list[int], index: int) -> str:
        end = starts[index + 1] - 1 if index + 1 < len(starts) else len(blob)
        return blob[starts[index] : end]

    def _holds(self, term: _Term, index: int) -> bool:
        """Whether the record at ``index`` (in name order) matches the term."""
        if term.text in self._texts[index]:
            return True
        if term.pinyin is not None:
            pinyin = self._record(self._pinyin_blob, self._pinyin_starts, index)
            if term.pinyin.search(pinyin):
                return True
        if term.initials is not None:
            initials = self._record(self._initials_blob, self._initials_starts, index)
            return term.initials in initials
        return False

    def _hits(self, term: _Term, reverse: bool, start: int) -> Iterator[int]:
        """Positions of the records that hold the term, from ``start`` on in name order (or
        back from it), once each."""
        places = self._places(term)
        count = len(self._ids)
        if len(places) == 1:  # most terms: one scan of the text, as fast as it goes
            blob, starts, text = self._blob, self._starts, term.text
            if not reverse:
                position = blob.find(text, starts[start]) if start < count else -1
                while position != -1:
                    index = bisect.bisect_right(starts, position) - 1
                    yield index
                    if index + 1 >= count:
                        return
                    position = blob.find(text, starts[index + 1])
            else:
                position = -1
                if start >= 0:
                    end = starts[start + 1] - 1 if start + 1 < count else len(blob)
                    position = blob.rfind(text, 0, end)
                while position != -1:
                    index = bisect.bisect_right(starts, position) - 1
                    yield index
                    if index == 0:
                        return
                    position = blob.rfind(text, 0, starts[index] - 1)
            return
        # Several places (the text, the pinyin, the initials): each is scanned a block of
        # records at a time, and the block's records found in any come out in order. Blocks
        # grow, so a page of a common term reads little and a rare term few blocks.
        size = 1024
        if not reverse:
            first = start
            while first < count:
                stop = min(first + size, count)
                found: set[int] = set()
                for place in places:
                    place.hits(first, stop, found)
                yield from sorted(found)
                first, size = stop, min(size * 2, 16384)
        else:
            stop = start + 1
            while stop > 0:
                first = max(stop - size, 0)
                found = set()
                for place in places:
                    place.hits(first, stop, found)
                yield from sorted(found, reverse=True)
                stop, size = first, min(size * 2, 16384)

    def _scan(self, terms: Sequence[str], limit: int | None, reverse: bool = False) -> list[int]:
        """Record positions (in name order) that contain every term; stops at ``limit``.

        The list asks for a page and then the count of the same search: the count goes on
        from where the page stopped, and a page that found every match answers the count.
        """
        asked = (tuple(terms), reverse)
        if self._last_scan is not None and self._last_scan[0] == asked:
            _asked, found, complete = self._last_scan
        else:
            found, complete = [], False
        if not complete and (limit is None or len(found) < limit):
            wanted = [_term(t) for t in terms]
            # Looked for first: the longest term (the rarest, found fastest), then the one
            # with fewest places to look in; the others are checked on the records it finds.
            lead = min(range(len(wanted)), key=lambda i: (-len(wanted[i].text), wanted[i].places))
            rest = wanted[:lead] + wanted[lead + 1 :]
            if found:
                start = found[-1] - 1 if reverse else found[-1] + 1
            else:
                start = len(self._ids) - 1 if reverse else 0
            complete = True
            for index in self._hits(wanted[lead], reverse, start):
                if not rest or all(self._holds(term, index) for term in rest):
                    found.append(index)
                    if limit is not None and len(found) >= limit:
                        complete = False
                        break
            self._last_scan = (asked, found, complete)
        return found if limit is None else found[:limit]

    def page_ids(
        self, terms: Sequence[str], offset: int, limit: int, *, descending: bool = False
    ) -> list[int]:
        """Ids of one page of matches in name order (``sort_key``, then id)."""
        with self._lock:
            self._ready()
            if not terms:
                ordered = self._ids[::-1] if descending else self._ids
                return ordered[offset : offset + limit]
            positions = self._scan(terms, offset + limit, reverse=descending)
            return [self._ids[i] for i in positions[offset:]]

    def count(self, terms: Sequence[str], cap: int | None = None) -> tuple[int, bool]:
        """How many customers match, and whether that is exact (False: at least ``cap``)."""
        with self._lock:
            self._ready()
            if not terms:
                return len(self._ids), True
            found = self._scan(terms, cap)
            return len(found), cap is None or len(found) < cap

    def matching_ids(self, terms: Sequence[str], limit: int | None = None) -> list[int] | None:
        """Ids (ascending) of every match; None when there are more than ``limit``."""
        with self._lock:
            self._ready()
            if not terms:
                ids = sorted(self._ids)
            else:
                found = self._scan(terms, None if limit is None else limit + 1)
                ids = sorted(self._ids[i] for i in found)
            if limit is not None and len(ids) > limit:
                return None
            return ids

    def position(
        self, terms: Sequence[str], customer_id: int, *, descending: bool = False
    ) -> int | None:
        """Where a customer stands among the matches in name order; None if it does not match."""
        with self._lock:
            self._ready()
            if customer_id not in self._entries:
                return None
            found = self._scan(terms, None, reverse=descending) if terms else range(len(self._ids))
            for rank, index in enumerate(found):
                if self._ids[index] == customer_id:
                    return rank
            return None
