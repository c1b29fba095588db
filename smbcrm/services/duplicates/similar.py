"""Customers that look like the one being typed into the new-customer form.

Called as the user types (debounced), so it must answer in a few milliseconds at 100,000
customers: phones, e-mails, the tax number and the exact name are looked up through their
indexes; names with a typo or words in another order are found in an in-memory list of
every customer's name (built once, then refreshed from ``updated_at``) with rapidfuzz.
The customers found are judged exactly as a duplicate scan would judge them.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from smbcrm.models import ContactPoint, Customer, CustomerKind, User
from smbcrm.models.keys import DEFAULT_REGION, format_phone, normalize_name
from smbcrm.services.duplicates.records import (
    _PLACE_RE,
    draft_emails,
    draft_phones,
    draft_tax,
    load_records,
    make_record,
)
from smbcrm.services.duplicates.scoring import judge, shown_phone, weight_for
from smbcrm.services.duplicates.service import DEFAULT_THRESHOLD

# A warning while typing may be a little more forward than the review queue.
SIMILAR_THRESHOLD = DEFAULT_THRESHOLD - 10.0
NAME_CUTOFF = 70.0
NAME_CANDIDATES = 30
FULL_RELOAD_EVERY_S = 600.0


@dataclass(frozen=True)
class DraftIdentity:
    """What a person has typed into the new-customer form so far."""

    name: str = ""
    kind: CustomerKind = CustomerKind.COMPANY
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    city: str | None = None
    tax_id: str | None = None
    birthday: date | None = None
    address: str | None = None
    postcode: str | None = None
    region: str = "CN"


@dataclass(frozen=True)
class SimilarCustomer:
    id: int
    name: str
    score: float
    reasons: tuple[str, ...]
    city: str | None
    phone: str | None
    owner: str | None


def lookup_text(name_key: str) -> str:
    """A name as the in-memory list holds it: places left out, words in order."""
    text = _PLACE_RE.sub(" ", name_key) if name_key else ""
    words = text.split()
    return " ".join(sorted(words)) if words else name_key


class _NameList:
    """Every live customer's name, for finding names typed with a typo."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.texts: dict[int, str] = {}
        # The same names as two lists, which rapidfuzz scans faster than a dict.
        self.ids: list[int] = []
        self.choices: list[str] = []
        self.seen: tuple[datetime | None, int] | None = None
        self.loaded_at = 0.0

    def refresh(self, session: Session) -> None:
        # Both answered from an index. A customer deleted outright (an undone import) may
        # stay listed until the next full load: harmless, as only live ones are loaded.
        latest = session.scalar(select(func.max(Customer.updated_at)))
        max_id = session.scalar(select(func.max(Customer.id)))
        state = (latest, int(max_id or 0))
        if state == self.seen and time.monotonic() - self.loaded_at < FULL_RELOAD_EVERY_S:
            return
        if self.seen is None or time.monotonic() - self.loaded_at >= FULL_RELOAD_EVERY_S:
            self._load(session, None)
            self.loaded_at = time.monotonic()
        else:
            self._load(session, self.seen)
        self.seen = state
        self.ids = list(self.texts)
        self.choices = list(self.texts.values())

    def _load(self, session: Session, since: tuple[datetime | None, int] | None) -> None:
        statement = select(
            Customer.id, Customer.name_key, Customer.archived_at, Customer.merged_into_id
        )
        if since is None:
            self.texts = {}
        else:
            changed_since, max_id = since
            condition = Customer.id > max_id
            if changed_since is not None:
                condition = condition | (Customer.updated_at >= changed_since)
            statement = statement.where(condition)
        texts = self.texts
        for cid, name_key, archived_at, merged_into in session.execute(statement):
            if archived_at is not None or merged_into is not None or not name_key:
                texts.pop(cid, None)
            else:
                texts[cid] = lookup_text(name_key)

    def find(self, name_key: str) -> list[int]:
        query = lookup_text(name_key)
        if not query:
            return []
        found = process.extract(
            query,
            self.choices,
            scorer=fuzz.ratio,
            score_cutoff=NAME_CUTOFF,
            limit=NAME_CANDIDATES,
        )
        return [self.ids[index] for _text, _score, index in found]

    def count(self, name_key: str) -> int:
        query = lookup_text(name_key)
        return self.choices.count(query) if query else 0


_NAME_LISTS: weakref.WeakKeyDictionary[Engine, _NameList] = weakref.WeakKeyDictionary()
_LISTS_LOCK = threading.Lock()


def _name_list(session: Session) -> _NameList:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with _LISTS_LOCK:
        found = _NAME_LISTS.get(engine)
        if found is None:
            found = _NAME_LISTS[engine] = _NameList()
    return found


def similar_customers(
    session: Session,
    draft: DraftIdentity,
    *,
    limit: int = 5,
    exclude_id: int | None = None,
) -> list[SimilarCustomer]:
    """Existing customers the draft may be, most alike first (at most ``limit``)."""
    region = draft.region or str(session.info.get("default_region", DEFAULT_REGION))
    name_key = normalize_name(draft.name)
    phones = draft_phones(draft.phones, region)
    emails = draft_emails(draft.emails)
    tax = draft_tax(draft.tax_id)
    wanted: dict[int, None] = {}
    # A phone, e-mail or tax number already on file is worth a warning on its own, even
    # when the rest differs (a second customer at one number is what people should see).
    exact: dict[int, str] = {}
    keys = [*phones, *emails]
    if keys:
        for cid, key in session.execute(
            select(ContactPoint.customer_id, ContactPoint.key)
            .where(ContactPoint.key.in_(keys))
            .limit(200)
        ):
            wanted[cid] = None
            if key in emails:
                exact.setdefault(cid, f"same e-mail {key}")
            else:
                exact.setdefault(cid, f"same phone {shown_phone(key)}")
    if tax:
        for cid in session.scalars(select(Customer.id).where(Customer.tax_id_key == tax).limit(50)):
            wanted[cid] = None
            exact.setdefault(cid, f"same tax number {draft.tax_id}")
    name_count = 1
    if name_key:
        wanted.update(
            dict.fromkeys(
                session.scalars(select(Customer.id).where(Customer.name_key == name_key).limit(50))
            )
        )
        names = _name_list(session)
        with names.lock:
            names.refresh(session)
            wanted.update(dict.fromkeys(names.find(name_key)))
            if draft.kind == CustomerKind.PERSON:
                name_count = max(1, names.count(name_key) + 1)
    wanted.pop(exclude_id, None)  # type: ignore[arg-type]
    if not wanted:
        return []
    me = make_record(
        0,
        kind=CustomerKind(draft.kind).value,
        name=draft.name.strip(),
        key=name_key,
        phones=phones,
        emails=emails,
        tax=tax,
        birthday=draft.birthday,
        address=draft.address,
        postcode=draft.postcode,
        city=draft.city,
    )
    floor = weight_for(SIMILAR_THRESHOLD)
    scored = []
    on_file: list[tuple[str, Any]] = []
    for record in load_records(session.connection(), wanted):
        judgement = judge(me, record, name_count=name_count, floor=floor)
        if judgement is not None and judgement.weight >= floor:
            scored.append((judgement, record))
        elif record.id in exact:
            on_file.append((exact[record.id], record))
    scored.sort(key=lambda pair: (-pair[0].weight, pair[1].id))
    chosen = scored[:limit]
    extra = sorted(on_file, key=lambda pair: pair[1].id)[: max(0, limit - len(chosen))]
    if not chosen and not extra:
        return []
    # Alike by the scoring first, then those that only share a phone, e-mail or tax number.
    picked = [(j.score, j.all_reasons(), record) for j, record in chosen]
    picked += [(0.0, (reason,), record) for reason, record in extra]
    details = {
        row.id: row
        for row in session.execute(
            select(Customer.id, Customer.city, Customer.primary_phone, User.full_name)
            .outerjoin(User, User.id == Customer.owner_id)
            .where(Customer.id.in_([record.id for _s, _r, record in picked]))
        )
    }
    return [
        SimilarCustomer(
            id=record.id,
            name=record.name,
            score=score,
            reasons=reasons,
            city=details[record.id].city,
            phone=format_phone(details[record.id].primary_phone, region) or None,
            owner=details[record.id].full_name,
        )
        for score, reasons, record in picked
    ]
