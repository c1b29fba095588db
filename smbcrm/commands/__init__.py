"""Command-line commands that live beside their feature, each adding itself to ``smbcrm``.

A module here defines ``register(commands)``, adding its sub-parsers with ``handler=`` set;
shared helpers (opening the database, the acting user, passwords, progress lines) come
from :mod:`smbcrm.cli`.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

# Modules that add commands; each is imported only when the parser is built.
COMMAND_MODULES: tuple[str, ...] = ("export", "risk", "rates", "orders", "merge", "dedupe")


def register_all(commands: argparse._SubParsersAction[Any]) -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"smbcrm.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"smbcrm.commands.{name}":
                raise
            continue  # a feature not installed in this build
        module.register(commands)
