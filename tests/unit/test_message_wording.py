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

from smbcrm.services.errors import ConflictError, ValidationError, set_message_wording
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
