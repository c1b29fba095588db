"""Ownership on both engines: reassignment with history, account teams, the unassigned pool,
workloads, handover plans (one colleague, even split by load, rule by city / tier), applying
them in one transaction, refusing to deactivate anyone who still holds work, and a
reassignment racing an edit."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from smbcrm.errors import (
    ConflictError,
    NotFoundError,
    PermissionDenied,
    ValidationError,
)
from smbcrm.models import (
    Activity,
    ActivityKind,
    AssignmentChange,
    AuditEntry,
    Customer,
    CustomerKind,
    CustomerStatus,
    Database,
    FollowUp,
    Role,
    Tier,
    User,
)
from smbcrm.services import auth
from smbcrm.services import customers as customers_svc
from smbcrm.services import ownership as svc
from smbcrm.services.auth import find_user
from smbcrm.services.ownership import HandoverRefused, Strategy
from tests.conftest import add_user
from tests.factories import make_customer


def _u(session, login: str) -> User:  # type: ignore[no-untyped-def]
    return find_user(session, login)


@pytest.fixture
def team(company: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    # Staff passwords play no part here: skip argon2's deliberate slowness.
    monkeypatch.setattr(auth, "hash_password", lambda _password: "not-a-hash")
    add_user(company, "li", Role.SALES, "Li Lei")
    add_user(company, "han", Role.SALES, "Han Meimei")
    add_user(company, "zhou", Role.SALES, "Zhou Jie")
    add_user(company, "mgr", Role.MANAGER, "Ma Li")
    add_user(company, "books", Role.BOOKKEEPER, "Zhao Kuai")
    return company


def _book(db: Database, login: str, n: int, *, prospects: int = 0, **fields: object) -> list[int]:
    with db.session() as session:
        uid = _u(session, login).id
        ids = []
        for i in range(n):
            status = CustomerStatus.PROSPECT if i < prospects else CustomerStatus.ACTIVE
            ids.append(make_customer(session, owner_id=uid, status=status, **fields).id)
        return ids


def _task(db: Database, customer_id: int, login: str, *, done: bool = False) -> int:
    with db.session() as session:
        task = FollowUp(
            customer_id=customer_id,
            assignee_id=_u(session, login).id,
            title="Call back",
            due_date=date(2026, 6, 1),
            done_at=datetime(2026, 1, 1) if done else None,
        )
        session.add(task)
        session.flush()
        return task.id


def test_bulk_reassign_is_one_action_with_one_reason_and_full_history(team: Database) -> None:
    ids = _book(team, "li", 3)
    with team.session() as session:
        boss, han = _u(session, "boss"), _u(session, "han")
        result = svc.bulk_reassign(session, boss, ids, han.id, reason="Li moves to export sales")
    assert (result.moved, result.unchanged, result.to_user) == (3, 0, "Han Meimei")
    with team.new_session() as session:
        han_id, li_id, boss_id = (_u(session, x).id for x in ("han", "li", "boss"))
        owners = session.scalars(select(Customer.owner_id).where(Customer.id.in_(ids))).all()
        assert set(owners) == {han_id}
        changes = session.scalars(
            select(AssignmentChange).where(AssignmentChange.customer_id.in_(ids))
        ).all()
        moved = [c for c in changes if c.to_user_id == han_id]
        assert len(moved) == 3
        assert {(c.from_user_id, c.changed_by_id, c.reason) for c in moved} == {
            (li_id, boss_id, "Li moves to export sales")
        }
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.customer_id.in_(ids), AuditEntry.user_id == boss_id)
        ).all()
        assert sorted(a.changes["owner_id"] for a in audit) == [[li_id, han_id]] * 3
        # The detail pane shows the history, newest first.
        detail = customers_svc.customer_detail(session, ids[0])
        assert detail.ownership[0].from_user == "Li Lei"
        assert detail.ownership[0].to_user == "Han Meimei"
        assert detail.ownership[0].reason == "Li moves to export sales"
        # Versions moved on, so an edit opened before the move gets a conflict.
        assert session.get_one(Customer, ids[0]).version == 2


def test_reassign_refuses_without_reason_inactive_recipient_or_permission(team: Database) -> None:
    ids = _book(team, "li", 1)
    with team.session() as session:
        boss = _u(session, "boss")
        with pytest.raises(ValidationError, match="Say why"):
            svc.bulk_reassign(session, boss, ids, _u(session, "han").id, reason="  ")
        with pytest.raises(ValidationError, match="Select the customers"):
            svc.bulk_reassign(session, boss, [], _u(session, "han").id, reason="x")
        with pytest.raises(NotFoundError):
            svc.bulk_reassign(session, boss, [999_999], None, reason="x")
        with pytest.raises(PermissionDenied):
            svc.bulk_reassign(session, _u(session, "li"), ids, _u(session, "han").id, reason="x")
        _u(session, "zhou").active = False
        with pytest.raises(ValidationError, match="has left"):
            svc.bulk_reassign(session, boss, ids, _u(session, "zhou").id, reason="x")


def test_unassigned_pool_and_assigning_from_it(team: Database) -> None:
    with team.session() as session:
        pooled = [make_customer(session, name=f"Pool {i}").id for i in range(3)]
        make_customer(session, name="Owned", owner_id=_u(session, "li").id)
        make_customer(session, name="Archived pool", archived_at=datetime(2026, 1, 1))
    with team.session() as session:
        assert svc.unassigned_count(session) == 3
        assert [r.name for r in svc.unassigned_pool(session)] == ["Pool 0", "Pool 1", "Pool 2"]
        boss = _u(session, "boss")
        assert svc.assign_customer(session, boss, pooled[0], _u(session, "han").id, reason="New")
        assert not svc.assign_customer(
            session, boss, pooled[0], _u(session, "han").id, reason="Again"
        )
    with team.session() as session:
        assert svc.unassigned_count(session) == 2
        # Back to the pool is a move too, with its history.
        assert svc.assign_customer(session, _u(session, "mgr"), pooled[0], None, reason="Idle")
    with team.new_session() as session:
        assert svc.unassigned_count(session) == 3
        last = session.scalars(
            select(AssignmentChange)
            .where(AssignmentChange.customer_id == pooled[0])
            .order_by(AssignmentChange.id.desc())
        ).first()
        assert last is not None and last.to_user_id is None and last.reason == "Idle"


def test_account_team_members(team: Database) -> None:
    [cid] = _book(team, "li", 1)
    with team.session() as session:
        boss, han, zhou, li = (_u(session, x) for x in ("boss", "han", "zhou", "li"))
        names = svc.set_account_team(session, boss, cid, [han.id, zhou.id, li.id])
        # The owner is not on their own team.
        assert names == ["Han Meimei", "Zhou Jie"]
        with pytest.raises(PermissionDenied):
            svc.set_account_team(session, li, cid, [])
    with team.new_session() as session:
        detail = customers_svc.customer_detail(session, cid)
        assert sorted(detail.team) == ["Han Meimei", "Zhou Jie"]
        assert svc.workload_of(session, _u(session, "han").id).team_places == 1
        # A team member may edit the customer (sales edit their own or their team's).
        from smbcrm.services.permissions import can_edit_customer

        assert can_edit_customer(_u(session, "han"), session.get_one(Customer, cid))


def test_workloads_count_customers_prospects_and_open_tasks(team: Database) -> None:
    ids = _book(team, "li", 5, prospects=2)
    _task(team, ids[0], "li")
    _task(team, ids[1], "li", done=True)
    with team.new_session() as session:
        load = svc.workload_of(session, _u(session, "li").id)
    assert (load.customers, load.prospects, load.open_follow_ups, load.load) == (3, 2, 1, 6)


def test_even_split_is_balanced_by_current_load(team: Database) -> None:
    ids = _book(team, "li", 10, prospects=4)
    _book(team, "han", 4)  # han already has 4: zhou should get more of li's book
    with team.new_session() as session:
        han, zhou, li = (_u(session, x) for x in ("han", "zhou", "li"))
        plan = svc.plan_handover(session, li.id, Strategy.EVEN_SPLIT, [han.id, zhou.id])
    got = {s.full_name: (s.customers + s.prospects, s.load_after) for s in plan.shares}
    assert got == {"Han Meimei": (3, 7), "Zhou Jie": (7, 7)}
    assert sorted(m.customer_id for m in plan.moves) == sorted(ids)
    assert (plan.customers, plan.prospects) == (6, 4)


def test_rule_by_city_with_the_rest_split(team: Database) -> None:
    _book(team, "li", 3, city="杭州")
    _book(team, "li", 2, city="上海")
    _book(team, "li", 1)
    with team.new_session() as session:
        han, zhou, li, mgr = (_u(session, x) for x in ("han", "zhou", "li", "mgr"))
        assert svc.rule_values(session, li.id, Strategy.BY_CITY) == [
            ("杭州", 3),
            ("上海", 2),
            ("", 1),
        ]
        plan = svc.plan_handover(
            session, li.id, Strategy.BY_CITY, [mgr.id], rule={"杭州": han.id, "上海": zhou.id}
        )
        by_city = {(m.city, m.to_user_id) for m in plan.moves}
        assert by_city == {("杭州", han.id), ("上海", zhou.id), (None, mgr.id)}
        with pytest.raises(ValidationError, match="No one is chosen"):
            svc.plan_handover(session, li.id, Strategy.BY_CITY, [], rule={"杭州": han.id})


def test_rule_by_tier(team: Database) -> None:
    _book(team, "li", 2, tier=Tier.A)
    _book(team, "li", 3, tier=Tier.C)
    with team.new_session() as session:
        han, zhou, li = (_u(session, x) for x in ("han", "zhou", "li"))
        plan = svc.plan_handover(
            session, li.id, Strategy.BY_TIER, [], rule={"A": han.id, "C": zhou.id}
        )
    assert {(m.tier, m.to_user_id) for m in plan.moves} == {(Tier.A, han.id), (Tier.C, zhou.id)}


def test_plan_refuses_the_leaver_or_inactive_colleagues(team: Database) -> None:
    _book(team, "li", 1)
    with team.session() as session:
        li, han = _u(session, "li"), _u(session, "han")
        with pytest.raises(ValidationError, match="the one leaving"):
            svc.plan_handover(session, li.id, Strategy.ONE_COLLEAGUE, [li.id])
        with pytest.raises(ValidationError, match="Choose who takes over"):
            svc.plan_handover(session, li.id, Strategy.EVEN_SPLIT, [])
        han.active = False
        session.flush()
        with pytest.raises(ValidationError, match="left the company"):
            svc.plan_handover(session, li.id, Strategy.ONE_COLLEAGUE, [han.id])


def test_deactivation_refused_while_work_is_left(team: Database) -> None:
    ids = _book(team, "li", 2)
    with team.session() as session, pytest.raises(HandoverRefused, match=r"still has work to hand over \(customers: 2,"):
        svc.deactivate_staff(session, _u(session, "boss"), _u(session, "li").id)
    with team.new_session() as session:
        assert _u(session, "li").active
    # Only an open task left is also refused.
    with team.session() as session:
        svc.bulk_reassign(session, _u(session, "boss"), ids, _u(session, "han").id, reason="x")
    _task(team, ids[0], "li")
    with team.session() as session, pytest.raises(HandoverRefused, match="open follow-ups: 1,"):
        svc.deactivate_staff(session, _u(session, "boss"), _u(session, "li").id)


def test_handover_one_colleague_moves_everything_and_keeps_activities(team: Database) -> None:
    ids = _book(team, "li", 4, prospects=1)
    task_on_own = _task(team, ids[0], "li")
    done_task = _task(team, ids[1], "li", done=True)
    [zhou_customer] = _book(team, "zhou", 1)
    task_on_other = _task(team, zhou_customer, "li")
    with team.session() as session:
        li = _u(session, "li")
        session.add(
            Activity(customer_id=ids[0], user_id=li.id, kind=ActivityKind.CALL, subject="Hi")
        )
        svc.set_account_team(session, _u(session, "boss"), zhou_customer, [li.id])
    with team.session() as session:
        boss, li, han = _u(session, "boss"), _u(session, "li"), _u(session, "han")
        plan = svc.plan_handover(session, li.id, Strategy.ONE_COLLEAGUE, [han.id], reason="Left")
        assert plan.summary_lines() == [
            "Han Meimei: customers 3, prospects 1, follow-ups 1",
            "Zhou Jie: customers 0, prospects 0, follow-ups 1",
        ]
        result = svc.deactivate_staff(session, boss, li.id, handover=plan)
    assert result.deactivated and (result.customers, result.prospects) == (3, 1)
    assert (result.follow_ups, result.team_places) == (2, 1)
    with team.new_session() as session:
        li, han, zhou = _u(session, "li"), _u(session, "han"), _u(session, "zhou")
        assert not li.active and li.deactivated_at is not None
        left = svc.workload_of(session, li.id)
        assert (left.accounts, left.open_follow_ups, left.team_places) == (0, 0, 0)
        assert session.get_one(FollowUp, task_on_own).assignee_id == han.id
        assert session.get_one(FollowUp, task_on_other).assignee_id == zhou.id
        assert session.get_one(FollowUp, done_task).assignee_id == li.id  # history stays
        assert (
            session.scalar(select(Activity.user_id).where(Activity.customer_id == ids[0])) == li.id
        )
        assert (
            session.scalar(
                select(func.count()).where(
                    AssignmentChange.reason == "Left", AssignmentChange.to_user_id == han.id
                )
            )
            == 4
        )
        # The staff change is audited too (by the ORM hook).
        user_audit = session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "user", AuditEntry.entity_id == li.id)
        ).all()
        assert any(a.changes.get("active") == [True, False] for a in user_audit)


def test_handover_refuses_a_stale_plan(team: Database) -> None:
    _book(team, "li", 2)
    with team.new_session() as session:
        plan = svc.plan_handover(
            session, _u(session, "li").id, Strategy.ONE_COLLEAGUE, [_u(session, "han").id]
        )
    _book(team, "li", 1)  # someone gave li another customer after the preview
    with (
        team.session() as session,
        pytest.raises(ConflictError, match="preview the handover again"),
    ):
        svc.deactivate_staff(session, _u(session, "boss"), plan.leaver_id, handover=plan)
    with team.new_session() as session:
        assert _u(session, "li").active
        assert svc.workload_of(session, plan.leaver_id).accounts == 3  # nothing moved


def test_staff_rules_for_deactivation(team: Database) -> None:
    add_user(team, "boss2", Role.OWNER, "Second Owner")
    with team.session() as session:
        boss, mgr, boss2 = _u(session, "boss"), _u(session, "mgr"), _u(session, "boss2")
        with pytest.raises(ValidationError, match="your own account"):
            svc.deactivate_staff(session, boss, boss.id)
        with pytest.raises(PermissionDenied):  # only owners manage owners
            svc.deactivate_staff(session, mgr, boss2.id)
        with pytest.raises(PermissionDenied):
            svc.deactivate_staff(session, _u(session, "li"), _u(session, "han").id)
        svc.deactivate_staff(session, boss, boss2.id)
        with pytest.raises(ValidationError, match="already inactive"):
            svc.deactivate_staff(session, boss, boss2.id)
        svc.reactivate_staff(session, boss, boss2.id)
        assert boss2.active


def test_reassignment_racing_an_edit_gives_a_conflict(team: Database) -> None:
    """Two desktops: one opens the customer form, the other reassigns; the save conflicts."""
    [cid] = _book(team, "li", 1)
    with team.new_session() as session:
        form = customers_svc.input_from_customer(customers_svc.get_customer(session, cid))
        version = session.get_one(Customer, cid).version
    with team.session() as other:
        svc.bulk_reassign(other, _u(other, "mgr"), [cid], _u(other, "han").id, reason="Rebalance")
    form.notes = "Called about the new catalogue"
    with team.session() as session, pytest.raises(ConflictError, match="Reload"):
        customers_svc.update_customer(
            session, _u(session, "boss"), cid, form, expected_version=version
        )
    # And an edit loaded before a reassignment, saved without a version check, hits the
    # optimistic lock at flush time.
    with team.new_session() as editor:
        customer = editor.get_one(Customer, cid)
        customer.notes = "stale edit"
        with team.session() as other:
            svc.bulk_reassign(other, _u(other, "mgr"), [cid], _u(other, "zhou").id, reason="x")
        from sqlalchemy.orm.exc import StaleDataError

        with pytest.raises(StaleDataError):
            editor.commit()


def test_handover_of_10000_customers_in_one_transaction(team: Database) -> None:
    with team.session() as session:
        li_id = _u(session, "li").id
    now = datetime(2026, 1, 1)
    rows = [
        {
            "kind": CustomerKind.COMPANY,
            "name": f"Bulk {i:05d}",
            "status": CustomerStatus.PROSPECT if i % 5 == 0 else CustomerStatus.ACTIVE,
            "owner_id": li_id,
            "city": ["杭州", "上海", "北京"][i % 3],
            "name_key": f"bulk {i:05d}",
            "sort_key": f"bulk {i:05d}",
            "search_text": f"bulk {i:05d}",
            "custom_fields": {},
            "version": 1,
            "created_at": now,
            "updated_at": now + timedelta(seconds=i),
        }
        for i in range(10_000)
    ]
    with team.session(audit=False) as session:
        session.execute(insert(Customer), rows)
        first = session.scalar(select(func.min(Customer.id)))
        session.execute(
            insert(FollowUp),
            [
                {
                    "customer_id": first + i,
                    "assignee_id": li_id,
                    "title": "Call",
                    "due_date": date(2026, 6, 1),
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(500)
            ],
        )
    started = time.perf_counter()
    with team.session() as session:
        boss = _u(session, "boss")
        boss_id = boss.id
        recipients = [_u(session, x).id for x in ("han", "zhou", "mgr")]
        plan = svc.plan_handover(session, li_id, Strategy.EVEN_SPLIT, recipients)
        result = svc.deactivate_staff(session, boss, li_id, handover=plan)
    elapsed = time.perf_counter() - started
    assert elapsed < 5, f"handover took {elapsed:.1f} s"
    assert result.customers + result.prospects == 10_000 and result.follow_ups == 500
    with team.new_session() as session:
        left = svc.workload_of(session, li_id)
        assert (left.accounts, left.open_follow_ups) == (0, 0)
        assert not session.get_one(User, li_id).active
        history = session.scalar(select(func.count()).where(AssignmentChange.from_user_id == li_id))
        assert history == 10_000
        loads = svc.workloads(session, recipients)
        assert sorted(w.accounts for w in loads.values()) == [3333, 3333, 3334]
        audit = session.scalar(
            select(func.count()).where(
                AuditEntry.entity == "customer", AuditEntry.user_id == boss_id
            )
        )
        assert audit == 10_000


def _case(db: Database, customer_id: int, login: str, *, resolved: bool = False) -> int:
    from smbcrm.models import Case, CaseStatus

    with db.session() as session:
        case = Case(
            customer_id=customer_id,
            assignee_id=_u(session, login).id,
            title="Delivery arrived damaged",
            category="Delivery",
            status=CaseStatus.RESOLVED if resolved else CaseStatus.OPEN,
        )
        session.add(case)
        session.flush()
        return case.id


def test_open_cases_are_handed_over_and_block_deactivation(team: Database) -> None:
    from smbcrm.models import Case

    ids = _book(team, "li", 2)
    [zhou_customer] = _book(team, "zhou", 1)
    own_case = _case(team, ids[0], "li")
    other_case = _case(team, zhou_customer, "li")
    closed_case = _case(team, ids[1], "li", resolved=True)
    with team.session() as session:
        assert svc.workload_of(session, _u(session, "li").id).open_cases == 2
    # Customers handed over by hand, the open cases are still on Li Lei: refused.
    with team.session() as session:
        svc.bulk_reassign(session, _u(session, "boss"), ids, _u(session, "han").id, reason="x")
    with team.session() as session, pytest.raises(HandoverRefused, match="open cases: 2,"):
        svc.deactivate_staff(session, _u(session, "boss"), _u(session, "li").id)
    with team.session() as session:
        boss, li, han = _u(session, "boss"), _u(session, "li"), _u(session, "han")
        plan = svc.plan_handover(session, li.id, Strategy.ONE_COLLEAGUE, [han.id])
        # Each case goes to its customer's (active) owner.
        assert sorted(plan.cases) == sorted(
            [(own_case, han.id), (other_case, _u(session, "zhou").id)]
        )
        assert "Zhou Jie: customers 0, prospects 0, follow-ups 0, open cases 1" in (
            plan.summary_lines()
        )
        result = svc.deactivate_staff(session, boss, li.id, handover=plan)
    assert result.deactivated and result.cases == 2
    with team.new_session() as session:
        assignees = {c.id: (c.assignee_id, c.version) for c in session.scalars(select(Case))}
        li_id, han_id, zhou_id = (_u(session, n).id for n in ("li", "han", "zhou"))
    assert assignees[own_case] == (han_id, 2) and assignees[other_case][0] == zhou_id
    # A resolved case stays attributed to the person who worked it.
    assert assignees[closed_case] == (li_id, 1)
