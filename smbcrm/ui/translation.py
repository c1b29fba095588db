"""The interface in English or Chinese (简体中文).

Every text a window shows goes through Qt's ``translate`` (the modules' ``tr``). For
Chinese a :class:`CatalogTranslator` answers from ``resources/i18n/zh.json`` — the English
text as written in the code, and its Chinese — and Qt's own translation gives its standard
buttons and menus (保存, 取消, 复制…). A text missing from the catalog shows in English, never
blank; a test keeps the catalog complete and its placeholders intact.

Which language: the person's choice (View › Language, kept in their preferences), else
Chinese when the computer's language is Chinese, else English. The choice applies from the
next start: windows already open keep the language they were made in.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from smbcrm.errors import set_message_wording
from smbcrm.resources import resource

LANGUAGES = {"en": "English", "zh": "中文"}
_CHINESE = QLocale(
    QLocale.Language.Chinese, QLocale.Script.SimplifiedChineseScript, QLocale.Country.China
)
# Qt's own translations: standard buttons, input context menus, file dialogs.
_QT_CATALOGS = ("qtbase",)
# Kept referenced for as long as the application runs (Qt does not own translators).
_installed: list[QTranslator] = []
_locale_before: list[QLocale] = []  # the default locale to go back to


def effective_language(preference: str | None) -> str:
    """The language to show: the person's choice, else the computer's (Chinese or English)."""
    if preference in LANGUAGES:
        return str(preference)
    return "zh" if QLocale.system().language() == QLocale.Language.Chinese else "en"


def ui_language() -> str:
    """The language windows are shown in now ("zh" or "en"), for texts made outside Qt."""
    return "zh" if QLocale().language() == QLocale.Language.Chinese else "en"


def catalog_path(language: str) -> Path:
    return resource("i18n", f"{language}.json")


# Where one English word needs two Chinese ones ("Active" customer 成交, "Active" staff
# member 在职), the catalog's "@contexts" gives the one for a window's context.
CONTEXTS_KEY = "@contexts"


@dataclass(frozen=True)
class Catalog:
    texts: dict[str, str]  # English → translation
    in_context: dict[str, dict[str, str]]  # context → English → translation there

    def lookup(self, context: str, source: str) -> str | None:
        special = self.in_context.get(context)
        if special is not None and source in special:
            return special[source]
        return self.texts.get(source)

    def __bool__(self) -> bool:
        return bool(self.texts)


def _read(path: Path) -> dict[str, object]:
    """A catalog file's contents; empty when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _texts(data: object) -> dict[str, str]:
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, str) and v}


def load_catalog(language: str) -> Catalog:
    """English text → its translation; empty for English or an unreadable catalog."""
    data = {} if language == "en" else _read(catalog_path(language))
    contexts = data.get(CONTEXTS_KEY)
    in_context = (
        {str(c): _texts(t) for c, t in contexts.items()} if isinstance(contexts, dict) else {}
    )
    return Catalog(_texts(data), in_context)


class CatalogTranslator(QTranslator):
    """Answers Qt's translate() from a catalog keyed by the English text."""

    def __init__(self, catalog: Catalog) -> None:
        super().__init__()
        self.catalog = catalog

    def translate(
        self,
        context: str,
        source_text: str,
        disambiguation: str | None = None,
        n: int = -1,
    ) -> str | None:
        # None, not "": Qt then tries the next translator and finally shows the source.
        return self.catalog.lookup(str(context), source_text)

    def isEmpty(self) -> bool:
        return not self.catalog


_ENGLISH_WORD_RE = re.compile(r"[A-Za-z]{2,}")
# Placeholders that carry what people wrote (a customer called "Open" is not an order
# status): their values are never worded.
_PEOPLES_TEXT_RE = re.compile(
    r"name|absorbed|subject|title|wanted|resolution|\bwho\b|original|raw|text|cell|part"
    r"|(?<![.\w])value|shown|key|code|login|path|sheet|column"
)
_TOKEN_RE = re.compile(r"\{\{|\}\}|\{[^{}]*\}|[^{}]+")


def _tokens(template: str) -> list[tuple[bool, str]]:
    """A message template as (is a placeholder, text) parts; {{ and }} are literal braces."""
    parts: list[tuple[bool, str]] = []
    for token in _TOKEN_RE.findall(template):
        if token in ("{{", "}}"):
            parts.append((False, token[0]))
        else:
            parts.append((token.startswith("{"), token))
    return parts


# {'s' if count != 1 else ''}: a choice between two words written in the code.
_CHOICE_RE = re.compile(r"""\{'([^']*)' if .+ else '([^']*)'\}""")


def _placeholder_regex(placeholder: str) -> str:
    choice = _CHOICE_RE.fullmatch(placeholder)
    if choice is None:
        return "(.*?)"
    return "(" + "|".join(re.escape(word) for word in choice.groups()) + ")"


class MessageWording:
    """Messages the services write in English, in another language.

    The catalog's keys are the messages' templates as the code writes them (an f-string's
    text, ``'{value}' is not a phone number``); a message matches a template when it reads
    the same with any text in its placeholders, and is then given in the translation with
    the same values. Where several templates match ("same e-mail {email}" and "same e-mail
    name: {a} / {b}"), the one with the most words of its own wins. Several messages joined
    by "; " are worded one by one. A message no template matches is left as it is.

    A value that is itself a piece the code puts into sentences — a permission ("merge
    customers"), a role, a duration ("5 minutes"), a clause (" (it looks like a web page)")
    — is worded too when the catalog has it, so the sentence reads in one language.
    """

    _PIECE_DEPTH = 2  # a piece inside a piece inside the message, no deeper

    def __init__(self, templates: dict[str, str]) -> None:
        self.exact: dict[str, str] = {}
        found: list[tuple[int, re.Pattern[str], list[str], list[tuple[bool, str]]]] = []
        for source, target in templates.items():
            parts = _tokens(source)
            names = [text for placeholder, text in parts if placeholder]
            if not names:
                self.exact["".join(text for _p, text in parts)] = "".join(
                    text for _p, text in _tokens(target)
                )
                continue
            regex = "".join(
                _placeholder_regex(text) if placeholder else re.escape(text)
                for placeholder, text in parts
            )
            own = sum(len(text) for placeholder, text in parts if not placeholder)
            found.append((own, re.compile(regex, re.DOTALL), names, _tokens(target)))
        # The most specific template first: the one with the most text of its own.
        found.sort(key=lambda item: -item[0])
        self.patterns = [(regex, names, target) for _own, regex, names, target in found]
        # A piece as people type it: an order status comes "paid", "Paid" or "PAID".
        self.folded = {source.casefold(): target for source, target in self.exact.items()}
        self._pieces: dict[tuple[str, int], str] = {}

    def __call__(self, text: str) -> str:
        found = self._one(text)
        if found is not None:
            return found
        if "; " in text:
            parts = text.split("; ")
            worded = [self._one(part) for part in parts]
            if any(w is not None for w in worded):
                return "；".join(
                    w if w is not None else p for w, p in zip(worded, parts, strict=True)
                )
        return text

    def _one(self, text: str, depth: int = 0) -> str | None:
        exact = self.exact.get(text)
        if exact is not None:
            return exact
        for regex, names, target in self.patterns:
            match = regex.fullmatch(text)
            if match is None:
                continue
            values: dict[str, str] = {}
            for name, value in zip(names, match.groups(), strict=True):
                if not _PEOPLES_TEXT_RE.search(name):
                    value = self._piece(value, depth + 1)
                values.setdefault(name, value)
            return "".join(
                values.get(part, "") if placeholder else part for placeholder, part in target
            )
        return None

    def _piece(self, value: str, depth: int) -> str:
        # Names, numbers and file paths stay as they are; only English words are looked up.
        if depth > self._PIECE_DEPTH or not _ENGLISH_WORD_RE.search(value):
            return value
        key = (value, depth)
        if key not in self._pieces:
            if len(self._pieces) > 10_000:
                self._pieces.clear()
            worded = self._list(value, depth) or self._one(value, depth)
            if worded is None:
                worded = self.folded.get(value.strip().casefold())
            self._pieces[key] = value if worded is None else worded
        return self._pieces[key]

    def _list(self, value: str, depth: int) -> str | None:
        """A list of pieces ("3 orders in GBP, 1 order in CHF") when each item is known."""
        if ", " not in value:
            return None
        items = [self._one(item, depth) for item in value.split(", ")]
        if any(item is None for item in items):
            return None
        return "、".join(item for item in items if item is not None)


def messages_path(language: str) -> Path:
    return resource("i18n", f"{language}-messages.json")


def load_message_wording(language: str) -> MessageWording | None:
    templates = {} if language == "en" else _texts(_read(messages_path(language)))
    return MessageWording(templates) if templates else None


def _qt_translator(name: str) -> QTranslator | None:
    for folder in (
        resource("i18n"),
        Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)),
    ):
        translator = QTranslator()
        if translator.load(_CHINESE, name, "_", str(folder)):
            return translator
    return None


def install_language(app: QCoreApplication, language: str) -> bool:
    """Show the interface in ``language`` from now on; True when a translation was installed.

    English needs nothing. For Chinese the default locale becomes Chinese too, so reports
    and reasons the windows ask for (at-risk reasons, export headers) come in Chinese.
    """
    remove_language(app)
    if language != "zh":
        return False
    catalog = load_catalog(language)
    if not catalog:
        return False
    _locale_before.append(QLocale())
    QLocale.setDefault(_CHINESE)
    translators: list[QTranslator] = [CatalogTranslator(catalog)]
    translators += [t for t in map(_qt_translator, _QT_CATALOGS) if t is not None]
    for translator in translators:
        app.installTranslator(translator)
        _installed.append(translator)
    set_message_wording(load_message_wording(language))
    return True


def remove_language(app: QCoreApplication) -> None:
    """Back to English (the texts as written)."""
    set_message_wording(None)
    while _installed:
        app.removeTranslator(_installed.pop())
    if _locale_before:
        QLocale.setDefault(_locale_before[0])
        _locale_before.clear()
