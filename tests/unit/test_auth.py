"""Company set-up, staff accounts and sign-in, on both engines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from smbcrm.errors import AuthenticationError, PermissionDenied, ValidationError
from smbcrm.models import Database, Role, User, utcnow
from smbcrm.services import auth
from tests.conftest import OWNER_PASSWORD, add_user


def test_company_and_owner_are_created_with_a_hashed_password(company: Database) -> None:
    with company.new_session() as session:
        owner = auth.find_user(session, "BOSS")
        assert owner.role == Role.OWNER
        assert owner.password_hash and OWNER_PASSWORD not in owner.password_hash
        assert owner.password_hash.startswith("$argon2id$")
        stored = session.execute(text("SELECT password_hash FROM users")).scalar_one()
        assert OWNER_PASSWORD not in stored


def test_a_second_company_in_the_same_database_is_refused(company: Database) -> None:
    with pytest.raises(ValidationError, match="already belongs"):
        auth.create_company(company, "Other", "other", "Other", "other-password")


def test_create_company_reports_every_bad_field(db: Database) -> None:
    with pytest.raises(ValidationError) as caught:
        auth.create_company(db, " ", "x", None, "short")
    assert set(caught.value.field_errors) == {"company", "login", "password"}


def test_sign_in_with_the_right_and_wrong_password(company: Database) -> None:
    with company.session() as session:
        assert auth.sign_in(session, "boss", OWNER_PASSWORD).login == "boss"
    with company.session() as session, pytest.raises(AuthenticationError, match="Wrong login"):
        auth.sign_in(session, "boss", "nope")
    with company.session() as session, pytest.raises(AuthenticationError, match="Wrong login"):
        auth.sign_in(session, "nobody", "whatever")


def test_repeated_wrong_passwords_lock_the_account_for_a_growing_delay(company: Database) -> None:
    now = utcnow()
    for _ in range(auth.FREE_ATTEMPTS):
        with company.session() as session, pytest.raises(AuthenticationError):
            auth.sign_in(session, "boss", "wrong", now=now)
    with company.session() as session, pytest.raises(AuthenticationError, match="locked for 30"):
        auth.sign_in(session, "boss", "wrong", now=now)
    # Even the right password waits until the lock has passed.
    with company.session() as session, pytest.raises(AuthenticationError, match="Try again"):
        auth.sign_in(session, "boss", OWNER_PASSWORD, now=now + timedelta(seconds=10))
    later = now + timedelta(seconds=31)
    with company.session() as session, pytest.raises(AuthenticationError, match="locked for 60"):
        auth.sign_in(session, "boss", "wrong", now=later)
    with company.session() as session:
        user = auth.sign_in(session, "boss", OWNER_PASSWORD, now=later + timedelta(seconds=61))
        assert user.failed_sign_ins == 0 and user.locked_until is None


def test_a_deactivated_user_cannot_sign_in(company: Database) -> None:
    add_user(company, "lily")
    with company.session() as session:
        session.scalar(select(User).where(User.login == "lily")).active = False  # type: ignore[union-attr]
    with company.session() as session, pytest.raises(AuthenticationError, match="deactivated"):
        auth.sign_in(session, "lily", "password-lily")


def test_only_owners_and_managers_add_staff_and_only_owners_add_owners(company: Database) -> None:
    add_user(company, "mgr", Role.MANAGER)
    add_user(company, "sam", Role.SALES)
    with company.session() as session:
        manager = auth.find_user(session, "mgr")
        auth.add_staff(
            session, manager, login="kate", full_name="Kate", role="sales", password="password-k"
        )
        with pytest.raises(PermissionDenied, match=r"only|may not"):
            auth.add_staff(
                session, manager, login="own2", full_name="O", role="owner", password="password-o"
            )
        sales = auth.find_user(session, "sam")
        with pytest.raises(PermissionDenied):
            auth.add_staff(
                session, sales, login="x1", full_name="X", role="sales", password="password-x"
            )


def test_logins_are_unique_and_case_insensitive(company: Database) -> None:
    with company.session() as session:
        owner = auth.find_user(session, "boss")
        with pytest.raises(ValidationError, match="taken"):
            auth.add_staff(
                session, owner, login="BOSS", full_name="B", role="sales", password="password-b"
            )


def test_staff_list_counts_customers(company: Database) -> None:
    add_user(company, "sam", Role.SALES, "Sam Sales")
    with company.session() as session:
        rows = {r.login: r for r in auth.list_staff(session)}
    assert rows["sam"].full_name == "Sam Sales" and rows["sam"].customers == 0
