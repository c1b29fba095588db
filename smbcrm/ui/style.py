"""Look and feel shared by every window: style sheet, fonts that render Chinese, formats."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from smbcrm.resources import resource

# Tried in order: each platform's UI font first, then its Chinese UI font; Qt falls back
# along this list for characters the first font lacks (Segoe UI has no 汉字).
UI_FONT_FAMILIES = [
    "Segoe UI",  # Windows
    "Noto Sans",
    "Microsoft YaHei UI",  # Windows, Simplified Chinese
    "Microsoft YaHei",
    "PingFang SC",  # macOS
    "Hiragino Sans GB",
    "Noto Sans CJK SC",  # Linux
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "Microsoft JhengHei UI",  # Traditional Chinese
    "PingFang TC",
    "Noto Sans CJK TC",
    "DejaVu Sans",
]

OVERDUE_COLOR = QColor("#b3261e")
# Inline styles for labels whose look follows what they say at the moment.
ERROR_STYLE = "QLabel { color: #b3261e; }"
OK_STYLE = "QLabel { color: #1b6e3a; }"
HINT_STYLE = "QLabel { color: #6b7280; }"
EMPTY_STYLE = "QLabel { color: #6b7280; font-size: 15px; padding: 40px; }"
OVERDUE_BACKGROUND = QColor("#fdf1f0")
MUTED_COLOR = QColor("#6b7280")


def text_width(widget: QWidget, chars: int) -> int:
    """The width of ``chars`` Latin letters in the widget's font, for sizing windows and columns.

    Not averageCharWidth(): where the UI font falls back to a Chinese font, that is the
    Chinese font's average, about twice a Latin letter, and windows come out twice too wide.
    """
    return widget.fontMetrics().horizontalAdvance("x") * chars


def app_icon() -> QIcon:
    return QIcon(str(resource("icons", "smbcrm.svg")))


def ui_font() -> QFont:
    """The platform's UI font at its usual size, with Chinese fallbacks that exist here."""
    base = QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont)
    available = set(QFontDatabase.families())
    families = [f for f in UI_FONT_FAMILIES if f in available]
    if base.family() and base.family() not in families:
        families.insert(0, base.family())
    font = QFont(base)
    if families:
        font.setFamilies(families)
    if font.pointSizeF() < 9.5:  # Windows' 9 pt is small for 汉字
        font.setPointSizeF(10)
    return font


def light_palette() -> QPalette:
    """A calm light palette; the style sheet assumes light backgrounds."""
    palette = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#f5f6f8",
        QPalette.ColorRole.WindowText: "#1f2933",
        QPalette.ColorRole.Base: "#ffffff",
        QPalette.ColorRole.AlternateBase: "#f8f9fb",
        QPalette.ColorRole.Text: "#1f2933",
        QPalette.ColorRole.Button: "#ffffff",
        QPalette.ColorRole.ButtonText: "#1f2933",
        QPalette.ColorRole.Highlight: "#2563eb",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#ffffff",
        QPalette.ColorRole.ToolTipText: "#1f2933",
        QPalette.ColorRole.PlaceholderText: "#9aa3ae",
        QPalette.ColorRole.Link: "#1d4ed8",
        QPalette.ColorRole.Mid: "#d5d9df",
        QPalette.ColorRole.Midlight: "#e6e9ee",
    }
    for role, color in colors.items():
        palette.setColor(role, QColor(color))
    disabled = (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.ButtonText,
    )
    for role in disabled:
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#9aa3ae"))
    return palette


def style_sheet() -> str:
    try:
        text = resource("styles", "app.qss").read_text(encoding="utf-8")
    except OSError:
        return ""  # an unstyled app still works
    # Style sheets resolve url() against the working directory: give them absolute paths.
    return text.replace("@ICONS@", resource("icons").as_posix())


def apply_style(app: QApplication) -> None:
    """Fusion + a light palette + the style sheet: the same calm look on Windows and Mac."""
    app.setStyle("Fusion")
    hints = QGuiApplication.styleHints()
    if hasattr(hints, "setColorScheme"):  # Qt ≥ 6.8: keep native dialogs light as well
        hints.setColorScheme(Qt.ColorScheme.Light)
    app.setPalette(light_palette())
    app.setFont(ui_font())
    app.setStyleSheet(style_sheet())
    app.setWindowIcon(app_icon())


def short_date(value: date | None) -> str:
    return value.isoformat() if value is not None else ""
