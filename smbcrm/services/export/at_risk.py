"""The at-risk list, as the risk service assesses it today: who, how serious, and why."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.orm import Session

from smbcrm.services.export.orders import main_currency
from smbcrm.services.export.workbook import Column, ColumnKind, Row, Sheet
from smbcrm.services.risk import RiskLevel, at_risk

LEVELS = {
    "en": {RiskLevel.HIGH: "High", RiskLevel.MEDIUM: "Medium", RiskLevel.LOW: "Low"},
    "zh": {RiskLevel.HIGH: "高", RiskLevel.MEDIUM: "中", RiskLevel.LOW: "低"},
}

COLUMNS = [
    Column("ID", "smbcrm编号", ColumnKind.INTEGER),
    Column("Name", "客户名称"),
    Column("Risk", "风险"),
    Column("Reasons", "原因"),
    Column("Owner", "负责销售"),
    Column("Tier", "等级"),
    Column("City", "城市"),
    Column("Revenue 12 months", "近12个月销售额", ColumnKind.MONEY, total=True),
    Column("Last order", "最近下单", ColumnKind.DATE),
    Column("Days since order", "未下单天数", ColumnKind.INTEGER),
    Column("Last contact", "最近联系", ColumnKind.DATE),
]


def at_risk_sheet(session: Session, *, language: str) -> Sheet:
    found = at_risk(session)
    levels = LEVELS[language]

    def rows() -> Iterator[Row]:
        for r in found:
            yield (
                r.id,
                r.name,
                levels.get(r.level, str(r.level)),
                r.text(language),
                r.owner,
                str(r.tier) if r.tier else None,
                r.city,
                round(r.revenue_12m, 2),
                r.last_order,
                r.days_since_order,
                r.last_contact,
            )

    return Sheet(
        name="流失风险客户" if language == "zh" else "At risk",
        columns=COLUMNS,
        rows=rows(),
        expected_rows=len(found),
        language=language,
        main_currency=main_currency(session, None, None),
        label_column=1,
    )
