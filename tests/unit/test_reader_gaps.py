"""Reading what the first reader missed: error cells outside .xlsx, headers under long
notes, short Big5 and GBK files, and web pages saved with an .xls name.

Every file is built here, the way Excel, LibreOffice and other systems write them.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from smbcrm.models import ImportKind
from smbcrm.services.importing.mapping import header_hint
from smbcrm.services.importing.reader import ReadError, SheetInfo, list_sheets, read_table
from tests.unit.test_import_reader import _label, _record, build_xls, csv_bytes, write_bytes


def error_list(path: Path, sheet: str | None = None) -> list[tuple[int, int, str, str]]:
    return [(e.row, e.column, e.cell, e.code) for e in read_table(path, sheet).cell_errors]


# ----------------------------------------------------------------------------- .xls errors

XLS_CODES = {
    0x00: "#NULL!",
    0x07: "#DIV/0!",
    0x0F: "#VALUE!",
    0x17: "#REF!",
    0x1D: "#NAME?",
    0x24: "#NUM!",
    0x2A: "#N/A",
}


def _typed_error(row: int, col: int, code: int) -> bytes:
    """A BOOLERR record holding an error: what Excel saves for a typed #N/A."""
    return _record(0x0205, struct.pack("<HHHBB", row, col, 0, code, 1))


def _formula_error(row: int, col: int, code: int) -> bytes:
    """A FORMULA record whose saved result is an error (=1/0, =NA(), a deleted reference)."""
    result = bytes([2, 0, code, 0, 0, 0, 0xFF, 0xFF])
    tokens = bytes([0x1C, code])  # the formula itself: the error constant
    return _record(
        0x0006,
        struct.pack("<HHH", row, col, 0) + result + struct.pack("<HIH", 0, 0, len(tokens)) + tokens,
    )


def _boolean(row: int, col: int, value: bool) -> bytes:
    return _record(0x0205, struct.pack("<HHHBB", row, col, 0, int(value), 0))


def test_xls_error_cells_typed_or_from_formulas_are_reported_by_cell(tmp_path: Path) -> None:
    cells = [_label(0, 0, "客户名单"), _label(1, 0, "客户名称"), _label(1, 1, "手机")]
    expected = []
    for index, (code, text) in enumerate(XLS_CODES.items()):
        row = index + 2
        cells.append(_label(row, 0, f"公司{index}"))
        # Typed errors and formula results alternate down the column.
        make = _typed_error if index % 2 else _formula_error
        cells.append(make(row, 1, code))
        expected.append((row + 1, 1, f"B{row + 1}", text))
    cells += [_label(9, 0, "公司7"), _boolean(9, 1, True)]  # a TRUE cell is not an error
    path = write_bytes(tmp_path / "old.xls", build_xls(cells, sheet="客户"))

    table = read_table(path)

    assert table.header == ["客户名称", "手机"]
    assert error_list(path) == expected
    assert [row[1] for row in table.rows] == [None] * 7 + [True]
    assert table.cell_errors[0].message == "B3 holds #NULL!, an Excel error"


def test_xls_without_error_cells_has_none(tmp_path: Path) -> None:
    cells = [_label(0, 0, "客户名称"), _label(0, 1, "手机"), _label(1, 0, "华强")]
    path = write_bytes(tmp_path / "clean.xls", build_xls([*cells, _boolean(1, 1, False)]))
    assert read_table(path).cell_errors == []


def build_ole_with_mini_stream(name: str, content: bytes) -> bytes:
    """A compound file whose one stream is small enough to live in the mini stream, as
    compound files keep every stream under 4,096 bytes."""
    sector, mini = 512, 64
    free, end, fat_sect, no_stream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    mini_count = -(-len(content) // mini)
    mini_stream = content.ljust(mini_count * mini, b"\x00")
    container_count = -(-len(mini_stream) // sector)
    # Sector 0: FAT, 1: directory, 2: MiniFAT, 3…: the mini stream's container.
    fat = [fat_sect, end, end]
    for i in range(container_count):
        fat.append(3 + i + 1 if i < container_count - 1 else end)
    minifat = [i + 1 if i < mini_count - 1 else end for i in range(mini_count)]
    entries = [
        ("Root Entry", 5, no_stream, 1, 3, len(mini_stream)),
        (name, 2, no_stream, no_stream, 0, len(content)),
    ]
    directory = b""
    for entry_name, kind, right, child, start, size in entries:
        raw = (entry_name + "\x00").encode("utf-16-le")
        directory += raw.ljust(64, b"\x00") + struct.pack(
            "<HBBIII16sIQQIQ",
            len(raw),
            kind,
            1,
            no_stream,
            right,
            child if kind == 5 else no_stream,
            b"",
            0,
            0,
            0,
            start,
            size,
        )
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
    header += struct.pack(
        "<HHHHH6sIIIIIIIII", 0x3E, 3, 0xFFFE, 9, 6, b"", 0, 1, 1, 0, 4096, 2, 1, end, 0
    )
    header += struct.pack("<109I", 0, *([free] * 108))

    def sector_of(values: list[int]) -> bytes:
        return struct.pack(f"<{sector // 4}I", *(values + [free] * (sector // 4 - len(values))))

    return (
        header
        + sector_of(fat)
        + directory.ljust(sector, b"\x00")
        + sector_of(minifat)
        + mini_stream.ljust(container_count * sector, b"\x00")
    )


def test_xls_error_cells_of_a_small_workbook_kept_in_the_mini_stream(tmp_path: Path) -> None:
    whole = build_xls([_label(0, 0, "客户名称"), _label(1, 0, "华强"), _typed_error(2, 0, 0x2A)])
    stream_start = 512 * 3  # build_ole: header, FAT, directory, then the stream
    # Without build_xls's padding; the final EOF record is 0A 00 00 00, so its zeros go back.
    stream = whole[stream_start:].rstrip(b"\x00") + bytes(3)
    path = write_bytes(tmp_path / "small.xls", build_ole_with_mini_stream("Workbook", stream))
    table = read_table(path)
    assert table.rows == [["华强"], [None]]
    assert error_list(path) == [(3, 0, "A3", "#N/A")]


# ----------------------------------------------------------------------------- .ods errors

ODS_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" '
    'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"'
)
ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
    'manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" '
    'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def ods_text(text: str) -> str:
    return (
        '<table:table-cell office:value-type="string" calcext:value-type="string">'
        f"<text:p>{text}</text:p></table:table-cell>"
    )


def ods_error(formula: str, shown: str, *, as_number: bool = False, repeat: int = 1) -> str:
    """An error cell as LibreOffice saves it: the formula, an error mark, the error shown."""
    value = (
        'office:value-type="float" office:value="0"'
        if as_number
        else ('office:value-type="string" office:string-value=""')
    )
    repeated = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    return (
        f'<table:table-cell table:formula="of:={formula}" {value} '
        f'calcext:value-type="error"{repeated}><text:p>{shown}</text:p></table:table-cell>'
    )


EMPTY = "<table:table-cell/>"


def ods_row(*cells: str, repeat: int = 1) -> str:
    repeated = f' table:number-rows-repeated="{repeat}"' if repeat > 1 else ""
    return f"<table:table-row{repeated}>{''.join(cells)}</table:table-row>"


def write_ods(path: Path, sheets: dict[str, list[str]]) -> Path:
    tables = "".join(
        f'<table:table table:name="{name}">{"".join(rows)}</table:table>'
        for name, rows in sheets.items()
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODS_NAMESPACES} '
        f'office:version="1.2"><office:body><office:spreadsheet>{tables}'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet"
        )
        archive.writestr("META-INF/manifest.xml", ODS_MANIFEST)
        archive.writestr("content.xml", content)
    return path


def test_ods_error_cells_are_reported_by_cell_not_read_as_blank_or_zero(tmp_path: Path) -> None:
    path = write_ods(
        tmp_path / "errors.ods",
        {
            "客户": [
                ods_row(EMPTY),  # the list starts at B2
                ods_row(EMPTY, ods_text("客户名称"), ods_text("手机"), ods_text("金额")),
                ods_row(EMPTY, ods_text("A公司"), ods_error("1/0", "#DIV/0!"), ods_text("5")),
                # A failed formula LibreOffice saved with the number 0 as its value.
                ods_row(
                    EMPTY,
                    ods_text("B公司"),
                    ods_text("139"),
                    ods_error("NA()", "#N/A", as_number=True),
                ),
                # One error repeated over two columns, in a row repeated twice.
                ods_row(EMPTY, ods_text("C公司"), ods_error("[.Z99]", "#REF!", repeat=2), repeat=2),
                ods_row(EMPTY, ods_text("D公司"), ods_text("138"), ods_error("X()", "#NAME?")),
            ],
            "其他": [ods_row(ods_text("编号")), ods_row(ods_error("1/0", "#DIV/0!"))],
        },
    )

    table = read_table(path, "客户")

    assert table.header == ["客户名称", "手机", "金额"]
    assert table.rows == [
        ["A公司", None, "5"],
        ["B公司", "139", None],
        ["C公司", None, None],
        ["C公司", None, None],
        ["D公司", "138", None],
    ]
    assert error_list(path, "客户") == [
        (3, 1, "C3", "#DIV/0!"),
        (4, 2, "D4", "#N/A"),
        (5, 1, "C5", "#REF!"),
        (5, 2, "D5", "#REF!"),
        (6, 1, "C6", "#REF!"),
        (6, 2, "D6", "#REF!"),
        (7, 2, "D7", "#NAME?"),
    ]
    assert error_list(path, "其他") == [(2, 0, "A2", "#DIV/0!")]


def test_ods_without_error_cells_has_none(tmp_path: Path) -> None:
    path = write_ods(
        tmp_path / "clean.ods",
        {
            "S": [
                ods_row(ods_text("客户名称"), ods_text("手机")),
                ods_row(ods_text("华强"), ods_text("138")),
            ]
        },
    )
    table = read_table(path)
    assert (table.rows, table.cell_errors) == ([["华强", "138"]], [])


# ----------------------------------------------------------------------------- CSV errors


def test_csv_cells_holding_only_an_excel_error_code_are_error_cells(tmp_path: Path) -> None:
    # What Excel writes for error cells when it saves a sheet as CSV: the code as text.
    lines = [
        "客户名称,手机,金额,备注",
        "A公司,#N/A,#DIV/0!,see #N/A",  # "see #N/A" is a note that mentions an error
        "B公司,#REF!,#VALUE!,",
        "C公司,#NAME?,#NUM!,#NULL!",
        "D公司,13800138000,5,#SPILL!",
    ]
    path = write_bytes(tmp_path / "errors.csv", csv_bytes(lines, "gbk"))

    table = read_table(path)

    assert table.rows == [
        ["A公司", None, None, "see #N/A"],
        ["B公司", None, None, None],
        ["C公司", None, None, None],
        ["D公司", "13800138000", "5", None],
    ]
    assert error_list(path) == [
        (2, 1, "B2", "#N/A"),
        (2, 2, "C2", "#DIV/0!"),
        (3, 1, "B3", "#REF!"),
        (3, 2, "C3", "#VALUE!"),
        (4, 1, "B4", "#NAME?"),
        (4, 2, "C4", "#NUM!"),
        (4, 3, "D4", "#NULL!"),
        (5, 3, "D5", "#SPILL!"),
    ]


# ----------------------------------------------------------------------------- the header


def test_header_found_under_a_long_block_of_notes(tmp_path: Path) -> None:
    notes = [f"{n}. 导出说明第{n}条，请按说明填写,,," for n in range(1, 61)]
    lines = ["客户资料导出,,,", "导出日期：2024-03-01,,,", *notes, ",,,"]
    lines += [
        "客户名称,联系人,手机,城市",
        "深圳华强,张三,13800138000,深圳",
        "杭州绿源,李四,13900139000,杭州",
    ]
    path = write_bytes(tmp_path / "notes.csv", csv_bytes(lines, "utf-8"))

    for hint in (header_hint(ImportKind.CUSTOMERS), None):
        table = read_table(path, header_hint=hint)
        assert table.header_row == 64
        assert table.header == ["客户名称", "联系人", "手机", "城市"]
        assert table.rows[0] == ["深圳华强", "张三", "13800138000", "深圳"]


def test_a_one_column_list_keeps_its_header_with_a_wider_row_far_below(tmp_path: Path) -> None:
    lines = ["客户名称", *[f"公司{n}" for n in range(1, 120)], "公司120,备注"]
    path = write_bytes(tmp_path / "names.csv", csv_bytes(lines, "utf-8"))
    table = read_table(path, header_hint=header_hint(ImportKind.CUSTOMERS))
    assert (table.header_row, table.header[0], len(table.rows)) == (1, "客户名称", 120)


def test_no_header_in_the_rows_searched_is_refused_saying_how_many(tmp_path: Path) -> None:
    notes = [f"说明第{n}条,,," for n in range(1, 251)]
    lines = [*notes, "客户名称,联系人,手机,城市", "深圳华强,张三,13800138000,深圳"]
    path = write_bytes(tmp_path / "too_many_notes.csv", csv_bytes(lines, "utf-8"))
    with pytest.raises(ReadError) as caught:
        read_table(path, header_hint=header_hint(ImportKind.CUSTOMERS))
    message = str(caught.value)
    assert message.startswith("'too_many_notes.csv' has no row of column titles")
    assert "none of its first 200 rows names the columns" in message
    assert "delete the notes above them" in message


def test_a_sheet_of_numbers_only_is_refused_as_having_no_header(tmp_path: Path) -> None:
    lines = ["13800138000,5", "13900139000,7", "13700137000,9"]
    path = write_bytes(tmp_path / "numbers.csv", csv_bytes(lines, "utf-8"))
    with pytest.raises(
        ReadError, match=r"'numbers.csv' has no row of column titles: none of its first 3 rows"
    ):
        read_table(path)


# ----------------------------------------------------------------------------- Big5 and GBK

BIG5_HEADER = "客戶名稱,電話,手機,地址,電子郵件,聯絡人,負責業務,統一編號"


@pytest.mark.parametrize(
    "lines",
    [
        [
            BIG5_HEADER,
            "台灣積體電路製造股份有限公司,03-5636688,0912-345-678,新竹市東區力行六路8號,a@tsmc.tw,許文功,陳業務,22099131",
        ],
        ["客戶,手機", "陳,0912345678"],
        ["統一編號,負責業務", "12345675,林"],
        ["客戶名稱", "台北貿易"],
        ["負責業務", "林"],
    ],
)
def test_short_big5_files_are_read_as_big5(tmp_path: Path, lines: list[str]) -> None:
    # Short Chinese text reads about as well in a Japanese or Korean code page to the
    # encoding detector; a Taiwan or Hong Kong Excel file is Big5.
    path = write_bytes(tmp_path / "big5.csv", csv_bytes(lines, "big5"))
    table = read_table(path)
    assert table.encoding in {"cp950", "big5hkscs"}
    assert table.header == lines[0].split(",")
    assert table.rows == [lines[1].split(",")]


def test_hong_kong_characters_are_read_with_hkscs(tmp_path: Path) -> None:
    lines = [
        "客戶名稱,地址,聯絡人",
        "彩虹邨士多,九龍彩虹邨金碧樓,陳先生",
        "嘅咗冇有限公司,旺角,黃生",
    ]
    table = read_table(write_bytes(tmp_path / "hk.csv", csv_bytes(lines, "big5hkscs")))
    assert table.encoding == "big5hkscs"
    assert table.rows[1] == ["嘅咗冇有限公司", "旺角", "黃生"]


@pytest.mark.parametrize(
    "lines",
    [["客户,手机", "陈,13800138000"], ["客户名称", "华强"], ["邮箱", "a@b.cn"]],
)
def test_short_gbk_files_are_read_as_gbk(tmp_path: Path, lines: list[str]) -> None:
    path = write_bytes(tmp_path / "gbk.csv", csv_bytes(lines, "gbk"))
    table = read_table(path)
    assert table.encoding == "gb18030"
    assert (table.header, table.rows) == (lines[0].split(","), [lines[1].split(",")])


def test_greek_unit_signs_in_a_gbk_file_do_not_make_it_another_encoding(tmp_path: Path) -> None:
    lines = ["产品名称,规格", "电阻,10kΩ 1/4W", "电容,100μF"]
    table = read_table(write_bytes(tmp_path / "parts.csv", csv_bytes(lines, "gbk")))
    assert table.encoding == "gb18030"
    assert table.rows == [["电阻", "10kΩ 1/4W"], ["电容", "100μF"]]


def test_a_japanese_shift_jis_file_is_still_read_as_japanese(tmp_path: Path) -> None:
    lines = [
        "会社名,電話,住所",
        "株式会社サンプル,03-1234-5678,東京都",
        "山田商店,06-1234-5678,大阪府",
    ]
    table = read_table(write_bytes(tmp_path / "jp.csv", csv_bytes(lines, "shift_jis")))
    assert table.rows[0] == ["株式会社サンプル", "03-1234-5678", "東京都"]


def test_a_western_name_in_a_short_file_keeps_its_letters(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "w.csv", csv_bytes(["Name", "Müller"], "cp1252"))
    assert read_table(path).rows == [["Müller"]]


# ----------------------------------------------------------------------------- web pages

EXCEL_PAGE = """<html xmlns:o="urn:schemas-microsoft-com:office:office"
xmlns:x="urn:schemas-microsoft-com:office:excel" xmlns="http://www.w3.org/TR/REC-html40">
<head>
<meta http-equiv=Content-Type content="text/html; charset=gb2312">
<meta name=ProgId content=Excel.Sheet>
<style>
<!--table {{mso-displayed-decimal-separator:"\\.";}}
td {{mso-number-format:"\\@"; content: "<td>not a cell</td>";}}
-->
</style>
<!--[if gte mso 9]><xml>
 <x:ExcelWorkbook><x:ExcelWorksheets><x:ExcelWorksheet><x:Name>客户</x:Name>
 </x:ExcelWorksheet></x:ExcelWorksheets></x:ExcelWorkbook>
</xml><![endif]-->
<script>var cells = "<td>" + x;</script>
</head>
<body>
<table border=1 cellpadding=0 cellspacing=0 width=400>
 <col width=72 span=4>
 <tr height=19>
  <td colspan=4 class=xl65>客户名单</td>
 </tr>
 <tr><th>客户名称</th><th>联系人</th><th>手机</th><th>城市</th></tr>
 <tr>
  <td>深圳华强&nbsp;电子&amp;科技</td>
  <td>张三<br>王五</td>
  <td x:num="13800138000">13800138000</td>
  <td rowspan=2>深圳</td>
 </tr>
 <tr><td>B公司</td><td>李四</td><td>#N/A</td></tr>
 <tr><td>C公司</td><td>赵六</td><td>13700137000</td><td>广州</td></tr>
 <tr><td>合计</td><td colspan=3>3</td></tr>
</table>
</body>
</html>
"""


def test_an_excel_web_page_saved_as_xls_is_read_as_excel_shows_it(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "客户.xls", EXCEL_PAGE.format().encode("gbk"))

    assert list_sheets(path) == [SheetInfo("客户", None)]
    table = read_table(path)

    assert (table.encoding, table.sheet, table.header_row) == ("gb18030", None, 2)
    assert table.header == ["客户名称", "联系人", "手机", "城市"]
    assert table.rows == [
        ["深圳华强 电子&科技", "张三\n王五", "13800138000", "深圳"],
        ["B公司", "李四", None, "深圳"],  # 深圳 spans both rows
        ["C公司", "赵六", "13700137000", "广州"],
    ]
    assert table.row_numbers == [3, 4, 5]
    assert table.skipped_totals_row == 6
    assert error_list(path) == [(4, 2, "C4", "#N/A")]


@pytest.mark.parametrize("bom", [True, False])
def test_a_utf16_web_page_is_read(tmp_path: Path, bom: bool) -> None:
    page = (
        "<html><body><table><tr><td>客户名称</td><td>手机</td></tr>"
        "<tr><td>深圳华强</td><td>13800138000</td></tr></table></body></html>"
    )
    data = page.encode("utf-16" if bom else "utf-16-le")
    table = read_table(write_bytes(tmp_path / "export.xls", data))
    assert table.encoding == "utf-16"
    assert (table.header, table.rows) == (["客户名称", "手机"], [["深圳华强", "13800138000"]])


def test_a_gbk_web_page_that_names_no_charset_is_read(tmp_path: Path) -> None:
    page = (
        "\r\n<!-- exported -->\r\n<table><tr><td>客户名称</td><td>城市</td></tr>"
        "<tr><td>北京中关村科技有限公司</td><td>北京</td></tr>"
    )  # never closed, as some systems write it
    table = read_table(write_bytes(tmp_path / "export.xls", page.encode("gbk")))
    assert table.encoding == "gb18030"
    assert table.rows == [["北京中关村科技有限公司", "北京"]]


def test_a_big5_web_page_is_read(tmp_path: Path) -> None:
    page = (
        '<html><head><meta charset="big5"></head><body><table>'
        f"<tr>{''.join(f'<td>{h}</td>' for h in BIG5_HEADER.split(','))}</tr>"
        "<tr><td>台北貿易有限公司</td><td>02-2345-6789</td></tr></table></body></html>"
    )
    table = read_table(write_bytes(tmp_path / "export.xls", page.encode("big5")))
    assert table.encoding == "cp950"
    assert table.header == BIG5_HEADER.split(",")
    assert table.rows[0][:2] == ["台北貿易有限公司", "02-2345-6789"]


def test_a_page_laid_out_with_tables_gives_the_list_inside(tmp_path: Path) -> None:
    page = (
        "<html><body><table><tr><td>系统菜单</td><td>"
        "<table><tr><td>客户名称</td><td>手机</td></tr><tr><td>华强</td><td>138</td></tr></table>"
        "</td></tr></table></body></html>"
    )
    table = read_table(write_bytes(tmp_path / "page.xls", page.encode("utf-8")))
    assert (table.header, table.rows) == (["客户名称", "手机"], [["华强", "138"]])


def test_a_web_page_without_a_table_is_refused_saying_what_it_is(tmp_path: Path) -> None:
    page = "<html><head><title>登录</title></head><body>会话已过期，请重新登录</body></html>"
    path = write_bytes(tmp_path / "export.xls", page.encode("utf-8"))
    with pytest.raises(ReadError) as caught:
        read_table(path)
    message = str(caught.value)
    assert message.startswith("'export.xls' is a web page saved with a spreadsheet name")
    assert "no table in it holds anything" in message and "login or error page" in message


def test_a_web_page_table_without_column_titles_is_refused(tmp_path: Path) -> None:
    page = "<table><tr><td>1</td><td>2</td></tr><tr><td>3</td><td>4</td></tr></table>"
    path = write_bytes(tmp_path / "numbers.xls", page.encode("utf-8"))
    with pytest.raises(ReadError) as caught:
        read_table(path)
    message = str(caught.value)
    assert "'numbers.xls' is a web page saved with a spreadsheet name" in message
    assert "none of its first 2 rows holds column titles" in message
    assert "Save As → Excel Workbook (.xlsx)" in message


def test_an_xml_spreadsheet_is_still_refused(tmp_path: Path) -> None:
    data = (
        b'<?xml version="1.0"?>\r\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"/>'
    )
    with pytest.raises(ReadError, match=r"'old.xls' is a web page or XML file.*Save As"):
        read_table(write_bytes(tmp_path / "old.xls", data))


def _cells(rows: Sequence[Sequence[str]]) -> str:
    return "".join("<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in rows)


def test_a_web_page_of_stray_angle_brackets_is_read_quickly(tmp_path: Path) -> None:
    # A page full of "<" that open nothing must not make the reader scan it again and again.
    page = "<table>" + _cells([["客户名称", "备注"], ["华强", "<a" * 200_000]]) + "</table>"
    table = read_table(write_bytes(tmp_path / "odd.xls", page.encode("utf-8")))
    assert table.rows[0][0] == "华强"
