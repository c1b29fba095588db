"""A saved column mapping remembers how its system writes dates such as 05.03.2024, so a
bookkeeper says "day first" once, not at every monthly import; on both engines."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from smbcrm import cli
from smbcrm.models import Database, ImportKind, SavedMapping, User
from smbcrm.services import database as dbsvc
from smbcrm.services.importing.mapping import (
    Mapping,
    auto_map,
    find_saved_mapping,
    load_mapping,
    save_mapping,
)
from smbcrm.services.importing.orders import OrderImportPlan
from smbcrm.services.importing.plan import ImportOptions
from smbcrm.services.importing.service import Prepared, prepare_import

ORDER_HEADER = ["订单号", "日期", "客户编号", "客户名称", "金额"]
CUSTOMER_HEADER = ["客户名称", "手机", "生日"]


def _save(
    db: Database, name: str, header: list[str], kind: ImportKind, day_first: bool | None
) -> None:
    mapping = auto_map(header, kind)
    mapping.source_system = "Kingdee"
    mapping.day_first = day_first
    with db.session() as session:
        save_mapping(session, session.scalar(select(User)), name, header, mapping)


def _by_name(db: Database, name: str, header: list[str], kind: ImportKind) -> Mapping:
    with db.new_session() as session:
        return load_mapping(session, name, header, kind)


def _by_headers(db: Database, header: list[str], kind: ImportKind) -> Mapping:
    with db.new_session() as session:
        mapping = find_saved_mapping(session, header, kind)
    assert mapping is not None
    return mapping


@pytest.mark.parametrize(
    ("kind", "header"),
    [(ImportKind.ORDERS, ORDER_HEADER), (ImportKind.CUSTOMERS, CUSTOMER_HEADER)],
)
@pytest.mark.parametrize("day_first", [True, False])
def test_the_order_chosen_comes_back_by_name_and_by_the_same_headers(
    company: Database, kind: ImportKind, header: list[str], day_first: bool
) -> None:
    _save(company, "Kingdee monthly", header, kind, day_first)

    by_name = _by_name(company, "Kingdee monthly", header, kind)
    assert (by_name.name, by_name.day_first) == ("Kingdee monthly", day_first)
    # Next month's export, its columns in another order: found by its headers alone.
    by_headers = _by_headers(company, list(reversed(header)), kind)
    assert (by_headers.name, by_headers.day_first) == ("Kingdee monthly", day_first)


def test_a_mapping_saved_without_an_order_leaves_it_to_the_file(company: Database) -> None:
    _save(company, "Trade show", CUSTOMER_HEADER, ImportKind.CUSTOMERS, None)
    assert _by_name(company, "Trade show", CUSTOMER_HEADER, ImportKind.CUSTOMERS).day_first is None
    assert _by_headers(company, CUSTOMER_HEADER, ImportKind.CUSTOMERS).day_first is None


def test_saving_again_under_the_same_name_keeps_the_new_order(company: Database) -> None:
    for day_first in (True, False, None, True):
        _save(company, "Kingdee monthly", ORDER_HEADER, ImportKind.ORDERS, day_first)
        assert _by_name(company, "Kingdee monthly", ORDER_HEADER, ImportKind.ORDERS).day_first is (
            day_first
        )
    with company.new_session() as session:
        assert session.scalar(select(SavedMapping.day_first)) is True
        assert len(session.scalars(select(SavedMapping)).all()) == 1


def test_mappings_saved_before_the_upgrade_keep_deciding_from_the_file(db: Database) -> None:
    """Upgrading adds the order to existing mappings as "not said"; going back drops it."""
    dbsvc.downgrade(db, "0008")
    assert "day_first" not in {c["name"] for c in inspect(db.engine).get_columns("saved_mappings")}
    moment = datetime(2026, 11, 1, 9, 0)
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO saved_mappings (name, kind, source_system, signature, columns, "
                "created_at, updated_at) VALUES ('ERP', 'orders', 'erp', :signature, :columns, "
                ":moment, :moment)"
            ),
            {
                "signature": '["订单号", "日期", "客户编号", "客户名称", "金额"]',
                "columns": '{"订单号": "order_number", "日期": "order_date"}',
                "moment": moment,
            },
        )

    dbsvc.upgrade(db)
    assert dbsvc.current_revision(db) == dbsvc.head_revision()
    mapping = _by_name(db, "ERP", ORDER_HEADER, ImportKind.ORDERS)
    assert (mapping.source_system, mapping.day_first) == ("erp", None)
    assert mapping.columns[1] is not None and mapping.columns[1].value == "order_date"

    _save(db, "ERP", ORDER_HEADER, ImportKind.ORDERS, True)
    dbsvc.downgrade(db, "0008")
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT name, source_system FROM saved_mappings")).all() == [
            ("ERP", "Kingdee")
        ]
        if db.is_sqlite:  # the ID of a deleted mapping is still never given out again
            (sql,) = connection.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'saved_mappings'")
            ).one()
            assert "AUTOINCREMENT" in sql
    dbsvc.upgrade(db)
    assert _by_name(db, "ERP", ORDER_HEADER, ImportKind.ORDERS).day_first is None


# -- imports read next month's file as the saved mapping says -------------------------------


def _orders_file(path: Path) -> Path:
    """Dates that all read both ways, as the accounting system exports them every month."""
    path.write_text(
        "订单号,日期,客户编号,客户名称,金额\n"
        "SO-1,02.04.2026,K-1,宁波贸易,100\n"
        "SO-2,07.04.2026,K-1,宁波贸易,80\n",
        encoding="utf-8",
    )
    return path


def _order_dates(prepared: Prepared) -> list[date | None]:
    assert isinstance(prepared.plan, OrderImportPlan)
    return [order.order_date for order in prepared.plan.orders]


def test_the_saved_order_reads_the_file_unless_this_import_says_otherwise(
    company: Database, tmp_path: Path
) -> None:
    path = _orders_file(tmp_path / "2026-04.csv")
    _save(company, "Kingdee monthly", ORDER_HEADER, ImportKind.ORDERS, True)
    april = [date(2026, 4, 2), date(2026, 4, 7)]
    for mapping_name in ("Kingdee monthly", None):  # by name, and by the same headers
        prepared = prepare_import(company, path, ImportKind.ORDERS, mapping_name=mapping_name)
        assert prepared.plan.options.day_first is True
        assert _order_dates(prepared) == april
        assert not any(row.warnings for row in prepared.plan.rows)
    said = ImportOptions(day_first=False, region=company.default_region())
    prepared = prepare_import(company, path, ImportKind.ORDERS, options=said)
    assert _order_dates(prepared) == [date(2026, 2, 4), date(2026, 7, 4)]


def test_the_command_line_reads_dates_as_the_saved_mapping_says_and_says_so(
    company: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _orders_file(tmp_path / "2026-04.csv")
    _save(company, "Kingdee monthly", ORDER_HEADER, ImportKind.ORDERS, True)
    database = company.url.render_as_string(hide_password=False)
    base = ["--db", database, "import", str(path), "--kind", "orders", "--dry-run"]

    assert cli.main([*base, "--mapping", "Kingdee monthly"]) == 0
    shown = capsys.readouterr().out
    assert (
        "Dates such as 05.03.2024 are read day first, as the saved mapping 'Kingdee monthly' "
        "says; --month-first reads them the other way."
    ) in shown
    assert "could be day first or month first" not in shown

    assert cli.main([*base, "--month-first"]) == 0
    shown = capsys.readouterr().out
    assert "Dates such as" not in shown
