"""``smbcrm staff deactivate LOGIN --handover-to …`` through the real command: the book is
split evenly, the summary says who got what, and the leaver cannot be left holding work."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from smbcrm.models import (
    AssignmentChange,
    Customer,
    CustomerStatus,
    Database,
    FollowUp,
    Role,
    User,
)
from smbcrm.services import auth
from tests.e2e.test_cli import smbcrm
from tests.factories import make_customer


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A company made by ``smbcrm init``; staff and customers added in-process (faster)."""
    path = tmp_path_factory.mktemp("cli-staff") / "book.db"
    made = smbcrm(
        "--db", str(path), "init", "--company", "华信商贸", "--owner", "boss", password="owner-pw-1"
    )
    assert made.returncode == 0, made.stderr
    database = Database.open(path)
    with database.session() as session:
        boss = auth.find_user(session, "boss")
        for login, name in [("li.lei", "李雷"), ("han", "韩梅梅"), ("zhou", "周杰")]:
            auth.add_staff(
                session, boss, login=login, full_name=name, role=Role.SALES, password="sales-pw-1"
            )
        session.flush()
        li = auth.find_user(session, "li.lei")
        for i in range(9):
            status = CustomerStatus.PROSPECT if i < 3 else CustomerStatus.ACTIVE
            customer = make_customer(session, name=f"客户{i}", owner_id=li.id, status=status)
        session.add(
            FollowUp(customer_id=customer.id, assignee_id=li.id, title="回访", due_date=_day())
        )
    with database.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return path


def _company(template: Path, tmp_path: Path) -> str:
    target = tmp_path / "book.db"
    shutil.copyfile(template, target)
    return str(target)


def _day() -> date:
    return date(2026, 6, 1)


def test_deactivate_with_handover_splits_evenly_and_summarises(
    template: Path, tmp_path: Path
) -> None:
    db = _company(template, tmp_path)
    refused = smbcrm("--db", db, "staff", "deactivate", "li.lei")
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1
    assert "--handover-to" in refused.stderr and "6 customers" in refused.stderr

    done = smbcrm(
        "--db", db, "staff", "deactivate", "li.lei", "--handover-to", "han,zhou",
        "--reason", "李雷离职",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Handed over 6 customers, 3 prospects and 1 open follow-up of 李雷" in out
    assert "韩梅梅:" in out and "周杰:" in out
    assert "Deactivated 李雷 (li.lei)" in out

    database = Database.open(db)
    with database.new_session() as session:
        li = auth.find_user(session, "li.lei")
        assert not li.active
        owners = dict(
            session.execute(
                select(User.login, func.count())
                .join(Customer, Customer.owner_id == User.id)
                .group_by(User.login)
            ).all()
        )
        assert owners in ({"han": 5, "zhou": 4}, {"han": 4, "zhou": 5})
        assert session.scalar(select(func.count()).where(FollowUp.assignee_id == li.id)) == 0
        reasons = session.scalars(
            select(AssignmentChange.reason).where(AssignmentChange.from_user_id == li.id)
        ).all()
        assert reasons == ["李雷离职"] * 9
    database.dispose()

    listed = smbcrm("--db", db, "staff", "list")
    assert any(
        line.split()[:4] == ["li.lei", "李雷", "sales", "left"]
        for line in listed.stdout.splitlines()
    )


def test_deactivate_errors_are_one_line(template: Path, tmp_path: Path) -> None:
    db = _company(template, tmp_path)
    for args, expected in [
        (
            ["staff", "deactivate", "nobody", "--handover-to", "han"],
            "No staff member has the login",
        ),
        (["staff", "deactivate", "li.lei", "--handover-to", "ghost"], "'ghost'"),
        (["staff", "deactivate", "li.lei", "--handover-to", "li.lei"], "the one leaving"),
        (["staff", "deactivate", "boss"], "your own account"),
    ]:
        result = smbcrm("--db", db, *args)
        assert result.returncode == 1, result.stdout
        assert expected in result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
