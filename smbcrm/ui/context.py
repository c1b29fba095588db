"""What every window needs to know: the open database, who is signed in, shared services."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from smbcrm.models import Database, Role, User
from smbcrm.services.customers import CustomerList
from smbcrm.services.permissions import Permission, can


@dataclass
class AppContext:
    db: Database
    user_id: int
    login: str
    full_name: str
    role: Role
    company: str
    region: str = "CN"
    customer_list: CustomerList = field(init=False)

    def __post_init__(self) -> None:
        self.customer_list = CustomerList(self.region)

    @classmethod
    def for_user(cls, db: Database, user: User, company: str) -> AppContext:
        return cls(
            db=db,
            user_id=user.id,
            login=user.login,
            full_name=user.full_name,
            role=user.role,
            company=company,
            region=db.default_region(),
        )

    @contextmanager
    def unit_of_work(self) -> Iterator[tuple[Session, User]]:
        """A session committed on success, with the signed-in user loaded in it."""
        with self.db.session(user_id=self.user_id) as session:
            yield session, session.get_one(User, self.user_id)

    def read_session(self) -> Session:
        """For reads: the caller closes it (use as a context manager)."""
        return self.db.new_session(self.user_id)

    def can(self, permission: Permission) -> bool:
        with self.read_session() as session:
            return can(session.get(User, self.user_id), permission)
