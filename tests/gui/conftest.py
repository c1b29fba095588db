"""GUI test fixtures: a signed-in window context on a fresh SQLite company, and bulk customers."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert

from smbcrm.models import Customer, CustomerKind, CustomerStatus, Database, Role, Tier
from smbcrm.models.keys import (
    build_search_text,
    fold_text,
    normalize_name,
    normalize_phone,
    pinyin_sort_key,
)
from smbcrm.services import auth
from smbcrm.ui.context import AppContext

OWNER_PASSWORD = "owner-secret-1"


@dataclass(frozen=True)
class BulkCustomer:
    name: str
    city: str | None = None
    phone: str | None = None
    status: CustomerStatus = CustomerStatus.ACTIVE
    tier: Tier | None = None
    owner_id: int | None = None


def bulk_insert_customers(
    db: Database, customers: list[BulkCustomer], *, region: str = "CN"
) -> None:
    """Thousands of customers in one Core ``executemany``, keys computed as the ORM would.

    (No contact points: the list columns and search text carry what the list needs.)
    """
    now = datetime(2026, 1, 1, 8, 0)
    rows = []
    for i, c in enumerate(customers):
        phone = normalize_phone(c.phone, region) if c.phone else None
        rows.append(
            {
                "kind": CustomerKind.COMPANY,
                "name": c.name,
                "status": c.status,
                "owner_id": c.owner_id,
                "tier": c.tier,
                "city": c.city,
                "city_key": fold_text(c.city) or None,
                "name_key": normalize_name(c.name),
                "sort_key": pinyin_sort_key(c.name),
                "primary_phone": phone,
                "search_text": build_search_text(
                    c.name, phone_keys=[phone] if phone else [], places=[c.city]
                ),
                "custom_fields": {},
                "version": 1,
                "created_at": now,
                "updated_at": now + timedelta(minutes=i),
            }
        )
    with db.session(audit=False) as session:
        session.execute(insert(Customer), rows)


@pytest.fixture
def gui_db(sqlite_db: Database) -> Database:
    """A SQLite company 'Acme Trading' whose owner is Wang Fang (login boss)."""
    auth.create_company(sqlite_db, "Acme Trading", "boss", "Wang Fang", OWNER_PASSWORD)
    return sqlite_db


def context_for(db: Database, login: str) -> AppContext:
    with db.new_session() as session:
        user = auth.find_user(session, login)
        return AppContext.for_user(db, user, "Acme Trading")


@pytest.fixture
def ctx(gui_db: Database) -> Iterator[AppContext]:
    """The owner, signed in."""
    yield context_for(gui_db, "boss")


def add_salesperson(db: Database, login: str, full_name: str, role: Role = Role.SALES) -> int:
    """A staff member (sales unless ``role`` says otherwise), added by the owner."""
    with db.session() as session:
        boss = auth.find_user(session, "boss")
        user = auth.add_staff(
            session, boss, login=login, full_name=full_name, role=role, password="pw-" + login
        )
        return user.id
