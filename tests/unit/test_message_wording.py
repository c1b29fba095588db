"""Messages the services write in English, read in Chinese when the windows are: errors,
field errors, import problems and progress lines, with their values kept."""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from smbcrm.errors import ConflictError, ValidationError, set_message_wording
from smbcrm.models import Database, ImportKind
from smbcrm.services import auth, currencies, my_day
from smbcrm.services.export.service import export
from smbcrm.services.importing.apply import apply_plan
from smbcrm.services.importing.orders import OrderImportPlan, apply_order_plan
from smbcrm.services.importing.service import prepare_import
from smbcrm.services.progress import Progress
from smbcrm.ui.translation import MessageWording, load_message_wording, messages_path

SERVICES = Path(__file__).resolve().parents[2] / "smbcrm" / "services"
_PLACEHOLDER_RE = re.compile(r"(?<!\{)\{(?!\{)[^{}]*\}")


@pytest.fixture
def chinese_messages() -> Iterator[MessageWording]:
    wording = load_message_wording("zh")
    assert wording is not None
    set_message_wording(wording)
    yield wording
    set_message_wording(None)


def test_a_template_matches_with_any_values_and_keeps_them() -> None:
    wording = MessageWording(
        {
            "'{value}' is not a phone number": "‘{value}’不是电话号码",
            "Enter the customer's name.": "请输入客户名称。",
            "{count} rows of {{total}}": "{{total}} 中的 {count} 行",
        }
    )
    assert wording("'12ab' is not a phone number") == "‘12ab’不是电话号码"
    assert wording("Enter the customer's name.") == "请输入客户名称。"
    assert wording("3 rows of {total}") == "{total} 中的 3 行"
    assert wording("Enter the customer's name.; 'x' is not a phone number") == (
        "请输入客户名称。；‘x’不是电话号码"
    )
    assert wording("Something nobody wrote a template for") == (
        "Something nobody wrote a template for"
    )


def test_errors_read_in_the_installed_wording(chinese_messages: MessageWording) -> None:
    error = ValidationError({"name": "Enter the customer's name."})
    assert (
        str(error) == chinese_messages("Enter the customer's name.") != "Enter the customer's name."
    )
    assert error.field_errors["name"] == str(error)
    set_message_wording(None)
    assert str(error) == "Enter the customer's name."
    assert str(ConflictError("x")) == "x"


def _templates_in_code() -> set[str]:
    """Sentences the services write for people (f-strings as templates); not docstrings,
    SQL, or the demo company's made-up data."""
    found: set[str] = set()
    for path in SERVICES.rglob("*.py"):
        if path.name.startswith("demo"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                skip.update(id(v) for v in node.values)
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            text = _template(node)
            if text is None or not re.match(r"^[\s'\"“(]*[A-Z{]", text):
                continue
            # Words of a sentence (not codes, constants or a pattern of wording.py).
            if not re.search(r"[a-z]{2,} [a-z]{2,}", text) or "(.+)" in text:
                continue
            words = re.findall(r"[A-Za-z]{2,}", _PLACEHOLDER_RE.sub("", text))
            if len(words) >= 3 and not re.match(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b", text):
                found.add(text)
    return found


def _template(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if not isinstance(node, ast.JoinedStr):
        return None
    parts = []
    for value in node.values:
        if isinstance(value, ast.Constant):
            parts.append(str(value.value).replace("{", "{{").replace("}", "}}"))
        elif isinstance(value, ast.FormattedValue):
            parts.append("{" + ast.unparse(value.value) + "}")
    return "".join(parts)


def test_every_message_the_services_write_has_its_chinese() -> None:
    catalog = json.loads(messages_path("zh").read_text(encoding="utf-8"))
    missing = sorted(_templates_in_code() - set(catalog))
    assert not missing, "add to resources/i18n/zh-messages.json:\n" + "\n".join(missing[:40])


def test_translations_keep_every_value() -> None:
    catalog = json.loads(messages_path("zh").read_text(encoding="utf-8"))
    problems = []
    for source, chinese in catalog.items():
        wanted = Counter(p for p in _PLACEHOLDER_RE.findall(source) if " if " not in p)
        given = Counter(p for p in _PLACEHOLDER_RE.findall(chinese) if " if " not in p)
        if wanted != given or not chinese.strip():
            problems.append(f"{source!r} → {chinese!r}")
    assert not problems, "\n".join(problems)


def test_pieces_put_into_sentences_read_in_chinese_too(chinese_messages: MessageWording) -> None:
    """A sentence built around a permission, a role or a duration reads in one language."""
    from smbcrm.models import Role
    from smbcrm.services.auth import _duration
    from smbcrm.services.permissions import ROLE_LABELS, Permission

    untranslated = [
        piece
        for piece in [p.value for p in Permission] + [r.lower() for r in ROLE_LABELS.values()]
        if chinese_messages(piece) == piece
    ]
    assert not untranslated
    denied = (
        f"A {ROLE_LABELS[Role.SALES].lower()} may not {Permission.MERGE.value}; "
        "ask an owner or manager."
    )
    assert chinese_messages(denied) == "销售人员无权合并客户；请联系老板或经理。"
    locked = f"Wrong login or password. Sign-in is locked for {_duration(300)}."
    assert chinese_messages(locked) == "登录名或密码错误。登录已锁定 5 分钟。"
    assert chinese_messages(f"Order SO-1: ¥10.00 ({'PAID'})") == "订单 SO-1：¥10.00（已付款）"
    assert chinese_messages(my_day.reminder_text(1, 3)) == "3 个跟进今天到期，1 个已逾期"


def test_names_and_codes_inside_a_sentence_stay_as_written(
    chinese_messages: MessageWording,
) -> None:
    # A customer called "Open" is a name here, not the order status "open".
    assert chinese_messages("Merged in: Open") == "已并入：Open"
    assert chinese_messages("Open (opportunity)") == "Open（商机）"
    assert chinese_messages("'open' is not a phone number") == "‘open’不是电话号码"
    # A list of pieces reads as a Chinese list.
    assert chinese_messages(currencies.unconverted_text({"GBP": 3, "CHF": 1})) == (
        "销售额未计入 GBP 订单 3 笔、CHF 订单 1 笔：缺少汇率。老板或经理可在“文件 › 币种与汇率”中设置。"
    )


def test_progress_lines_of_an_import_and_an_export_read_in_chinese(
    chinese_messages: MessageWording, sqlite_db: Database, tmp_path: Path
) -> None:
    """Everything the progress dialog shows while importing and exporting, in Chinese."""
    auth.create_company(sqlite_db, "Acme Trading", "boss", "Wang Fang", "a-long-password")
    with sqlite_db.new_session() as session:
        boss = auth.find_user(session, "boss").id
    lines: list[str] = []
    progress = Progress(lambda _done, _total, message: lines.append(message))
    customers_file = tmp_path / "customers.csv"
    customers_file.write_text(
        "客户编号,客户名称,手机\nC1,华强贸易,13800138000\nC2,绿源科技,13900139000\n",
        encoding="utf-8",
    )
    prepared = prepare_import(sqlite_db, customers_file, source_system="erp", progress=progress)
    apply_plan(sqlite_db, boss, prepared.plan, progress=progress)
    orders_file = tmp_path / "orders.csv"
    orders_file.write_text("订单号,日期,客户编号,金额\nSO-1,2026-03-02,C1,100\n", encoding="utf-8")
    prepared = prepare_import(
        sqlite_db, orders_file, ImportKind.ORDERS, source_system="erp", progress=progress
    )
    assert isinstance(prepared.plan, OrderImportPlan)
    apply_order_plan(sqlite_db, boss, prepared.plan, progress=progress)
    for kind in ("customers", "orders"):
        result = export(sqlite_db, boss, kind, tmp_path / f"{kind}.xlsx", progress=progress)
        lines.append(result.summary.replace(str(result.path), ""))
    shown = [chinese_messages(line) for line in lines if line]
    assert shown
    english = [line for line in shown if re.search(r"[A-Za-z]{3,}", line)]
    assert not english, english
