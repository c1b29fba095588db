"""Revenue in several currencies adds up in the home currency, at the owner's rates: tiers,
the at-risk revenue, the revenue chart, referrers and the customers export. A currency
without a rate is left out and reported, never counted one to one. On both engines."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from smbcrm.errors import PermissionDenied, ValidationError
from smbcrm.models import Database, Role, Tier
from smbcrm.services import charts_data, currencies, referrals, risk, tiers
from smbcrm.services.auth import find_user
from smbcrm.services.customers import order_stats
from smbcrm.services.export import ExportKind, ExportOptions, export
from smbcrm.services.risk import RiskSettings
from tests.conftest import add_user
from tests.factories import make_customer, make_order

TODAY = date(2026, 11, 23)


def _set_rates(db: Database, home: str, rates: dict[str, object]) -> None:
    with db.session() as session:
        currencies.save_rates(session, find_user(session, "boss"), home, rates)


def _book(db: Database) -> dict[str, int]:
    """A yuan customer worth ¥10,000 and a euro customer worth €2,000 (¥15,600 at 7.8)."""
    with db.session() as session:
        home = make_customer(session, "华强电子有限公司")
        abroad = make_customer(session, "Nordwind GmbH")
        small = make_customer(session, "Kleiner Laden")
        make_order(session, home, amount="10000.00", when=TODAY - timedelta(days=40))
        make_order(
            session, abroad, amount="2000.00", when=TODAY - timedelta(days=30), currency="EUR"
        )
        make_order(session, small, amount="100.00", when=TODAY - timedelta(days=20))
        return {"home": home.id, "abroad": abroad.id, "small": small.id}


def test_home_currency_is_the_company_countrys_until_set(company: Database) -> None:
    with company.session() as session:
        customer = make_customer(session, "Harbour Ltd")
        for _ in range(2):
            make_order(session, customer, currency="HKD")
    with company.new_session() as session:
        rates = currencies.load_rates(session)
    assert (rates.home, dict(rates.rates)) == ("CNY", {})  # Acme Trading is in China
    _set_rates(company, "usd", {"HKD": "0.128", "EUR": ""})
    with company.new_session() as session:
        rates = currencies.load_rates(session)
    assert (rates.home, dict(rates.rates)) == ("USD", {"HKD": Decimal("0.128")})
    assert rates.rate("hkd") == Decimal("0.128") and rates.rate("USD") == Decimal(1)
    assert rates.rate("EUR") is None


def test_tiers_rank_customers_by_revenue_in_the_home_currency(company: Database) -> None:
    ids = _book(company)
    _set_rates(company, "CNY", {"EUR": "7.8"})
    with company.session() as session:
        tiers.recompute_tiers(session, TODAY)
    with company.new_session() as session:
        facts = risk.order_facts(session, TODAY, RiskSettings())[1]
        assert facts[ids["abroad"]][0] == pytest.approx(15600.0)
        assert facts[ids["home"]][0] == pytest.approx(10000.0)
        months = charts_data.revenue_by_month(session, TODAY)
        assert sum(m.value for m in months) == pytest.approx(25700.0)
        found = {c.id: c.tier for c in risk.assess(session, TODAY) if c.id in ids.values()}
    # €2,000 is the biggest customer once converted; counted one to one it was the smallest
    # of the two large ones and would have fallen out of tier A.
    assert found[ids["abroad"]] == Tier.A


def test_a_currency_without_a_rate_is_left_out_and_reported(company: Database) -> None:
    ids = _book(company)
    with company.session() as session:
        gbp = make_customer(session, "Thames Trading")
        make_order(session, gbp, amount="500.00", when=TODAY - timedelta(days=10), currency="GBP")
        make_order(session, gbp, amount="9.00", when=TODAY - timedelta(days=9), currency="GBP")
    _set_rates(company, "CNY", {"EUR": "7.8"})
    with company.new_session() as session:
        rates = currencies.load_rates(session)
        rhythms, revenues = risk.order_facts(session, TODAY, RiskSettings(), rates)
        missing = currencies.unconverted_orders(session, rates, since=TODAY - timedelta(365))
        months = charts_data.revenue_by_month(session, TODAY)
    assert gbp.id not in revenues  # no revenue made up for it …
    assert rhythms[gbp.id].days == 2  # … but its orders still tell its ordering rhythm
    assert revenues[ids["abroad"]][0] == pytest.approx(15600.0)
    assert sum(m.value for m in months) == pytest.approx(25700.0)
    assert missing == {"GBP": 2}
    text = currencies.unconverted_text(missing)
    assert "2 orders in GBP" in text and "exchange rate" in text


def test_the_risk_snapshot_says_its_currency_and_what_it_left_out(company: Database) -> None:
    _book(company)
    with company.session() as session:
        make_order(
            session,
            make_customer(session, "Thames Trading"),
            when=TODAY - timedelta(days=3),
            currency="GBP",
        )
    snapshot = risk.refresh(company, today=TODAY)
    assert snapshot.currency == "CNY"
    assert dict(snapshot.unconverted) == {"GBP": 1, "EUR": 1}
    _set_rates(company, "CNY", {"EUR": "7.8", "GBP": "9.1"})
    snapshot = risk.refresh(company, today=TODAY)
    assert dict(snapshot.unconverted) == {}


def test_referrers_revenue_is_converted(company: Database) -> None:
    with company.session() as session:
        referrer = make_customer(session, "Referrer Co")
        for name, currency, amount in (("A", "CNY", "1000.00"), ("B", "USD", "100.00")):
            referred = make_customer(session, name, referred_by_id=referrer.id)
            make_order(
                session,
                referred,
                amount=amount,
                currency=currency,
                when=TODAY - timedelta(days=5),
            )
        referrer_id = referrer.id
    _set_rates(company, "CNY", {"USD": "7.2"})
    with company.new_session() as session:
        found = referrals.referrals_of(session, referrer_id, today=TODAY)
        top = referrals.top_referrers(session)
    assert (found.revenue, found.currency) == (Decimal("1720.00"), "CNY")
    assert top.rows[0].revenue == Decimal("1720.00") and top.currency == "CNY"


def test_a_customer_pane_totals_each_currency_on_its_own(company: Database) -> None:
    with company.session() as session:
        customer = make_customer(session, "Two Currencies Ltd")
        make_order(session, customer, amount="10.00", currency="USD", when=date(2026, 2, 1))
        make_order(session, customer, amount="5.50", currency="USD", when=date(2026, 3, 1))
        make_order(session, customer, amount="700.00", when=date(2025, 12, 1))
        make_order(session, customer, amount="99.00", currency="EUR", status="void")
        customer_id = customer.id
    with company.new_session() as session:
        stats = order_stats(session, customer_id)
    assert stats.totals == {"CNY": Decimal("700.00"), "USD": Decimal("15.50")}
    assert (stats.count, stats.cancelled) == (3, 1)
    assert (stats.first_order, stats.last_order) == (date(2025, 12, 1), date(2026, 3, 1))


def test_customers_export_gives_revenue_in_the_home_currency(
    company: Database, tmp_path: Path
) -> None:
    ids = _book(company)
    _set_rates(company, "CNY", {"EUR": "7.8"})
    target = tmp_path / "customers.xlsx"
    with company.new_session() as session:
        boss_id = find_user(session, "boss").id
    export(company, boss_id, ExportKind.CUSTOMERS, target, ExportOptions())
    rows = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
    header = rows[0]
    by_id = {int(r[0]): r for r in rows[1:] if isinstance(r[0], float | int) and r[0]}
    revenue = header.index("Revenue")
    assert by_id[ids["abroad"]][revenue] == pytest.approx(15600.0)
    assert by_id[ids["home"]][revenue] == pytest.approx(10000.0)


def test_rates_are_checked_and_only_managers_change_them(company: Database) -> None:
    with pytest.raises(ValidationError) as bad:
        currencies.check_rates("CNY", {"USD": "7,2,0", "XYZ": "1", "EUR": "-3"})
    assert set(bad.value.field_errors) == {"USD", "XYZ", "EUR"}
    assert "what one USD is worth in CNY" in bad.value.field_errors["USD"]
    with pytest.raises(ValidationError) as home:
        currencies.check_rates("Yuan", {})
    assert "not a currency" in home.value.field_errors["home"]
    typed = {"USD": "1,234.5", "EUR": "7,8", "GBP": "1.234,5", "KRW": "2,200", "JPY": " 0.05 "}
    assert currencies.check_rates("CNY", typed).rates == {
        "EUR": Decimal("7.8"),
        "GBP": Decimal("1234.5"),
        "JPY": Decimal("0.05"),
        "KRW": Decimal("2200"),
        "USD": Decimal("1234.5"),
    }
    seller = add_user(company, "li.lei", Role.SALES)
    with company.session() as session, pytest.raises(PermissionDenied):
        currencies.save_rates(session, session.merge(seller), "CNY", {"USD": "7.2"})


def test_changing_the_home_currency_converts_the_rates() -> None:
    rates = currencies.ExchangeRates("CNY", {"USD": Decimal("7.2"), "EUR": Decimal("7.8")})
    moved = currencies.rebased(rates, "USD")
    assert moved is not None and moved.home == "USD"
    assert moved.rates == {"CNY": Decimal("0.138889"), "EUR": Decimal("1.083333")}
    assert currencies.rebased(rates, "GBP") is None  # no rate for it to go by
    assert currencies.rebased(rates, "CNY") is rates


def test_broken_stored_rates_are_left_out(company: Database) -> None:
    from smbcrm.models import Setting

    with company.session() as session:
        session.merge(Setting(key=currencies.HOME_KEY, value="CNY"))
        session.merge(
            Setting(key=currencies.RATES_KEY, value={"USD": "abc", "EUR": "7.8", "??": "1"})
        )
    with company.new_session() as session:
        assert dict(currencies.load_rates(session).rates) == {"EUR": Decimal("7.8")}
