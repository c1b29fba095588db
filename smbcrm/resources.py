"""Where the shipped resources (icons, style sheets, sample files) are on disk.

In a source checkout they are in ``resources/`` beside the package; in the installer
build PyInstaller puts them in ``resources/`` inside the bundle.
"""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)
