"""Files from Taiwan and Hong Kong systems: traditional-character headers map to fields."""

from __future__ import annotations

from pathlib import Path

from smbcrm.models import Customer, Database, ImportKind
from smbcrm.services import auth
from smbcrm.services.importing.apply import apply_plan
from smbcrm.services.importing.fields import Field
from smbcrm.services.importing.service import prepare_import

HEADER = ["客戶編號", "客戶名稱", "聯絡人", "職稱", "行動電話", "電子郵件", "負責業務", "統一編號"]


def _big5_csv(path: Path, rows: list[list[str]]) -> Path:
    lines = [",".join(HEADER), *(",".join(row) for row in rows)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("big5"))
    return path


def test_a_big5_customer_list_with_traditional_headers_is_mapped_and_imported(
    company: Database, tmp_path: Path
) -> None:
    path = _big5_csv(
        tmp_path / "客戶.csv",
        [
            [
                "TW001",
                "台灣電子股份有限公司",
                "陳志明",
                "採購經理",
                "0912345678",
                "chen@tw.example",
                "",
                "12345678",
            ]
        ],
    )

    prepared = prepare_import(company, path, ImportKind.CUSTOMERS, source_system="tw-erp")

    mapped = {target for target in prepared.plan.mapping.columns.values() if target is not None}
    assert {
        Field.EXTERNAL_ID,
        Field.NAME,
        Field.CONTACT,
        Field.CONTACT_TITLE,
        Field.MOBILE,
        Field.EMAIL,
        Field.OWNER,
        Field.TAX_ID,
    } <= mapped
    with company.new_session() as session:
        owner_id = auth.find_user(session, "boss").id
    result = apply_plan(company, owner_id, prepared.plan)
    assert (result.created, result.errors) == (1, 0)
    with company.new_session() as session:
        customer = session.query(Customer).one()
        assert customer.name == "台灣電子股份有限公司"
        assert customer.tax_id == "12345678"


def test_traditional_order_headers_are_mapped(company: Database, tmp_path: Path) -> None:
    path = tmp_path / "訂單.csv"
    path.write_bytes(
        "訂單編號,訂單日期,客戶名稱,金額,幣別,狀態\r\nS-1,2024-03-05,台灣電子,1200,TWD,已完成\r\n".encode(
            "big5"
        )
    )

    prepared = prepare_import(company, path, ImportKind.ORDERS, source_system="tw-erp")

    mapped = {target for target in prepared.plan.mapping.columns.values() if target is not None}
    assert {Field.ORDER_NUMBER, Field.ORDER_DATE, Field.AMOUNT, Field.CURRENCY} <= mapped
