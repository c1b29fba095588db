"""Writes a benchmark's figures into its own section of ``docs/benchmarks.md``."""

from __future__ import annotations

import platform
import re
from datetime import date
from pathlib import Path

HEADER = (
    "# Benchmarks\n\n"
    "Figures written by the scripts in `bench/`; each compares smbcrm's code path with the "
    "fastest plain-library way to do the same step, measured in the same run. The machine is "
    "shared and noisy, so read the ratios first.\n"
)


def write_section(path: Path, title: str, lines: list[str]) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    machine = f"{platform.machine()}, Python {platform.python_version()}"
    body = f"## {title}\n\n_Run on {date.today().isoformat()} ({machine})._\n\n" + "\n".join(lines)
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: body + "\n\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + body + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
