"""Per-desktop preferences (which database was open, who signed in last), as a JSON file.

Company-wide settings live in the database; these belong to one person's computer.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import platformdirs

from smbcrm.models.db import APP_NAME


def config_dir() -> Path:
    override = os.environ.get("SMBCRM_CONFIG_DIR")
    path = Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME, False))
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class Preferences:
    last_database: str | None = None
    # Last login per database, so the sign-in form is pre-filled for each book.
    last_login: dict[str, str] = field(default_factory=dict)
    language: str | None = None

    @classmethod
    def path(cls) -> Path:
        return config_dir() / "preferences.json"

    @classmethod
    def load(cls) -> Preferences:
        try:
            data = json.loads(cls.path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(data, dict):
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        try:
            return cls(**known)
        except TypeError:
            return cls()

    def save(self) -> None:
        target = self.path()
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, target)
