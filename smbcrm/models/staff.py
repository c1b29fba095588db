"""Staff members who sign in: role, active flag, credentials."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from smbcrm.models.base import IDS_NEVER_REUSED, Base, TimestampMixin, enum_column
from smbcrm.models.enums import Role


class User(TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    active: Mapped[bool] = mapped_column(default=True, index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    city: Mapped[str | None] = mapped_column(String(100))
    # Only a salted argon2id hash is kept; the password itself is never stored or logged.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    failed_sign_ins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_sign_in_at: Mapped[datetime | None]
    deactivated_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<User {self.login} {self.role.value}{'' if self.active else ' inactive'}>"
