"""The customers export: one row per live customer, shaped to be edited and re-imported.

Its ``ID`` column is smbcrm's own customer id; with ``Name`` and ``External IDs`` beside it
the importer recognises the sheet and updates exactly those customers. Values are written
as the importer reads them back (status words, owner's full name, tier letter), so an
unedited sheet re-imports as "unchanged". Rows are read in id chunks: memory stays flat.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from smbcrm.models import (
    ContactPoint,
    ContactPointKind,
    Customer,
    CustomerKind,
    CustomerStatus,
    ExternalId,
    Order,
    Tag,
    User,
    counts_as_sale,
    customer_tags,
)
from smbcrm.models.db import as_date
from smbcrm.models.keys import format_phone
from smbcrm.services.currencies import ExchangeRates, load_rates
from smbcrm.services.export.workbook import Column, ColumnKind, Row, Sheet, as_excel_date

CHUNK = 2000

STATUS_WORDS = {
    "en": {
        CustomerStatus.PROSPECT: "Prospect",
        CustomerStatus.ACTIVE: "Active",
        CustomerStatus.LAPSED: "Lapsed",
    },
    "zh": {
        CustomerStatus.PROSPECT: "潜在",
        CustomerStatus.ACTIVE: "成交",
        CustomerStatus.LAPSED: "流失",
    },
}
KIND_WORDS = {
    "en": {CustomerKind.COMPANY: "Company", CustomerKind.PERSON: "Person"},
    "zh": {CustomerKind.COMPANY: "公司", CustomerKind.PERSON: "个人"},
}

COLUMNS = [
    # "smbcrm编号" is itself a header the importer maps to the smbcrm ID, whatever the others.
    Column("ID", "smbcrm编号", ColumnKind.INTEGER),
    Column("Name", "客户名称"),
    Column("Kind", "类型"),
    Column("Status", "状态"),
    Column("Tier", "等级"),
    Column("Owner", "负责销售"),
    Column("Contact", "联系人"),
    Column("Phone", "电话"),
    Column("Email", "邮箱"),
    Column("City", "城市"),
    Column("Province", "省份"),
    Column("Address", "地址"),
    Column("Source", "来源"),
    Column("Tags", "标签"),
    Column("External IDs", "外部编号"),
    Column("Orders", "订单数", ColumnKind.INTEGER, total=True),
    Column("Revenue", "销售额", ColumnKind.MONEY, total=True),
    Column("Last order", "最近下单", ColumnKind.DATE),
    Column("Created", "创建日期", ColumnKind.DATE),
]

_PHONES = (ContactPointKind.MOBILE, ContactPointKind.PHONE)


def _live() -> ColumnElement[bool]:
    return and_(Customer.archived_at.is_(None), Customer.merged_into_id.is_(None))


def count_customers(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Customer).where(_live())) or 0)


def _rows(session: Session, language: str, region: str, rates: ExchangeRates) -> Iterator[Row]:
    statuses = STATUS_WORDS[language]
    kinds = KIND_WORDS[language]
    owners = dict(session.execute(select(User.id, User.full_name)).all())
    after = 0
    while True:
        chunk = session.execute(
            select(
                Customer.id,
                Customer.name,
                Customer.kind,
                Customer.status,
                Customer.tier,
                Customer.owner_id,
                Customer.primary_contact,
                Customer.city,
                Customer.province,
                Customer.address,
                Customer.source,
                Customer.created_at,
            )
            .where(_live(), Customer.id > after)
            .order_by(Customer.id)
            .limit(CHUNK)
        ).all()
        if not chunk:
            return
        lo, hi = chunk[0][0], chunk[-1][0]
        after = hi
        phones: dict[int, list[str]] = defaultdict(list)
        emails: dict[int, list[str]] = defaultdict(list)
        for cid, point_kind, value, key in session.execute(
            select(
                ContactPoint.customer_id, ContactPoint.kind, ContactPoint.value, ContactPoint.key
            )
            .where(ContactPoint.customer_id.between(lo, hi))
            .order_by(ContactPoint.customer_id, ContactPoint.is_primary.desc(), ContactPoint.id)
        ):
            if point_kind in _PHONES:
                shown = format_phone(key, region) if key else value
                if shown not in phones[cid]:
                    phones[cid].append(shown)
            elif point_kind == ContactPointKind.EMAIL and value not in emails[cid]:
                emails[cid].append(value)
        externals: dict[int, list[str]] = defaultdict(list)
        for cid, system, key in session.execute(
            select(ExternalId.customer_id, ExternalId.system, ExternalId.key)
            .where(ExternalId.customer_id.between(lo, hi))
            .order_by(ExternalId.customer_id, ExternalId.id)
        ):
            externals[cid].append(f"{system}:{key}")
        tags: dict[int, list[str]] = defaultdict(list)
        for cid, tag in session.execute(
            select(customer_tags.c.customer_id, Tag.name)
            .join(Tag, Tag.id == customer_tags.c.tag_id)
            .where(customer_tags.c.customer_id.between(lo, hi))
            .order_by(customer_tags.c.customer_id, Tag.name)
        ):
            tags[cid].append(tag)
        stats: dict[int, tuple[int, float, date | None]] = {}
        for cid, count, revenue, last in session.execute(
            select(
                Order.customer_id,
                func.count(Order.id),
                func.sum(rates.in_home()),
                func.max(Order.order_date),
            )
            .where(Order.customer_id.between(lo, hi), counts_as_sale())
            .group_by(Order.customer_id)
        ):
            stats[cid] = (int(count), round(float(revenue or 0), 2), as_date(last))
        for (
            cid,
            name,
            kind,
            status,
            tier,
            owner_id,
            contact,
            city,
            province,
            address,
            source,
            created,
        ) in chunk:
            count, revenue, last = stats.get(cid, (0, 0.0, None))
            yield (
                cid,
                name,
                kinds.get(kind, str(kind)) if kind else None,
                statuses.get(status, str(status)),
                str(tier) if tier else None,
                owners.get(owner_id) if owner_id else None,
                contact,
                "; ".join(phones.get(cid, ())) or None,
                "; ".join(emails.get(cid, ())) or None,
                city,
                province,
                address,
                source,
                ", ".join(tags.get(cid, ())) or None,
                "; ".join(externals.get(cid, ())) or None,
                count,
                revenue,
                last,
                as_excel_date(created),
            )


def customers_sheet(session: Session, *, language: str, region: str) -> Sheet:
    """Revenue is in the company's home currency (sales in other currencies converted)."""
    rates = load_rates(session)
    return Sheet(
        name="客户" if language == "zh" else "Customers",
        columns=COLUMNS,
        rows=_rows(session, language, region, rates),
        expected_rows=count_customers(session),
        language=language,
        main_currency=rates.home,
    )
