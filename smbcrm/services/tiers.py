"""Value tiers A/B/C by trailing 12-month revenue, Pareto style, stored on ``Customer.tier``.

The rule (documented here and in the at-risk screen's tooltip):

* rank customers by their revenue over the last 12 months, highest first, in the home
  currency (see :mod:`smbcrm.services.currencies`);
* **A** — the customers who together bring the first 80% of that revenue (the customer who
  crosses 80% is still A);
* **B** — the next ones up to 95%;
* **C** — the rest, including active or lapsed customers who bought nothing in 12 months;
* prospects who never bought keep no tier.

Archived and merged-away customers are left as they are. Only rows whose tier changes are
written, in a few set-based ``UPDATE`` statements. A tier is worked out, not edited: its
change leaves the customer's version and "updated" time alone, so someone editing the
customer meanwhile is not told that a colleague saved it, and the list does not show every
re-ranked customer as updated today.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from smbcrm.models import Customer, CustomerStatus, Order, Tier, counts_as_sale
from smbcrm.services.currencies import load_rates

A_SHARE = 0.80
B_SHARE = 0.95
# Keeps each UPDATE's id list well under SQLite's limit on bound parameters.
_CHUNK = 5000


@dataclass(frozen=True)
class TierResult:
    counts: dict[Tier | None, int]
    changed: int


def assign_tiers(revenues: Sequence[tuple[int, float]]) -> dict[int, Tier]:
    """customer → tier for customers with revenue, by the Pareto rule above."""
    ranked = sorted(((r, cid) for cid, r in revenues if r > 0), key=lambda x: (-x[0], x[1]))
    total = sum(r for r, _ in ranked)
    result: dict[int, Tier] = {}
    running = 0.0
    for revenue, cid in ranked:
        # The share *before* this customer decides: whoever crosses the line is still in.
        share = running / total
        result[cid] = Tier.A if share < A_SHARE else Tier.B if share < B_SHARE else Tier.C
        running += revenue
    return result


def recompute_tiers(session: Session, today: date | None = None) -> TierResult:
    """Recompute and store every live customer's tier; returns counts and rows changed."""
    today = today or date.today()
    start = today - timedelta(days=365)
    revenue = (
        select(Order.customer_id, func.sum(load_rates(session).in_home()))
        .where(
            Order.customer_id.is_not(None),
            Order.order_date > start,
            Order.order_date <= today,
            counts_as_sale(),
        )
        .group_by(Order.customer_id)
    )
    tiers = assign_tiers([(cid, float(total or 0)) for cid, total in session.execute(revenue)])
    current = session.execute(
        select(Customer.id, Customer.status, Customer.tier).where(
            Customer.archived_at.is_(None), Customer.merged_into_id.is_(None)
        )
    )
    wanted: dict[Tier | None, list[int]] = {}
    counts: dict[Tier | None, int] = {Tier.A: 0, Tier.B: 0, Tier.C: 0, None: 0}
    for cid, status, tier in current:
        new = tiers.get(cid)
        if new is None and status != CustomerStatus.PROSPECT:
            new = Tier.C
        counts[new] += 1
        if new != tier:
            wanted.setdefault(new, []).append(cid)
    changed = 0
    for tier, ids in wanted.items():
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            session.execute(
                update(Customer)
                .where(Customer.id.in_(chunk))
                # Stated, or the column's on-update default would stamp the time.
                .values(tier=tier, updated_at=Customer.updated_at)
                .execution_options(synchronize_session=False)
            )
            changed += len(chunk)
    session.flush()
    session.expire_all()
    return TierResult(counts, changed)
