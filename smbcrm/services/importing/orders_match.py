"""Who bought an order: the buyer as the order file describes it, and finding that customer.

An order is linked to its customer in order of trust: the source system's customer code
(external id), then an exact phone or e-mail, then the same normalized name — with the
city, when both the order and the customer give one, agreeing. A name several customers
share is ambiguous and left for a person. Merged-away customers resolve to their survivor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smbcrm.models import LinkRoute
from smbcrm.models.keys import (
    DEFAULT_REGION,
    fold_text,
    format_phone,
    normalize_key_text,
    normalize_name,
)
from smbcrm.services.importing.book import BookIndex

# Which routes count as automatic links, in the order they are tried and reported.
AUTO_ROUTES = (LinkRoute.CODE, LinkRoute.PHONE, LinkRoute.EMAIL, LinkRoute.NAME)
ROUTE_LABELS = {
    LinkRoute.CODE: "code",
    LinkRoute.PHONE: "phone",
    LinkRoute.EMAIL: "e-mail",
    LinkRoute.NAME: "name",
    LinkRoute.MANUAL: "by hand",
    LinkRoute.CREATED: "new customer",
}


def city_key(city: str | None) -> str | None:
    """Cities compare without the 市 people sometimes write: 深圳 and 深圳市 agree."""
    folded = fold_text(city)
    if not folded:
        return None
    return folded[:-1] if len(folded) > 1 and folded.endswith("市") else folded


@dataclass(slots=True)
class Buyer:
    """Everything an order row says about its buyer, kept with the order for review."""

    code: str | None = None  # the source system's customer code
    smbcrm_id: int | None = None  # smbcrm's own customer ID, as its exports write it
    name: str | None = None
    city: str | None = None
    phones: list[tuple[str, str]] = field(default_factory=list)  # (as written, E.164)
    emails: list[tuple[str, str]] = field(default_factory=list)  # (as written, key)

    @property
    def is_empty(self) -> bool:
        return not (self.code or self.smbcrm_id or self.name or self.phones or self.emails)

    @property
    def reference(self) -> str | None:
        """The buyer as the source system gave it, shortest trustworthy form first."""
        if self.code:
            return self.code
        if self.name:
            return self.name
        if self.phones:
            return self.phones[0][0]
        if self.emails:
            return self.emails[0][0]
        return str(self.smbcrm_id) if self.smbcrm_id else None

    def add_from(self, other: Buyer) -> None:
        """Fill what this row left empty from another row of the same order."""
        self.code = self.code or other.code
        self.smbcrm_id = self.smbcrm_id or other.smbcrm_id
        self.name = self.name or other.name
        self.city = self.city or other.city
        for phone in other.phones:
            if phone[1] not in {k for _r, k in self.phones}:
                self.phones.append(phone)
        for mail in other.emails:
            if mail[1] not in {k for _r, k in self.emails}:
                self.emails.append(mail)

    def to_json(self, why_unmatched: str | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.code:
            data["code"] = self.code
        if self.smbcrm_id:
            data["smbcrm_id"] = self.smbcrm_id
        if self.name:
            data["name"] = self.name
        if self.city:
            data["city"] = self.city
        if self.phones:
            data["phones"] = [raw for raw, _k in self.phones]
            data["phone_keys"] = [key for _r, key in self.phones]
        if self.emails:
            data["emails"] = [raw for raw, _k in self.emails]
            data["email_keys"] = [key for _r, key in self.emails]
        if why_unmatched:
            data["why_unmatched"] = why_unmatched
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Buyer:
        data = data or {}
        phones = list(data.get("phones") or [])
        phone_keys = list(data.get("phone_keys") or [])
        emails = list(data.get("emails") or [])
        email_keys = list(data.get("email_keys") or [])
        smbcrm_id = data.get("smbcrm_id")
        return cls(
            code=data.get("code") or None,
            smbcrm_id=int(smbcrm_id) if smbcrm_id else None,
            name=data.get("name") or None,
            city=data.get("city") or None,
            phones=list(zip(phones, phone_keys, strict=False)),
            emails=list(zip(emails, email_keys, strict=False)),
        )

    def group_key(self, source_system: str) -> str:
        """Orders with the same key came from the same buyer (for the review list)."""
        if self.code:
            return f"code:{source_system}:{normalize_key_text(self.code)}"
        if self.emails:
            return f"email:{self.emails[0][1]}"
        if self.phones:
            return f"phone:{self.phones[0][1]}"
        if self.name:
            return f"name:{normalize_name(self.name)}:{city_key(self.city) or ''}"
        return f"id:{self.smbcrm_id or ''}"

    def describe(self, region: str = DEFAULT_REGION) -> str:
        """'code K-001 · 138 0013 8000 · li@x.cn · 深圳' — what identifies the buyer."""
        parts = [f"code {self.code}"] if self.code else []
        parts += [
            format_phone(key, region) if key.startswith("+") else raw for raw, key in self.phones
        ]
        parts += [raw for raw, _k in self.emails]
        if self.city:
            parts.append(self.city)
        return " · ".join(parts)


@dataclass(frozen=True, slots=True)
class Link:
    """The customer an order goes to, or why none was chosen."""

    customer_id: int | None
    route: LinkRoute | None
    reason: str


class BuyerMatcher:
    """Finds a buyer's customer in a loaded book, with the reason in words."""

    def __init__(self, book: BookIndex, region: str = DEFAULT_REGION) -> None:
        self.book = book
        self.region = region
        # The name route needs each customer's city in the same form as the order's.
        self._name_city: dict[int, str | None] = {}

    def _live(self, ids: set[int]) -> set[int]:
        """Customers not archived, when there are any: an archived one is a last resort."""
        live = {cid for cid in ids if not self.book.customers[cid].archived}
        return live or ids

    def _customer_city(self, customer_id: int) -> str | None:
        if customer_id not in self._name_city:
            city = self.book.customers[customer_id].city
            self._name_city[customer_id] = city_key(city) if city else None
        return self._name_city[customer_id]

    def match(self, buyer: Buyer, source_system: str) -> Link:
        book = self.book
        notes: list[str] = []
        if buyer.smbcrm_id is not None:
            found = book.resolve(buyer.smbcrm_id)
            if found in book.customers:
                return Link(found, LinkRoute.CODE, f"smbcrm ID {buyer.smbcrm_id}")
            notes.append(f"no customer has smbcrm ID {buyer.smbcrm_id}")
        if buyer.code:
            found_id = book.by_external.get((source_system, normalize_key_text(buyer.code)))
            if found_id is not None:
                found_id = book.resolve(found_id)
                if found_id in book.customers:
                    return Link(found_id, LinkRoute.CODE, f"customer code {buyer.code}")
            notes.append(f"no customer has {source_system} code {buyer.code}")
        for raw, key in buyer.phones:
            shown = format_phone(key, self.region) if key.startswith("+") else raw
            ids = self._live(set(book.by_phone.get(key)))
            if len(ids) == 1:
                return Link(next(iter(ids)), LinkRoute.PHONE, f"phone {shown}")
            notes.append(
                f"{len(ids)} customers have the phone {shown}"
                if ids
                else f"no customer has the phone {shown}"
            )
        for raw, key in buyer.emails:
            ids = self._live(set(book.by_email.get(key)))
            if len(ids) == 1:
                return Link(next(iter(ids)), LinkRoute.EMAIL, f"e-mail {raw}")
            notes.append(
                f"{len(ids)} customers have the e-mail {raw}"
                if ids
                else f"no customer has the e-mail {raw}"
            )
        if buyer.name:
            name_key = normalize_name(buyer.name)
            named = set(book.by_name.get(name_key)) if name_key else set()
            wanted_city = city_key(buyer.city)
            same = {
                cid
                for cid in named
                if wanted_city is None
                or self._customer_city(cid) is None
                or self._customer_city(cid) == wanted_city
            }
            same = self._live(same) if same else same
            where = f" in {buyer.city}" if wanted_city else ""
            if len(same) == 1:
                return Link(next(iter(same)), LinkRoute.NAME, f"name{where}")
            if len(same) > 1:
                notes.append(f"{len(same)} customers are called {buyer.name}{where}")
            elif named:
                cities = sorted({str(book.customers[cid].city or "") for cid in named} - {""})
                notes.append(
                    f"a customer called {buyer.name} is in {', '.join(cities)}, "
                    f"the order says {buyer.city}"
                )
            else:
                notes.append(f"no customer is called {buyer.name}")
        if buyer.is_empty:
            return Link(None, None, "the order does not say who the customer is")
        return Link(None, None, "; ".join(notes))


def buyer_fits(
    buyer: Buyer,
    source_system: str,
    *,
    codes: set[tuple[str, str]],
    phones: set[str],
    emails: set[str],
    name_key: str,
    city: str | None,
) -> bool:
    """Whether an order's buyer is the one customer described by these keys.

    Used when a customer is made from one unmatched order, to take the other orders of
    the same buyer along: same code, phone or e-mail, or the same name in an agreeing city.
    """
    if buyer.code:
        if (source_system, normalize_key_text(buyer.code)) in codes:
            return True
        if any(system == source_system for system, _k in codes):
            return False  # the source system gives this buyer another code: someone else
    if any(key in phones for _r, key in buyer.phones):
        return True
    if any(key in emails for _r, key in buyer.emails):
        return True
    if buyer.name and name_key and normalize_name(buyer.name) == name_key:
        theirs = city_key(buyer.city)
        return theirs is None or city is None or theirs == city
    return False
