"""Company-wide settings stored in the database, shared by every desktop."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from smbcrm.models.base import Base


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


COMPANY_NAME = "company.name"
DEFAULT_REGION = "phone.default_region"
DEMO_COMPANY = "company.is_demo"
