"""Value tiers A/B/C by trailing revenue (Pareto), stored on the customer (both engines)."""

from __future__ import annotations

from datetime import date, timedelta

from smbcrm.models import Customer, CustomerStatus, Database, Tier
from smbcrm.services.tiers import assign_tiers, recompute_tiers
from tests.factories import make_customer, make_order

TODAY = date(2026, 6, 30)


def test_pareto_rule() -> None:
    # 50 + 30 = 80% → the customer crossing 80% (30) is still A; 10 → B (90%); 6 → B (96%)
    tiers = assign_tiers([(1, 50.0), (2, 30.0), (3, 10.0), (4, 6.0), (5, 4.0), (6, 0.0)])
    assert tiers == {1: Tier.A, 2: Tier.A, 3: Tier.B, 4: Tier.B, 5: Tier.C}


def test_recompute_tiers_stores_them(company: Database) -> None:
    with company.session() as session:
        ids = {}
        for name, amount in [("Big", "8000"), ("Mid", "1500"), ("Small", "400"), ("Tiny", "100")]:
            c = make_customer(session, name)
            make_order(session, c, amount=amount, when=TODAY - timedelta(days=20))
            ids[name] = c.id
        old = make_customer(session, "Old buyer", tier=Tier.A)
        make_order(session, old, amount="99999", when=TODAY - timedelta(days=500))
        ids["Old buyer"] = old.id
        ids["Prospect"] = make_customer(session, "Prospect", status=CustomerStatus.PROSPECT).id
    with company.new_session() as session:
        before = {c.id: (c.version, c.updated_at) for c in session.query(Customer).all()}
    with company.session() as session:
        result = recompute_tiers(session, TODAY)
    assert result.counts == {Tier.A: 1, Tier.B: 1, Tier.C: 3, None: 1}
    with company.new_session() as session:
        got = {name: session.get_one(Customer, cid).tier for name, cid in ids.items()}
        assert got == {
            "Big": Tier.A,
            "Mid": Tier.B,
            "Small": Tier.C,
            "Tiny": Tier.C,
            "Old buyer": Tier.C,
            "Prospect": None,
        }
        # Re-ranking is not an edit: someone editing "Big" meanwhile can still save it.
        after = {c.id: (c.version, c.updated_at) for c in session.query(Customer).all()}
        assert after == before
    with company.session() as session:
        assert recompute_tiers(session, TODAY).changed == 0
