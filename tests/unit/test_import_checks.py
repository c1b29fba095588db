"""The customers import checks what the book cannot take before anything is written: one
customer code for two customers, text longer than its column, amounts too large, open
day/month orders, phones typed wrongly, an order file taken for customers, a preview
imported twice and two imports of the same customers at once — on both engines."""

from __future__ import annotations

import csv
import threading
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Numeric, func, select

from smbcrm.errors import Cancelled
from smbcrm.models import (
    Contact,
    ContactPoint,
    Customer,
    Database,
    ExternalId,
    ImportBatch,
    ImportKind,
    User,
)
from smbcrm.services.importing.apply import (
    AlreadyImported,
    ChangedMeanwhile,
    ImportRefused,
    apply_plan,
)
from smbcrm.services.importing.fields import column_length
from smbcrm.services.importing.mapping import auto_map, mapping_problems, save_mapping
from smbcrm.services.importing.plan import ImportOptions, ImportPlan, Outcome, apply_decisions
from smbcrm.services.importing.service import MappingError, prepare_import
from smbcrm.services.importing.values import (
    MONEY,
    NumberSize,
    ValueProblem,
    date_order,
    parse_amount,
    parse_date,
    parse_phones,
    read_phones,
)
from smbcrm.services.progress import CancelToken, Progress
from tests.factories import make_customer


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def owner_id(db: Database) -> int:
    with db.new_session() as session:
        found = session.scalar(select(User.id).where(User.login == "boss"))
        assert found is not None
        return found


def preview(db: Database, path: Path, **options: object) -> ImportPlan:
    return prepare_import(db, path, ImportKind.CUSTOMERS, options=ImportOptions(**options)).plan  # type: ignore[arg-type]


def count(db: Database, model: type[object]) -> int:
    with db.new_session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def codes(db: Database) -> dict[str, str]:
    """Customer code → the name of the customer holding it."""
    with db.new_session() as session:
        return {
            key: name
            for key, name in session.execute(
                select(ExternalId.key, Customer.name).join(
                    Customer, Customer.id == ExternalId.customer_id
                )
            )
        }


# ----------------------------------------------------------------------------- customer codes


@pytest.mark.parametrize(
    "second_row",
    [["K2", "绿源茶业", "13912345678", ""], ["K2", "全新公司", "13700000000", ""]],
    ids=["matches another customer", "is a new customer"],
)
def test_one_code_on_rows_about_two_customers_is_the_later_rows_problem(
    company: Database, tmp_path: Path, second_row: list[str]
) -> None:
    with company.session() as session:
        make_customer(session, "华强电子", emails=["x@huaqiang.cn"])
        make_customer(session, "绿源茶业", phones=["13912345678"])
    path = write_csv(
        tmp_path / "codes.csv",
        ["客户编号", "客户名称", "手机", "邮箱"],
        [["K2", "华强电子", "", "x@huaqiang.cn"], second_row],
    )
    plan = preview(company, path)
    first, second = plan.rows
    assert first.outcome == Outcome.UPDATE
    assert second.outcome == Outcome.ERROR
    assert second.problems[0].column == "客户编号"
    assert "customer code K2 is already on row 2 (华强电子)" in second.problem_text()
    assert "fix the code, or make the two rows one" in second.problem_text()

    result = apply_plan(company, owner_id(company), plan)
    assert (result.updated, result.errors) == (1, 1)
    assert codes(company) == {"K2": "华强电子"}


def test_one_code_on_two_rows_about_one_customer_is_fine(company: Database, tmp_path: Path) -> None:
    with company.session() as session:
        make_customer(session, "华强电子", emails=["x@huaqiang.cn"], phones=["13800138000"])
    path = write_csv(
        tmp_path / "codes.csv",
        ["客户编号", "客户名称", "手机", "邮箱"],
        [["K2", "华强电子", "", "x@huaqiang.cn"], ["K2", "华强电子", "13800138000", ""]],
    )
    plan = preview(company, path)
    assert [r.outcome for r in plan.rows] == [Outcome.UPDATE, Outcome.UPDATE]
    apply_plan(company, owner_id(company), plan)
    assert codes(company) == {"K2": "华强电子"}


def test_a_code_another_customer_holds_is_the_rows_problem(
    company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        huaqiang = make_customer(session, "华强电子").id
        lvyuan = make_customer(session, "绿源茶业", external={"import": "K7"}).id
    path = write_csv(
        tmp_path / "export.csv",
        ["smbcrm ID", "客户名称", "客户编号"],
        [[str(huaqiang), "华强电子", "K7"]],
    )
    plan = preview(company, path)
    row = plan.rows[0]
    assert row.outcome == Outcome.ERROR
    assert (
        f"customer code K7 already belongs to 绿源茶业 (smbcrm ID {lvyuan})" in row.problem_text()
    )
    apply_plan(company, owner_id(company), plan)
    assert codes(company) == {"K7": "绿源茶业"}


def test_decisions_that_give_one_code_to_two_customers_are_refused_before_writing(
    company: Database, tmp_path: Path
) -> None:
    with company.session() as session:
        make_customer(session, "深圳市华强电子有限公司", city="广州", emails=["x@huaqiang.cn"])
    path = write_csv(
        tmp_path / "codes.csv",
        ["客户编号", "客户名称", "城市", "邮箱"],
        [["K5", "深圳市华强电子", "深圳", ""], ["K5", "华强", "", "x@huaqiang.cn"]],
    )
    plan = preview(company, path)
    assert [r.outcome for r in plan.rows] == [Outcome.DUPLICATE, Outcome.UPDATE]
    apply_decisions(plan, {2: Outcome.CREATE})
    before = count(company, Customer)
    with pytest.raises(ImportRefused, match="Rows 2 and 3 give customer code K5 to two"):
        apply_plan(company, owner_id(company), plan)
    assert count(company, Customer) == before
    assert count(company, ImportBatch) == 0


# ----------------------------------------------------------------------------- text lengths


def test_text_longer_than_its_column_is_a_row_problem_on_both_engines(
    company: Database, tmp_path: Path
) -> None:
    name = column_length(Customer.__table__.c.name)
    city = column_length(Customer.__table__.c.city)
    postcode = column_length(Customer.__table__.c.postcode)
    title = column_length(Contact.__table__.c.title)
    code = column_length(ExternalId.__table__.c.key)
    header = ["客户编号", "客户名称", "城市", "邮编", "联系人", "职务", "名", "姓", "地址", "地址2"]
    fine = ["K1", "华强", "深圳", "518000", "王芳", "经理", "", "", "", ""]
    too_long = {
        "客户名称": (1, "华" * (name + 1), name),
        "城市": (2, "深" * (city + 1), city),
        "邮编": (3, "5" * (postcode + 1), postcode),
        "职务": (5, "经" * (title + 1), title),
        "客户编号": (0, "K" * (code + 1), code),
    }
    rows = [fine]
    for index, text, _limit in too_long.values():
        row = list(fine)
        row[0] = f"K{len(rows) + 1}"
        row[index] = text
        rows.append(row)
    # A person's name and an address given in parts are too long only once put together.
    rows.append(["K9", "", "", "", "", "", "伟" * name, "张", "", ""])
    address = column_length(Customer.__table__.c.address)
    rows.append(["K10", "绿源", "", "", "", "", "", "", "路" * address, "1号"])
    plan = preview(company, write_csv(tmp_path / "long.csv", header, rows))

    assert plan.rows[0].outcome == Outcome.CREATE
    for row, (column, (_index, text, limit)) in zip(plan.rows[1:], too_long.items(), strict=False):
        assert row.outcome == Outcome.ERROR, column
        assert row.problems[0].column == column
        assert f"is {len(text)} characters long, and at most {limit} fit" in row.problem_text()
    composed_name, composed_address = plan.rows[-2:]
    assert composed_name.problems[0].column == "名"
    assert f"is {name + 1} characters long, and at most {name} fit" in composed_name.problem_text()
    assert composed_address.problems[0].column == "地址"
    assert f"at most {address} fit" in composed_address.problem_text()

    result = apply_plan(company, owner_id(company), plan)
    assert (result.created, result.errors) == (1, len(rows) - 1)
    assert count(company, Customer) == 1


def test_staff_created_from_a_long_name_get_a_login_that_fits(
    company: Database, tmp_path: Path
) -> None:
    staff_name = "欧阳" * 30  # its pinyin is longer than a login may be
    path = write_csv(tmp_path / "owners.csv", ["客户名称", "负责销售"], [["华强", staff_name]])
    plan = preview(company, path, create_missing_staff=True)
    result = apply_plan(company, owner_id(company), plan)
    assert result.created == 1 and len(result.created_staff) == 1
    with company.new_session() as session:
        user = session.scalars(select(User).where(User.full_name == staff_name)).one()
        assert 0 < len(user.login) <= column_length(User.__table__.c.login)


def test_a_source_system_name_too_long_is_refused_with_its_limit(
    company: Database, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "a.csv", ["客户名称"], [["华强"]])
    limit = column_length(ImportBatch.__table__.c.source_system)
    with pytest.raises(MappingError, match=f"{limit + 1} characters long, and at most {limit} fit"):
        prepare_import(company, path, source_system="s" * (limit + 1))
    mapping = auto_map(["客户名称"], ImportKind.CUSTOMERS)
    mapping.source_system = "s" * (limit + 1)
    assert any("Give it a shorter name" in p for p in mapping_problems(mapping))
    assert count(company, ImportBatch) == 0


# ----------------------------------------------------------------------------- amounts


@pytest.mark.parametrize(
    "value",
    [
        "1E400",
        "1e30",
        "9" * 29,
        "4111 1111 1111 1111",
        1e300,
        10**20,
        "1234567890123456.78",
        "-1e20",
    ],
)
def test_amounts_the_column_cannot_hold_are_too_large(value: object) -> None:
    with pytest.raises(ValueProblem) as caught:
        parse_amount(value)
    assert "is too large for an amount" in caught.value.message
    assert f"{MONEY.largest:,}" in caught.value.hint


def test_the_largest_amount_fits_and_one_that_rounds_past_it_does_not() -> None:
    assert NumberSize(14, 2) == MONEY
    assert parse_amount("999,999,999,999.99") == Decimal("999999999999.99")
    with pytest.raises(ValueProblem, match="too large"):
        parse_amount("999999999999.995")


def test_an_amount_is_checked_against_the_size_asked_for() -> None:
    quantity = NumberSize.of(Numeric(14, 3))
    assert parse_amount("99999999999", size=quantity) == Decimal("99999999999")
    with pytest.raises(ValueProblem, match="too large"):
        parse_amount("999999999999", size=quantity)


# ----------------------------------------------------------------------------- dates


def test_a_date_that_reads_one_way_only_decides_for_its_column() -> None:
    assert date_order(["01.11.1990", "25.03.1990"], "生日") == date_order([], "x", True)
    assert date_order(["01.11.1990", "03/25/1990"], "生日").day_first is False
    # Even against the setting: 25.03 cannot be month first.
    assert date_order(["25.03.1990", "01.11.1990"], "生日", False).day_first is True


def test_a_column_of_open_dates_is_read_month_first_with_one_warning() -> None:
    order = date_order([None, "1990-05-01", "01.11.1990", "05.03.1990"], "生日")
    assert order.day_first is False and order.warn_at == 2
    assert "column '生日': dates such as 01.11.1990 could be day first or month first" in (
        order.warning
    )
    assert "read month first (1990-01-11)" in order.warning
    assert date_order(["01.11.1990"], "生日", True).warning == ""


def test_dates_written_both_ways_warn_of_the_open_ones() -> None:
    order = date_order(["25.03.1990", "03/25/1990", "01.11.1990"], "生日")
    assert order.warn_at == 2
    assert "day first (25.03.1990) and month first (03/25/1990)" in order.warning


def test_birthdays_are_read_by_their_column(company: Database, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "birthdays.csv",
        ["客户名称", "生日"],
        [["张伟", "01.11.1990"], ["李娜", "25.03.1991"], ["王芳", "05.04.1992"]],
    )
    plan = preview(company, path)
    assert [r.values.scalars["birthday"] for r in plan.rows] == [
        date(1990, 11, 1),
        date(1991, 3, 25),
        date(1992, 4, 5),
    ]
    assert not any(r.warnings for r in plan.rows)

    path = write_csv(
        tmp_path / "open.csv",
        ["客户名称", "生日"],
        [["张伟", "01.11.1990"], ["王芳", "05.04.1992"]],
    )
    plan = preview(company, path)
    assert plan.rows[0].values.scalars["birthday"] == date(1990, 1, 11)
    assert plan.rows[0].warnings == [
        "column '生日': dates such as 01.11.1990 could be day first or month first, and every "
        "such date in the column was read month first (1990-01-11). If they are day first, "
        "choose day-first dates and preview again"
    ]
    assert plan.rows[1].warnings == []
    plan = preview(company, path, day_first=True)
    assert plan.rows[0].values.scalars["birthday"] == date(1990, 11, 1)
    assert not any(r.warnings for r in plan.rows)


def test_a_date_after_the_latest_allowed_is_a_problem() -> None:
    today = date.today()
    assert parse_date(today.isoformat(), not_after=today) == today
    with pytest.raises(ValueProblem, match="'2099-01-01' is in the future"):
        parse_date("2099-01-01", not_after=today)
    with pytest.raises(ValueProblem, match="is in the future"):
        parse_date(today + timedelta(days=1), not_after=today)


def test_a_birthday_in_the_future_is_left_empty_with_a_warning(
    company: Database, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "b.csv", ["客户名称", "生日"], [["张伟", "2099-01-01"]])
    row = preview(company, path).rows[0]
    assert row.outcome == Outcome.CREATE
    assert "birthday" not in row.values.scalars
    assert row.warnings == [
        "column '生日': birthday 2099-01-01 is in the future: left empty; fix it in the file "
        "and import again to add it"
    ]


# ----------------------------------------------------------------------------- phones


def test_each_phone_of_a_cell_keeps_its_own_number(company: Database, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "phones.csv",
        ["客户名称", "手机"],
        [
            ["深圳华强", "13800138000/13900139000"],
            ["杭州绿源", "138 0013 8001 / 0755-8888 9999（总机）"],
        ],
    )
    apply_plan(company, owner_id(company), preview(company, path))
    with company.new_session() as session:
        points = sorted(
            (value, key)
            for value, key in session.execute(select(ContactPoint.value, ContactPoint.key))
        )
    assert points == [
        ("0755-8888 9999", "+8675588889999"),
        ("138 0013 8001", "+8613800138001"),
        ("13800138000", "+8613800138000"),
        ("13900139000", "+8613900139000"),
    ]


def test_a_dash_extension_is_read_as_the_number_with_its_extension() -> None:
    (phone,) = read_phones("010-12345678-801")
    assert (phone.written, phone.key, phone.doubt) == ("010-12345678-801", "+861012345678", "")
    # The keys alone stay as before: the search still reads them so.
    assert parse_phones("010-12345678-801") == ["01012345678801"]


@pytest.mark.parametrize(
    ("value", "doubt"),
    [
        ("138001380001", "'138001380001' has 12 digits, but a mobile number has 11"),
        ("1380013800", "'1380013800' has 10 digits, but a mobile number has 11"),
        ("12345", "'12345' has too few digits for a phone number"),
    ],
)
def test_a_phone_with_digits_too_many_or_too_few_is_doubted(value: str, doubt: str) -> None:
    (phone,) = read_phones(value)
    assert doubt in phone.doubt


def test_doubted_phones_are_row_warnings_and_endless_digits_a_problem(
    company: Database, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "p.csv",
        ["客户名称", "电话"],
        [["A", "138001380001"], ["B", "13800138000"], ["C", "1" * 24]],
    )
    plan = preview(company, path)
    assert plan.rows[0].outcome == Outcome.CREATE
    assert plan.rows[0].warnings == [
        "column '电话': '138001380001' has 12 digits, but a mobile number has 11: check it"
    ]
    assert plan.rows[1].warnings == []
    assert plan.rows[2].outcome == Outcome.ERROR
    assert "is not a phone number: it has 24 digits" in plan.rows[2].problem_text()


def test_phones_of_numbered_columns_add_up(company: Database, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "phone12.csv",
        ["客户名称", "手机1", "手机2", "Phone 2", "电话 (2)", "邮箱", "邮箱2", "传真"],
        [
            [
                "深圳华强",
                "13800138000",
                "13912345678",
                "0755-8888 9999",
                "13700001111",
                "a@huaqiang.cn",
                "b@huaqiang.cn",
                "0755-1234 5678",
            ]
        ],
    )
    plan = preview(company, path)
    assert plan.mapping_record() == {
        "客户名称": "name",
        "手机1": "mobile",
        "手机2": "mobile",
        "Phone 2": "phone",
        "电话 (2)": "phone",
        "邮箱": "email",
        "邮箱2": "email",
    }
    (row,) = plan.rows
    assert [key for _written, key in row.values.phones] == [
        "+8613800138000",
        "+8613912345678",
        "+8675588889999",
        "+8613700001111",
    ]
    assert [key for _written, key in row.values.emails] == ["a@huaqiang.cn", "b@huaqiang.cn"]


def test_a_numbered_column_of_a_one_column_field_is_left_for_the_person() -> None:
    mapping = auto_map(
        ["客户名称", "城市", "城市 (2)", "城市1", "销售额2024"], ImportKind.CUSTOMERS
    )
    assert [f.value if f else None for _i, f in sorted(mapping.columns.items())] == [
        "name",
        "city",
        None,
        None,
        None,
    ]
    assert mapping_problems(mapping) == []
    # Without a column named plainly, the numbered one is the city.
    alone = auto_map(["客户名称", "城市1"], ImportKind.CUSTOMERS)
    assert alone.columns[1] is not None and alone.columns[1].value == "city"


# ----------------------------------------------------------------------------- Excel errors


def test_excel_error_cells_are_their_rows_problems_by_cell(
    owner: User, company: Database, tmp_path: Path
) -> None:
    import xlsxwriter

    path = tmp_path / "errors.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("客户")
    sheet.write_row(0, 0, ["客户名称", "手机", "城市", "传真"])
    sheet.write_formula(1, 0, "=NA()", None, "#N/A")
    sheet.write(1, 1, "13800138000")
    sheet.write_row(2, 0, ["B公司", None, "深圳"])
    sheet.write_formula(2, 1, "=#REF!", None, "#REF!")
    sheet.write_row(3, 0, ["C公司", "13912345678", "杭州"])
    sheet.write_formula(3, 3, "=1/0", None, "#DIV/0!")  # a column that is not imported
    book.close()

    plan = preview(company, path)
    first, second, third = plan.rows
    assert first.outcome == Outcome.ERROR
    assert [(p.column, p.value) for p in first.problems] == [("客户名称", "#N/A")]
    assert first.problem_text() == (
        "column '客户名称': A2 holds #N/A, an Excel error. Fix the formula or type the value."
    )
    assert "the name is empty" not in first.problem_text()
    assert second.outcome == Outcome.ERROR
    assert second.problem_text() == (
        "column '手机': B3 holds #REF!, an Excel error. Fix the formula or type the value."
    )
    assert third.outcome == Outcome.CREATE

    result = apply_plan(company, owner.id, plan)
    assert (result.created, result.errors) == (1, 2)
    with company.new_session() as session:
        assert list(session.scalars(select(Customer.name))) == ["C公司"]


# ----------------------------------------------------------------------------- kind of file

ORDER_HEADER = ["订单号", "下单日期", "金额", "客户名称", "手机"]
ORDER_ROWS = [["SO-1", "2024-03-05", "100", "深圳华强", "13800138000"]]


def test_an_order_file_is_not_imported_as_customers(company: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "orders.csv", ORDER_HEADER, ORDER_ROWS)
    with pytest.raises(MappingError) as caught:
        prepare_import(company, path)
    assert "orders.csv looks like orders (columns 订单号, 下单日期, 金额)" in str(caught.value)
    assert "--kind orders" in str(caught.value)
    assert count(company, ImportBatch) == 0
    # The person's own choice is followed: said outright, or a saved mapping.
    assert prepare_import(company, path, kind_confirmed=True).plan.rows[0].outcome == Outcome.CREATE
    with company.session() as session:
        mapping = auto_map(ORDER_HEADER, ImportKind.CUSTOMERS)
        save_mapping(session, None, "shop orders as customers", ORDER_HEADER, mapping)
    assert prepare_import(company, path).plan.rows[0].outcome == Outcome.CREATE


def test_a_customers_list_with_an_amount_is_still_customers(
    company: Database, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "customers.csv",
        ["客户编号", "客户名称", "手机", "金额", "日期"],
        [["C1", "深圳华强", "13800138000", "5000", "2024-03-05"]],
    )
    assert prepare_import(company, path).plan.rows[0].outcome == Outcome.CREATE


# ----------------------------------------------------------------------------- applying once


def test_a_preview_is_imported_once(company: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "twice.csv", ["客户名称", "手机"], [["深圳华强", "13800138000"]])
    plan = preview(company, path)
    first = apply_plan(company, owner_id(company), plan)
    with pytest.raises(AlreadyImported, match=f"already imported as batch {first.batch_id}"):
        apply_plan(company, owner_id(company), plan)
    assert count(company, Customer) == 1 and count(company, ImportBatch) == 1


def test_a_preview_being_imported_cannot_be_imported_again_meanwhile(
    company: Database, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "twice.csv", ["客户名称", "手机"], [["深圳华强", "13800138000"]])
    plan = preview(company, path)
    actor = owner_id(company)
    refused: list[str] = []

    def press_import_again(_done: int, _total: int, _text: str) -> None:
        if not refused:
            try:
                apply_plan(company, actor, plan)
            except AlreadyImported as exc:
                refused.append(str(exc))

    apply_plan(company, actor, plan, progress=Progress(press_import_again))
    assert refused == ["This preview is being imported already; wait for that import to finish."]
    assert count(company, Customer) == 1


def test_a_cancelled_import_can_be_imported_after_all(company: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", ["客户名称", "手机"], [["深圳华强", "13800138000"]])
    plan = preview(company, path)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        apply_plan(company, owner_id(company), plan, progress=Progress(token=token))
    assert apply_plan(company, owner_id(company), plan).created == 1


def test_two_imports_of_the_same_customers_at_once_say_preview_again(
    company: Database, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "k.csv", ["客户编号", "客户名称"], [["K1", "深圳华强"], ["K2", "杭州绿源"]]
    )
    plan = preview(company, path)
    actor = owner_id(company)
    failures: list[BaseException] = []

    def import_in_the_other_window() -> None:
        try:
            apply_plan(company, actor, plan)
        except BaseException as exc:  # the test looks at what it was
            failures.append(exc)

    # Another window's import gives K1 to a customer: its transaction is still open while
    # this import starts, and commits while this one waits for it.
    with company.session() as other:
        make_customer(other, "别家公司", external={"import": "K1"})
        window = threading.Thread(target=import_in_the_other_window)
        window.start()
    window.join(timeout=60)
    assert not window.is_alive()
    assert len(failures) == 1 and isinstance(failures[0], ChangedMeanwhile), failures
    assert "Preview the file again" in str(failures[0])
    assert count(company, Customer) == 1  # nothing of this import was written
    assert codes(company) == {"K1": "别家公司"}
    assert count(company, ImportBatch) == 0
