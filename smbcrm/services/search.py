"""Find customers as you type: substring search over name, contacts, phones, e-mails, city.

A plain ``LIKE '%…%'`` cannot use an index, and a 2-character Chinese name is too short for
trigram indexes, so every keystroke would scan the customers table (~250 ms at 100,000
customers). Instead each desktop keeps the folded search text of every live customer in
memory (≈10 MB per 100,000), laid end to end in name order, and scans it with ``str.find``
(C speed). Because the text is in name order, the first page of matches sorted by name is
simply the first matches found: a term that matches half the book answers as fast as one
that matches nobody. The copy is refreshed incrementally from ``updated_at``, so edits made
on other desktops of a team database show up too.

A merged-away customer (a tombstone) is still found by its old name: its search text is
added to the record of the customer it was merged into, so searching the old name finds
the survivor, once.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smbcrm.models import Customer
from smbcrm.models.keys import DEFAULT_REGION, fold_text, looks_like_phone_query, phone_query_digits

# Between records: a term can never match across two customers.
_RECORD_SEP = "\x1e"
FULL_RELOAD_EVERY_S = 300.0
# A page and its count asked for together need one look at the database, not two.
RECHECK_AFTER_S = 0.5


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


def _latest(session: Session) -> tuple[datetime | None, int | None]:
    # Two statements: each max() alone is answered from its index; together they scan.
    latest = session.scalar(select(func.max(Customer.updated_at)))
    max_id = session.scalar(select(func.max(Customer.id)))
    return latest, max_id


class SearchIndex:
    """In-memory search text of every live customer, in name order, kept fresh."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._entries: dict[int, tuple[str, str]] = {}  # id → (sort key, search text)
        # Merged-away customers: id → (the customer it was merged into, its search text).
        self._tombstones: dict[int, tuple[int, str]] = {}
        self._texts: dict[int, str] = {}  # id → what is searched: its text and its tombstones'
        self._blob = ""
        self._starts: list[int] = []
        self._ids: list[int] = []  # in name order, like the blob
        self._dirty = True
        self._seen_updated_at: datetime | None = None
        self._seen_max_id = 0
        self._loaded_at = 0.0
        self._checked_at = 0.0

    # -- keeping it fresh -------------------------------------------------------------
    def invalidate(self) -> None:
        """Force a full reload on the next search (after bulk work such as an undo)."""
        with self._lock:
            self._loaded_at = 0.0

    def touch(self) -> None:
        """Look at the database again on the next search (after this desktop saved)."""
        with self._lock:
            self._checked_at = 0.0

    def refresh(self, session: Session) -> None:
        """Pick up customers created, changed, archived or merged since the last look."""
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
            if latest == self._seen_updated_at and (max_id or 0) == self._seen_max_id:
                return
            since = self._seen_updated_at
            stmt = select(
                Customer.id,
                Customer.sort_key,
                Customer.search_text,
                Customer.archived_at,
                Customer.merged_into_id,
            )
            if since is not None:
                stmt = stmt.where(
                    (Customer.updated_at >= since) | (Customer.id > self._seen_max_id)
                )
            for cid, sort_key, text, archived_at, merged_into in session.execute(stmt):
                if merged_into is not None:
                    self._tombstones[cid] = (merged_into, text or "")
                else:
                    self._tombstones.pop(cid, None)
                if archived_at is None and merged_into is None:
                    self._entries[cid] = (sort_key or "", text or "")
                else:
                    self._entries.pop(cid, None)
            self._seen_updated_at = latest
            self._seen_max_id = max_id or 0
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
            select(Customer.id, Customer.merged_into_id, Customer.search_text).where(
                Customer.merged_into_id.is_not(None)
            )
        )
        self._tombstones = {
            cid: (into, text or "") for cid, into, text in merged if into is not None
        }
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
        texts = {cid: text for cid, (_key, text) in entries.items()}
        for cid, (_into, text) in sorted(self._tombstones.items()):
            survivor = self._survivor_of(cid)
            if survivor is not None and text:
                # Newline-separated like the fields of one record: no match across them.
                texts[survivor] += "\n" + text
        ids = sorted(entries, key=lambda cid: (entries[cid][0], cid))
        starts: list[int] = []
        parts: list[str] = []
        offset = 0
        for cid in ids:
            text = texts[cid]
            starts.append(offset)
            parts.append(text)
            offset += len(text) + 1
        self._blob = _RECORD_SEP.join(parts)
        self._texts = texts
        self._starts = starts
        self._ids = ids
        self._dirty = False

    def _ready(self) -> None:
        if self._dirty:
            self._rebuild()

    # -- searching --------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._entries)

    def _scan(self, terms: Sequence[str], limit: int | None, reverse: bool = False) -> list[int]:
        """Record positions (in name order) that contain every term; stops at ``limit``."""
        ordered = sorted(terms, key=len, reverse=True)  # longest: the rarest, found fastest
        first, rest = ordered[0], ordered[1:]
        blob, starts, ids, texts = self._blob, self._starts, self._ids, self._texts
        found: list[int] = []
        if not reverse:
            position = blob.find(first)
            while position != -1:
                index = bisect.bisect_right(starts, position) - 1
                if not rest or all(t in texts[ids[index]] for t in rest):
                    found.append(index)
                    if limit is not None and len(found) >= limit:
                        break
                if index + 1 >= len(starts):
                    break
                position = blob.find(first, starts[index + 1])
        else:
            position = blob.rfind(first)
            while position != -1:
                index = bisect.bisect_right(starts, position) - 1
                if not rest or all(t in texts[ids[index]] for t in rest):
                    found.append(index)
                    if limit is not None and len(found) >= limit:
                        break
                if index == 0:
                    break
                position = blob.rfind(first, 0, starts[index] - 1) if starts[index] else -1
        return found

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
