"""Order imports: preview every order, then write them as one undoable batch.

Rows are parsed through the mapping; rows with the same order number are one order with
lines. Each order is compared with the order of that number from the same source system
already stored (new, unchanged, or changed — amount, date, currency, status, lines) and
linked to its customer (see :mod:`smbcrm.services.importing.orders_match`). Orders that
match no one are imported all the same, without a customer, and wait for review.

Rows with the same order number are one order's lines only when they agree on what
belongs to the whole order (date, status, currency, customer); a row that disagrees with
an earlier one is a problem, never silently added to it. Amounts, quantities and prices
must fit their columns as they are (nothing is rounded away), and so must the totals
their lines add up to. An order date more than a week ahead is taken for a typo.

Applying writes new orders and lines with bulk statements (100,000 rows in seconds), the
changes with their prior values (so undo restores them), and turns every prospect that
gets its first order into an active customer, recording the conversion. A cancelled order
is no first order: only a sale converts (also one that was cancelled and is re-imported as
a sale). When the order that converted a prospect is later re-imported as cancelled, the
conversion stands and the customer stays one; the preview warns on that row, and a person
sets the customer back to prospect if need be. One transaction: a cancelled or failed
import leaves the database as it was; when another import wrote the same orders first,
nothing is written and the message says to preview again.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Numeric, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from smbcrm.errors import ConflictError
from smbcrm.models import (
    AuditEntry,
    BatchStatus,
    ChangeAction,
    Conversion,
    Customer,
    CustomerStatus,
    Database,
    ImportBatch,
    ImportChange,
    ImportKind,
    LinkRoute,
    Order,
    OrderLine,
    User,
    is_cancelled_status,
    utcnow,
)
from smbcrm.models.bulk import bulk_insert, bulk_update
from smbcrm.models.keys import normalize_email, normalize_key_text, normalize_name
from smbcrm.services.after_sales import plan_after_sales_follow_ups
from smbcrm.services.collector import collector_paused
from smbcrm.services.currencies import ISO_CURRENCIES, region_currency
from smbcrm.services.importing.apply import ImportRefused, importing_once, insert_with_ids
from smbcrm.services.importing.book import BookIndex, customer_audit_row
from smbcrm.services.importing.fields import SPECS, Field
from smbcrm.services.importing.mapping import Mapping
from smbcrm.services.importing.orders_match import AUTO_ROUTES, Buyer, BuyerMatcher
from smbcrm.services.importing.plan import (
    CellProblem,
    ImportOptions,
    ImportPlan,
    Outcome,
    RowPlan,
    RowValues,
    excel_error_problems,
)
from smbcrm.services.importing.problems import record_problems
from smbcrm.services.importing.reader import Table
from smbcrm.services.importing.values import (
    DateOrder,
    NumberSize,
    TooLarge,
    ValueProblem,
    date_order,
    detect_currency,
    parse_amount,
    parse_date,
    parse_int,
    parse_text,
    read_phones,
)
from smbcrm.services.permissions import Permission, require
from smbcrm.services.progress import Progress

CHUNK = 2000
LOOKUP_CHUNK = 900  # order numbers per IN (...) when reading the orders already stored
T = TypeVar("T")

_CURRENCY_WORDS = {
    "人民币": "CNY",
    "rmb": "CNY",
    "元": "CNY",
    "¥": "CNY",
    "￥": "CNY",
    "美元": "USD",
    "美金": "USD",
    "us$": "USD",
    "$": "USD",
    "港币": "HKD",
    "港元": "HKD",
    "港幣": "HKD",
    "hk$": "HKD",
    "欧元": "EUR",
    "€": "EUR",
    "英镑": "GBP",
    "£": "GBP",
    "日元": "JPY",
    "円": "JPY",
    "新台币": "TWD",
    "澳门元": "MOP",
    "新加坡元": "SGD",
    "韩元": "KRW",
}
_CURRENCY_HINT = "write a currency code such as CNY, USD, HKD or EUR (or 人民币, 美元)"
_QUANTITY_RE = re.compile(r"^\s*([-+−]?[\d.,，]+)\s*[^\d\s]{0,6}\s*$")


def parse_currency(value: object) -> str | None:
    text = parse_text(value)
    if text is None:
        return None
    folded = text.strip().casefold()
    if folded in _CURRENCY_WORDS:
        return _CURRENCY_WORDS[folded]
    code = text.strip().upper()
    if code in ISO_CURRENCIES:
        return code
    detected = detect_currency(text)
    if detected and len(text.strip()) <= 4:
        return detected
    raise ValueProblem(f"'{text}' is not a currency", _CURRENCY_HINT)


def parse_quantity(value: object) -> Decimal | None:
    """2, 2.5, '3 件', '10pcs' — a unit after the number is left out.

    A quantity larger than an order line holds is too large, not "not a quantity".
    """
    cell = value
    if isinstance(value, str):
        match = _QUANTITY_RE.match(value)
        if match and not value.strip().replace(".", "").isdigit():
            value = match.group(1)
    try:
        quantity = parse_amount(value, size=QUANTITY.size)
    except TooLarge:
        raise QUANTITY.too_large_problem(cell) from None
    except (ValueProblem, InvalidOperation, OverflowError):
        raise ValueProblem(
            f"'{value}' is not a quantity", "write quantities as 12 or 2.5"
        ) from None
    if quantity is not None and quantity < 0:
        raise ValueProblem(
            f"'{value}' is a negative quantity", "record returns in the accounting system"
        )
    return quantity


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


@dataclass(frozen=True, slots=True)
class _Limit:
    """What a Numeric column holds: nothing larger, no more decimal places (read from the
    model, so a wider column needs no change here), and the words for a value that does not
    fit (``{shown}`` the cell, ``{largest}`` the most the column holds)."""

    size: NumberSize
    too_large: str
    fits_hint: str

    @classmethod
    def of(cls, numeric: TypeEngine[Any], too_large: str, fits_hint: str) -> _Limit:
        assert isinstance(numeric, Numeric)
        return cls(NumberSize.of(numeric), too_large, fits_hint)

    @property
    def largest(self) -> Decimal:
        return self.size.largest

    @property
    def places(self) -> int:
        return self.size.scale

    @property
    def largest_text(self) -> str:
        return f"{self.largest:,}"

    def fits(self, value: Decimal) -> bool:
        return value.is_finite() and abs(value) <= self.largest

    def check(self, value: Decimal | None, cell: object) -> Decimal | None:
        """The cell's value as stored, or the problem: never rounded, never cut off."""
        if value is None:
            return None
        if type(cell) is float:
            # Excel keeps 15 significant digits; what a float holds beyond them is noise
            # of its arithmetic (0.1 + 0.2), not part of the value.
            value = Decimal(format(cell, ".15g"))
        shown = parse_text(cell) or str(value)
        if not self.fits(value):
            raise self.too_large_problem(cell, shown)
        if value != value.quantize(Decimal(1).scaleb(-self.places)):
            raise ValueProblem(
                f"'{shown}' has more than {self.places} decimal places",
                f"round it to {self.places} decimal places in the file",
            )
        return value

    def too_large_problem(self, cell: object, shown: str | None = None) -> ValueProblem:
        return ValueProblem(
            self.too_large.format(shown=shown or parse_text(cell) or ""),
            self.fits_hint.format(largest=self.largest_text),
        )


ORDER_AMOUNT = _Limit.of(
    Order.amount.type,
    "'{shown}' is too large for an amount",
    "amounts up to {largest} fit: check that the cell holds an amount, not a card or ID number",
)
LINE_AMOUNT = _Limit.of(
    OrderLine.amount.type,
    "'{shown}' is too large for a line amount",
    "line amounts up to {largest} fit: check that the cell holds an amount, not a card or "
    "ID number",
)
QUANTITY = _Limit.of(
    OrderLine.quantity.type,
    "'{shown}' is too large for a quantity",
    "quantities up to {largest} fit: check that the cell holds a quantity, not a card or ID number",
)
UNIT_PRICE = _Limit.of(
    OrderLine.unit_price.type,
    "'{shown}' is too large for a price",
    "prices up to {largest} fit: check that the cell holds a price, not a card or ID number",
)


# -- the plan -------------------------------------------------------------------------------


class OrderOutcome(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    ERROR = "error"


_ROW_OUTCOME = {
    OrderOutcome.NEW: Outcome.CREATE,
    OrderOutcome.CHANGED: Outcome.UPDATE,
    OrderOutcome.UNCHANGED: Outcome.UNCHANGED,
    OrderOutcome.ERROR: Outcome.ERROR,
}


@dataclass(slots=True)
class LineValues:
    row_number: int
    product: str
    quantity: Decimal
    unit_price: Decimal | None
    amount: Decimal

    def signature(self) -> tuple[str, str, str, str]:
        price = "" if self.unit_price is None else str(self.unit_price.normalize())
        return (self.product, str(self.quantity.normalize()), price, str(_money(self.amount)))


@dataclass(slots=True)
class PlannedOrder:
    """One order of the file (one or more rows) and what the import does with it."""

    order_number: str
    rows: list[RowPlan]
    order_date: date | None = None
    amount: Decimal | None = None
    currency: str = "CNY"
    status: str | None = None
    notes: str | None = None
    buyer: Buyer = field(default_factory=Buyer)
    lines: list[LineValues] = field(default_factory=list)
    outcome: OrderOutcome = OrderOutcome.NEW
    customer_id: int | None = None
    customer_name: str | None = None
    route: LinkRoute | None = None
    reason: str = ""  # how it was linked, or why it was not
    existing_id: int | None = None
    status_before: str | None = None  # the stored order's status, when there is one
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def row_numbers(self) -> list[int]:
        return [r.row_number for r in self.rows]

    @property
    def first_row(self) -> int:
        return self.rows[0].row_number

    @property
    def links_now(self) -> bool:
        """Whether this import links the order to a customer (not an earlier one)."""
        if self.outcome == OrderOutcome.NEW:
            return self.customer_id is not None
        return self.outcome == OrderOutcome.CHANGED and "customer" in self.changes

    @property
    def unmatched(self) -> bool:
        return self.outcome != OrderOutcome.ERROR and self.customer_id is None

    @property
    def is_sale(self) -> bool:
        """Not cancelled, as the file says or (when it gives no status) as stored."""
        status = self.status if self.status is not None else self.status_before
        return not is_cancelled_status(status)

    @property
    def may_convert(self) -> bool:
        """Whether this order can be a prospect's first order: a sale this import links to
        its customer, or a linked order that was cancelled and is a sale again."""
        if self.outcome == OrderOutcome.ERROR or self.customer_id is None or not self.is_sale:
            return False
        return self.links_now or (
            "status" in self.changes and is_cancelled_status(self.status_before)
        )

    @property
    def cancelled_now(self) -> bool:
        """A stored sale this import marks cancelled."""
        return (
            self.outcome == OrderOutcome.CHANGED
            and "status" in self.changes
            and not self.is_sale
            and not is_cancelled_status(self.status_before)
        )


@dataclass
class OrderImportPlan(ImportPlan):
    """An ImportPlan whose ``rows`` are the file's rows and ``orders`` the orders they make."""

    orders: list[PlannedOrder] = field(default_factory=list)

    def orders_with(self, outcome: OrderOutcome) -> list[PlannedOrder]:
        return [o for o in self.orders if o.outcome == outcome]

    @property
    def order_counts(self) -> dict[OrderOutcome, int]:
        counts = Counter(o.outcome for o in self.orders)
        return {outcome: counts.get(outcome, 0) for outcome in OrderOutcome}

    @property
    def linked_by(self) -> dict[LinkRoute, int]:
        """Orders this import links, by route."""
        counts = Counter(o.route for o in self.orders if o.links_now and o.route is not None)
        return {route: counts.get(route, 0) for route in AUTO_ROUTES}

    @property
    def unmatched_orders(self) -> list[PlannedOrder]:
        return [o for o in self.orders if o.unmatched]

    @property
    def conversions(self) -> int:
        """Prospects this import makes customers (as the book was when previewed)."""
        if self.book is None:
            return 0
        customers = self.book.customers
        prospects = {
            o.customer_id
            for o in self.orders
            if o.may_convert
            and o.customer_id in customers
            and customers[o.customer_id].status == CustomerStatus.PROSPECT
        }
        return len(prospects)

    @property
    def line_count(self) -> int:
        return sum(len(o.lines) for o in self.orders if o.outcome != OrderOutcome.ERROR)


@dataclass(slots=True)
class _Parsed:
    """One row's cells, parsed."""

    order_number: str | None = None
    order_date: date | None = None
    amount: Decimal | None = None
    amount_currency: str | None = None
    currency: str | None = None
    status: str | None = None
    notes: list[str] = field(default_factory=list)
    product: str | None = None
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    line_amount: Decimal | None = None
    buyer: Buyer = field(default_factory=Buyer)

    @property
    def has_order_fields(self) -> bool:
        return bool(self.order_date or self.amount is not None or self.status or self.currency)


def _column_name(header: list[str], index: int) -> str:
    return header[index] if index < len(header) else f"Column {index + 1}"


def _header_of(header: list[str], mapping: Mapping, target: Field) -> str:
    columns = mapping.columns_for(target)
    return _column_name(header, columns[0]) if columns else SPECS[target].label


_PLAIN_DECIMAL_RE = re.compile(r"\d{1,15}(?:\.\d{1,6})?")
_ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EARLIEST_YEAR = 1900
# Orders are dated when placed; a few days ahead allows for time zones and pre-dated
# paperwork, a date further out is a typo (3024 for 2024) that would hide a lapsing customer.
FUTURE_MARGIN = timedelta(days=7)
_EMAIL_SPLIT_RE = re.compile(r"[,;，；\s/]+")
_NEGATIVE_HINT = (
    "record refunds and credit notes in the accounting system; an order's amount is 0 or more"
)


def _amount(cell: object, limit: _Limit) -> Decimal | None:
    """parse_amount, with a short way for the usual '1234.50' and plain numbers; a number
    too large for the column in the column's words. The short way leaves the size to
    ``limit.check``, which every value read here goes through."""
    if type(cell) is str and _PLAIN_DECIMAL_RE.fullmatch(cell):
        return Decimal(cell)
    if type(cell) is int:
        return Decimal(cell)
    try:
        return parse_amount(cell, size=limit.size)
    except TooLarge:
        raise limit.too_large_problem(cell) from None
    except (InvalidOperation, OverflowError):  # a number beyond what Decimal can work with
        value = parse_text(cell)
        raise ValueProblem(f"'{value}' is not an amount", "write amounts as 1234.50") from None


def _not_negative(value: Decimal | None, cell: object, what: str, hint: str) -> Decimal | None:
    if value is not None and value < 0:
        raise ValueProblem(f"'{parse_text(cell)}' is a negative {what}", hint)
    return value


class _RowParser:
    """Parses rows through a mapping; each distinct cell value of a column is parsed once.

    Order files repeat dates, prices, quantities, products and customers row after row, so
    100,000 rows hold far fewer distinct values than cells.
    """

    def __init__(
        self,
        header: list[str],
        mapping: Mapping,
        options: ImportOptions,
        *,
        day_first: bool | None = None,
    ) -> None:
        self.options = options
        # How the order date column writes 05.03.2024, as date_order decided it for the
        # whole column; not given, as the options say.
        self.day_first = options.day_first if day_first is None else day_first
        self.latest_date = date.today() + FUTURE_MARGIN
        # (column index, field, header, attribute it sets, whether on the buyer)
        self.columns = [
            (
                index,
                target,
                _column_name(header, index),
                _ORDER_ATTRIBUTES.get(target) or _BUYER_ATTRIBUTES.get(target),
                target in _BUYER_ATTRIBUTES,
            )
            for index, target in sorted(mapping.columns.items())
            if target is not None
        ]
        self.cache: dict[Field, dict[object, tuple[bool, Any]]] = defaultdict(dict)

    def value(self, target: Field, cell: object) -> Any:
        """The parsed value, or the ValueProblem (raised); remembered per column value."""
        cache = self.cache[target]
        try:
            key: object = (type(cell), cell)
            hit = cache.get(key)
        except TypeError:  # an unhashable cell: parse it every time
            key, hit = None, None
        if hit is None:
            try:
                hit = (True, self._parse(target, cell))
            except ValueProblem as exc:
                hit = (False, exc)
            if key is not None:
                cache[key] = hit
        ok, result = hit
        if not ok:
            raise result
        return result

    def _order_date(self, cell: object) -> date | None:
        day: date | None = None
        if type(cell) is str and _ISO_DATE_RE.fullmatch(cell):
            # The full parser below says what is wrong with one that does not read.
            with contextlib.suppress(ValueError):
                day = date.fromisoformat(cell)
        if day is None or not _EARLIEST_YEAR <= day.year <= self.latest_date.year:
            # Anything but a plainly usual date gets every check of the full parser.
            day = parse_date(cell, day_first=self.day_first)
        if day is not None and day > self.latest_date:
            written = day.isoformat()
            raise ValueProblem(
                f"order date {written} is in the future",
                "fix the year: an order is dated at most a week after today",
            )
        return day

    def _parse(self, target: Field, cell: object) -> Any:
        if target == Field.ORDER_DATE:
            return self._order_date(cell)
        if target == Field.AMOUNT:
            amount = _not_negative(_amount(cell, ORDER_AMOUNT), cell, "amount", _NEGATIVE_HINT)
            return ORDER_AMOUNT.check(amount, cell), detect_currency(cell)
        if target == Field.CURRENCY:
            return parse_currency(cell)
        if target == Field.QUANTITY:
            return QUANTITY.check(parse_quantity(cell), cell)
        if target == Field.UNIT_PRICE:
            price = _not_negative(_amount(cell, UNIT_PRICE), cell, "price", "write 0 or more")
            return UNIT_PRICE.check(price, cell)
        if target == Field.LINE_AMOUNT:
            amount = _not_negative(
                _amount(cell, LINE_AMOUNT), cell, "line amount", "write 0 or more"
            )
            return LINE_AMOUNT.check(amount, cell)
        if target == Field.CUSTOMER_ID:
            return parse_int(cell)
        if target in (Field.MOBILE, Field.PHONE):
            # A phone only helps to find the customer: one that cannot be read is noted,
            # and the order still comes in. Each number keeps its own text (and extension)
            # for the customer made from an unmatched order.
            try:
                readings = read_phones(cell, self.options.region)
            except ValueProblem as exc:
                return [], [f"{exc.message}, not used to find the customer"]
            return [(p.written, p.key) for p in readings], [p.doubt for p in readings if p.doubt]
        if target == Field.EMAIL:
            pairs: list[tuple[str, str]] = []
            bad: list[str] = []
            for part in _EMAIL_SPLIT_RE.split(parse_text(cell) or ""):
                if not part:
                    continue
                mail_key = normalize_email(part)
                if mail_key is None:
                    bad.append(f"'{part}' is not an e-mail address, not used to find the customer")
                else:
                    pairs.append((part, mail_key))
            return pairs, bad
        return parse_text(cell)

    def parse(self, cells: list[object]) -> tuple[_Parsed, list[CellProblem], list[str]]:
        parsed = _Parsed()
        problems: list[CellProblem] = []
        warnings: list[str] = []
        width = len(cells)
        for index, target, column, attribute, on_buyer in self.columns:
            if index >= width:
                continue
            cell = cells[index]
            if cell is None or (type(cell) is str and not cell.strip()):
                continue
            try:
                value = self.value(target, cell)
            except ValueProblem as exc:
                problems.append(CellProblem(column, parse_text(cell) or "", exc.message, exc.hint))
                continue
            if attribute is not None:
                setattr(parsed.buyer if on_buyer else parsed, attribute, value)
            else:
                self._assign(parsed, target, value, warnings, column)
        return parsed, problems, warnings

    @staticmethod
    def _assign(
        parsed: _Parsed, target: Field, value: Any, warnings: list[str], column: str
    ) -> None:
        """Fields that are more than one attribute: amounts with currency, notes, contacts."""
        if target == Field.AMOUNT:
            parsed.amount, parsed.amount_currency = value
        elif target == Field.NOTES:
            if value:
                parsed.notes.append(value)
        elif target in (Field.MOBILE, Field.PHONE, Field.EMAIL):
            pairs, bad = value
            points = parsed.buyer.emails if target == Field.EMAIL else parsed.buyer.phones
            for pair in pairs:
                if pair[1] not in {k for _r, k in points}:
                    points.append(pair)
            warnings.extend(f"column '{column}': {message}" for message in bad)


_ORDER_ATTRIBUTES = {
    Field.ORDER_NUMBER: "order_number",
    Field.ORDER_DATE: "order_date",
    Field.CURRENCY: "currency",
    Field.ORDER_STATUS: "status",
    Field.PRODUCT: "product",
    Field.QUANTITY: "quantity",
    Field.UNIT_PRICE: "unit_price",
    Field.LINE_AMOUNT: "line_amount",
}
_BUYER_ATTRIBUTES = {
    Field.EXTERNAL_ID: "code",
    Field.CUSTOMER_ID: "smbcrm_id",
    Field.NAME: "name",
    Field.CITY: "city",
}


def parse_order_row(
    cells: list[object], header: list[str], mapping: Mapping, options: ImportOptions
) -> tuple[_Parsed, list[CellProblem], list[str]]:
    """One row's values, its problems and its warnings (a phone that cannot be read)."""
    return _RowParser(header, mapping, options).parse(cells)


def _row_problem(row: RowPlan, column: str, message: str, hint: str = "") -> None:
    row.problems.append(CellProblem(column, "", message, hint))
    row.outcome = Outcome.ERROR


@dataclass(slots=True)
class _Existing:
    id: int
    order_date: date
    amount: Decimal
    currency: str
    status: str | None
    customer_id: int | None
    link_route: LinkRoute | None
    lines: list[tuple[str, str, str, str]] | None = None


def _existing_orders(
    session: Session, source_system: str, numbers: Sequence[str], with_lines: bool
) -> dict[str, _Existing]:
    """The stored orders of this source with these numbers, read a slice at a time."""
    found: dict[str, _Existing] = {}
    for chunk in _chunks(numbers, LOOKUP_CHUNK):
        for row in session.execute(
            select(
                Order.order_number,
                Order.id,
                Order.order_date,
                Order.amount,
                Order.currency,
                Order.status,
                Order.customer_id,
                Order.link_route,
            ).where(Order.source_system == source_system, Order.order_number.in_(chunk))
        ):
            found[row[0]] = _Existing(*row[1:])
    if with_lines and found:
        by_id = {e.id: e for e in found.values()}
        ids = list(by_id)
        for chunk_ids in _chunks(ids, LOOKUP_CHUNK):
            for order_id, product, quantity, price, amount in session.execute(
                select(
                    OrderLine.order_id,
                    OrderLine.product,
                    OrderLine.quantity,
                    OrderLine.unit_price,
                    OrderLine.amount,
                )
                .where(OrderLine.order_id.in_(chunk_ids))
                .order_by(OrderLine.order_id, OrderLine.line_no)
            ):
                existing = by_id[order_id]
                if existing.lines is None:
                    existing.lines = []
                existing.lines.append(LineValues(0, product, quantity, price, amount).signature())
    return found


# What a row says about its whole order, with the words for two rows that disagree.
_ONE_ORDER_FIELDS: dict[str, tuple[Field, str]] = {
    "date": (Field.ORDER_DATE, "order {number} is on row {row} with date {first} and here with {this}"),
    "status": (Field.ORDER_STATUS, "order {number} is on row {row} with status {first} and here with {this}"),
    "currency": (Field.CURRENCY, "order {number} is on row {row} in {first} and here in {this}"),
    "code": (Field.EXTERNAL_ID, "order {number} is on row {row} with customer code {first} and here with {this}"),
    "id": (Field.CUSTOMER_ID, "order {number} is on row {row} with customer ID {first} and here with {this}"),
    "name": (Field.NAME, "order {number} is on row {row} for customer {first} and here for {this}"),
    "phone": (Field.MOBILE, "order {number} is on row {row} with phone {first} and here with {this}"),
    "email": (Field.EMAIL, "order {number} is on row {row} with e-mail {first} and here with {this}"),
}  # fmt: skip
_ONE_ORDER_HINT = (
    "one order number is one order: make its rows agree, or give the other order its own number"
)


def _order_level(parsed: _Parsed) -> dict[str, tuple[object, str]]:
    """The order-level values a row gives, as (what compares, what is shown)."""
    found: dict[str, tuple[object, str]] = {}
    if parsed.order_date is not None:
        found["date"] = (parsed.order_date, parsed.order_date.isoformat())
    if parsed.status:
        found["status"] = (parsed.status.casefold(), parsed.status)
    currency = parsed.currency or parsed.amount_currency
    if currency:
        found["currency"] = (currency, currency)
    buyer = parsed.buyer
    if buyer.code:
        found["code"] = (normalize_key_text(buyer.code), buyer.code)
    if buyer.smbcrm_id is not None:
        found["id"] = (buyer.smbcrm_id, str(buyer.smbcrm_id))
    if buyer.name:
        found["name"] = (normalize_name(buyer.name) or buyer.name.casefold(), buyer.name)
    # Phones and e-mails agree when the rows share one: a later line may add another.
    if buyer.phones:
        found["phone"] = (frozenset(k for _r, k in buyer.phones), buyer.phones[0][0])
    if buyer.emails:
        found["email"] = (frozenset(k for _r, k in buyer.emails), buyer.emails[0][0])
    return found


def _agree(first: object, this: object) -> bool:
    if isinstance(first, frozenset) and isinstance(this, frozenset):
        return bool(first & this)
    return first == this


def _check_one_order(
    order: PlannedOrder, parsed_rows: list[_Parsed], mapping: Mapping, header: list[str]
) -> None:
    """Rows with one order number are its lines only when they tell the same order.

    A value a row leaves empty agrees (continuation lines often give only the product);
    a value that differs from the first row giving it is a problem on the later row.
    """
    if len(parsed_rows) < 2:
        return
    seen: dict[str, tuple[int, object, str]] = {}
    for row, parsed in zip(order.rows, parsed_rows, strict=True):
        for name, (key, shown) in _order_level(parsed).items():
            earlier = seen.get(name)
            if earlier is None:
                seen[name] = (row.row_number, key, shown)
                continue
            first_row, first_key, first_shown = earlier
            if _agree(first_key, key):
                continue
            target, template = _ONE_ORDER_FIELDS[name]
            if name == "currency" and not parsed.currency:
                target = Field.AMOUNT  # the currency came with the amount ("$1,200")
            elif name == "phone" and not mapping.has(Field.MOBILE):
                target = Field.PHONE
            _row_problem(
                row,
                _header_of(header, mapping, target),
                template.format(
                    number=order.order_number, row=first_row, first=first_shown, this=shown
                ),
                _ONE_ORDER_HINT,
            )


def _assemble(
    order: PlannedOrder,
    parsed_rows: list[_Parsed],
    mapping: Mapping,
    header: list[str],
    default_currency: str,
    line_column: bool,
) -> None:
    """Fold an order's rows into one order: first values win, amounts per the file's shape."""
    first = order.rows[0]
    # A cell that could not be read already says so: no second "is empty" for it.
    unreadable = any(r.problems for r in order.rows)
    notes: list[str] = []
    for parsed in parsed_rows:
        order.order_date = order.order_date or parsed.order_date
        order.status = order.status or parsed.status
        order.buyer.add_from(parsed.buyer)
        notes.extend(n for n in parsed.notes if n not in notes)
    order.notes = "\n".join(notes) or None
    _check_one_order(order, parsed_rows, mapping, header)
    for row, parsed in zip(order.rows, parsed_rows, strict=True):
        if parsed.currency and parsed.amount_currency and parsed.currency != parsed.amount_currency:
            _row_problem(
                row,
                _header_of(header, mapping, Field.CURRENCY),
                f"the amount is in {parsed.amount_currency} but the currency says "
                f"{parsed.currency}",
                "make the amount and the currency agree",
            )
    order.currency = next(
        (c for c in (p.currency or p.amount_currency for p in parsed_rows) if c), default_currency
    )
    if order.order_date is None and not unreadable:
        _row_problem(
            first,
            _header_of(header, mapping, Field.ORDER_DATE),
            "the order date is empty",
            "every order needs its date, e.g. 2024-03-05",
        )
    # Lines: a row with a product, quantity or price is a line.
    totals = [p.amount for p in parsed_rows if p.amount is not None]
    raw_lines: list[tuple[RowPlan, _Parsed, Decimal | None]] = []
    for row, parsed in zip(order.rows, parsed_rows, strict=True):
        if parsed.product or parsed.quantity is not None or parsed.unit_price is not None:
            computed = (
                parsed.quantity * parsed.unit_price
                if parsed.quantity is not None and parsed.unit_price is not None
                else None
            )
            raw_lines.append((row, parsed, parsed.line_amount if line_column else computed))
    # Without a line-amount column, an amount that differs from row to row (or matches
    # each row's quantity × price but not their sum) is each line's amount, not the total.
    per_line = False
    if not line_column and len(totals) > 1 and len(totals) == len(parsed_rows):
        if len(set(totals)) > 1:
            per_line = True
        elif raw_lines and len(raw_lines) == len(parsed_rows):
            products = [c for _r, _p, c in raw_lines]
            if all(c is not None for c in products) and all(
                c == t for c, t in zip(products, totals, strict=True)
            ):
                per_line = sum(products) != totals[0]  # type: ignore[arg-type]
    overflowing_line = False
    for number, (row, parsed, computed) in enumerate(raw_lines, start=1):
        amount = parsed.amount if per_line else computed
        if amount is None and len(raw_lines) == 1 and totals:
            amount = totals[0]  # one line: the order's amount is the line's
        if amount is None:
            amount = Decimal(0)
        elif not LINE_AMOUNT.fits(amount):
            # Each cell fits its column; quantity × price need not.
            overflowing_line = True
            line_total = f"{amount:,}"
            _row_problem(
                row,
                _header_of(header, mapping, Field.QUANTITY),
                f"quantity × price is {line_total}, more than a line amount can be "
                f"(at most {LINE_AMOUNT.largest_text})",
                "check the quantity and the price",
            )
        order.lines.append(
            LineValues(
                row.row_number,
                parsed.product or f"Line {number}",
                parsed.quantity if parsed.quantity is not None else Decimal(1),
                parsed.unit_price,
                amount,
            )
        )
    if per_line:
        order.amount = sum(totals, Decimal(0))
    elif totals:
        distinct = set(totals)
        if len(distinct) > 1:  # only possible with a line-amount column
            _row_problem(
                first,
                _header_of(header, mapping, Field.AMOUNT),
                f"the rows of order {order.order_number} give different totals "
                f"({', '.join(str(t) for t in sorted(distinct))})",
                "give the order's total once, or the same on every row",
            )
        order.amount = totals[0]
    elif order.lines and any(
        line.amount or p.line_amount is not None or p.unit_price is not None
        for line, p in zip(order.lines, [p for _r, p, _c in raw_lines], strict=True)
    ):
        order.amount = sum((line.amount for line in order.lines), Decimal(0))
    elif not unreadable:
        _row_problem(
            first,
            _header_of(header, mapping, Field.AMOUNT),
            "the amount is empty",
            "every order needs its amount (or its lines' quantities and prices)",
        )
    if order.amount is None:
        return
    if ORDER_AMOUNT.fits(order.amount):
        order.amount = _money(order.amount)
    elif not overflowing_line:
        # Lines that each fit can still add up to more than an order amount holds.
        order_total = f"{order.amount:,}"
        _row_problem(
            first,
            _header_of(header, mapping, Field.AMOUNT),
            f"the rows of order {order.order_number} add up to {order_total}, more than an "
            f"order amount can be (at most {ORDER_AMOUNT.largest_text})",
            "check the amounts, quantities and prices of its rows",
        )


def _compare(order: PlannedOrder, existing: _Existing) -> dict[str, tuple[Any, Any]]:
    changes: dict[str, tuple[Any, Any]] = {}
    if order.order_date != existing.order_date:
        changes["order_date"] = (existing.order_date, order.order_date)
    if order.amount is not None and _money(Decimal(existing.amount)) != order.amount:
        changes["amount"] = (_money(Decimal(existing.amount)), order.amount)
    if order.currency != existing.currency:
        changes["currency"] = (existing.currency, order.currency)
    if order.status is not None and order.status != existing.status:
        changes["status"] = (existing.status, order.status)
    if order.lines:
        wanted = [line.signature() for line in order.lines]
        if wanted != (existing.lines or []):
            changes["lines"] = (len(existing.lines or []), len(wanted))
    return changes


def build_order_plan(
    session: Session,
    table: Table,
    mapping: Mapping,
    options: ImportOptions | None = None,
    *,
    progress: Progress | None = None,
    book: BookIndex | None = None,
) -> OrderImportPlan:
    """Decide what happens to every order of the file, without writing anything."""
    with collector_paused():
        return _build_order_plan(session, table, mapping, options, progress=progress, book=book)


def _build_order_plan(
    session: Session,
    table: Table,
    mapping: Mapping,
    options: ImportOptions | None,
    *,
    progress: Progress | None,
    book: BookIndex | None,
) -> OrderImportPlan:
    options = options or ImportOptions()
    progress = progress or Progress()
    total = len(table.rows)
    progress.report(0, total, "Loading the customer book…")
    book = book or BookIndex.load(session)
    source = mapping.source_system
    plan = OrderImportPlan(
        path=table.path,
        sheet=table.sheet,
        kind=ImportKind.ORDERS,
        header=table.header,
        header_row=table.header_row,
        mapping=mapping,
        options=options,
        rows=[],
        encoding=table.encoding,
        book=book,
    )
    header = table.header
    number_column = _header_of(header, mapping, Field.ORDER_NUMBER)
    number_indexes = set(mapping.columns_for(Field.ORDER_NUMBER))
    by_number: dict[str, PlannedOrder] = {}
    parsed_by_number: dict[str, list[_Parsed]] = {}
    previous: PlannedOrder | None = None
    dates = _order_date_order(table, mapping, options)
    parser = _RowParser(header, mapping, options, day_first=dates.day_first)
    excel_errors = excel_error_problems(table, mapping)
    for position, (cells, row_number) in enumerate(zip(table.rows, table.row_numbers, strict=True)):
        if position % 2000 == 0:
            progress.report(position, total, "Checking rows…")
        parsed, problems, warnings = parser.parse(cells)
        row_errors = excel_errors.get(row_number) if excel_errors else None
        if row_errors:
            problems.extend(row_errors.values())
        row = RowPlan(row_number, cells, RowValues(), Outcome.CREATE, problems=problems)
        row.warnings = warnings
        if position == dates.warn_at:
            row.warnings.append(dates.warning)
        plan.rows.append(row)
        number = parsed.order_number
        if row_errors and not number_indexes.isdisjoint(row_errors):
            # An Excel error where the order number should be: which order the row belongs
            # to is unknown, so it is neither "empty" nor a line of the order above.
            row.outcome = Outcome.ERROR
            previous = None
            continue
        if number is None:
            # Merged cells in Excel leave the order's later lines without a number.
            is_line = parsed.product or parsed.quantity is not None or parsed.unit_price is not None
            if previous is not None and is_line and not parsed.order_date and parsed.buyer.is_empty:
                number = previous.order_number
            else:
                _row_problem(
                    row, number_column, "the order number is empty", "every order needs its number"
                )
                continue
        if len(number) > 100:
            _row_problem(
                row, number_column, "the order number is longer than 100 characters", "shorten it"
            )
            continue
        order = by_number.get(number)
        if order is None:
            order = PlannedOrder(number, [row])
            by_number[number] = order
            parsed_by_number[number] = [parsed]
            plan.orders.append(order)
        else:
            order.rows.append(row)
            parsed_by_number[number].append(parsed)
            row.same_as_row = order.first_row
        previous = order
        if problems:
            row.outcome = Outcome.ERROR
    progress.report(total, total, "Matching orders to customers…")
    default_currency = region_currency(options.region)
    line_column = mapping.has(Field.LINE_AMOUNT)
    for order in plan.orders:
        _assemble(
            order,
            parsed_by_number[order.order_number],
            mapping,
            header,
            default_currency,
            line_column,
        )
    with_lines = any(order.lines for order in plan.orders)
    existing = _existing_orders(session, source, list(by_number), with_lines)
    matcher = BuyerMatcher(book, options.region)
    for position, order in enumerate(plan.orders):
        if position % 5000 == 0:
            progress.report(position, len(plan.orders), "Matching orders to customers…")
        if any(r.outcome == Outcome.ERROR for r in order.rows):
            order.outcome = OrderOutcome.ERROR
            bad = [r.row_number for r in order.rows if r.problems]
            for row in order.rows:
                if not row.problems:
                    row.problems.append(
                        CellProblem(
                            "",
                            "",
                            f"order {order.order_number} has a problem on row {bad[0]}",
                            "fix that row; the order's rows are imported together",
                        )
                    )
                row.outcome = Outcome.ERROR
            continue
        stored = existing.get(order.order_number)
        if stored is not None:
            order.existing_id = stored.id
            order.status_before = stored.status
            order.customer_id = stored.customer_id
            order.route = stored.link_route
            if stored.customer_id is None:
                link = matcher.match(order.buyer, source)
                if link.customer_id is not None:
                    order.customer_id, order.route = link.customer_id, link.route
                    order.changes["customer"] = (None, link.customer_id)
                order.reason = link.reason
            else:
                order.reason = "linked when first imported"
            order.changes.update(_compare(order, stored))
            order.outcome = OrderOutcome.CHANGED if order.changes else OrderOutcome.UNCHANGED
        else:
            link = matcher.match(order.buyer, source)
            order.customer_id, order.route, order.reason = link.customer_id, link.route, link.reason
            order.outcome = OrderOutcome.NEW
        if order.customer_id is not None and order.customer_id in book.customers:
            order.customer_name = book.customers[order.customer_id].name
        outcome = _ROW_OUTCOME[order.outcome]
        for index, row in enumerate(order.rows):
            row.outcome = outcome if index == 0 else Outcome.SAME_AS_ROW
            row.customer_id = order.customer_id
            row.reason = order.reason
    _warn_of_cancelled_conversions(session, plan)
    progress.report(total, total, "Checked every row.")
    return plan


def _order_date_order(table: Table, mapping: Mapping, options: ImportOptions) -> DateOrder:
    """Whether the order date column writes 05.03.2024 day first, decided by all its dates,
    and the warning for the row of its first open date when nobody said and no date tells."""
    columns = mapping.columns_for(Field.ORDER_DATE)
    if not columns:
        return DateOrder(bool(options.day_first))
    index = columns[0]
    return date_order(
        (cells[index] if index < len(cells) else None for cells in table.rows),
        _column_name(table.header, index),
        options.day_first,
    )


def _warn_of_cancelled_conversions(session: Session, plan: OrderImportPlan) -> None:
    """A conversion stands when its order is cancelled later: the preview says so.

    Whether the customer never bought, or bought and sent this order back, is for a
    person to judge; the import does not set anyone back to prospect on its own.
    """
    cancelled = {o.existing_id: o for o in plan.orders if o.cancelled_now and o.existing_id}
    if not cancelled or plan.book is None:
        return
    customers = plan.book.customers
    ids = list(cancelled)
    for chunk in _chunks(ids, LOOKUP_CHUNK):
        for order_id, customer_id in session.execute(
            select(Conversion.order_id, Conversion.customer_id).where(
                Conversion.order_id.in_(chunk)
            )
        ):
            customer = customers.get(customer_id)
            order = cancelled.get(order_id or 0)
            if order is None or customer is None or customer.status == CustomerStatus.PROSPECT:
                continue
            order.rows[0].warnings.append(
                f"order {order.order_number} made {customer.name} a customer; it is cancelled "
                f"now, and {customer.name} stays a customer (set them back to prospect by hand "
                "if they never bought)"
            )


# -- applying -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderBatchResult:
    batch_id: int
    created: int
    changed: int
    unchanged: int
    linked: dict[LinkRoute, int]
    unmatched: int
    conversions: int
    lines: int
    errors: int

    @property
    def linked_total(self) -> int:
        return sum(self.linked.values())


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    return value


def _order_row(order: PlannedOrder, batch: ImportBatch, now: Any) -> dict[str, Any]:
    reference = order.buyer.reference
    return {
        "customer_id": order.customer_id,
        "source_system": batch.source_system,
        "order_number": order.order_number,
        "order_date": order.order_date,
        "amount": order.amount,
        "currency": order.currency,
        "status": order.status,
        "customer_ref": reference[:300] if reference else None,
        "customer_details": order.buyer.to_json(None if order.customer_id else order.reason),
        "link_route": order.route,
        "notes": order.notes,
        "import_batch_id": batch.id,
        "created_at": now,
    }


def _line_rows(order_id: int, order: PlannedOrder) -> list[dict[str, Any]]:
    return [
        {
            "order_id": order_id,
            "line_no": number,
            "product": line.product[:300],
            "sku": None,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "amount": _money(line.amount),
        }
        for number, line in enumerate(order.lines, start=1)
    ]


def apply_order_plan(
    db: Database,
    actor_id: int,
    plan: OrderImportPlan,
    *,
    progress: Progress | None = None,
) -> OrderBatchResult:
    """Write the previewed orders as one batch (errors are kept with it, not imported).

    A preview is imported once; when another import wrote the same orders meanwhile,
    nothing is written and the message says to preview again.
    """
    progress = progress or Progress()
    errors = plan.error_rows
    if plan.options.all_or_nothing and errors:
        raise ImportRefused(
            f"{len(errors)} of {len(plan.rows)} rows have problems (first: row "
            f"{errors[0].row_number}, {errors[0].problem_text()}). Nothing was imported: fix "
            "them and import again, or import without all-or-nothing to skip those rows."
        )
    with importing_once(plan):
        try:
            with collector_paused(), db.session(user_id=actor_id, audit=False) as session:
                result = _apply(session, actor_id, plan, progress)
        # On SQLite the bulk writes go to the driver directly, so its own error comes too.
        except (IntegrityError, sqlite3.IntegrityError) as exc:
            raise _conflict(db, plan) from exc
        plan.imported_batch_id = result.batch_id
        return result


def _conflict(db: Database, plan: OrderImportPlan) -> ConflictError:
    """Why the database refused the batch: mostly another import of the same orders."""
    numbers = [o.order_number for o in plan.orders_with(OrderOutcome.NEW)]
    with db.new_session() as session:
        stored = _existing_orders(session, plan.source_system, numbers, with_lines=False)
    added = [number for number in numbers if number in stored]
    if not added:
        return ConflictError(
            "Someone imported or changed some of these orders while this import ran; nothing "
            "was imported. Import the file again to see the orders as they are now."
        )
    count = len(added)
    shown = ", ".join(added[:3]) + (", …" if count > 3 else "")
    return ConflictError(
        f"Another import added {count} of these orders meanwhile ({shown}); nothing was "
        "imported. Preview the file again: it then shows them as already imported."
    )


def _apply(
    session: Session, actor_id: int, plan: OrderImportPlan, progress: Progress
) -> OrderBatchResult:
    actor = session.get_one(User, actor_id)
    require(actor, Permission.IMPORT_ORDERS)
    now = utcnow()
    linked = plan.linked_by
    batch = ImportBatch(
        kind=ImportKind.ORDERS,
        source_system=plan.source_system,
        file_name=str(plan.path),
        sheet=plan.sheet,
        mapping=plan.mapping_record(),
        options={
            "all_or_nothing": plan.options.all_or_nothing,
            "day_first": plan.options.day_first,
            "mapping_name": plan.mapping.name,
        },
        status=BatchStatus.APPLIED,
        user_id=actor_id,
        started_at=now,
    )
    session.add(batch)
    session.flush()
    new = plan.orders_with(OrderOutcome.NEW)
    changed = plan.orders_with(OrderOutcome.CHANGED)
    total = len(new) + len(changed)
    done = 0
    changes: list[dict[str, Any]] = []
    audit: list[dict[str, Any]] = []
    # Each customer's first sale among these orders, to say which order converted it.
    first_links: dict[int, tuple[date, str, int]] = {}

    linked_ids: list[int] = []

    def note_link(order: PlannedOrder, order_id: int) -> None:
        if order.customer_id is None or order.order_date is None:
            return
        if order.links_now:
            linked_ids.append(order_id)
        if not order.may_convert:
            return  # a cancelled order is no first order
        key = (order.order_date, order.order_number, order_id)
        if order.customer_id not in first_links or key < first_links[order.customer_id]:
            first_links[order.customer_id] = key

    orders_table = Order.__table__
    lines_table = OrderLine.__table__
    progress.report(0, total, "Writing orders…")
    line_count = 0
    for chunk in _chunks(new):
        ids = insert_with_ids(session, orders_table, [_order_row(o, batch, now) for o in chunk])  # type: ignore[arg-type]
        lines: list[dict[str, Any]] = []
        for order_id, order in zip(ids, chunk, strict=True):
            lines.extend(_line_rows(order_id, order))
            note_link(order, order_id)
        bulk_insert(session, lines_table, lines)  # type: ignore[arg-type]
        line_count += len(lines)
        done += len(chunk)
        progress.report(done, total, "Writing orders…")
    for chunk in _chunks(changed):
        line_count += _write_changes(session, batch, chunk, changes, now)
        for order in chunk:
            if order.existing_id is not None:
                note_link(order, order.existing_id)
        done += len(chunk)
        progress.report(done, total, "Updating orders…")
    conversions = _convert_prospects(session, batch, first_links, actor_id, now, changes, audit)
    # Orders that found their customer get the after-sales call the company asks for.
    plan_after_sales_follow_ups(session, linked_ids)
    bulk_insert(session, ImportChange.__table__, changes)  # type: ignore[arg-type]
    bulk_insert(session, AuditEntry.__table__, audit)  # type: ignore[arg-type]
    errors = plan.error_rows
    record_problems(session, batch, plan.header, errors)
    progress.report(total, total, "Finishing…")
    unmatched = len(plan.unmatched_orders)
    batch.created_count = len(new)
    batch.updated_count = len(changed)
    batch.unchanged_count = len(plan.orders_with(OrderOutcome.UNCHANGED))
    batch.skipped_count = 0
    batch.error_count = len(errors)
    batch.options = {
        **batch.options,
        "linked": {route.value: count for route, count in linked.items()},
        "unmatched": unmatched,
        "conversions": conversions,
        "lines": line_count,
    }
    batch.finished_at = utcnow()
    session.flush()
    # The last chance to stop: after this the batch is committed.
    progress.check()
    return OrderBatchResult(
        batch_id=batch.id,
        created=len(new),
        changed=len(changed),
        unchanged=batch.unchanged_count,
        linked=linked,
        unmatched=unmatched,
        conversions=conversions,
        lines=line_count,
        errors=len(errors),
    )


_ORDER_COLUMNS = ("order_date", "amount", "currency", "status")


def _write_changes(
    session: Session,
    batch: ImportBatch,
    orders: Sequence[PlannedOrder],
    changes: list[dict[str, Any]],
    now: Any,
) -> int:
    """Update changed orders; their prior values go to ``changes`` for undo."""
    ids = [o.existing_id for o in orders if o.existing_id is not None]
    current = {
        row.id: row
        for row in session.execute(
            select(
                Order.id,
                Order.order_date,
                Order.amount,
                Order.currency,
                Order.status,
                Order.customer_id,
                Order.link_route,
                Order.customer_details,
            ).where(Order.id.in_(ids))
        )
    }
    relined = [o for o in orders if "lines" in o.changes]
    old_lines: dict[int, list[list[Any]]] = defaultdict(list)
    if relined:
        for line in session.scalars(
            select(OrderLine)
            .where(OrderLine.order_id.in_([o.existing_id for o in relined]))
            .order_by(OrderLine.order_id, OrderLine.line_no)
        ):
            old_lines[line.order_id].append(
                [
                    line.line_no,
                    line.product,
                    line.sku,
                    _plain(line.quantity),
                    _plain(line.unit_price),
                    _plain(line.amount),
                ]
            )
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    new_lines: list[dict[str, Any]] = []
    for order in orders:
        order_id = order.existing_id
        assert order_id is not None
        row = current.get(order_id)
        if row is None:
            raise ConflictError(
                f"Order {order.order_number} was deleted while this import ran; nothing was "
                "imported. Import the file again."
            )
        before: dict[str, Any] = {}
        record: dict[str, Any] = {"b_id": order_id}
        for column in _ORDER_COLUMNS:
            if column in order.changes:
                before[column] = _plain(getattr(row, column))
                record[column] = getattr(order, column)
        if "customer" in order.changes:
            before["customer_id"] = row.customer_id
            before["link_route"] = _plain(row.link_route)
            before["customer_details"] = row.customer_details
            record["customer_id"] = order.customer_id
            record["link_route"] = order.route
            record["customer_details"] = order.buyer.to_json()
        if "lines" in order.changes:
            before["lines"] = old_lines.get(order_id, [])
            new_lines.extend(_line_rows(order_id, order))
        groups[tuple(sorted(record))].append(record)
        changes.append(
            {
                "batch_id": batch.id,
                "entity": "order",
                "entity_id": order_id,
                "action": ChangeAction.UPDATED,
                "before": before,
                "row_number": order.first_row,
                "version_after": None,
            }
        )
    for group in groups.values():
        if len(group[0]) > 1:
            bulk_update(session, Order.__table__, group, where={"id": "b_id"})  # type: ignore[arg-type]
    if relined:
        session.execute(
            delete(OrderLine).where(OrderLine.order_id.in_([o.existing_id for o in relined]))
        )
        bulk_insert(session, OrderLine.__table__, new_lines)  # type: ignore[arg-type]
    return len(new_lines)


def _convert_prospects(
    session: Session,
    batch: ImportBatch,
    first_links: dict[int, tuple[date, str, int]],
    actor_id: int,
    now: Any,
    changes: list[dict[str, Any]],
    audit: list[dict[str, Any]],
) -> int:
    """Prospects that got their first order become active customers; each is recorded."""
    prospects: list[tuple[int, int, int | None, str]] = []
    ids = list(first_links)
    for chunk in _chunks(ids, LOOKUP_CHUNK):
        prospects.extend(
            (int(cid), int(version), owner_id, str(name))
            for cid, version, owner_id, name in session.execute(
                select(Customer.id, Customer.version, Customer.owner_id, Customer.name).where(
                    Customer.id.in_(chunk), Customer.status == CustomerStatus.PROSPECT
                )
            )
        )
    if not prospects:
        return 0
    updates = [
        {
            "status": CustomerStatus.ACTIVE,
            "version": version + 1,
            "updated_at": now,
            "b_id": cid,
            "b_version": version,
        }
        for cid, version, _owner, _name in prospects
    ]
    written = bulk_update(
        session,
        Customer.__table__,  # type: ignore[arg-type]
        updates,
        where={"id": "b_id", "version": "b_version"},
    )
    if written != len(updates):
        raise ConflictError(
            "Someone changed customers these orders belong to while the import ran; nothing "
            "was imported. Import the file again."
        )
    rows = []
    for cid, _version, owner_id, _name in prospects:
        order_date, _number, order_id = first_links[cid]
        rows.append(
            {
                "customer_id": cid,
                "order_id": order_id,
                "order_date": order_date,
                "converted_at": now,
                "prospect_owner_id": owner_id,
                "import_batch_id": batch.id,
            }
        )
    conversion_ids = insert_with_ids(session, Conversion.__table__, rows)  # type: ignore[arg-type]
    for conversion_id, (cid, version, _owner, name) in zip(conversion_ids, prospects, strict=True):
        order_date, number, _order_id = first_links[cid]
        changes.append(
            {
                "batch_id": batch.id,
                "entity": "conversion",
                "entity_id": conversion_id,
                "action": ChangeAction.CREATED,
                "before": {"customer_id": cid, "status": CustomerStatus.PROSPECT.value},
                "row_number": None,
                "version_after": version + 1,
            }
        )
        audit.append(
            customer_audit_row(
                now,
                actor_id,
                cid,
                ChangeAction.UPDATED,
                {"status": ["prospect", "active"]},
                f"{name} became a customer with order {number} of "
                f"{order_date.isoformat()} (import batch {batch.id} of "
                f"{Path(batch.file_name).name})",
            )
        )
    return len(prospects)


def looks_like_orders(header: list[str]) -> bool:
    """Whether a header reads like an order export: an order number and a date or amount."""
    from smbcrm.services.importing.fields import fold_header, header_index

    orders = header_index(ImportKind.ORDERS)
    customers = header_index(ImportKind.CUSTOMERS)
    found = {orders[f] for f in (fold_header(h) for h in header) if f in orders}
    order_only = {f for f in found if SPECS[f].kinds == (ImportKind.ORDERS,)}
    if Field.ORDER_NUMBER not in found:
        return False
    customer_only = {
        customers[f]
        for f in (fold_header(h) for h in header)
        if f in customers and ImportKind.ORDERS not in SPECS[customers[f]].kinds
    }
    return len(order_only) >= 2 and len(order_only) >= len(customer_only)


__all__ = [
    "LineValues",
    "OrderBatchResult",
    "OrderImportPlan",
    "OrderOutcome",
    "PlannedOrder",
    "apply_order_plan",
    "build_order_plan",
    "looks_like_orders",
    "parse_currency",
    "region_currency",
]
