"""Derived customer columns computed from plain data, shared by ORM writes and bulk paths.

The ORM flush hook and the bulk import both call these, so a customer written either way
carries exactly the same match keys, list columns and search text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from smbcrm.models.enums import PHONE_KINDS, ContactPointKind
from smbcrm.models.keys import (
    build_search_text,
    fold_text,
    normalize_email,
    normalize_key_text,
    normalize_name,
    normalize_phone,
    pinyin_sort_key,
)


@dataclass(frozen=True, slots=True)
class PointData:
    kind: ContactPointKind
    value: str
    key: str | None
    is_primary: bool = False


@dataclass(frozen=True, slots=True)
class ContactData:
    name: str
    is_primary: bool = False


def point_key(kind: ContactPointKind, value: str, region: str) -> str | None:
    if kind.is_phone:
        return normalize_phone(value, region)
    if kind == ContactPointKind.EMAIL:
        return normalize_email(value)
    key = normalize_key_text(value)
    return key or None


def customer_keys(name: str, tax_id: str | None, city: str | None) -> dict[str, str | None]:
    return {
        "name_key": normalize_name(name),
        "sort_key": pinyin_sort_key(name)[:600],
        "tax_id_key": normalize_key_text(tax_id) or None,
        "city_key": fold_text(city) or None,
    }


def _first(points: list[PointData]) -> PointData | None:
    primary = [p for p in points if p.is_primary]
    chosen = primary or points
    return chosen[0] if chosen else None


def customer_list_columns(
    name: str,
    *,
    city: str | None,
    district: str | None,
    province: str | None,
    points: Sequence[PointData],
    contacts: Sequence[ContactData],
    external_keys: Sequence[str],
) -> dict[str, str | None]:
    keyed = [p for p in points if p.key]
    phones = [p for p in keyed if p.kind in PHONE_KINDS]
    emails = [p for p in keyed if p.kind == ContactPointKind.EMAIL]
    phone = _first(phones)
    email = _first(emails)
    main_contact = next((c for c in contacts if c.is_primary), contacts[0] if contacts else None)
    return {
        "primary_phone": phone.key if phone else None,
        "primary_email": email.key if email else None,
        "primary_contact": main_contact.name if main_contact else None,
        "search_text": build_search_text(
            name,
            contact_names=[c.name for c in contacts],
            phone_keys=[p.key for p in phones if p.key],
            emails=[p.key for p in emails if p.key],
            other_ids=[p.value for p in keyed if p.kind not in PHONE_KINDS] + list(external_keys),
            places=[city, district, province],
        ),
    }
