"""Large synthetic books for benchmarks: 100,000 customers in seconds.

Rows are written with plain ``sqlite3.executemany`` into a schema made by smbcrm's own
migrations; every derived column (match keys, sort key, search text) is computed with the
same functions the ORM hook uses, so the data is exactly what smbcrm itself would store.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from smbcrm.models.keys import (
    build_search_text,
    fold_text,
    normalize_email,
    normalize_name,
    normalize_phone,
    pinyin_sort_key,
)
from smbcrm.services import auth
from smbcrm.services.database import open_database

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰涛明超兰霞平刚桂英华建国志红"
CITIES = [
    "上海",
    "北京",
    "深圳",
    "广州",
    "杭州",
    "成都",
    "武汉",
    "南京",
    "苏州",
    "重庆",
    "厦门",
    "青岛",
    "Singapore",
    "Hamburg",
    "London",
]
TRADE = [
    "电子",
    "科技",
    "贸易",
    "茶业",
    "机械",
    "五金",
    "建材",
    "服装",
    "食品",
    "物流",
    "化工",
    "包装",
]
BRAND = "华强绿源金达宏远新世鑫盛泰和鼎丰恒通聚宝天成永安瑞祥博雅东方信达"
LATIN = [
    "Harbor",
    "Lights",
    "Nordwind",
    "Blue",
    "Ocean",
    "Star",
    "Metal",
    "Green",
    "Pacific",
    "Summit",
    "River",
    "Golden",
    "Bright",
    "Delta",
    "Crown",
    "Silver",
]
LATIN_TRADE = ["Trading", "Foods", "Logistics", "Electronics", "Textiles", "Machinery"]
LATIN_FORMS = ["Co., Ltd.", "Ltd", "GmbH", "Inc.", "LLC", "Pte Ltd"]


def _name(rng: random.Random) -> tuple[str, str]:
    roll = rng.random()
    if roll < 0.55:
        brand = "".join(rng.choice(BRAND) for _ in range(2))
        return f"{rng.choice(CITIES[:11])}市{brand}{rng.choice(TRADE)}有限公司", "company"
    if roll < 0.85:
        words = " ".join(rng.sample(LATIN, 2))
        return f"{words} {rng.choice(LATIN_TRADE)} {rng.choice(LATIN_FORMS)}", "company"
    return rng.choice(SURNAMES) + "".join(
        rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))
    ), "person"


def build_book(
    path: Path, customers: int = 100_000, seed: int = 7, *, code_system: str | None = None
) -> Path:
    """Create (or reuse) a migrated SQLite book with ``customers`` customers.

    With ``code_system``, customer N also has the external id ``C{N:06d}`` in that system,
    as if an earlier import of the accounting system's list had created it.
    """
    if path.exists():
        with sqlite3.connect(path) as existing:
            try:
                count = existing.execute("SELECT count(*) FROM customers").fetchone()[0]
            except sqlite3.Error:
                count = -1
        if count == customers:
            open_database(path).dispose()  # brings a book from an older run up to date
            return path
        path.unlink()
    db = open_database(path)
    owner = auth.create_company(db, "Bench Trading", "boss", "Boss", "bench-password")
    db.dispose()
    rng = random.Random(seed)
    now = datetime(2026, 11, 1)
    customer_rows = []
    point_rows = []
    contact_rows = []
    for cid in range(1, customers + 1):
        name, kind = _name(rng)
        city = rng.choice(CITIES)
        contact = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(2))
        mobile = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        phone_key = normalize_phone(mobile, "CN")
        email = f"user{cid}@{rng.choice(['example.com', 'mail.cn', 'corp.sg'])}"
        email_key = normalize_email(email)
        updated = now - timedelta(minutes=cid)
        search = build_search_text(
            name,
            contact_names=[contact],
            phone_keys=[phone_key] if phone_key else [],
            emails=[email_key] if email_key else [],
            other_ids=[email_key or "", f"C{cid:06d}"] if code_system else [email_key or ""],
            places=[city],
        )
        customer_rows.append(
            (
                cid,
                kind,
                name,
                rng.choice(["active", "active", "prospect", "lapsed"]),
                owner.id if rng.random() < 0.9 else None,
                "{}",
                1,
                normalize_name(name),
                pinyin_sort_key(name)[:600],
                fold_text(city),
                city,
                phone_key,
                email_key,
                contact,
                search,
                updated,
                updated,
            )
        )
        contact_rows.append((cid, cid, contact, normalize_name(contact), 1, updated, updated))
        point_rows.append((cid, cid, "mobile", mobile, phone_key, 1, updated))
        point_rows.append((cid, None, "email", email, email_key, 0, updated))
    with sqlite3.connect(path) as connection:
        connection.executemany(
            "INSERT INTO customers (id, kind, name, status, owner_id, custom_fields, version,"
            " name_key, sort_key, city_key, city, primary_phone, primary_email, primary_contact,"
            " search_text, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            customer_rows,
        )
        connection.executemany(
            "INSERT INTO contacts (id, customer_id, name, name_key, is_primary, created_at,"
            " updated_at) VALUES (?,?,?,?,?,?,?)",
            contact_rows,
        )
        connection.executemany(
            "INSERT INTO contact_points (customer_id, contact_id, kind, value, key, is_primary,"
            " created_at) VALUES (?,?,?,?,?,?,?)",
            point_rows,
        )
        if code_system:
            connection.executemany(
                "INSERT INTO external_ids (customer_id, system, key, key_norm, created_at)"
                " VALUES (?,?,?,?,?)",
                [
                    (cid, code_system, f"C{cid:06d}", f"c{cid:06d}", now)
                    for cid in range(1, customers + 1)
                ],
            )
        connection.commit()
        connection.execute("ANALYZE")
        connection.commit()
    with sqlite3.connect(path, isolation_level=None) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path
