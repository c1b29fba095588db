"""Find customers as you type: substring search over name, contacts, phones, e-mails, city.

A plain ``LIKE '%…%'`` cannot use an index, and a 2-character Chinese name is too short for
trigram indexes, so every keystroke would scan the customers table (~200 ms at 100,000
customers). Instead each desktop keeps the folded search text of every live customer in
memory (≈10 MB per 100,000) and scans that with ``str.find``; it is refreshed incrementally
from ``updated_at`` so edits made on other desktops of a team database show up too.
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

# Between these separators a term can never match across two customers.
_RECORD_SEP = "\x1e"
FULL_RELOAD_EVERY_S = 300.0


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


class SearchIndex:
    """In-memory search text of every live customer, kept fresh from the database."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._texts: dict[int, str] = {}
        self._blob = ""
        self._starts: list[int] = []
        self._ids: list[int] = []
        self._dirty = True
        self._seen_updated_at: datetime | None = None
        self._seen_max_id = 0
        self._loaded_at = 0.0

    # -- keeping it fresh -------------------------------------------------------------
    def invalidate(self) -> None:
        """Force a full reload on the next search (after bulk work such as an undo)."""
        with self._lock:
            self._loaded_at = 0.0

    def refresh(self, session: Session) -> None:
        """Pick up customers created, changed, archived or merged since the last look."""
        with self._lock:
            stale_for = time.monotonic() - self._loaded_at
            if self._loaded_at == 0.0 or stale_for > FULL_RELOAD_EVERY_S:
                self._full_load(session)
                return
            latest, max_id = session.execute(
                select(func.max(Customer.updated_at), func.max(Customer.id))
            ).one()
            if latest == self._seen_updated_at and (max_id or 0) == self._seen_max_id:
                return
            since = self._seen_updated_at
            stmt = select(
                Customer.id, Customer.search_text, Customer.archived_at, Customer.merged_into_id
            )
            if since is not None:
                stmt = stmt.where(
                    (Customer.updated_at >= since) | (Customer.id > self._seen_max_id)
                )
            for cid, text, archived_at, merged_into in session.execute(stmt):
                if archived_at is None and merged_into is None:
                    self._texts[cid] = text or ""
                else:
                    self._texts.pop(cid, None)
            self._seen_updated_at = latest
            self._seen_max_id = max_id or 0
            self._dirty = True

    def _full_load(self, session: Session) -> None:
        latest, max_id = session.execute(
            select(func.max(Customer.updated_at), func.max(Customer.id))
        ).one()
        rows = session.execute(
            select(Customer.id, Customer.search_text).where(
                Customer.archived_at.is_(None), Customer.merged_into_id.is_(None)
            )
        )
        self._texts = {cid: text or "" for cid, text in rows}
        self._seen_updated_at = latest
        self._seen_max_id = max_id or 0
        self._loaded_at = time.monotonic()
        self._dirty = True

    def _rebuild_blob(self) -> None:
        ids = sorted(self._texts)
        starts: list[int] = []
        parts: list[str] = []
        offset = 0
        for cid in ids:
            text = self._texts[cid]
            starts.append(offset)
            parts.append(text)
            offset += len(text) + 1
        self._blob = _RECORD_SEP.join(parts)
        self._starts = starts
        self._ids = ids
        self._dirty = False

    # -- searching --------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._texts)

    def matching_ids(self, terms: Sequence[str]) -> list[int]:
        """Ids (ascending) of customers whose search text contains every term."""
        with self._lock:
            if self._dirty:
                self._rebuild_blob()
            if not terms:
                return list(self._ids)
            # The rarest-looking (longest) term first narrows the candidates fastest.
            ordered = sorted(terms, key=len, reverse=True)
            found = self._scan(ordered[0])
            for term in ordered[1:]:
                if not found:
                    break
                found = [cid for cid in found if term in self._texts[cid]]
            return found

    def _scan(self, term: str) -> list[int]:
        blob, starts, ids = self._blob, self._starts, self._ids
        found: list[int] = []
        position = blob.find(term)
        while position != -1:
            index = bisect.bisect_right(starts, position) - 1
            found.append(ids[index])
            # Continue after this record: one hit per customer is enough.
            next_index = index + 1
            if next_index >= len(starts):
                break
            position = blob.find(term, starts[next_index])
        return found
