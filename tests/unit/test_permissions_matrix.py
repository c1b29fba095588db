"""Each role against each service: allowed calls succeed, refused ones raise PermissionDenied.

The expectations are written out from the issue's rules (not read from ROLE_PERMISSIONS),
and docs/permissions.md is parsed and compared with ROLE_PERMISSIONS so the two cannot drift.
Export is covered by the export tests (``smbcrm.services.export``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from smbcrm.errors import PermissionDenied
from smbcrm.models import ActivityKind, Database, Role, User
from smbcrm.services import auth, ownership
from smbcrm.services import customers as customers_svc
from smbcrm.services.activities import ActivityInput, log_activity
from smbcrm.services.audit_log import audit_log, customer_history
from smbcrm.services.customers import CustomerInput
from smbcrm.services.permissions import ROLE_PERMISSIONS, Permission
from tests.factories import make_customer

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
ROLE_COLUMNS = {"Owner": Role.OWNER, "Manager": Role.MANAGER, "Sales": Role.SALES,
                "Bookkeeper": Role.BOOKKEEPER}  # fmt: skip


def test_docs_table_matches_role_permissions() -> None:
    lines = [ln.strip() for ln in DOC.read_text(encoding="utf-8").splitlines()]
    header_at = next(i for i, ln in enumerate(lines) if ln.startswith("| Action"))
    header = [c.strip() for c in lines[header_at].strip("|").split("|")]
    roles = [ROLE_COLUMNS[name] for name in header[1:]]
    assert set(roles) == set(Role)
    table: dict[str, dict[Role, bool]] = {}
    for line in lines[header_at + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert all(c in ("✓", "—") for c in cells[1:]), line
        table[cells[0]] = {role: cell == "✓" for role, cell in zip(roles, cells[1:], strict=True)}
    assert set(table) == {p.value for p in Permission}, "every permission has a row, no others"
    for permission in Permission:
        for role in Role:
            assert table[permission.value][role] == (permission in ROLE_PERMISSIONS[role]), (
                f"docs/permissions.md says {role.value} "
                f"{'may' if table[permission.value][role] else 'may not'} {permission.value}"
            )


@pytest.fixture
def book(sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setattr(auth, "hash_password", lambda _password: "not-a-hash")
    auth.create_company(sqlite_db, "Acme", "boss", "Wang Fang", "owner-secret-1")
    with sqlite_db.session() as session:
        boss = auth.find_user(session, "boss")
        for login, role in [
            ("mgr", Role.MANAGER),
            ("sales", Role.SALES),
            ("books", Role.BOOKKEEPER),
            ("other", Role.SALES),
            ("owner2", Role.OWNER),
        ]:
            auth.add_staff(
                session,
                boss,
                login=login,
                full_name=login.title(),
                role=role,
                password="pw-12345678",
            )
        session.flush()
        for login in ("boss", "mgr", "sales", "books", "other"):
            make_customer(session, name=f"Of {login}", owner_id=auth.find_user(session, login).id)
    return sqlite_db


def _customer(session: Session, login: str) -> int:
    from sqlalchemy import select

    from smbcrm.models import Customer

    return int(session.scalar(select(Customer.id).where(Customer.name == f"Of {login}")) or 0)


Action = Callable[[Session, User], object]


def _edit(whose: str) -> Action:
    def act(session: Session, actor: User) -> object:
        cid = _customer(session, actor.login if whose == "own" else "other")
        data = customers_svc.input_from_customer(customers_svc.get_customer(session, cid))
        data.notes = "edited"
        return customers_svc.update_customer(session, actor, cid, data)

    return act


ACTIONS: dict[str, Action] = {
    "view": lambda s, a: customer_history(s, a, _customer(s, "other")),
    "create": lambda s, a: customers_svc.create_customer(s, a, CustomerInput(name="New Co")),
    "edit own": _edit("own"),
    "edit others'": _edit("other"),
    "archive": lambda s, a: customers_svc.archive_customer(s, a, _customer(s, "other")),
    "reassign": lambda s, a: ownership.bulk_reassign(
        s, a, [_customer(s, "other")], auth.find_user(s, "mgr").id, reason="test"
    ),
    "account team": lambda s, a: ownership.set_account_team(
        s, a, _customer(s, "other"), [auth.find_user(s, "sales").id]
    ),
    "log activity": lambda s, a: log_activity(
        s, a, _customer(s, "other"), ActivityInput(ActivityKind.CALL, "Called")
    ),
    "add staff": lambda s, a: auth.add_staff(
        s, a, login="newbie", full_name="Newbie", role=Role.SALES, password="pw-12345678"
    ),
    "add owner": lambda s, a: auth.add_staff(
        s, a, login="newowner", full_name="New Owner", role=Role.OWNER, password="pw-12345678"
    ),
    "reset password": lambda s, a: auth.set_password(
        s, a, auth.find_user(s, "other"), "new-password-1"
    ),
    "deactivate staff": lambda s, a: ownership.deactivate_staff(
        s,
        a,
        auth.find_user(s, "other").id,
        handover=ownership.plan_handover(
            s, auth.find_user(s, "other").id, "one", [auth.find_user(s, "mgr").id]
        ),
    ),
    "deactivate owner": lambda s, a: ownership.deactivate_staff(
        s, a, auth.find_user(s, "owner2").id
    ),
    "audit log": lambda s, a: audit_log(s, a),
}

ALL = set(ACTIONS) | {"import customers"}
EXPECTED: dict[Role, set[str]] = {
    Role.OWNER: ALL,
    Role.MANAGER: ALL - {"add owner", "deactivate owner"},
    Role.SALES: {"view", "create", "edit own", "log activity"},
    Role.BOOKKEEPER: {"view", "log activity"},
}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_against_each_service(book: Database, role: Role, tmp_path: Path) -> None:
    login = {Role.OWNER: "boss", Role.MANAGER: "mgr", Role.SALES: "sales",
             Role.BOOKKEEPER: "books"}[role]  # fmt: skip
    outcomes: dict[str, bool] = {}
    for name, action in ACTIONS.items():
        session = book.new_session()
        try:
            actor = auth.find_user(session, login)
            try:
                action(session, actor)
                session.flush()
                outcomes[name] = True
            except PermissionDenied as exc:
                assert str(exc) and "Traceback" not in str(exc)
                outcomes[name] = False
        finally:
            session.rollback()  # each call on the same starting book
            session.close()
    outcomes["import customers"] = _try_import(book, login, tmp_path)
    allowed = {name for name, ok in outcomes.items() if ok}
    assert allowed == EXPECTED[role], f"{role.value}: allowed {sorted(allowed)}"


def _try_import(db: Database, login: str, tmp_path: Path) -> bool:
    from smbcrm.services.importing.apply import apply_plan
    from smbcrm.services.importing.service import prepare_import

    path = tmp_path / "customers.csv"
    path.write_text("Name,Phone\nImported Co,13800138000\n", encoding="utf-8")
    prepared = prepare_import(db, path)
    with db.new_session() as session:
        actor_id = auth.find_user(session, login).id
    try:
        apply_plan(db, actor_id, prepared.plan)
    except PermissionDenied:
        return False
    return True


def test_deactivated_account_holds_no_permission(book: Database) -> None:
    with book.session() as session:
        boss = auth.find_user(session, "boss")
        mgr = auth.find_user(session, "mgr")
        ownership.deactivate_staff(
            session,
            boss,
            mgr.id,
            handover=ownership.plan_handover(session, mgr.id, "one", [boss.id]),
        )
    with book.session() as session:
        mgr = auth.find_user(session, "mgr")
        with pytest.raises(PermissionDenied, match="deactivated"):
            audit_log(session, mgr)
