"""The duplicate scan over the whole book, the review queue and a person's decisions.

A scan loads every live customer, finds the likely pairs and keeps them in
``duplicate_pairs`` for review: new pairs open, pairs left for later stay so, pairs a
person said are not the same are never proposed again, and open pairs the scan no longer
finds are dropped. It runs in one transaction, so a cancelled or failed scan leaves the
queue as it was.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, case, delete, func, insert, select, update
from sqlalchemy.orm import Session, aliased

from smbcrm.errors import NotFoundError, ValidationError
from smbcrm.models import (
    Customer,
    CustomerKind,
    CustomerStatus,
    Database,
    DuplicatePair,
    DuplicateStatus,
    Order,
    User,
    utcnow,
)
from smbcrm.models.keys import DEFAULT_REGION, format_phone
from smbcrm.services.collector import collector_paused
from smbcrm.services.duplicates.calibration import book_notes
from smbcrm.services.duplicates.engine import FoundPair, detect
from smbcrm.services.duplicates.records import load_records
from smbcrm.services.permissions import Permission, require
from smbcrm.services.progress import Progress

# Tuned on the labelled sets in bench/ (see docs/benchmarks.md): at this score the
# book-like set (at 20,000 and at 100,000 customers) and the FEBRL-like set of people all
# reach precision ≥ 0.98 and recall ≥ 0.95; at 80 the larger book, with more people of
# one name in one city, falls just short of the precision.
DEFAULT_THRESHOLD: float = 90.0

_PAIRS: Table = DuplicatePair.__table__  # type: ignore[assignment]
_WRITE_CHUNK = 2000


@dataclass(frozen=True)
class Candidate:
    a_id: int  # lower id first
    b_id: int
    a_name: str
    b_name: str
    score: float  # 0..100
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ScanResult:
    candidates: list[Candidate]  # score desc; pairs marked "not the same" left out
    customers_scanned: int
    queued: int  # pairs now waiting in the review queue (open)
    suppressed: int  # pairs skipped because "not the same" was decided before
    seconds: float
    # What this book showed to prove less here than usual (see calibration), in words.
    book_notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PairSide:
    id: int
    name: str
    kind: CustomerKind
    status: CustomerStatus
    city: str | None
    phone: str | None
    email: str | None
    owner: str | None
    order_count: int


@dataclass(frozen=True)
class QueuedPair:
    pair_id: int
    a: PairSide
    b: PairSide
    score: float
    reasons: tuple[str, ...]
    status: DuplicateStatus
    found_at: datetime


def check_threshold(threshold: float) -> float:
    if not 0 < threshold <= 100:
        raise ValidationError(
            {
                "threshold": f"The threshold {threshold:g} is not a score: give a number "
                "above 0 and at most 100 (the default is "
                f"{DEFAULT_THRESHOLD:g})."
            }
        )
    return float(threshold)


def _candidate(pair: FoundPair) -> Candidate:
    return Candidate(
        a_id=pair.a.id,
        b_id=pair.b.id,
        a_name=pair.a.name,
        b_name=pair.b.name,
        score=pair.judgement.score,
        reasons=pair.judgement.all_reasons(),
    )


def scan_duplicates(
    db: Database,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    progress: Progress | None = None,
    save: bool = True,
) -> ScanResult:
    """Find every likely duplicate pair in the book; with ``save``, refresh the review queue."""
    threshold = check_threshold(threshold)
    progress = progress or Progress()
    started = time.perf_counter()
    progress.report(0, 0, "Reading customers…")
    session = db.new_session()
    try:
        # The scan's records and pairs are freed when _scan returns, still with the collector
        # paused: left to the first collection after it, walking them would cost a second.
        with collector_paused():
            candidates, scanned, queued, suppressed, notes = _scan(
                session, threshold, progress, save
            )
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    seconds = time.perf_counter() - started
    return ScanResult(
        candidates=candidates,
        customers_scanned=scanned,
        queued=queued,
        suppressed=suppressed,
        seconds=seconds,
        book_notes=tuple(notes),
    )


def _scan(
    session: Session, threshold: float, progress: Progress, save: bool
) -> tuple[list[Candidate], int, int, int, list[str]]:
    """The pairs to show, customers scanned, pairs queued and suppressed, and book notes."""
    records = load_records(session.connection())
    scanned = len(records)
    progress.check()
    detection = detect(records, threshold, progress.report)
    progress.report(0, 0, "Checking earlier decisions…")
    decided = {
        (a, b): (pair_id, DuplicateStatus(status))
        for pair_id, a, b, status in session.execute(
            select(_PAIRS.c.id, _PAIRS.c.customer_a_id, _PAIRS.c.customer_b_id, _PAIRS.c.status)
        )
    }
    kept: list[FoundPair] = []
    suppressed = 0
    for pair in detection.pairs:
        earlier = decided.get((pair.a.id, pair.b.id))
        if earlier is not None and earlier[1] is DuplicateStatus.NOT_SAME:
            suppressed += 1
            continue
        if earlier is not None and earlier[1] is DuplicateStatus.MERGED:
            continue  # merged and since undone: the person has seen them
        kept.append(pair)
    if save:
        progress.report(0, len(kept), "Saving the review queue…")
        _save_queue(session, kept, decided, progress)
        queued = session.scalar(
            select(func.count())
            .select_from(_PAIRS)
            .where(_PAIRS.c.status == DuplicateStatus.OPEN.value)
        )
        progress.check()  # the last chance to cancel: nothing is committed yet
        session.commit()
    else:
        session.rollback()
        queued = sum(
            1
            for pair in kept
            if decided.get((pair.a.id, pair.b.id), (0, DuplicateStatus.OPEN))[1]
            is DuplicateStatus.OPEN
        )
    notes = book_notes(detection.calibration)
    return [_candidate(p) for p in kept], scanned, int(queued or 0), suppressed, notes


def _save_queue(
    session: Session,
    kept: list[FoundPair],
    decided: dict[tuple[int, int], tuple[int, DuplicateStatus]],
    progress: Progress,
) -> None:
    now = utcnow()
    new_rows: list[dict[str, Any]] = []
    changed_rows: list[dict[str, Any]] = []
    found_ids: set[int] = set()
    for pair in kept:
        earlier = decided.get((pair.a.id, pair.b.id))
        reasons = list(pair.judgement.all_reasons())
        if earlier is None:
            new_rows.append(
                {
                    "customer_a_id": pair.a.id,
                    "customer_b_id": pair.b.id,
                    "score": pair.judgement.score,
                    "reasons": reasons,
                    "status": DuplicateStatus.OPEN,
                    "found_at": now,
                }
            )
        else:
            found_ids.add(earlier[0])
            changed_rows.append(
                {"pair_id": earlier[0], "new_score": pair.judgement.score, "new_reasons": reasons}
            )
    gone = [
        pair_id
        for pair_id, status in decided.values()
        if status is DuplicateStatus.OPEN and pair_id not in found_ids
    ]
    for start in range(0, len(gone), _WRITE_CHUNK):
        progress.check()
        session.execute(delete(_PAIRS).where(_PAIRS.c.id.in_(gone[start : start + _WRITE_CHUNK])))
    statement = (
        update(_PAIRS)
        .where(_PAIRS.c.id == bindparam("pair_id"))
        .values(score=bindparam("new_score"), reasons=bindparam("new_reasons"))
    )
    for start in range(0, len(changed_rows), _WRITE_CHUNK):
        progress.check()
        session.connection().execute(statement, changed_rows[start : start + _WRITE_CHUNK])
    for start in range(0, len(new_rows), _WRITE_CHUNK):
        progress.report(start, len(new_rows), "Saving the review queue…")
        session.execute(insert(_PAIRS), new_rows[start : start + _WRITE_CHUNK])


# -- the review queue -----------------------------------------------------------------------


def _live(customer: Any) -> Any:
    return and_(customer.archived_at.is_(None), customer.merged_into_id.is_(None))


def review_queue(
    session: Session, *, include_later: bool = True, limit: int = 500
) -> list[QueuedPair]:
    """Open pairs by score, then those left for later; pairs with a side gone are left out."""
    side_a, side_b = aliased(Customer), aliased(Customer)
    statuses = [DuplicateStatus.OPEN]
    if include_later:
        statuses.append(DuplicateStatus.LATER)
    later_last = case((DuplicatePair.status == DuplicateStatus.OPEN, 0), else_=1)
    rows = (
        session.execute(
            select(DuplicatePair)
            .join(side_a, side_a.id == DuplicatePair.customer_a_id)
            .join(side_b, side_b.id == DuplicatePair.customer_b_id)
            .where(DuplicatePair.status.in_(statuses), _live(side_a), _live(side_b))
            .order_by(later_last, DuplicatePair.score.desc(), DuplicatePair.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    if not rows:
        return []
    ids = {p.customer_a_id for p in rows} | {p.customer_b_id for p in rows}
    sides = _sides(session, ids)
    return [
        QueuedPair(
            pair_id=p.id,
            a=sides[p.customer_a_id],
            b=sides[p.customer_b_id],
            score=float(p.score),
            reasons=tuple(p.reasons or ()),
            status=DuplicateStatus(p.status),
            found_at=p.found_at,
        )
        for p in rows
    ]


def _sides(session: Session, ids: set[int]) -> dict[int, PairSide]:
    region = str(session.info.get("default_region", DEFAULT_REGION))
    id_list = sorted(ids)
    orders: dict[int, int] = {}
    sides: dict[int, PairSide] = {}
    for start in range(0, len(id_list), 500):
        chunk = id_list[start : start + 500]
        for customer_id, count in session.execute(
            select(Order.customer_id, func.count())
            .where(Order.customer_id.in_(chunk))
            .group_by(Order.customer_id)
        ):
            if customer_id is not None:
                orders[customer_id] = count
        for row in session.execute(
            select(
                Customer.id,
                Customer.name,
                Customer.kind,
                Customer.status,
                Customer.city,
                Customer.primary_phone,
                Customer.primary_email,
                User.full_name,
            )
            .outerjoin(User, User.id == Customer.owner_id)
            .where(Customer.id.in_(chunk))
        ):
            sides[row.id] = PairSide(
                id=row.id,
                name=row.name,
                kind=CustomerKind(row.kind),
                status=CustomerStatus(row.status),
                city=row.city,
                phone=format_phone(row.primary_phone, region) or None,
                email=row.primary_email,
                owner=row.full_name,
                order_count=int(orders.get(row.id, 0)),
            )
    return sides


def queue_count(session: Session) -> int:
    """Open pairs whose customers are both still there: the number on the badge."""
    side_a, side_b = aliased(Customer), aliased(Customer)
    return int(
        session.scalar(
            select(func.count())
            .select_from(DuplicatePair)
            .join(side_a, side_a.id == DuplicatePair.customer_a_id)
            .join(side_b, side_b.id == DuplicatePair.customer_b_id)
            .where(DuplicatePair.status == DuplicateStatus.OPEN, _live(side_a), _live(side_b))
        )
        or 0
    )


_DECISIONS = (DuplicateStatus.NOT_SAME, DuplicateStatus.LATER, DuplicateStatus.OPEN)


def decide_pair(session: Session, pair_id: int, decision: DuplicateStatus, actor: User) -> None:
    """A person's decision on a pair: not the same (remembered), later, or open again."""
    require(actor, Permission.MERGE)
    decision = DuplicateStatus(decision)
    if decision not in _DECISIONS:
        raise ValidationError(
            {
                "decision": "A pair is merged with Merge…; decide 'not the same', 'later' "
                "or 'open' here."
            }
        )
    pair = session.get(DuplicatePair, pair_id)
    if pair is None:
        raise NotFoundError(
            f"There is no possible duplicate {pair_id} any more; run Find duplicates again."
        )
    if pair.status == DuplicateStatus.MERGED:
        raise ValidationError(
            {"decision": "These two customers were merged already; undo the merge first."}
        )
    pair.status = decision
    if decision is DuplicateStatus.OPEN:
        pair.decided_by_id = None
        pair.decided_at = None
    else:
        pair.decided_by_id = actor.id
        pair.decided_at = utcnow()
    session.flush()
