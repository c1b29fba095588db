"""Who is responsible for which customer: assignment, account teams, handover when someone leaves.

Every customer has at most one responsible salesperson (``Customer.owner_id``) and an
optional account team (``customer_team``); customers with nobody form the *unassigned
pool*. Every change of owner writes an :class:`AssignmentChange` (from, to, by whom, when,
why) and an :class:`AuditEntry`.

A *handover* moves a leaver's whole book — customers, prospects, open follow-ups and
account-team places — to colleagues in one transaction, with bulk Core statements so that
10,000 customers move in a second or two. It is planned first (one colleague, an even split
balanced by everyone's current load, or a rule by city or tier), previewed, then applied.
:func:`deactivate_staff` refuses to deactivate anyone who would still hold work, so no
live customer, prospect or open task is ever left with an inactive person. Past activities
stay attributed to whoever logged them.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.orm import Session

from smbcrm.errors import ConflictError, NotFoundError, SmbcrmError, ValidationError
from smbcrm.models import (
    AssignmentChange,
    AuditEntry,
    Case,
    CaseStatus,
    ChangeAction,
    Customer,
    CustomerStatus,
    FollowUp,
    Role,
    Tier,
    User,
    customer_team,
    utcnow,
)
from smbcrm.models.bulk import bulk_insert
from smbcrm.services.permissions import (
    ROLE_PERMISSIONS,
    Permission,
    require,
    require_manage_user,
)
from smbcrm.services.progress import Progress

CHUNK = 2000
_CUSTOMERS: Table = Customer.__table__  # type: ignore[assignment]
_FOLLOW_UPS: Table = FollowUp.__table__  # type: ignore[assignment]
_ASSIGNMENTS: Table = AssignmentChange.__table__  # type: ignore[assignment]
_AUDIT: Table = AuditEntry.__table__  # type: ignore[assignment]


class HandoverRefused(SmbcrmError):
    """A handover or deactivation that would leave work on an inactive person."""


def _live() -> list[Any]:
    return [Customer.archived_at.is_(None), Customer.merged_into_id.is_(None)]


def _user(session: Session, user_id: int, what: str = "staff member") -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"There is no {what} with ID {user_id}.")
    return user


def may_own_customers(user: User) -> bool:
    """Whether customers may be given to this person: whoever may look after their own
    customers (sales, managers, owners), not a bookkeeper."""
    return Permission.EDIT_OWN_CUSTOMERS in ROLE_PERMISSIONS[user.role]


def _cannot_own_text(users: Sequence[User]) -> str:
    names = ", ".join(u.full_name for u in users)
    return (
        f"{names} may not be responsible for customers (only sales staff, managers and "
        "owners are); choose one of them."
    )


def _active_recipient(session: Session, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    user = _user(session, user_id)
    if not user.active:
        raise ValidationError(
            {"owner_id": f"{user.full_name} has left (inactive); choose an active colleague."}
        )
    if not may_own_customers(user):
        raise ValidationError({"owner_id": _cannot_own_text([user])})
    return user


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationError(
            {"reason": "Say why the customers change hands (it is kept in their history)."}
        )
    return text[:500]


# ---------------------------------------------------------------------------------------
# Assigning and reassigning


@dataclass(frozen=True)
class ReassignResult:
    moved: int
    unchanged: int
    to_user: str | None


def _move_customers(
    session: Session,
    actor: User | None,
    moves: Sequence[tuple[int, int, int | None, int | None, str]],
    *,
    reason: str,
    progress: Progress | None = None,
    label: str = "Reassigning customers",
) -> int:
    """Write moves ``(customer id, version, from, to, name)`` with history and audit rows.

    Each customer is updated only if its owner is still the one read: a customer given to
    someone else meanwhile raises :class:`ConflictError` (the caller's transaction rolls
    back). The version moves on, so a form opened before the move gets a conflict on save.
    """
    progress = progress or Progress()
    now = utcnow()
    actor_id = actor.id if actor else None
    total = len(moves)
    done = 0
    for start in range(0, total, CHUNK):
        chunk = moves[start : start + CHUNK]
        progress.report(done, total, f"{label}: {done:,} of {total:,}")
        # One set-based statement per (from, to) pair: as fast on PostgreSQL as on SQLite.
        groups: dict[tuple[int | None, int | None], list[int]] = {}
        for cid, _version, from_id, to_id, _name in chunk:
            groups.setdefault((from_id, to_id), []).append(cid)
        written = 0
        for (from_id, to_id), ids in groups.items():
            still = Customer.owner_id.is_(None) if from_id is None else Customer.owner_id == from_id
            result = session.execute(
                update(Customer)
                .where(Customer.id.in_(ids), still)
                .values(owner_id=to_id, version=Customer.version + 1, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            written += int(result.rowcount)  # type: ignore[attr-defined]
        if written != len(chunk):
            raise ConflictError(
                f"{len(chunk) - written} of these customers were given to someone else "
                "meanwhile; nothing was reassigned. Reload and try again."
            )
        bulk_insert(
            session,
            _ASSIGNMENTS,
            [
                {
                    "customer_id": cid,
                    "from_user_id": from_id,
                    "to_user_id": to_id,
                    "changed_by_id": actor_id,
                    "changed_at": now,
                    "reason": reason,
                }
                for cid, _version, from_id, to_id, _name in chunk
            ],
        )
        bulk_insert(
            session,
            _AUDIT,
            [
                {
                    "at": now,
                    "user_id": actor_id,
                    "entity": "customer",
                    "entity_id": cid,
                    "customer_id": cid,
                    "action": ChangeAction.UPDATED,
                    "changes": {"owner_id": [from_id, to_id]},
                    "summary": f"{name} — {reason}"[:1000],
                }
                for cid, _version, from_id, to_id, name in chunk
            ],
        )
        done += len(chunk)
    progress.report(total, total, f"{label}: {total:,} done")
    return total


def bulk_reassign(
    session: Session,
    actor: User | None,
    customer_ids: Iterable[int],
    to_user_id: int | None,
    *,
    reason: str,
    progress: Progress | None = None,
) -> ReassignResult:
    """Give a selection of customers to one person (None: the unassigned pool), one reason."""
    require(actor, Permission.REASSIGN)
    reason = _reason(reason)
    recipient = _active_recipient(session, to_user_id)
    ids = sorted(set(customer_ids))
    if not ids:
        raise ValidationError({"customers": "Select the customers to reassign first."})
    session.flush()
    rows: list[tuple[int, int, int | None, str]] = []
    for start in range(0, len(ids), CHUNK):
        rows.extend(
            (int(r.id), int(r.version), r.owner_id, str(r.name))
            for r in session.execute(
                select(Customer.id, Customer.version, Customer.owner_id, Customer.name).where(
                    Customer.id.in_(ids[start : start + CHUNK]), *_live()
                )
            )
        )
    if len(rows) != len(ids):
        missing = len(ids) - len(rows)
        raise NotFoundError(
            f"{missing} of the selected customers no longer exist or are archived; "
            "refresh the list and select again."
        )
    moves = [(cid, v, old, to_user_id, name) for cid, v, old, name in rows if old != to_user_id]
    _move_customers(session, actor, moves, reason=reason, progress=progress)
    session.expire_all()
    return ReassignResult(
        moved=len(moves),
        unchanged=len(rows) - len(moves),
        to_user=recipient.full_name if recipient else None,
    )


def assign_customer(
    session: Session,
    actor: User | None,
    customer_id: int,
    to_user_id: int | None,
    *,
    reason: str,
) -> bool:
    """Make someone (or nobody) the customer's responsible salesperson; False if no change."""
    result = bulk_reassign(session, actor, [customer_id], to_user_id, reason=reason)
    return result.moved == 1


def set_account_team(
    session: Session, actor: User | None, customer_id: int, member_ids: Iterable[int]
) -> list[str]:
    """Replace the customer's supporting team; returns the members' names."""
    require(actor, Permission.REASSIGN)
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFoundError(f"There is no customer with ID {customer_id}.")
    wanted = sorted(set(member_ids) - ({customer.owner_id} if customer.owner_id else set()))
    members = list(session.scalars(select(User).where(User.id.in_(wanted)))) if wanted else []
    if len(members) != len(wanted):
        raise NotFoundError("Some of the chosen team members no longer exist; reopen the dialog.")
    left = [m.full_name for m in members if not m.active]
    if left:
        raise ValidationError(
            {"team": f"{', '.join(left)} left the company; choose active colleagues."}
        )
    before = sorted(u.id for u in customer.team)
    customer.team = sorted(members, key=lambda u: u.full_name)
    if before != wanted:
        session.add(
            AuditEntry(
                user_id=actor.id if actor else None,
                entity="customer",
                entity_id=customer.id,
                customer_id=customer.id,
                action=ChangeAction.UPDATED,
                changes={"team": [before, wanted]},
                summary=customer.name,
            )
        )
        customer.updated_at = utcnow()
    session.flush()
    return [m.full_name for m in customer.team]


# ---------------------------------------------------------------------------------------
# Reading: the pool, workloads, a person's book


@dataclass(frozen=True)
class PoolRow:
    id: int
    name: str
    status: CustomerStatus
    city: str | None
    tier: Tier | None
    phone: str | None


def unassigned_count(session: Session) -> int:
    stmt = select(func.count()).select_from(Customer).where(Customer.owner_id.is_(None), *_live())
    return int(session.scalar(stmt) or 0)


def unassigned_pool(
    session: Session, *, text: str = "", limit: int = 500, offset: int = 0
) -> list[PoolRow]:
    """Live customers nobody is responsible for, by name."""
    stmt = (
        select(
            Customer.id,
            Customer.name,
            Customer.status,
            Customer.city,
            Customer.tier,
            Customer.primary_phone,
        )
        .where(Customer.owner_id.is_(None), *_live())
        .order_by(Customer.sort_key, Customer.id)
        .limit(limit)
        .offset(offset)
    )
    if text.strip():
        from smbcrm.models.keys import fold_text

        stmt = stmt.where(Customer.search_text.contains(fold_text(text)))
    return [PoolRow(*row) for row in session.execute(stmt)]


@dataclass(frozen=True)
class Workload:
    """What one person is responsible for now."""

    user_id: int
    full_name: str
    active: bool
    customers: int = 0  # live customers that are not prospects
    prospects: int = 0
    open_follow_ups: int = 0
    team_places: int = 0
    open_cases: int = 0

    @property
    def accounts(self) -> int:
        return self.customers + self.prospects

    @property
    def load(self) -> int:
        """The balance an even split evens out: accounts plus open tasks and cases."""
        return self.customers + self.prospects + self.open_follow_ups + self.open_cases


def workloads(session: Session, user_ids: Iterable[int] | None = None) -> dict[int, Workload]:
    """Current load per person (everyone, or the given ids)."""
    users_stmt = select(User).order_by(User.full_name)
    ids = None if user_ids is None else sorted(set(user_ids))
    if ids is not None:
        users_stmt = users_stmt.where(User.id.in_(ids))
    users = list(session.scalars(users_stmt))
    accounts: dict[tuple[int, bool], int] = {}
    stmt = (
        select(Customer.owner_id, Customer.status, func.count())
        .where(Customer.owner_id.is_not(None), *_live())
        .group_by(Customer.owner_id, Customer.status)
    )
    if ids is not None:
        stmt = stmt.where(Customer.owner_id.in_(ids))
    for owner_id, status, count in session.execute(stmt):
        key = (int(owner_id or 0), status == CustomerStatus.PROSPECT)
        accounts[key] = accounts.get(key, 0) + int(count)
    tasks_stmt = (
        select(FollowUp.assignee_id, func.count())
        .where(FollowUp.assignee_id.is_not(None), FollowUp.done_at.is_(None))
        .group_by(FollowUp.assignee_id)
    )
    if ids is not None:
        tasks_stmt = tasks_stmt.where(FollowUp.assignee_id.in_(ids))
    tasks = {int(a or 0): int(c) for a, c in session.execute(tasks_stmt)}
    cases_stmt = (
        select(Case.assignee_id, func.count())
        .where(Case.assignee_id.is_not(None), Case.status == CaseStatus.OPEN)
        .group_by(Case.assignee_id)
    )
    if ids is not None:
        cases_stmt = cases_stmt.where(Case.assignee_id.in_(ids))
    cases = {int(a or 0): int(c) for a, c in session.execute(cases_stmt)}
    team_stmt = select(customer_team.c.user_id, func.count()).group_by(customer_team.c.user_id)
    if ids is not None:
        team_stmt = team_stmt.where(customer_team.c.user_id.in_(ids))
    team = {int(u): int(c) for u, c in session.execute(team_stmt)}
    return {
        u.id: Workload(
            u.id,
            u.full_name,
            u.active,
            customers=accounts.get((u.id, False), 0),
            prospects=accounts.get((u.id, True), 0),
            open_follow_ups=tasks.get(u.id, 0),
            team_places=team.get(u.id, 0),
            open_cases=cases.get(u.id, 0),
        )
        for u in users
    }


def workload_of(session: Session, user_id: int) -> Workload:
    found = workloads(session, [user_id]).get(user_id)
    if found is None:
        raise NotFoundError(f"There is no staff member with ID {user_id}.")
    return found


# ---------------------------------------------------------------------------------------
# Handover: plan, preview, apply


class Strategy(StrEnum):
    ONE_COLLEAGUE = "one"
    EVEN_SPLIT = "even"
    BY_CITY = "city"
    BY_TIER = "tier"


@dataclass(frozen=True)
class Move:
    customer_id: int
    name: str
    status: CustomerStatus
    city: str | None
    tier: Tier | None
    to_user_id: int


@dataclass(frozen=True)
class Share:
    """What one colleague receives, and their load before and after."""

    user_id: int
    full_name: str
    customers: int
    prospects: int
    follow_ups: int
    load_before: int
    cases: int = 0

    @property
    def load_after(self) -> int:
        return self.load_before + self.customers + self.prospects + self.follow_ups + self.cases


@dataclass
class HandoverPlan:
    """A previewed handover; apply it with :func:`apply_handover` or :func:`deactivate_staff`."""

    leaver_id: int
    leaver_name: str
    strategy: Strategy
    reason: str
    moves: list[Move]
    # Open follow-ups assigned to the leaver: (follow-up id, new assignee).
    follow_ups: list[tuple[int, int]]
    # Customers whose account team the leaver is on (they are taken off it).
    team_customer_ids: list[int]
    shares: list[Share]
    names: dict[int, str] = field(default_factory=dict)
    # Open service cases assigned to the leaver: (case id, new assignee).
    cases: list[tuple[int, int]] = field(default_factory=list)

    @property
    def customers(self) -> int:
        return sum(1 for m in self.moves if m.status != CustomerStatus.PROSPECT)

    @property
    def prospects(self) -> int:
        return sum(1 for m in self.moves if m.status == CustomerStatus.PROSPECT)

    def summary_lines(self) -> list[str]:
        return [_share_line(s) for s in self.shares]


def _share_line(share: Share) -> str:
    # "noun: count" reads right for 1 and for 3 alike.
    line = (
        f"{share.full_name}: customers {share.customers}, prospects {share.prospects}, "
        f"follow-ups {share.follow_ups}"
    )
    return line + (f", open cases {share.cases}" if share.cases else "")


@dataclass(frozen=True)
class HandoverResult:
    leaver: str
    customers: int
    prospects: int
    follow_ups: int
    team_places: int
    shares: list[Share]
    deactivated: bool
    cases: int = 0

    def summary_lines(self) -> list[str]:
        return [
            _share_line(s)
            for s in self.shares
            if s.customers or s.prospects or s.follow_ups or s.cases
        ]


def _balanced(items: Sequence[int], loads: dict[int, int], order: Sequence[int]) -> list[int]:
    """Give each item to whoever has the least load so far (ties: the order given)."""
    rank = {uid: i for i, uid in enumerate(order)}
    heap = [(loads.get(uid, 0), rank[uid], uid) for uid in order]
    heapq.heapify(heap)
    out: list[int] = []
    for _item in items:
        load, r, uid = heapq.heappop(heap)
        out.append(uid)
        heapq.heappush(heap, (load + 1, r, uid))
    return out


def _rule_value(move: tuple[Any, ...], strategy: Strategy) -> str:
    # move = (id, name, status, city, tier)
    if strategy == Strategy.BY_CITY:
        return (move[3] or "").strip()
    tier = move[4]
    return tier.value if isinstance(tier, Tier) else (tier or "")


def rule_values(session: Session, leaver_id: int, strategy: Strategy) -> list[tuple[str, int]]:
    """The distinct cities (or tiers) among the leaver's customers, with counts, most first."""
    column = Customer.city if strategy == Strategy.BY_CITY else Customer.tier
    counts: Counter[str] = Counter()
    for value, count in session.execute(
        select(column, func.count())
        .where(Customer.owner_id == leaver_id, *_live())
        .group_by(column)
    ):
        key = value.value if isinstance(value, Tier) else (value or "").strip()
        counts[key] += int(count)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def plan_handover(
    session: Session,
    leaver_id: int,
    strategy: Strategy | str,
    recipients: Sequence[int],
    *,
    rule: dict[str, int] | None = None,
    reason: str = "",
) -> HandoverPlan:
    """Who gets what of the leaver's book. Nothing is written.

    ``ONE_COLLEAGUE`` gives everything to ``recipients[0]``; ``EVEN_SPLIT`` balances among
    ``recipients`` by their current load (accounts plus open follow-ups); ``BY_CITY`` /
    ``BY_TIER`` give each value's customers to ``rule[value]`` and split whatever the rule
    does not cover evenly among ``recipients``. An open follow-up goes with its customer;
    one on a customer the leaver does not own goes to that customer's owner if active.
    """
    strategy = Strategy(strategy)
    leaver = _user(session, leaver_id)
    rule = {k.strip(): v for k, v in (rule or {}).items()}
    chosen = list(dict.fromkeys(recipients))
    if strategy == Strategy.ONE_COLLEAGUE:
        chosen = chosen[:1]
    everyone = list(dict.fromkeys([*chosen, *rule.values()]))
    if leaver_id in everyone:
        raise ValidationError(
            {"recipients": f"{leaver.full_name} is the one leaving; choose someone else."}
        )
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(everyone)))}
    missing = [uid for uid in everyone if uid not in users]
    if missing:
        raise NotFoundError(f"There is no staff member with ID {missing[0]}.")
    inactive = [users[uid].full_name for uid in everyone if not users[uid].active]
    if inactive:
        raise ValidationError(
            {"recipients": f"{', '.join(inactive)} left the company; choose active colleagues."}
        )
    not_owners = [users[uid] for uid in everyone if not may_own_customers(users[uid])]
    if not_owners:
        raise ValidationError({"recipients": _cannot_own_text(not_owners)})
    rows = [
        (int(r.id), str(r.name), r.status, r.city, r.tier)
        for r in session.execute(
            select(Customer.id, Customer.name, Customer.status, Customer.city, Customer.tier)
            .where(Customer.owner_id == leaver_id, *_live())
            .order_by(Customer.id)
        )
    ]
    tasks = [
        (int(t.id), int(t.customer_id), t.owner_id)
        for t in session.execute(
            select(FollowUp.id, FollowUp.customer_id, Customer.owner_id)
            .join(Customer, Customer.id == FollowUp.customer_id)
            .where(FollowUp.assignee_id == leaver_id, FollowUp.done_at.is_(None))
            .order_by(FollowUp.id)
        )
    ]
    open_cases = [
        (int(c.id), int(c.customer_id), c.owner_id)
        for c in session.execute(
            select(Case.id, Case.customer_id, Customer.owner_id)
            .join(Customer, Customer.id == Case.customer_id)
            .where(Case.assignee_id == leaver_id, Case.status == CaseStatus.OPEN)
            .order_by(Case.id)
        )
    ]
    team_ids = sorted(
        int(c)
        for c in session.scalars(
            select(customer_team.c.customer_id).where(customer_team.c.user_id == leaver_id)
        )
    )
    has_work = bool(rows or tasks or open_cases)
    if has_work and not chosen and strategy not in (Strategy.BY_CITY, Strategy.BY_TIER):
        raise ValidationError(
            {"recipients": f"Choose who takes over {leaver.full_name}'s customers."}
        )
    before = workloads(session, everyone)
    loads = {uid: before[uid].load for uid in everyone}
    targets: dict[int, int] = {}
    if strategy in (Strategy.BY_CITY, Strategy.BY_TIER):
        rest = []
        for row in rows:
            to = rule.get(_rule_value(row, strategy))
            if to is not None:
                targets[row[0]] = to
                loads[to] += 1
            else:
                rest.append(row)
        if rest and not chosen:
            value = _rule_value(rest[0], strategy) or "(none)"
            raise ValidationError(
                {
                    "rule": f"No one is chosen for {strategy.value} '{value}' "
                    f"({len(rest)} customers without a rule): add it to the rule or choose "
                    "colleagues to share the rest."
                }
            )
        picked = _balanced([r[0] for r in rest], loads, chosen) if rest else []
        for row, uid in zip(rest, picked, strict=True):
            targets[row[0]] = uid
            loads[uid] += 1
    elif strategy == Strategy.EVEN_SPLIT:
        for row, uid in zip(rows, _balanced([r[0] for r in rows], loads, chosen), strict=True):
            targets[row[0]] = uid
            loads[uid] += 1
    else:
        for row in rows:
            targets[row[0]] = chosen[0]
    moves = [Move(r[0], r[1], r[2], r[3], r[4], targets[r[0]]) for r in rows]
    fallback = [uid for uid in chosen] or list(dict.fromkeys(rule.values()))
    active_owners = {
        int(u)
        for u in session.scalars(
            select(User.id).where(
                User.active.is_(True),
                User.id.in_({t[2] for t in [*tasks, *open_cases] if t[2] is not None}),
            )
        )
    }

    def place(items: list[tuple[int, int, int | None]], what: str) -> list[tuple[int, int]]:
        """A task goes with its customer, else to the customer's owner, else to the fallback."""
        placed: list[tuple[int, int]] = []
        loose: list[int] = []
        for item_id, customer_id, owner_id in items:
            if customer_id in targets:
                placed.append((item_id, targets[customer_id]))
            elif owner_id is not None and owner_id != leaver_id and owner_id in active_owners:
                placed.append((item_id, int(owner_id)))
            else:
                loose.append(item_id)
        if loose:
            if not fallback:
                raise ValidationError({"recipients": f"Choose who takes over the {what} as well."})
            loads_now = {uid: loads.get(uid, 0) for uid in fallback}
            placed += list(zip(loose, _balanced(loose, loads_now, fallback), strict=True))
        return placed

    follow_ups = place(tasks, "open follow-ups")
    case_moves = place(open_cases, "open cases")
    for uid in {t for _f, t in [*follow_ups, *case_moves]} - set(before):
        before.update(workloads(session, [uid]))
    share_counts: dict[int, list[int]] = {}
    for move in moves:
        counts = share_counts.setdefault(move.to_user_id, [0, 0, 0, 0])
        counts[1 if move.status == CustomerStatus.PROSPECT else 0] += 1
    for _task, uid in follow_ups:
        share_counts.setdefault(uid, [0, 0, 0, 0])[2] += 1
    for _case, uid in case_moves:
        share_counts.setdefault(uid, [0, 0, 0, 0])[3] += 1
    order = list(dict.fromkeys([*everyone, *share_counts]))
    shares = [
        Share(
            uid,
            before[uid].full_name,
            customers=counts[0],
            prospects=counts[1],
            follow_ups=counts[2],
            load_before=before[uid].load,
            cases=counts[3],
        )
        for uid in order
        for counts in [share_counts.get(uid, [0, 0, 0, 0])]
    ]
    return HandoverPlan(
        leaver_id=leaver.id,
        leaver_name=leaver.full_name,
        strategy=strategy,
        reason=reason.strip() or f"Handover: {leaver.full_name} left",
        moves=moves,
        follow_ups=follow_ups,
        team_customer_ids=team_ids,
        shares=shares,
        names={uid: before[uid].full_name for uid in before},
        cases=case_moves,
    )


def apply_handover(
    session: Session,
    actor: User | None,
    plan: HandoverPlan,
    *,
    progress: Progress | None = None,
) -> HandoverResult:
    """Write a planned handover in the caller's transaction (all or nothing).

    Refuses (:class:`ConflictError`) if the leaver's book changed since the plan was made:
    preview again. The leaver stays active; :func:`deactivate_staff` does both.
    """
    require(actor, Permission.REASSIGN)
    progress = progress or Progress()
    leaver = _user(session, plan.leaver_id)
    session.flush()
    current = {
        int(r.id): (int(r.version), str(r.name))
        for r in session.execute(
            select(Customer.id, Customer.version, Customer.name).where(
                Customer.owner_id == plan.leaver_id, *_live()
            )
        )
    }
    planned = {m.customer_id for m in plan.moves}
    if set(current) != planned:
        raise ConflictError(
            f"{leaver.full_name}'s customers changed since the preview "
            f"({len(current)} now, {len(planned)} planned); preview the handover again."
        )
    recipients = (
        {m.to_user_id for m in plan.moves}
        | {t for _f, t in plan.follow_ups}
        | {t for _c, t in plan.cases}
    )
    for uid in recipients:
        _active_recipient(session, uid)
    moves = [
        (m.customer_id, current[m.customer_id][0], plan.leaver_id, m.to_user_id, m.name)
        for m in plan.moves
    ]
    _move_customers(
        session, actor, moves, reason=plan.reason, progress=progress, label="Handing over"
    )
    open_tasks = set(
        session.scalars(
            select(FollowUp.id).where(
                FollowUp.assignee_id == plan.leaver_id, FollowUp.done_at.is_(None)
            )
        )
    )
    if open_tasks != {f for f, _t in plan.follow_ups}:
        raise ConflictError(
            f"{leaver.full_name}'s open follow-ups changed since the preview; "
            "preview the handover again."
        )
    now = utcnow()
    by_recipient: dict[int, list[int]] = {}
    for fid, to in plan.follow_ups:
        by_recipient.setdefault(to, []).append(fid)
    for to, fids in by_recipient.items():
        for start in range(0, len(fids), CHUNK):
            session.execute(
                update(FollowUp)
                .where(
                    FollowUp.id.in_(fids[start : start + CHUNK]),
                    FollowUp.assignee_id == plan.leaver_id,
                )
                .values(assignee_id=to, updated_at=now)
                .execution_options(synchronize_session=False)
            )
    open_cases = set(
        session.scalars(
            select(Case.id).where(
                Case.assignee_id == plan.leaver_id, Case.status == CaseStatus.OPEN
            )
        )
    )
    if open_cases != {c for c, _t in plan.cases}:
        raise ConflictError(
            f"{leaver.full_name}'s open cases changed since the preview; "
            "preview the handover again."
        )
    cases_by_recipient: dict[int, list[int]] = {}
    for cid, to in plan.cases:
        cases_by_recipient.setdefault(to, []).append(cid)
    for to, cids in cases_by_recipient.items():
        for start in range(0, len(cids), CHUNK):
            # The version goes up, so a case open in someone's dialog sees the change.
            session.execute(
                update(Case)
                .where(Case.id.in_(cids[start : start + CHUNK]), Case.assignee_id == plan.leaver_id)
                .values(assignee_id=to, updated_at=now, version=Case.version + 1)
                .execution_options(synchronize_session=False)
            )
    if plan.team_customer_ids:
        session.execute(delete(customer_team).where(customer_team.c.user_id == plan.leaver_id))
        bulk_insert(
            session,
            _AUDIT,
            [
                {
                    "at": now,
                    "user_id": actor.id if actor else None,
                    "entity": "customer",
                    "entity_id": cid,
                    "customer_id": cid,
                    "action": ChangeAction.UPDATED,
                    "changes": {"team_removed": [plan.leaver_id, None]},
                    "summary": plan.reason,
                }
                for cid in plan.team_customer_ids
            ],
        )
    session.expire_all()
    return HandoverResult(
        leaver=leaver.full_name,
        customers=plan.customers,
        prospects=plan.prospects,
        follow_ups=len(plan.follow_ups),
        team_places=len(plan.team_customer_ids),
        shares=plan.shares,
        deactivated=False,
        cases=len(plan.cases),
    )


def remaining_work(session: Session, user_id: int) -> Workload:
    """What a person still holds (the check before deactivation)."""
    return workload_of(session, user_id)


def deactivate_staff(
    session: Session,
    actor: User | None,
    user_id: int,
    *,
    handover: HandoverPlan | None = None,
    progress: Progress | None = None,
) -> HandoverResult:
    """Hand the person's book over (if a plan is given), then deactivate them — or refuse.

    Refuses while any live customer, prospect, open follow-up or account-team place would
    be left on them. Their past activities stay attributed to them.
    """
    require(actor, Permission.MANAGE_STAFF)
    user = _user(session, user_id)
    require_manage_user(actor, user)
    if actor is not None and actor.id == user.id:
        raise ValidationError(
            {"user": "You cannot deactivate your own account; ask another owner or manager."}
        )
    if not user.active:
        raise ValidationError({"user": f"{user.full_name} is already inactive."})
    if user.role == Role.OWNER:
        owners = session.scalar(
            select(func.count()).where(User.role == Role.OWNER, User.active.is_(True))
        )
        if int(owners or 0) <= 1:
            raise ValidationError(
                {
                    "user": "The company's last owner cannot be deactivated; make another owner first."
                }
            )
    if handover is not None and handover.leaver_id != user.id:
        raise ValidationError({"handover": "This handover plan is for someone else."})
    result = (
        apply_handover(session, actor, handover, progress=progress)
        if handover is not None
        else HandoverResult(user.full_name, 0, 0, 0, 0, [], False)
    )
    left = remaining_work(session, user.id)
    if left.accounts or left.open_follow_ups or left.team_places or left.open_cases:
        raise HandoverRefused(
            f"{user.full_name} still has work to hand over (customers: {left.customers}, "
            f"prospects: {left.prospects}, open follow-ups: {left.open_follow_ups}, open cases: "
            f"{left.open_cases}, account-team places: {left.team_places}); "
            "hand it over first (Staff › Deactivate… or --handover-to LOGIN)."
        )
    user.active = False
    user.deactivated_at = utcnow()
    session.flush()
    return HandoverResult(
        result.leaver,
        result.customers,
        result.prospects,
        result.follow_ups,
        result.team_places,
        result.shares,
        deactivated=True,
        cases=result.cases,
    )


def reactivate_staff(session: Session, actor: User | None, user_id: int) -> None:
    """Let someone who left sign in again (their book stays with whoever has it now)."""
    require(actor, Permission.MANAGE_STAFF)
    user = _user(session, user_id)
    require_manage_user(actor, user)
    user.active = True
    user.deactivated_at = None
    user.failed_sign_ins = 0
    user.locked_until = None
    session.flush()


def staff_by_logins(session: Session, logins: Sequence[str]) -> list[User]:
    """Users for logins as typed (``a,b``), in order; a clear error for an unknown one."""
    from smbcrm.services.auth import find_user

    return [find_user(session, login) for login in logins if login.strip()]


__all__ = [
    "HandoverPlan",
    "HandoverRefused",
    "HandoverResult",
    "Move",
    "PoolRow",
    "ReassignResult",
    "Share",
    "Strategy",
    "Workload",
    "apply_handover",
    "assign_customer",
    "bulk_reassign",
    "deactivate_staff",
    "may_own_customers",
    "plan_handover",
    "reactivate_staff",
    "remaining_work",
    "rule_values",
    "set_account_team",
    "staff_by_logins",
    "unassigned_count",
    "unassigned_pool",
    "workload_of",
    "workloads",
]
