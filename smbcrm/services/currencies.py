"""The company's home currency and its exchange rates: revenue in several currencies added up.

A company that sells in yuan, euros and dollars ranks its customers, draws its revenue
chart and weighs what an at-risk customer is worth in one currency, its *home currency*.
Each other currency has a rate the owner keeps: how many units of the home currency one
unit of it is worth (home CNY: 1 USD = 7.2). Sums convert each order with that rate in the
database (:meth:`ExchangeRates.in_home`); an order in a currency without a rate is left
out of such sums and reported (:func:`unconverted_orders`), never counted one to one.

Company settings (owners and managers change them, ``Permission.MANAGE_SETTINGS``):

- ``money.home_currency``: an ISO 4217 code; when missing, the currency of the company's
  country (its phone region: CN → CNY, HK → HKD, …);
- ``money.exchange_rates``: ``{"USD": "7.2", "EUR": "7.8"}``, as exact decimal text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Set
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Float, case, cast, func, null, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from smbcrm.errors import ValidationError
from smbcrm.models import Order, Setting, User, counts_as_sale
from smbcrm.models.settings import DEFAULT_REGION
from smbcrm.services.permissions import Permission, require

HOME_KEY = "money.home_currency"
RATES_KEY = "money.exchange_rates"

# Active ISO 4217 codes: a currency an order or a rate names must be one of these.
_ISO_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
    MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
    TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW
"""
ISO_CURRENCIES = frozenset(_ISO_CODES.split())
# The currencies a company most often deals in, offered first when choosing one.
COMMON_CURRENCIES = ("CNY", "USD", "EUR", "GBP", "HKD", "JPY", "TWD", "SGD", "KRW", "AUD", "CAD")
# The currency of a company's country: an order without one is in it.
_REGION_CURRENCY = {
    "CN": "CNY",
    "HK": "HKD",
    "MO": "MOP",
    "TW": "TWD",
    "SG": "SGD",
    "US": "USD",
    "GB": "GBP",
    "JP": "JPY",
    "KR": "KRW",
    "AU": "AUD",
    "CA": "CAD",
    "DE": "EUR",
    "FR": "EUR",
    "IT": "EUR",
    "ES": "EUR",
    "NL": "EUR",
    "IE": "EUR",
}
# A rate outside this range is a typing slip (a missing decimal point), not a currency.
_LOWEST_RATE = Decimal("0.000001")
_HIGHEST_RATE = Decimal("1000000")


def region_currency(region: str) -> str:
    return _REGION_CURRENCY.get(region.upper(), "CNY")


@dataclass(frozen=True)
class ExchangeRates:
    """The home currency and, for each other currency, home units per one unit of it."""

    home: str
    rates: Mapping[str, Decimal]

    def rate(self, currency: str | None) -> Decimal | None:
        code = (currency or "").upper()
        if code == self.home:
            return Decimal(1)
        return self.rates.get(code)

    def in_home(self, amount: Any = None) -> ColumnElement[Any]:
        """SQL: an order's amount in the home currency, as a float; NULL without a rate
        (so SUM leaves it out). ``amount`` defaults to ``Order.amount`` as a float."""
        amount = cast(Order.amount, Float) if amount is None else amount
        factors: dict[str, float] = {code: float(rate) for code, rate in self.rates.items()}
        factors[self.home] = 1.0
        factor = case(factors, value=Order.currency, else_=null())
        return type_coerce(amount * factor, Float)


def _valid_code(value: object) -> str | None:
    code = str(value or "").strip().upper()
    return code if code in ISO_CURRENCIES else None


_THOUSANDS_RE = re.compile(r"\d{1,3}(,\d{3})+(\.\d*)?")


def _rate_number(text: str) -> str | None:
    """A rate as typed, in plain decimal notation: "1,234.5", "7,8" (a decimal comma) and
    "1.234,5" are all read; "7,2,0" is no number."""
    text = text.strip().replace(" ", "").replace("\u00a0", "")
    if "," not in text:
        return text
    if "." in text and text.rfind(",") > text.rfind("."):  # 1.234,5
        return text.replace(".", "").replace(",", ".")
    if _THOUSANDS_RE.fullmatch(text):  # 1,234 or 1,234.5
        return text.replace(",", "")
    if text.count(",") == 1 and "." not in text:  # 7,8
        return text.replace(",", ".")
    return None


def parse_rate(value: object) -> Decimal | None:
    """A rate as typed, or None when it is no rate (see :func:`_rate_number`, and the
    bounds that catch a missing decimal point)."""
    number = _rate_number(str(value))
    if number is None:
        return None
    try:
        rate = Decimal(number)
    except (InvalidOperation, ValueError):
        return None
    if not rate.is_finite() or not _LOWEST_RATE <= rate <= _HIGHEST_RATE:
        return None
    return rate


def currency_counts(
    session: Session, date_from: date | None = None, date_to: date | None = None
) -> dict[str, int]:
    """Currency → how many orders (dated within the range, when given) are in it, most
    used first."""
    stmt = (
        select(Order.currency, func.count())
        .group_by(Order.currency)
        .order_by(func.count().desc(), Order.currency)
    )
    if date_from is not None:
        stmt = stmt.where(Order.order_date >= date_from)
    if date_to is not None:
        stmt = stmt.where(Order.order_date <= date_to)
    counts: dict[str, int] = {}
    for code, count in session.execute(stmt):
        if code:
            key = str(code).upper()
            counts[key] = counts.get(key, 0) + int(count)
    return counts


def load_rates(session: Session) -> ExchangeRates:
    """The company's rates; a hand-edited or broken entry is left out, not guessed at."""
    stored: dict[str, Any] = dict(
        session.execute(
            select(Setting.key, Setting.value).where(
                Setting.key.in_([HOME_KEY, RATES_KEY, DEFAULT_REGION])
            )
        ).all()
    )
    home = _valid_code(stored.get(HOME_KEY)) or region_currency(
        str(stored.get(DEFAULT_REGION) or "CN")
    )
    rates: dict[str, Decimal] = {}
    raw = stored.get(RATES_KEY)
    if isinstance(raw, dict):
        for code_text, rate_text in raw.items():
            code, rate = _valid_code(code_text), parse_rate(rate_text)
            if code is not None and rate is not None and code != home:
                rates[code] = rate
    return ExchangeRates(home, dict(sorted(rates.items())))


def check_rates(home: str, rates: Mapping[str, object]) -> ExchangeRates:
    """Rates as typed (text or numbers; blank: no rate) → :class:`ExchangeRates`, or a
    :class:`ValidationError` naming each currency that is wrong and how to put it right."""
    problems: dict[str, str] = {}
    home_code = _valid_code(home)
    if home_code is None:
        problems["home"] = (
            f"'{home}' is not a currency: choose a three-letter code such as CNY, USD or EUR."
        )
    checked: dict[str, Decimal] = {}
    for code_text, value in rates.items():
        code = _valid_code(code_text)
        if code is None:
            problems[str(code_text)] = (
                f"'{code_text}' is not a currency: use a three-letter code such as USD or EUR."
            )
            continue
        if value is None or str(value).strip() == "" or code == home_code:
            continue
        rate = parse_rate(value)
        if rate is None:
            problems[code] = (
                f"The rate for {code}, '{value}', is not a number between {_LOWEST_RATE} "
                f"and {_HIGHEST_RATE:,}: give what one {code} is worth in {home_code or home} "
                "(for example 7.2), or leave it empty."
            )
            continue
        checked[code] = rate
    if problems:
        raise ValidationError(problems)
    assert home_code is not None
    return ExchangeRates(home_code, dict(sorted(checked.items())))


def save_rates(
    session: Session, actor: User | None, home: str, rates: Mapping[str, object]
) -> ExchangeRates:
    """Store the home currency and the rates for the whole company (replacing the old ones)."""
    require(actor, Permission.MANAGE_SETTINGS)
    checked = check_rates(home, rates)
    session.merge(Setting(key=HOME_KEY, value=checked.home))
    session.merge(
        Setting(key=RATES_KEY, value={code: str(rate) for code, rate in checked.rates.items()})
    )
    session.flush()
    return checked


def rebased(rates: ExchangeRates, new_home: str) -> ExchangeRates | None:
    """The same rates against another home currency (home CNY with USD 7.2 → home USD with
    CNY 0.138889); None when the new home has no rate to go by."""
    code = _valid_code(new_home)
    if code is None:
        return None
    if code == rates.home:
        return rates
    pivot = rates.rates.get(code)
    if pivot is None:
        return None
    out = {
        other: (rate / pivot).quantize(Decimal("0.000001"))
        for other, rate in rates.rates.items()
        if other != code
    }
    out[rates.home] = (Decimal(1) / pivot).quantize(Decimal("0.000001"))
    return ExchangeRates(code, dict(sorted(out.items())))


def unconverted_orders(
    session: Session, rates: ExchangeRates, since: date | None = None
) -> dict[str, int]:
    """Currency → how many sales (on or after ``since``) revenue sums leave out: no rate."""
    known = [rates.home, *rates.rates]
    stmt = (
        select(Order.currency, func.count())
        .where(
            Order.customer_id.is_not(None),
            Order.currency.not_in(known),
            counts_as_sale(),
        )
        .group_by(Order.currency)
        .order_by(Order.currency)
    )
    if since is not None:
        stmt = stmt.where(Order.order_date >= since)
    return {str(code): int(count) for code, count in session.execute(stmt)}


def unconverted_text(missing: Mapping[str, int]) -> str:
    """'Revenue leaves out 3 orders in GBP and 1 in CHF: they have no exchange rate …'"""
    if not missing:
        return ""
    parts = [
        f"{count:,} {'order' if count == 1 else 'orders'} in {code}"
        for code, count in missing.items()
    ]
    listed = ", ".join(parts)
    return (
        f"Revenue leaves out {listed}: no exchange rate. An owner or manager sets one "
        "under File › Currencies and exchange rates."
    )


def update_rates(
    session: Session,
    actor: User | None,
    changes: Mapping[str, object],
    *,
    home: str | None = None,
) -> ExchangeRates:
    """Change some rates (``changes``: currency → rate as typed; None or blank removes it)
    and, with ``home``, the home currency; the other rates stay.

    A new home currency converts the rates kept so far (see :func:`carried_over`); when
    they cannot be converted nothing is changed and the error names them.
    """
    require(actor, Permission.MANAGE_SETTINGS)
    current = load_rates(session)
    new_home = (home or current.home).strip().upper()
    typed = {str(code).strip().upper(): value for code, value in changes.items()}
    in_use = set(currency_counts(session))
    return save_rates(session, actor, new_home, carried_over(current, new_home, typed, in_use))


def carried_over(
    rates: ExchangeRates, new_home: str, typed: Mapping[str, object], in_use: Set[str]
) -> dict[str, object]:
    """The rates to save against ``new_home``: the kept ones converted, then ``typed``.

    They convert through the rate the new home currency had, or through a rate typed for
    the old home currency in the new one. Without either, each currency that had a rate
    (and the old home currency, when orders are in it) would be left without one unless
    ``typed`` gives it: that is a :class:`ValidationError` naming them.
    """
    kept: dict[str, object] = {code: str(rate) for code, rate in rates.rates.items()}
    code = _valid_code(new_home)
    if code is None or code == rates.home:
        # A home that is no currency is reported by check_rates, with the rest.
        return {**kept, **typed}
    moved = rebased(rates, code)
    old_home_typed = typed.get(rates.home)
    if moved is None and old_home_typed is not None and str(old_home_typed).strip():
        old_home_rate = parse_rate(old_home_typed)
        if old_home_rate is None:
            return {**kept, **typed}  # check_rates says what is wrong with that rate
        pivot = ExchangeRates(rates.home, {**rates.rates, code: Decimal(1) / old_home_rate})
        moved = rebased(pivot, code)
    if moved is not None:
        return {**{c: str(r) for c, r in moved.rates.items()}, **typed}
    losing = sorted(c for c in rates.rates if c != code and c not in typed)
    if rates.home in in_use and rates.home not in typed:
        losing.append(rates.home)
    if losing:
        listed = ", ".join(losing)
        raise ValidationError(
            {
                "home": f"There is no rate for {code} to convert the others with, so {listed} "
                f"would be left without a rate: first give {code} a rate in {rates.home}, "
                f"then change the home currency (or give their rates in {code} along with "
                "the change). Nothing was changed."
            }
        )
    return dict(typed)
