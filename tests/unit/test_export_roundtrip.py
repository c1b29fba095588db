"""A customers export edited in a spreadsheet and re-imported updates exactly what was edited."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from smbcrm.models import Customer, CustomerStatus, Database, ImportKind, Tier, User
from smbcrm.services.export import ExportKind, ExportOptions, export
from smbcrm.services.export.customers import COLUMNS
from smbcrm.services.importing.apply import apply_plan
from smbcrm.services.importing.fields import Field
from smbcrm.services.importing.mapping import auto_map
from smbcrm.services.importing.service import prepare_import
from tests.conftest import add_user
from tests.factories import make_customer, make_order

# Export columns the importer reads back; the others (counts, sums, dates) are ignored.
EXPECTED = {
    "ID": Field.CUSTOMER_ID,
    "Name": Field.NAME,
    "Kind": Field.KIND,
    "Status": Field.STATUS,
    "Tier": Field.TIER,
    "Owner": Field.OWNER,
    "Contact": Field.CONTACT,
    "Phone": Field.PHONE,
    "Email": Field.EMAIL,
    "City": Field.CITY,
    "Province": Field.PROVINCE,
    "Address": Field.ADDRESS,
    "Source": Field.SOURCE,
    "Tags": Field.TAGS,
}


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_export_column_maps_back(language: str) -> None:
    header = [c.title(language) for c in COLUMNS]
    mapping = auto_map(header, ImportKind.CUSTOMERS)
    got = {COLUMNS[i].header: f for i, f in mapping.columns.items() if f is not None}
    assert got == EXPECTED


def _book(db: Database, owner: User) -> list[int]:
    add_user(db, "li.lei", name="李雷")
    with db.session(owner.id) as s:
        a = make_customer(
            s,
            "华强电子有限公司",
            phones=["13800138000", "02155556666"],
            emails=["li@huaqiang.cn"],
            contact="李明",
            external={"erp": "C001"},
            city="深圳",
            province="广东省",
            tier=Tier.A,
            owner_id=owner.id,
            source="展会",
        )
        b = make_customer(s, "Harbor Lights Ltd", emails=["ops@harbor.sg"], city="Singapore")
        c = make_customer(s, "张伟", status=CustomerStatus.PROSPECT, kind="person", city="上海")
        make_order(s, a, amount="88.80")
        return [a.id, b.id, c.id]


def _reimport(db: Database, owner: User, path: Path) -> tuple[int, int, int]:
    prepared = prepare_import(db, path, ImportKind.CUSTOMERS)
    result = apply_plan(db, owner.id, prepared.plan)
    return result.created, result.updated, result.errors


@pytest.mark.parametrize("language", ["en", "zh"])
def test_edited_export_updates_exactly_the_edited_customers(
    company: Database, owner: User, tmp_path: Path, language: str
) -> None:
    ids = _book(company, owner)
    target = tmp_path / "customers.xlsx"
    export(company, owner.id, ExportKind.CUSTOMERS, target, ExportOptions(language=language))

    # Unedited, it changes nothing and creates nothing.
    assert _reimport(company, owner, target) == (0, 0, 0)

    book = openpyxl.load_workbook(target)
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    status_col = header.index("Status" if language == "en" else "状态") + 1
    city_col = header.index("City" if language == "en" else "城市") + 1
    owner_col = header.index("Owner" if language == "en" else "负责销售") + 1
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == ids[1]:
            row[city_col - 1].value = "新加坡"
            row[owner_col - 1].value = "李雷"
        if row[0].value == ids[2]:
            row[status_col - 1].value = "Active" if language == "en" else "成交"
    book.save(target)

    assert _reimport(company, owner, target) == (0, 2, 0)
    with company.new_session() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 3
        harbor = s.get_one(Customer, ids[1])
        assert harbor.city == "新加坡" and harbor.owner is not None
        assert harbor.owner.full_name == "李雷"
        assert s.get_one(Customer, ids[2]).status == CustomerStatus.ACTIVE
        first = s.get_one(Customer, ids[0])
        assert first.city == "深圳" and first.tier == Tier.A and len(first.external_ids) == 1
