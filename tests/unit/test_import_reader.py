"""Reading spreadsheets: every file is built here, the way Excel and people make them."""

from __future__ import annotations

import datetime as dt
import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest
import xlsxwriter

from smbcrm.services.importing.reader import (
    ReadError,
    SheetInfo,
    Table,
    list_sheets,
    read_table,
)

HEADER = ["客户名称", "联系人", "手机", "城市"]


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def csv_bytes(lines: Sequence[str], encoding: str, newline: str = "\r\n") -> bytes:
    return (newline.join(lines) + newline).encode(encoding)


# ----------------------------------------------------------------------------- CSV


def test_gbk_csv_with_title_block_and_totals_row(tmp_path: Path) -> None:
    # What Excel on Chinese Windows saves: GBK, title lines padded with commas, a 合计 row.
    lines = [
        "客户名单,,,",
        "导出日期：2024-03-01,,,",
        ",,,",
        ",".join(HEADER),
        "深圳华强电子有限公司,张三,13800138000,深圳",
        ",,,",
        "北京中关村科技有限公司,李四, 139 0013 9000 ,北京",
        "合计：,2,,",
    ]
    path = write_bytes(tmp_path / "客户.csv", csv_bytes(lines, "gbk"))

    table = read_table(path)

    assert table.encoding == "gb18030"
    assert table.delimiter == ","
    assert table.sheet is None
    assert table.header == HEADER
    assert table.header_row == 4
    assert table.rows == [
        ["深圳华强电子有限公司", "张三", "13800138000", "深圳"],
        ["北京中关村科技有限公司", "李四", "139 0013 9000", "北京"],
    ]
    assert table.row_numbers == [5, 7]
    assert table.skipped_totals_row == 8


def test_utf8_bom_csv(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbf" + csv_bytes(
        ["Name,Phone,City", "ACME Ltd,+86 138 0013 8000,Shenzhen"], "utf-8"
    )
    table = read_table(write_bytes(tmp_path / "bom.csv", data))
    assert table.encoding == "utf-8-sig"
    assert table.header == ["Name", "Phone", "City"]  # no BOM glued to "Name"
    assert table.rows == [["ACME Ltd", "+86 138 0013 8000", "Shenzhen"]]


def test_plain_utf8_csv_with_lf_line_ends(tmp_path: Path) -> None:
    data = "客户名称,城市\n华强,深圳\n".encode()
    table = read_table(write_bytes(tmp_path / "u.csv", data))
    assert (table.encoding, table.header, table.rows) == (
        "utf-8",
        ["客户名称", "城市"],
        [["华强", "深圳"]],
    )


def test_utf16_tab_delimited_unicode_text(tmp_path: Path) -> None:
    # Excel's "Unicode Text (*.txt)": UTF-16 LE with a BOM, tab-delimited.
    lines = [
        "\t".join(HEADER),
        "深圳华强\t张三\t13800138000\t深圳",
        "Café Müller\tJosé\t+49 30 1234567\tBerlin",
    ]
    path = write_bytes(tmp_path / "unicode.txt", csv_bytes(lines, "utf-16"))
    table = read_table(path)
    assert table.encoding == "utf-16"
    assert table.delimiter == "\t"
    assert table.header == HEADER
    assert table.rows[1] == ["Café Müller", "José", "+49 30 1234567", "Berlin"]


def test_gbk_text_that_starts_far_down_the_file(tmp_path: Path) -> None:
    lines = ["Code,Name,City"] + [f"{i},Customer {i},Shenzhen" for i in range(3000)]
    lines += ["9001,深圳华强电子有限公司,深圳", "9002,北京中关村科技有限公司,北京"]
    table = read_table(write_bytes(tmp_path / "late.csv", csv_bytes(lines, "gbk")))
    assert table.encoding == "gb18030"
    assert table.rows[-1] == ["9002", "北京中关村科技有限公司", "北京"]


def test_big5_csv(tmp_path: Path) -> None:
    lines = [
        "客戶名稱,聯絡人,手機,城市",
        "台北貿易有限公司,陳大文,0912-345-678,台北",
        "高雄電子股份有限公司,林小明,0922-333-444,高雄",
        "新竹科技,黃美玲,0933-111-222,新竹",
    ]
    table = read_table(write_bytes(tmp_path / "big5.csv", csv_bytes(lines, "big5")))
    assert table.encoding in {"cp950", "big5hkscs"}
    assert table.header == ["客戶名稱", "聯絡人", "手機", "城市"]
    assert table.rows[0] == ["台北貿易有限公司", "陳大文", "0912-345-678", "台北"]


def test_semicolon_csv_with_decimal_commas(tmp_path: Path) -> None:
    lines = ["Firma;Betrag;Stadt", "Müller GmbH;1.234,50;Köln", "Schmidt AG;99,90;Berlin"]
    table = read_table(write_bytes(tmp_path / "eu.csv", csv_bytes(lines, "cp1252")))
    assert table.delimiter == ";"
    assert table.header == ["Firma", "Betrag", "Stadt"]
    assert table.rows == [["Müller GmbH", "1.234,50", "Köln"], ["Schmidt AG", "99,90", "Berlin"]]


def test_quoted_fields_with_commas_quotes_and_newlines(tmp_path: Path) -> None:
    text = (
        "客户名称,地址,备注\r\n"
        '"ACME, Inc.","深圳市南山区\r\n科技园 1 号","他说 ""尽快"""\r\n'
        "华强,福田,\r\n"
    )
    table = read_table(write_bytes(tmp_path / "q.csv", text.encode("utf-8")))
    assert table.delimiter == ","
    assert table.rows[0] == ["ACME, Inc.", "深圳市南山区\r\n科技园 1 号", '他说 "尽快"']
    assert table.rows[1] == ["华强", "福田", None]
    assert table.row_numbers == [2, 3]  # records, as Excel numbers them


def test_excel_sep_line_names_the_delimiter(tmp_path: Path) -> None:
    data = csv_bytes(["sep=;", "Name;City", "A,B;C"], "utf-8")
    table = read_table(write_bytes(tmp_path / "sep.csv", data))
    assert table.delimiter == ";"
    assert table.header_row == 1  # Excel hides the sep= line
    assert table.rows == [["A,B", "C"]]


def test_runaway_quote_is_reported_with_a_line(tmp_path: Path) -> None:
    data = b'Name,Note\r\nA,"never closed\r\n' + b"x" * 140_000 + b"\r\n"
    with pytest.raises(ReadError, match=r"'runaway.csv' is not a well-formed CSV file near line"):
        read_table(write_bytes(tmp_path / "runaway.csv", data))


def test_stray_nul_bytes_are_removed(tmp_path: Path) -> None:
    data = b"Name,City\r\nAC\x00ME,Shenzhen\r\n"
    table = read_table(write_bytes(tmp_path / "nul.csv", data))
    assert table.rows == [["ACME", "Shenzhen"]]


def test_header_cleaning_blank_and_duplicate_names(tmp_path: Path) -> None:
    # The first header cell holds a line break (Alt+Enter in Excel), so it is quoted.
    text = '"客户\n名称",电话,,电话,ＩＤ,Extra\r\na,1,x,2,3,e\r\n'
    table = read_table(write_bytes(tmp_path / "h.csv", text.encode("utf-8")))
    assert table.header == ["客户 名称", "电话", "Column 3", "电话 (2)", "ID", "Extra"]


def test_data_beyond_the_header_gets_a_column_and_empty_columns_go(tmp_path: Path) -> None:
    lines = [",Name,City,,", ",A,Shenzhen,,", ",B,Beijing,note,", ",C,Xian,,"]
    table = read_table(write_bytes(tmp_path / "w.csv", csv_bytes(lines, "utf-8")))
    assert table.header == ["Name", "City", "Column 3"]
    assert table.rows == [["A", "Shenzhen", None], ["B", "Beijing", "note"], ["C", "Xian", None]]


def test_header_repeated_on_every_page_is_not_a_record(tmp_path: Path) -> None:
    lines = ["Name,City", "A,Shenzhen", "Name,City", "B,Beijing"]
    table = read_table(write_bytes(tmp_path / "pages.csv", csv_bytes(lines, "utf-8")))
    assert table.rows == [["A", "Shenzhen"], ["B", "Beijing"]]
    assert table.row_numbers == [2, 4]


def test_ragged_rows_are_padded_and_cut(tmp_path: Path) -> None:
    lines = ["a,b,c", "1", "1,2,3", "4,5"]
    table = read_table(write_bytes(tmp_path / "r.csv", csv_bytes(lines, "utf-8")))
    assert table.rows == [["1", None, None], ["1", "2", "3"], ["4", "5", None]]


def test_header_hint_decides_between_wordy_rows(tmp_path: Path) -> None:
    lines = ["说明,请勿修改,本表,内部使用", "客户名称,手机,城市,", "华强,13800138000,深圳,"]
    path = write_bytes(tmp_path / "hint.csv", csv_bytes(lines, "utf-8"))
    seen: list[list[str]] = []

    def hint(cells: list[str]) -> int:
        seen.append(cells)
        return sum(cell in {"客户名称", "手机", "城市"} for cell in cells)

    table = read_table(path, header_hint=hint)
    assert table.header_row == 2
    assert table.header == ["客户名称", "手机", "城市"]
    assert table.rows == [["华强", "13800138000", "深圳"]]
    assert ["客户名称", "手机", "城市", ""] in seen  # cleaned texts, blanks as ""
    # Without a hint the wordier note row wins: the hint is what tells them apart.
    assert read_table(path).header_row == 1


def test_header_not_beaten_by_a_data_row_with_one_more_text_cell(tmp_path: Path) -> None:
    lines = [
        "Name,City,Contact,Owner,",
        "ACME,Shenzhen,Li Lei,Wang,has a note",
        "Beta,Xian,Han,Zhao,",
    ]
    table = read_table(write_bytes(tmp_path / "d.csv", csv_bytes(lines, "utf-8")))
    assert table.header_row == 1
    assert table.header[-1] == "Column 5"


def test_totals_row_written_in_english(tmp_path: Path) -> None:
    lines = ["Name,Amount", "A,1", "B,2", "", "Grand Total:,3", ""]
    table = read_table(write_bytes(tmp_path / "t.csv", csv_bytes(lines, "utf-8")))
    assert table.rows == [["A", "1"], ["B", "2"]]
    assert table.skipped_totals_row == 5


def test_a_last_row_that_is_data_stays(tmp_path: Path) -> None:
    lines = ["Name,Amount", "A,1", "B,2", "C,3"]
    table = read_table(write_bytes(tmp_path / "k.csv", csv_bytes(lines, "utf-8")))
    assert len(table.rows) == 3
    assert table.skipped_totals_row is None


def test_csv_lists_as_one_sheet(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "客户名单.csv", b"a,b\r\n1,2\r\n")
    assert list_sheets(path) == [SheetInfo("客户名单", None)]


def test_text_starting_like_a_binary_magic_is_still_csv(tmp_path: Path) -> None:
    table = read_table(write_bytes(tmp_path / "cars.csv", b"BMW,MZ\r\nX5,3\r\n"))
    assert table.header == ["BMW", "MZ"]


def test_unknown_extension_is_sniffed(tmp_path: Path) -> None:
    text_file = write_bytes(tmp_path / "export.dat", b"Name,City\r\nA,B\r\n")
    assert read_table(text_file).rows == [["A", "B"]]
    workbook = make_workbook(tmp_path / "real.xlsx", [["Name", "City"], ["A", "B"]])
    renamed = write_bytes(tmp_path / "export.csv", workbook.read_bytes())  # an xlsx named .csv
    table = read_table(renamed)
    assert table.encoding is None and table.rows == [["A", "B"]]


# ----------------------------------------------------------------------------- xlsx


def make_workbook(path: Path, rows: Sequence[Sequence[object]], sheet: str = "Sheet1") -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    worksheet = workbook.add_worksheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                worksheet.write(r, c, value)
    workbook.close()
    return path


def customer_workbook(path: Path, *, vba: Path | None = None) -> Path:
    """Title merged across the top, an export line, header on row 4, a SUM + 合计 row."""
    workbook = xlsxwriter.Workbook(str(path))
    if vba is not None:
        workbook.add_vba_project(str(vba))
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    ws = workbook.add_worksheet("客户")
    ws.merge_range("A1:F1", "2024 年客户名单", workbook.add_format({"bold": True}))
    ws.write("A2", "导出日期：2024-03-01")
    ws.write_row("A4", ["客户名称", "手机", "签约日期", "金额", "编号", "VIP"])
    ws.write_row("A5", ["  深圳华强 ", 13800138000])
    ws.write_datetime("C5", dt.datetime(2024, 3, 5), date_format)
    ws.write_row("D5", [1234.5, 1001, True])
    ws.write_row("A6", ["北京中关村", 1.38001380e10, "2024/3/6", 10, 1002, False])
    # row 7 left blank on purpose
    ws.write_row("A8", ["上海浦东", "139 0013 9000", "2024年3月7日", 200.25, 1003])
    ws.write("A9", "合计")
    ws.write_formula("D9", "=SUM(D5:D8)", None, 1444.75)
    ws.write_formula("E9", "=SUM(E5:E8)", None, 3006)
    workbook.add_worksheet("隐藏").hide()
    workbook.close()
    return path


def test_xlsx_with_title_merged_cells_and_totals(tmp_path: Path) -> None:
    path = customer_workbook(tmp_path / "customers.xlsx")
    table = read_table(path)

    assert table.sheet == "客户"
    assert table.header == ["客户名称", "手机", "签约日期", "金额", "编号", "VIP"]
    assert table.header_row == 4
    assert table.row_numbers == [5, 6, 8]
    assert table.skipped_totals_row == 9
    assert table.encoding is None and table.delimiter is None
    first, second, third = table.rows
    assert first == ["深圳华强", 13800138000, dt.date(2024, 3, 5), 1234.5, 1001, True]
    assert second[1] == 13800138000  # stored as 1.38001380E+10, a float
    assert second[2] == "2024/3/6" and second[5] is False
    assert third[1] == "139 0013 9000" and third[5] is None


def test_sheet_that_starts_below_and_right_of_a1(tmp_path: Path) -> None:
    rows: list[list[object]] = [[], [], [None, "Name", "City"], [None, "A", "Shenzhen"]]
    table = read_table(make_workbook(tmp_path / "offset.xlsx", rows))
    assert (table.header_row, table.header, table.row_numbers) == (3, ["Name", "City"], [4])
    assert table.rows == [["A", "Shenzhen"]]


def test_xlsm_reads_like_xlsx(tmp_path: Path) -> None:
    vba = write_bytes(tmp_path / "vbaProject.bin", b"\x00" * 1024)
    path = customer_workbook(tmp_path / "customers.xlsm", vba=vba)
    table = read_table(path)
    assert table.header_row == 4 and len(table.rows) == 3


def test_list_sheets_gives_worksheets_and_cheap_row_counts(tmp_path: Path) -> None:
    path = customer_workbook(tmp_path / "customers.xlsx")
    assert list_sheets(path) == [SheetInfo("客户", 9), SheetInfo("隐藏", 0)]


def test_choosing_a_sheet_and_skipping_an_empty_first_sheet(tmp_path: Path) -> None:
    path = tmp_path / "two.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    workbook.add_worksheet("说明")  # empty cover sheet
    workbook.add_worksheet("Data").write_row(0, 0, ["Name", "City"])
    workbook.get_worksheet_by_name("Data").write_row(1, 0, ["A", "B"])  # type: ignore[union-attr]
    workbook.close()
    assert read_table(path).sheet == "Data"
    assert read_table(path, "Data").rows == [["A", "B"]]
    with pytest.raises(ReadError, match=r"'two.xlsx' sheet '说明' has no rows.*'Data'"):
        read_table(path, "说明")


def test_sum_row_without_a_label_is_a_totals_row(tmp_path: Path) -> None:
    path = tmp_path / "sums.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    ws = workbook.add_worksheet()
    ws.write_row(0, 0, ["Name", "Qty", "Amount"])
    for r, row in enumerate([["A", 1, 10.5], ["B", 2, 20.25], ["C", 3, 30]], start=1):
        ws.write_row(r, 0, row)
    ws.write_formula(4, 1, "=SUM(B2:B4)", None, 6)
    ws.write_formula(4, 2, "=SUM(C2:C4)", None, 60.75)
    workbook.close()
    table = read_table(path)
    assert len(table.rows) == 3
    assert table.skipped_totals_row == 5


def test_sum_formula_found_even_when_the_saved_value_differs(tmp_path: Path) -> None:
    # Some writers store 0 as a formula's value; the XML still says SUM(...).
    path = tmp_path / "uncached.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    ws = workbook.add_worksheet()
    ws.write_row(0, 0, ["Name", "Qty"])
    for r, row in enumerate([["A", 1], ["B", 2], ["C", 3]], start=1):
        ws.write_row(r, 0, row)
    ws.write_formula(4, 1, "=SUM(B2:B4)")  # cached value 0
    workbook.close()
    table = read_table(path)
    assert table.skipped_totals_row == 5 and len(table.rows) == 3


def test_numbers_only_last_row_that_is_not_a_sum_stays(tmp_path: Path) -> None:
    rows: list[list[object]] = [["Code", "Qty"], [1, 2], [3, 4], [5, 7]]
    table = read_table(make_workbook(tmp_path / "n.xlsx", rows))
    assert table.rows == [[1, 2], [3, 4], [5, 7]]
    assert table.skipped_totals_row is None


# ----------------------------------------------------------------------------- .xls (BIFF8)


def _record(kind: int, data: bytes) -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def _label(row: int, col: int, text: str) -> bytes:
    raw = text.encode("utf-16-le")
    return _record(0x0204, struct.pack("<HHHHB", row, col, 0, len(text), 1) + raw)


def _number(row: int, col: int, value: float, xf: int = 0) -> bytes:
    return _record(0x0203, struct.pack("<HHHd", row, col, xf, value))


def build_xls(cells: list[bytes], *, sheet: str = "Sheet1", password: bool = False) -> bytes:
    """A minimal BIFF8 workbook: globals (codepage, two XFs: General and a date) + one sheet."""
    bof_globals = _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0, 0, 0, 0))
    bof_sheet = _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0, 0, 0, 0))
    eof = _record(0x000A, b"")
    xfs = _record(0x00E0, struct.pack("<HH", 0, 0) + bytes(16)) + _record(
        0x00E0, struct.pack("<HH", 0, 14) + bytes(16)
    )
    head = bof_globals + (_record(0x002F, struct.pack("<H", 1)) if password else b"")
    head += _record(0x0042, struct.pack("<H", 1200)) + xfs
    name = sheet.encode("utf-16-le")
    bound_size = 4 + 8 + len(name)
    sheet_pos = len(head) + bound_size + len(eof)
    bound = _record(0x0085, struct.pack("<IBBBB", sheet_pos, 0, 0, len(sheet), 1) + name)
    stream = head + bound + eof + bof_sheet + b"".join(cells) + eof
    return build_ole({"Workbook": stream.ljust(4096 + 512, b"\x00")})


def build_ole(streams: dict[str, bytes]) -> bytes:
    """A compound file (MS-CFB v3): FAT in sector 0, directory in sector 1, then the streams."""
    sector = 512
    free, end, fat_sect, no_stream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    fat = [fat_sect, end]
    data = b""
    entries = []
    names = list(streams)
    for index, name in enumerate(names):
        content = streams[name]
        count = -(-len(content) // sector)
        start = len(fat) if count else end
        for i in range(count):
            fat.append(len(fat) + 1 if i < count - 1 else end)
        data += content.ljust(count * sector, b"\x00")
        right = index + 2 if index + 1 < len(names) else no_stream
        entries.append((name, 2, no_stream, right, no_stream, start, len(content)))
    root = ("Root Entry", 5, no_stream, no_stream, 1 if names else no_stream, end, 0)
    directory = b""
    for name, kind, left, right, child, start, size in [root, *entries]:
        raw = (name + "\x00").encode("utf-16-le")
        directory += raw.ljust(64, b"\x00") + struct.pack(
            "<HBBIII16sIQQIQ", len(raw), kind, 1, left, right, child, b"", 0, 0, 0, start, size
        )
    directory = directory.ljust(sector, b"\x00")
    assert len(fat) <= sector // 4
    fat_bytes = struct.pack(f"<{sector // 4}I", *(fat + [free] * (sector // 4 - len(fat))))
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
    header += struct.pack(
        "<HHHHH6sIIIIIIIII", 0x3E, 3, 0xFFFE, 9, 6, b"", 0, 1, 1, 0, 4096, end, 0, end, 0
    )
    header += struct.pack("<109I", 0, *([free] * 108))
    return header + fat_bytes + directory + data


def test_xls_biff8_workbook(tmp_path: Path) -> None:
    cells = [
        _label(0, 0, "客户名单"),
        _label(2, 0, "客户名称"),
        _label(2, 1, "手机"),
        _label(2, 2, "日期"),
        _label(3, 0, "华强"),
        _number(3, 1, 13800138000),
        _number(3, 2, 45356, xf=1),  # a date cell: serial 45356 with a date format
    ]
    path = write_bytes(tmp_path / "old.xls", build_xls(cells, sheet="客户"))
    assert list_sheets(path) == [SheetInfo("客户", None)]
    table = read_table(path)
    assert (table.sheet, table.header_row, table.header) == (
        "客户",
        3,
        ["客户名称", "手机", "日期"],
    )
    assert table.rows == [["华强", 13800138000, dt.datetime(2024, 3, 5)]] or table.rows == [
        ["华强", 13800138000, dt.date(2024, 3, 5)]
    ]
    assert table.row_numbers == [4]


def test_xls_with_a_password(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "locked.xls", build_xls([_label(0, 0, "x")], password=True))
    with pytest.raises(ReadError, match=r"'locked.xls' is protected with a password"):
        read_table(path)


# ----------------------------------------------------------------------------- bad input


def test_password_protected_xlsx(tmp_path: Path) -> None:
    data = build_ole(
        {"EncryptionInfo": b"\x04\x00\x04\x00" + bytes(60), "EncryptedPackage": bytes(600)}
    )
    path = write_bytes(tmp_path / "secret.xlsx", data)
    with pytest.raises(ReadError) as caught:
        read_table(path)
    message = str(caught.value)
    assert "'secret.xlsx' is protected with a password" in message
    assert "remove the password" in message and "save it again" in message
    with pytest.raises(ReadError, match=r"protected with a password"):
        list_sheets(path)


def test_ole_file_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "memo.xls", build_ole({"WordDocument": bytes(100)}))
    with pytest.raises(ReadError, match=r"'memo.xls' is not an Excel or CSV file.*Word"):
        read_table(path)


def test_damaged_ole_workbook(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "junk.xls", build_ole({"Workbook": b"\x09\x08\x02"}))
    with pytest.raises(ReadError, match=r"'junk.xls' cannot be read: the file is damaged"):
        read_table(path)


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


@pytest.mark.parametrize(
    ("name", "data", "looks"),
    [
        ("photo.xlsx", PNG + bytes(200), "PNG image"),
        ("report.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n" + bytes(100), "PDF"),
        ("noise.xlsx", bytes(range(256)) * 40, None),
    ],
)
def test_files_that_are_not_spreadsheets(
    tmp_path: Path, name: str, data: bytes, looks: str | None
) -> None:
    path = write_bytes(tmp_path / name, data)
    with pytest.raises(ReadError) as caught:
        read_table(path)
    message = str(caught.value)
    assert message.startswith(f"'{name}' is not an Excel or CSV file")
    assert "save it from Excel as .xlsx or .csv" in message
    if looks:
        assert looks in message


def test_word_document_renamed_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "letter.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(ReadError, match=r"not an Excel or CSV file.*Word document"):
        read_table(path)


def test_opendocument_text_renamed_ods(tmp_path: Path) -> None:
    path = tmp_path / "letter.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
    with pytest.raises(ReadError, match=r"'letter.ods' is not an Excel or CSV file.*Word"):
        read_table(path)


def test_html_saved_as_xls(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "export.xls", b"<html><body><table><tr><td>1</td></tr></table>")
    with pytest.raises(ReadError, match=r"'export.xls' is a web page.*Save As.*\.xlsx"):
        read_table(path)


def test_truncated_xlsx(tmp_path: Path) -> None:
    whole = customer_workbook(tmp_path / "whole.xlsx").read_bytes()
    path = write_bytes(tmp_path / "cut.xlsx", whole[: len(whole) // 2])
    with pytest.raises(ReadError) as caught:
        read_table(path)
    message = str(caught.value)
    assert "'cut.xlsx' cannot be read: the file is damaged or incomplete" in message
    assert "save it again" in message


def test_empty_sheet_and_empty_files(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    workbook.add_worksheet("Leer").write(3, 3, "   ")  # only spaces
    workbook.close()
    with pytest.raises(ReadError, match=r"'empty.xlsx' sheet 'Leer' has no rows"):
        read_table(path)
    with pytest.raises(ReadError, match=r"'blank.csv' has no rows"):
        read_table(write_bytes(tmp_path / "blank.csv", b",,\r\n\r\n ,\r\n"))
    with pytest.raises(ReadError, match=r"'zero.xlsx' is empty \(0 bytes\)"):
        read_table(write_bytes(tmp_path / "zero.xlsx", b""))


def test_sheet_not_found_lists_the_sheets(tmp_path: Path) -> None:
    path = customer_workbook(tmp_path / "customers.xlsx")
    with pytest.raises(ReadError, match=r"no sheet named 'Orders'; its sheets are '客户', '隐藏'"):
        read_table(path, "Orders")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match=r"does not exist"):
        read_table(tmp_path / "nope.xlsx")


def test_file_larger_than_the_limit(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "big.csv", b"a,b\r\n" + b"1,2\r\n" * 60_000)  # 293 KB
    with pytest.raises(ReadError) as caught:
        read_table(path, max_bytes=100 * 1024)
    message = str(caught.value)
    assert "'big.csv' is 293 KB; smbcrm reads files up to 100 KB: split it" in message
    with pytest.raises(ReadError, match=r"is 293 KB"):
        list_sheets(path, max_bytes=100 * 1024)
    assert len(read_table(path).rows) == 60_000  # the default limit (200 MB) lets it through


def test_zip_bomb_by_compression_ratio(tmp_path: Path) -> None:
    source = make_workbook(tmp_path / "source.xlsx", [["Name"], ["A"]])
    path = tmp_path / "bomb.xlsx"
    with (
        zipfile.ZipFile(source) as original,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb,
    ):
        for member in original.infolist():
            if member.filename != "xl/worksheets/sheet1.xml":
                bomb.writestr(member, original.read(member))
        with bomb.open("xl/worksheets/sheet1.xml", "w") as sheet:
            chunk = b"<row>" * 200_000  # 1 MB of the same bytes, 12 times: 11.4 MiB
            for _ in range(12):
                sheet.write(chunk)
    assert path.stat().st_size < 200_000
    with pytest.raises(ReadError) as caught:
        read_table(path)
    message = str(caught.value)
    assert "'bomb.xlsx' cannot be read safely" in message and "11 MB" in message
    with pytest.raises(ReadError, match=r"cannot be read safely"):
        list_sheets(path)


def test_zip_bomb_by_total_size(tmp_path: Path) -> None:
    path = customer_workbook(tmp_path / "customers.xlsx")
    with pytest.raises(ReadError, match=r"'customers.xlsx' cannot be read safely"):
        read_table(path, max_unzipped_bytes=10_000)
    assert read_table(path).rows  # the real limit is far above a normal workbook


def test_table_is_a_plain_dataclass(tmp_path: Path) -> None:
    table = read_table(write_bytes(tmp_path / "p.csv", b"a\r\n1\r\n"))
    assert isinstance(table, Table)
    assert table.path == tmp_path / "p.csv"
    assert table.rows == [["1"]] and table.header == ["a"]


def test_a_stray_value_far_beyond_the_list_is_refused_not_fatal(tmp_path: Path) -> None:
    """One value typed in the sheet's last cell must not make the reader build the whole
    grid (hundreds of gigabytes, which ends the program); run apart so a failure is a
    failed test, not a dead test run."""
    import subprocess
    import sys

    path = tmp_path / "far.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("客户")
    sheet.write_row(0, 0, ["客户名称", "手机"])
    sheet.write_row(1, 0, ["深圳华强", "13800138000"])
    sheet.write(1048575, 16383, "x")  # XFD1048576
    book.close()
    code = (
        "import sys\n"
        "from smbcrm.services.importing.reader import ReadError, read_table\n"
        "try:\n"
        f"    read_table({str(path)!r})\n"
        "except ReadError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-500:]
    assert "'far.xlsx' sheet '客户' reaches cell XFD1048576" in done.stdout
    assert "delete the rows and columns after your data" in done.stdout
