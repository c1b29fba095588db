"""The Chinese interface's catalog: every text the windows show has its Chinese, and no
translation loses a placeholder or a keyboard shortcut."""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from smbcrm.ui.translation import effective_language, load_catalog

UI = Path(__file__).resolve().parents[2] / "smbcrm" / "ui"

_TRANSLATING_CALLS = {"tr": 0, "_tr": 0, "translate": 1, "QT_TR_NOOP": 0, "QT_TRANSLATE_NOOP": 1}
PLACEHOLDER_RE = re.compile(r"\{[^{}]*\}|%\w")
# "&Save" marks S as the shortcut letter; "&&" is a plain "&", "&nbsp;" an HTML entity.
ACCELERATOR_RE = re.compile(r"(?<!&)&(?![&#]|[a-zA-Z]+;)(\w)")


def _is_label_table(name: str) -> bool:
    """Tables of texts a window passes to tr() one by one (column titles, labels)."""
    return name == "COLUMNS" or name.endswith(("_LABELS", "_WORDS"))


def _table_texts(value: ast.expr) -> list[tuple[str, int]]:
    items = value.values if isinstance(value, ast.Dict) else getattr(value, "elts", [])
    # Rows of a table ("key", "one", "many"): the texts after the key.
    items = [
        text
        for item in items
        for text in (item.elts[1:] if isinstance(item, ast.Tuple) else [item])
    ]
    return [
        (c.value, c.lineno)
        for c in items
        if isinstance(c, ast.Constant) and isinstance(c.value, str)
    ]


def texts_in_code(paths: Iterable[Path]) -> dict[str, list[str]]:
    """Every literal text passed to ``tr`` / ``translate`` (or marked for it) in these files,
    and the texts of their label tables → where."""
    found: dict[str, list[str]] = {}

    def add(text: str, path: Path, line: int) -> None:
        found.setdefault(text, []).append(f"{path.name}:{line}")

    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name) and _is_label_table(target.id):
                    for text, line in _table_texts(node.value):
                        add(text, path, line)
                continue
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            position = _TRANSLATING_CALLS.get(str(name))
            if position is None or len(node.args) <= position:
                continue
            arg = node.args[position]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                add(arg.value, path, node.lineno)
    return found


def ui_files() -> list[Path]:
    return sorted(UI.glob("*.py"))


def _labels_from_services() -> dict[str, list[str]]:
    """Labels the services keep for the windows, which pass them through tr() as shown."""
    from smbcrm.services import cases
    from smbcrm.services.activities import ACTIVITY_LABELS
    from smbcrm.services.audit_log import (
        ACTION_LABELS,
        ENTITY_LABELS,
        FIELD_LABELS,
        VALUE_LABELS,
    )
    from smbcrm.services.importing.fields import SPECS
    from smbcrm.services.importing.orders_match import ROUTE_LABELS
    from smbcrm.services.merge import _LABELS as MERGE_FIELD_LABELS
    from smbcrm.services.permissions import ROLE_LABELS

    tables = {
        "cases.STATE_LABELS": cases.STATE_LABELS.values(),
        "cases.KIND_LABELS": cases.KIND_LABELS.values(),
        "cases.SEVERITY_LABELS": cases.SEVERITY_LABELS.values(),
        "ACTIVITY_LABELS": ACTIVITY_LABELS.values(),
        "ROUTE_LABELS": ROUTE_LABELS.values(),
        "ROLE_LABELS": ROLE_LABELS.values(),
        "audit_log.ENTITY_LABELS": ENTITY_LABELS.values(),
        "audit_log.ACTION_LABELS": ACTION_LABELS.values(),
        "audit_log.FIELD_LABELS": [*FIELD_LABELS.values(), "yes", "no"],
        "audit_log.VALUE_LABELS": [v for values in VALUE_LABELS.values() for v in values.values()],
        "import fields": [spec.label for spec in SPECS.values()],
        "merge field labels": MERGE_FIELD_LABELS.values(),
    }
    return {text: [where] for where, texts in tables.items() for text in texts}


def test_every_text_in_the_windows_has_its_chinese() -> None:
    catalog = load_catalog("zh")
    shown = texts_in_code(ui_files()) | _labels_from_services()
    missing = {text: places for text, places in shown.items() if text not in catalog.texts}
    listed = "\n".join(f"{places[0]}: {text!r}" for text, places in sorted(missing.items()))
    assert not missing, f"add these texts to resources/i18n/zh.json:\n{listed}"


def test_translations_keep_placeholders_and_shortcuts() -> None:
    problems = []
    catalog = load_catalog("zh")
    entries = list(catalog.texts.items())
    entries += [pair for texts in catalog.in_context.values() for pair in texts.items()]
    for source, chinese in entries:
        if Counter(PLACEHOLDER_RE.findall(source)) != Counter(PLACEHOLDER_RE.findall(chinese)):
            problems.append(f"placeholders differ: {source!r} → {chinese!r}")
        for letter in ACCELERATOR_RE.findall(source):
            if f"&{letter.upper()}" not in chinese and f"&{letter}" not in chinese:
                problems.append(f"shortcut &{letter} lost: {source!r} → {chinese!r}")
        if not chinese.strip():
            problems.append(f"empty: {source!r}")
    assert not problems, "\n".join(problems)


def test_the_texts_found_in_the_code_include_each_way_of_asking() -> None:
    texts = texts_in_code(ui_files())
    assert "&File" in texts  # self.tr(...)
    assert "Currencies and exchange rates" in texts  # a module's tr(...)
    assert "At risk" in texts  # QCoreApplication.translate(context, ...)
    assert "Assigned to" in texts  # QT_TRANSLATE_NOOP(context, ...)
    assert "Very unhappy" in texts  # a window's label table


def test_the_language_shown_is_the_persons_choice() -> None:
    assert effective_language("zh") == "zh"
    assert effective_language("en") == "en"
    assert effective_language(None) in ("en", "zh")  # the computer's
    assert effective_language("fr") == effective_language(None)
    assert not load_catalog("en")


def test_a_context_can_have_its_own_word() -> None:
    catalog = load_catalog("zh")
    assert catalog.lookup("StaffView", "Active") == "在职"
    assert catalog.lookup("CustomerList", "Active") == catalog.texts["Active"]
