"""The Qt binding itself must not leak references to None (PySide6 6.12.0 did, on Python 3.11).

Each leaked reference brings a Python 3.11 process closer to "deallocating None", which
aborts the app after a few thousand clicks; pyproject.toml excludes the broken release.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication, QComboBox, QLineEdit


def test_common_calls_do_not_leak_references_to_none(qapp: QApplication) -> None:
    edit = QLineEdit()
    combo = QComboBox()
    combo.addItem("none", None)
    before = sys.getrefcount(None)
    for _ in range(5000):
        edit.setText("x")
        combo.currentData()
        qapp.processEvents()
    assert abs(sys.getrefcount(None) - before) < 100
