"""Company set-up, staff accounts and signing in.

Passwords are hashed with argon2id; neither the password nor the hash is ever logged.
Repeated wrong passwords lock the account for a growing delay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smbcrm.errors import AuthenticationError, NotFoundError, ValidationError
from smbcrm.models import Database, Role, Setting, User, utcnow
from smbcrm.models.keys import DEFAULT_REGION
from smbcrm.models.settings import COMPANY_NAME
from smbcrm.models.settings import DEFAULT_REGION as REGION_KEY
from smbcrm.services.permissions import Permission, require

MIN_PASSWORD_LENGTH = 8
FREE_ATTEMPTS = 4
BASE_LOCK = timedelta(seconds=30)
MAX_LOCK = timedelta(minutes=15)
_LOGIN_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def normalize_login(login: str) -> str:
    return login.strip().lower()


def validate_login(login: str) -> str:
    normalized = normalize_login(login)
    if not _LOGIN_RE.match(normalized):
        raise ValidationError(
            {
                "login": "A login is 2–64 characters: letters, digits, dot, dash, underscore or @, "
                "starting with a letter or digit."
            }
        )
    return normalized


def validate_password(password: str | None) -> str:
    if password is None or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            {"password": f"The password needs at least {MIN_PASSWORD_LENGTH} characters."}
        )
    return password


@dataclass(frozen=True)
class StaffRow:
    id: int
    login: str
    full_name: str
    role: Role
    active: bool
    customers: int


def company_exists(session: Session) -> bool:
    return session.scalar(select(Setting.value).where(Setting.key == COMPANY_NAME)) is not None


def create_company(
    db: Database,
    company_name: str,
    owner_login: str,
    owner_full_name: str | None,
    password: str | None,
    *,
    default_region: str = DEFAULT_REGION,
) -> User:
    """First run: the company's name and its first owner account, in one transaction."""
    errors: dict[str, str] = {}
    if not company_name or not company_name.strip():
        errors["company"] = "Enter the company's name."
    try:
        login = validate_login(owner_login)
    except ValidationError as exc:
        errors.update(exc.field_errors)
        login = owner_login
    try:
        validate_password(password)
    except ValidationError as exc:
        errors.update(exc.field_errors)
    if errors:
        raise ValidationError(errors)
    assert password is not None
    with db.session() as session:
        if company_exists(session):
            raise ValidationError(
                {"company": "This database already belongs to a company; sign in instead."}
            )
        session.add(Setting(key=COMPANY_NAME, value=company_name.strip()))
        session.add(Setting(key=REGION_KEY, value=default_region.upper()))
        owner = User(
            login=login,
            full_name=(owner_full_name or "").strip() or login,
            role=Role.OWNER,
            active=True,
            password_hash=hash_password(password),
        )
        session.add(owner)
        session.flush()
        session.info["user_id"] = owner.id
    db.forget_cached_settings()
    return owner


def find_user(session: Session, login: str) -> User:
    user = session.scalar(select(User).where(User.login == normalize_login(login)))
    if user is None:
        raise NotFoundError(f"No staff member has the login '{login}'. See `smbcrm staff list`.")
    return user


def sign_in(session: Session, login: str, password: str, *, now: datetime | None = None) -> User:
    """Check a login and password; wrong attempts lock the account for a growing delay."""
    now = now or utcnow()
    user = session.scalar(select(User).where(User.login == normalize_login(login)))
    if user is None:
        # Same work and same message as a wrong password: logins are not revealed.
        verify_password(_DUMMY_HASH, password)
        raise AuthenticationError("Wrong login or password.")
    if not user.active:
        raise AuthenticationError(
            f"The account '{user.login}' has been deactivated. Ask an owner or manager."
        )
    if user.locked_until is not None and user.locked_until > now:
        wait = int((user.locked_until - now).total_seconds()) + 1
        raise AuthenticationError(
            f"Too many wrong passwords. Try again in {_duration(wait)}, "
            "or ask an owner or manager to reset your password."
        )
    if not verify_password(user.password_hash, password):
        user.failed_sign_ins += 1
        message = "Wrong login or password."
        if user.failed_sign_ins > FREE_ATTEMPTS:
            lock = min(BASE_LOCK * 2 ** (user.failed_sign_ins - FREE_ATTEMPTS - 1), MAX_LOCK)
            user.locked_until = now + lock
            locked = _duration(int(lock.total_seconds()))
            message = f"Wrong login or password. Sign-in is locked for {locked}."
        session.commit()
        raise AuthenticationError(message)
    user.failed_sign_ins = 0
    user.locked_until = None
    user.last_sign_in_at = now
    return user


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{round(seconds / 60)} minutes"


_DUMMY_HASH = hash_password("not a real password")


def add_staff(
    session: Session,
    actor: User | None,
    *,
    login: str,
    full_name: str,
    role: Role | str,
    password: str | None,
    email: str | None = None,
    phone: str | None = None,
    city: str | None = None,
) -> User:
    require(actor, Permission.MANAGE_STAFF)
    role = Role(role)
    if role == Role.OWNER:
        require(actor, Permission.MANAGE_OWNERS)
    errors: dict[str, str] = {}
    try:
        normalized = validate_login(login)
        if session.scalar(select(User.id).where(User.login == normalized)) is not None:
            errors["login"] = f"The login '{normalized}' is taken; choose another."
    except ValidationError as exc:
        errors.update(exc.field_errors)
        normalized = login
    if not full_name or not full_name.strip():
        errors["full_name"] = "Enter the staff member's name."
    try:
        validate_password(password)
    except ValidationError as exc:
        errors.update(exc.field_errors)
    if errors:
        raise ValidationError(errors)
    assert password is not None
    user = User(
        login=normalized,
        full_name=full_name.strip(),
        role=role,
        active=True,
        email=email,
        phone=phone,
        city=city,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, actor: User | None, user: User, password: str) -> None:
    if actor is None or actor.id != user.id:
        require(actor, Permission.MANAGE_STAFF)
        if user.role == Role.OWNER:
            require(actor, Permission.MANAGE_OWNERS)
    user.password_hash = hash_password(validate_password(password))
    user.failed_sign_ins = 0
    user.locked_until = None


def list_staff(session: Session, *, include_inactive: bool = True) -> list[StaffRow]:
    from smbcrm.models import Customer

    counts = dict(
        session.execute(
            select(Customer.owner_id, func.count())
            .where(Customer.archived_at.is_(None), Customer.merged_into_id.is_(None))
            .group_by(Customer.owner_id)
        ).all()
    )
    stmt = select(User).order_by(User.active.desc(), User.full_name)
    if not include_inactive:
        stmt = stmt.where(User.active.is_(True))
    return [
        StaffRow(u.id, u.login, u.full_name, u.role, u.active, int(counts.get(u.id, 0)))
        for u in session.scalars(stmt)
    ]


def active_staff(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.full_name)))
