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


def test_runaway_quote_is_reported_with_its_row(tmp_path: Path) -> None:
    data = b'Name,Note\r\nA,"never closed\r\n' + b"x" * 140_000 + b"\r\n"
    with pytest.raises(ReadError, match=r"'runaway.csv' row 2: a quote \(\"\) opens a value"):
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


# ----------------------------------------------------------------------------- mixed encodings

MIXED_NAMES = ["深圳华强电子", "杭州绿源茶业", "北京科技有限公司", "上海贸易"]


def test_a_gbk_line_pasted_into_a_utf8_file_is_refused_naming_the_line(tmp_path: Path) -> None:
    # With one UTF-8 row the file decodes as GB18030, with four as a Cyrillic code page:
    # either way every other name would be stored garbled.
    for utf8_rows, bad_line in ((1, 3), (4, 6)):
        data = csv_bytes(
            ["Name,Mobile,City"]
            + [f"{MIXED_NAMES[i]},1380013800{i},深圳" for i in range(utf8_rows)],
            "utf-8",
        )
        data += csv_bytes(["杭州绿源茶业,13912345678,杭州"], "gbk")
        path = write_bytes(tmp_path / f"mixed_{utf8_rows}.csv", data)
        with pytest.raises(ReadError) as caught:
            read_table(path)
        message = str(caught.value)
        assert f"'mixed_{utf8_rows}.csv' mixes two text encodings: most of it is UTF-8" in message
        assert f"Lines in the other encoding: {bad_line}." in message
        assert "save it with the encoding 'UTF-8'" in message


def test_utf8_lines_pasted_into_a_gbk_file_are_refused_naming_them(tmp_path: Path) -> None:
    lines = ["客户名称,手机,城市"] + [f"{n},1380013800{i},深圳" for i, n in enumerate(MIXED_NAMES)]
    data = csv_bytes(lines, "gbk")
    data += csv_bytes(
        ["“新客户”有限公司,13912345678,杭州", "广州—佛山贸易,13912345679,广州"], "utf-8"
    )
    with pytest.raises(ReadError) as caught:
        read_table(write_bytes(tmp_path / "gbk_mixed.csv", data))
    message = str(caught.value)
    assert "most of it is GBK, but some lines are UTF-8" in message
    assert "Lines in UTF-8: 6, 7." in message
    assert "Save As → 'CSV UTF-8 (Comma delimited)'" in message


def test_a_gbk_line_that_happens_to_be_valid_utf8_is_still_read_as_gbk(tmp_path: Path) -> None:
    # 女 in GBK is C5 AE, which UTF-8 reads as "Ů": no Chinese list holds that.
    lines = ["客户名称,性别,城市", "深圳华强电子,男,深圳", "Li Na,女,Beijing"]
    table = read_table(write_bytes(tmp_path / "gender.csv", csv_bytes(lines, "gbk")))
    assert table.encoding == "gb18030"
    assert table.rows == [["深圳华强电子", "男", "深圳"], ["Li Na", "女", "Beijing"]]


# ----------------------------------------------------------------------------- stray quotes


def test_a_stray_quote_that_swallows_the_rest_of_the_file_is_refused(tmp_path: Path) -> None:
    lines = ["客户名称,手机,城市"] + [f"公司{i},1380013800{i},深圳" for i in range(6)]
    lines[3] = '"公司2,13800138002,深圳'
    path = write_bytes(tmp_path / "stray.csv", csv_bytes(lines, "utf-8"))
    with pytest.raises(ReadError) as caught:
        read_table(path)
    assert str(caught.value) == (
        "'stray.csv' row 4: a quote (\") opens a value that never closes, so the rest of the "
        'file would become that one value. The row starts: "公司2,13800138002,深圳. Remove '
        'the stray quote, or double it ("") if it belongs in the text; save the file and '
        "import it again."
    )


def test_a_stray_quote_closed_by_another_far_below_is_refused(tmp_path: Path) -> None:
    lines = ["客户名称,手机,城市,备注"] + [f"公司{i},1380013800{i},深圳," for i in range(10)]
    lines[3] = '公司2,"13800138002,深圳,'
    lines[9] = '公司8,13800138008,深圳,老客户"'  # the quote that ends the runaway value
    path = write_bytes(tmp_path / "closed_late.csv", csv_bytes(lines, "utf-8"))
    with pytest.raises(ReadError, match=r"'closed_late.csv' row 4: .* over the next 6 lines"):
        read_table(path)


def test_notes_over_several_lines_are_not_mistaken_for_a_stray_quote(tmp_path: Path) -> None:
    note = "Called, no answer.\r\nCalled again, left a message.\r\nVisited, signed, paid."
    text = (
        f'Name,Phone,City,Owner,Note\r\nACME,138,Shenzhen,Li,"{note}"\r\nBeta,139,Beijing,Li,\r\n'
    )
    table = read_table(write_bytes(tmp_path / "notes.csv", text.encode()))
    assert table.rows[0][4] == note
    assert table.rows[1] == ["Beta", "139", "Beijing", "Li", None]
    # Three columns: each line of this note has as many commas as a record.
    note = "Met Li, Wang, and Zhang.\r\nSent the catalogue, prices, samples.\r\nCall, visit, sign."
    text = f'Name,Phone,Note\r\nACME,138,"{note}"\r\nBeta,139,\r\n'
    table = read_table(write_bytes(tmp_path / "narrow.csv", text.encode()))
    assert table.rows == [["ACME", "138", note], ["Beta", "139", None]]


def test_a_quote_inside_a_value_is_read_as_excel_reads_it(tmp_path: Path) -> None:
    text = 'Name,City\r\n"ACME" Trading,Shenzhen\r\n"Beta, Inc.",Beijing\r\n'
    table = read_table(write_bytes(tmp_path / "inner.csv", text.encode()))
    assert table.rows == [["ACME Trading", "Shenzhen"], ["Beta, Inc.", "Beijing"]]


def test_a_note_longer_than_the_csv_module_limit_is_read(tmp_path: Path) -> None:
    note = "备注内容" * 35_000  # 140,000 characters: a pasted e-mail thread
    text = f'客户名称,手机,备注\r\n深圳华强,13800138000,"{note}"\r\n杭州绿源,13912345678,短备注\r\n'
    table = read_table(write_bytes(tmp_path / "long_note.csv", text.encode()))
    assert table.rows == [["深圳华强", "13800138000", note], ["杭州绿源", "13912345678", "短备注"]]


# ----------------------------------------------------------------------------- CSV round trip


def test_an_exported_csv_reads_back_without_the_formula_guards(tmp_path: Path) -> None:
    from smbcrm.services.export.csv_writer import write_csv
    from smbcrm.services.export.workbook import Column, Sheet

    titles = ["客户名称", "=Score", "电话", "城市"]
    rows: list[tuple[object, ...]] = [
        ("-折扣客户", "-5", "+44 20 7946 0958", "@深圳"),
        ("=华强电子", "+3", "13800138001", "深圳"),
        ("Rock'-n'-roll", "'=kept'", "13800138002", "'@"),
    ]
    sheet = Sheet("客户", [Column(t, t) for t in titles], rows, len(rows))
    path = tmp_path / "export.csv"
    write_csv(path, sheet, "utf-8-sig")

    first_line = path.read_text(encoding="utf-8-sig").splitlines()[0]
    assert first_line == "客户名称,'=Score,电话,城市"  # a title runs as a formula too
    table = read_table(path)
    assert table.header == titles
    assert [tuple(r) for r in table.rows] == rows


# ----------------------------------------------------------------------------- xlsx structure


def test_a_value_merged_down_over_data_rows_belongs_to_each_row(tmp_path: Path) -> None:
    path = tmp_path / "merged.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("客户")
    ws.merge_range("A1:C1", "2024 年客户名单")  # a title across the top stays a title
    ws.write_row("A2", ["客户名称", "城市", "手机"])
    ws.merge_range("B3:B5", "深圳")
    ws.merge_range("B6:C7", "广州")  # two columns wide: the value sits in the first
    for r, name in enumerate(["A公司", "B公司", "C公司", "D公司", "E公司"], start=2):
        ws.write(r, 0, name)
    ws.write_column("C3", ["13800138001", "13800138002", "13800138003"])
    book.close()

    table = read_table(path)
    assert table.header_row == 2
    assert table.rows == [
        ["A公司", "深圳", "13800138001"],
        ["B公司", "深圳", "13800138002"],
        ["C公司", "深圳", "13800138003"],
        ["D公司", "广州", None],
        ["E公司", "广州", None],
    ]


def test_excel_error_cells_are_reported_by_cell_not_read_as_blank(tmp_path: Path) -> None:
    path = tmp_path / "errors.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("客户")
    ws.write("B2", "客户名单")
    ws.write_row("B3", ["客户名称", "手机", None, "城市"])  # column D: no title, no data
    ws.write_formula("B4", "=NA()", None, "#N/A")
    ws.write("C4", "13800138000")
    ws.write("B5", "B公司")
    ws.write_formula("C5", "=#REF!", None, "#REF!")
    ws.write_formula("E5", "=1/0", None, "#DIV/0!")
    ws.write_formula("E6", "=1/0", None, "#DIV/0!")  # a row that holds only an error
    ws.write("B7", "C公司")
    book.close()

    table = read_table(path)
    assert table.header == ["客户名称", "手机", "城市"]
    assert table.rows == [
        [None, "13800138000", None],
        ["B公司", None, None],
        [None, None, None],
        ["C公司", None, None],
    ]
    assert [(e.row, e.column, e.cell, e.code) for e in table.cell_errors] == [
        (4, 0, "B4", "#N/A"),
        (5, 1, "C5", "#REF!"),
        (5, 2, "E5", "#DIV/0!"),
        (6, 2, "E6", "#DIV/0!"),
    ]
    assert table.cell_errors[1].message == "C5 holds #REF!, an Excel error"
    assert table.cell_errors[1].hint == "Fix the formula or type the value."


def test_error_cells_are_found_all_through_a_long_sheet(tmp_path: Path) -> None:
    # The sheet XML is read in pieces; cells cut by a piece's end must still be found.
    path = tmp_path / "long.xlsx"
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = book.add_worksheet("客户")
    ws.write_row(0, 0, ["客户名称", "手机", "城市"])
    expected = []
    for r in range(1, 40_001):
        ws.write_string(r, 0, f"公司{r}")
        if r % 397 == 0:
            ws.write_formula(r, 1, "=NA()", None, "#N/A")
            expected.append(f"B{r + 1}")
        else:
            ws.write_string(r, 1, f"138{r:08d}")
        ws.write_string(r, 2, "深圳")
    book.close()

    table = read_table(path)
    assert len(table.rows) == 40_000
    assert [e.cell for e in table.cell_errors] == expected


def test_a_sheet_of_notes_in_front_of_the_list_is_passed_over(tmp_path: Path) -> None:
    path = tmp_path / "notes_first.xlsx"
    book = xlsxwriter.Workbook(str(path))
    notes = book.add_worksheet("说明")
    notes.write("A1", "本表由系统导出，请勿修改")
    notes.write("A2", "版本 3")
    data = book.add_worksheet("客户")
    data.write_row(0, 0, ["客户名称", "手机"])
    data.write_row(1, 0, ["深圳华强", "13800138000"])
    book.close()

    def known(cells: list[str]) -> int:
        return sum(cell in {"客户名称", "手机"} for cell in cells)

    table = read_table(path, header_hint=known)
    assert (table.sheet, table.rows) == ("客户", [["深圳华强", "13800138000"]])
    assert read_table(path, "说明").sheet == "说明"  # chosen by name, it is read


def test_a_one_column_list_with_a_known_header_is_not_taken_for_notes(tmp_path: Path) -> None:
    path = tmp_path / "names.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("名单").write_column("A1", ["客户名称", "深圳华强", "杭州绿源"])
    book.add_worksheet("其他").write_row("A1", ["编号", "备注"])
    book.close()
    table = read_table(path, header_hint=lambda cells: int("客户名称" in cells))
    assert (table.sheet, table.rows) == ("名单", [["深圳华强"], ["杭州绿源"]])
