"""Preview of a customers import: every row's outcome, decided before anything is written.

Each row is parsed through the mapping, checked, and matched against the book in order of
trust — smbcrm ID, the source system's customer code, e-mail, phone, same name in the same
city (unless a birthday or ID number tells the namesakes apart) — and gets an outcome with
its reason: new customer, update of which customer and why, unchanged, possible duplicate
needing a decision, or error (column, value, why, how to fix).
What the book could not take is an error here, not a failed import later: text longer than
its column, a customer code given to two customers.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, KeysView, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from smbcrm.models import (
    Contact,
    ContactPoint,
    Customer,
    CustomerKind,
    CustomerStatus,
    ExternalId,
    ImportKind,
    Tag,
    Tier,
    User,
)
from smbcrm.models.keys import (
    DEFAULT_REGION,
    contains_cjk,
    fold_text,
    format_phone,
    normalize_email,
    normalize_key_text,
    normalize_name,
)
from smbcrm.services.importing.book import (
    SNAPSHOT_CHUNK,
    BookIndex,
    BookMark,
    CustomerSnapshot,
    StaffDirectory,
    load_snapshots,
)
from smbcrm.services.importing.fields import SPECS, Field, column_length
from smbcrm.services.importing.mapping import Mapping
from smbcrm.services.importing.reader import Table
from smbcrm.services.importing.values import (
    DateProblem,
    ValueProblem,
    date_order,
    parse_date,
    parse_text,
    read_phones,
)
from smbcrm.services.progress import Progress


class Outcome(StrEnum):
    CREATE = "new"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    SAME_AS_ROW = "same as an earlier row"
    DUPLICATE = "possible duplicate"
    REVIEW = "left for review"
    SKIP = "skipped"
    ERROR = "error"


class OnDuplicate(StrEnum):
    """What a row that matches an existing customer does."""

    UPDATE = "update"
    CREATE = "create"
    SKIP = "skip"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class CellProblem:
    column: str
    value: str
    message: str
    hint: str = ""

    def text(self) -> str:
        where = f"column '{self.column}'" if self.column else "row"
        fix = f" {self.hint}" if self.hint else ""
        return f"{where}: {self.message}.{fix}".replace("..", ".")


@dataclass(slots=True)
class RowValues:
    """A row's parsed values: scalars by column name, plus lists that add rather than replace."""

    scalars: dict[str, Any] = field(default_factory=dict)
    # Tuples, empty by default: most rows have one phone or none, and an empty list per
    # field and row costs tens of megabytes at 100,000 rows.
    phones: tuple[tuple[str, str], ...] = ()  # (as written, E.164 key)
    emails: tuple[tuple[str, str], ...] = ()  # (as written, key)
    wechat: str | None = None
    contact: str | None = None
    contact_title: str | None = None
    external_id: str | None = None
    customer_id: int | None = None
    owner_text: str | None = None
    tags: tuple[str, ...] = ()
    extra_contacts: tuple[str, ...] = ()  # from later rows of the file
    # A person's name and an address given in parts, put together once the row is read.
    given_name: str | None = None
    family_name: str | None = None
    address_parts: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        scalars = {
            k: (v.isoformat() if hasattr(v, "isoformat") else getattr(v, "value", v))
            for k, v in self.scalars.items()
        }
        return {
            "scalars": scalars,
            "phones": [p for p, _ in self.phones],
            "emails": [e for e, _ in self.emails],
            "wechat": self.wechat,
            "contact": self.contact,
            "contact_title": self.contact_title,
            "external_id": self.external_id,
            "owner": self.owner_text,
            "tags": self.tags,
        }


@dataclass(slots=True)
class RowPlan:
    row_number: int
    raw: list[object]
    values: RowValues
    outcome: Outcome
    customer_id: int | None = None
    reason: str = ""
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    problems: list[CellProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    same_as_row: int | None = None
    # The matched customer's version when previewed: an edit made since is a conflict.
    base_version: int | None = None
    # The user's choice for a possible duplicate (CREATE, UPDATE or SKIP), from the preview.
    decision: Outcome | None = None

    @property
    def effective(self) -> Outcome:
        return self.decision or self.outcome

    def problem_text(self) -> str:
        return "; ".join(p.text() for p in self.problems)


@dataclass
class ImportOptions:
    on_duplicate: OnDuplicate = OnDuplicate.UPDATE
    all_or_nothing: bool = False
    # Dates such as 05.03.2024: True day first, False month first, None not said (each
    # column decides from its dates; a column of open ones is read month first, with a
    # warning). See values.date_order.
    day_first: bool | None = None
    create_missing_staff: bool = False
    region: str = DEFAULT_REGION


@dataclass
class ImportPlan:
    path: Path
    sheet: str | None
    kind: ImportKind
    header: list[str]
    header_row: int
    mapping: Mapping
    options: ImportOptions
    rows: list[RowPlan]
    unknown_staff: dict[str, list[int]] = field(default_factory=dict)  # name → row numbers
    encoding: str | None = None
    book: BookIndex | None = field(default=None, repr=False)
    # How far the book reached when previewed: the import checks the rows found new
    # against the customers added or changed after it.
    book_mark: BookMark | None = None
    # The batch this preview was imported as: a preview is imported once.
    imported_batch_id: int | None = None
    importing: bool = field(default=False, repr=False)

    @property
    def source_system(self) -> str:
        return self.mapping.source_system

    def mapping_record(self) -> dict[str, str]:
        """Which field each column fed, by its header text, as the batch keeps it."""
        return {
            self.header[i] if i < len(self.header) else str(i): f.value
            for i, f in self.mapping.columns.items()
            if f is not None
        }

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.rows if r.effective == outcome)

    @property
    def counts(self) -> dict[Outcome, int]:
        tally = Counter(r.effective for r in self.rows)
        return {o: tally[o] for o in Outcome}

    @property
    def error_rows(self) -> list[RowPlan]:
        return [r for r in self.rows if r.outcome == Outcome.ERROR]

    @property
    def undecided(self) -> list[RowPlan]:
        return [r for r in self.rows if r.outcome == Outcome.DUPLICATE and r.decision is None]


_STATUS_WORDS = {
    CustomerStatus.PROSPECT: (
        "prospect",
        "lead",
        "potential",
        "潜在",
        "潜在客户",
        "意向",
        "意向客户",
        "线索",
    ),
    CustomerStatus.ACTIVE: (
        "active",
        "customer",
        "client",
        "成交",
        "成交客户",
        "活跃",
        "正式客户",
        "合作中",
        "老客户",
    ),
    CustomerStatus.LAPSED: (
        "lapsed",
        "inactive",
        "lost",
        "dormant",
        "流失",
        "休眠",
        "沉睡",
        "停止合作",
    ),
}
_KIND_WORDS = {
    CustomerKind.COMPANY: (
        "company",
        "business",
        "organisation",
        "organization",
        "公司",
        "企业",
        "单位",
        "b",
    ),
    CustomerKind.PERSON: ("person", "individual", "private", "个人", "自然人", "c"),
}
_TAG_SPLIT = re.compile(r"[,;，；、|/]+")
_EMAIL_SPLIT = re.compile(r"[,;，；\s/]+")


def _lookup(words: dict[Any, tuple[str, ...]], text: str) -> Any:
    folded = fold_text(text)
    for value, names in words.items():
        if folded in names or folded == str(value.value):
            return value
    return None


def _cell_text(value: object) -> str:
    return "" if value is None else str(value)


def mapped_columns(header: list[str], mapping: Mapping) -> list[tuple[int, Field, str]]:
    """(index, field, column name) of every mapped column, in the file's order."""
    return [
        (index, target, header[index] if index < len(header) else f"Column {index + 1}")
        for index, target in sorted(mapping.columns.items())
        if target is not None
    ]


def excel_error_problems(table: Table, mapping: Mapping) -> dict[int, dict[int, CellProblem]]:
    """The Excel error cells (#N/A, #REF! …) of the columns imported, as their rows' problems:
    file row → column index → problem.

    The reader leaves such a cell blank; without its own problem the row would be imported
    without the value, or said to lack it ("the name is empty") when it holds an error.
    """
    found: dict[int, dict[int, CellProblem]] = {}
    for error in table.cell_errors:
        if mapping.columns.get(error.column) is None:
            continue
        column = (
            table.header[error.column]
            if error.column < len(table.header)
            else f"Column {error.column + 1}"
        )
        found.setdefault(error.row, {})[error.column] = CellProblem(
            column, error.code, error.message, error.hint
        )
    return found


def parse_cells(
    cells: list[object],
    columns: list[tuple[int, Field, str]],
    options: ImportOptions,
    *,
    day_first: dict[int, bool] | None = None,
) -> tuple[RowValues, list[CellProblem], list[str]]:
    """A row's values through its :func:`mapped_columns`, with its problems and warnings.

    ``day_first`` is each date column's order, as :func:`date_order` decided it for the
    whole column; a column not in it follows the options.
    """
    values = RowValues()
    problems: list[CellProblem] = []
    warnings: list[str] = []
    notes: list[str] = []
    width = len(cells)
    for index, target, column in columns:
        if index >= width:
            continue
        cell = cells[index]
        if cell is None or cell == "" or (isinstance(cell, str) and not cell.strip()):
            continue
        try:
            setter = _TEXT_SETTERS.get(target)
            if setter is not None:
                parsed = parse_text(cell)
                if parsed is not None:
                    limit = _TEXT_LENGTHS.get(target)
                    if limit is not None and len(parsed) > limit:
                        raise _too_long(parsed, limit)
                    setter(values, parsed, notes)
            elif target in _PHONE_FIELDS:
                for phone in read_phones(cell, options.region):
                    if len(phone.written) > _POINT_LENGTH:
                        raise _too_long(phone.written, _POINT_LENGTH)
                    values.phones += ((phone.written, phone.key),)
                    if phone.doubt:
                        warnings.append(f"column '{column}': {phone.doubt}")
            elif target == Field.BIRTHDAY:
                order = options.day_first if day_first is None else day_first.get(index)
                try:
                    values.scalars["birthday"] = parse_date(
                        cell, day_first=order, not_after=date.today()
                    )
                except DateProblem as exc:
                    # A birthday is optional: the person is kept without it, not refused.
                    warnings.append(_birthday_left_empty(column, exc))
            else:
                _parse_into(values, target, cell, notes)
        except ValueProblem as exc:
            problems.append(CellProblem(column, _cell_text(cell), exc.message, exc.hint))
    if notes:
        values.scalars["notes"] = "\n".join(notes)
    if values.address_parts:
        values.scalars["address"] = join_address_parts(values.address_parts)
    if values.given_name or values.family_name:
        # Name parts are a person's; a name column, when there is one, still names the customer.
        values.scalars.setdefault(
            "name", person_name(values.given_name or "", values.family_name or "")
        )
        values.scalars.setdefault("kind", CustomerKind.PERSON)
    # Only people have birthdays: a row giving one without a kind is about a person.
    if values.scalars.get("birthday") and "kind" not in values.scalars:
        values.scalars["kind"] = CustomerKind.PERSON
    if not problems and (values.address_parts or values.given_name or values.family_name):
        problems = _composed_too_long(values, columns)
    return values, problems, warnings


_PHONE_FIELDS = frozenset((Field.MOBILE, Field.PHONE))


def _birthday_left_empty(column: str, problem: DateProblem) -> str:
    """The warning of a birthday that is no date: which cell, its value, why, what to do."""
    shown, reason = problem.shown, problem.reason
    if problem.future:
        return (
            f"column '{column}': birthday {shown} is in the future: left empty; fix it in the "
            "file and import again to add it"
        )
    if reason:
        return (
            f"column '{column}': birthday {shown} is not a date ({reason}): left empty; fix it "
            "in the file and import again to add it"
        )
    return (
        f"column '{column}': birthday {shown} is not a date: left empty; fix it in the file "
        "and import again to add it"
    )


def _field_length(target: Field) -> int:
    return column_length(Customer.__table__.c[target.value])


# Text the book keeps in sized columns: PostgreSQL refuses longer text where SQLite would
# keep it, so a value too long is the row's problem on both, not a failed import.
_POINT_LENGTH = column_length(ContactPoint.__table__.c.value)
_TAG_LENGTH = column_length(Tag.__table__.c.name)
_TEXT_LENGTHS: dict[Field, int] = {
    **{
        target: _field_length(target)
        for target in (
            Field.NAME,
            Field.ADDRESS,
            Field.PROVINCE,
            Field.CITY,
            Field.DISTRICT,
            Field.POSTCODE,
            Field.COUNTRY,
            Field.SOURCE,
            Field.WEBSITE,
            Field.TAX_ID,
        )
    },
    Field.EXTERNAL_ID: column_length(ExternalId.__table__.c.key),
    Field.CONTACT: column_length(Contact.__table__.c.name),
    Field.CONTACT_TITLE: column_length(Contact.__table__.c.title),
    Field.WECHAT: _POINT_LENGTH,
    Field.OWNER: column_length(User.__table__.c.full_name),  # staff the import may add
}


def _too_long(text: str, limit: int) -> ValueProblem:
    shown = text if len(text) <= 20 else text[:20] + "…"
    return ValueProblem(
        f"'{shown}' is {len(text)} characters long, and at most {limit} fit", "shorten it"
    )


def _composed_too_long(
    values: RowValues, columns: list[tuple[int, Field, str]]
) -> list[CellProblem]:
    """Problems of a name or an address put together from parts that fit one by one."""
    problems = []
    composed = (
        (Field.ADDRESS, values.scalars.get("address"), (Field.ADDRESS,)),
        (Field.NAME, values.scalars.get("name"), (Field.GIVEN_NAME, Field.FAMILY_NAME)),
    )
    for target, text, parts in composed:
        limit = _TEXT_LENGTHS[target]
        if isinstance(text, str) and len(text) > limit:
            problem = _too_long(text, limit)
            column = next((name for _i, field_, name in columns if field_ in parts), "")
            problems.append(CellProblem(column, text, problem.message, problem.hint))
    return problems


def person_name(given: str, family: str) -> str:
    """Given and family name as the person is called: 张伟 (family first), John Smith."""
    given, family = given.strip(), family.strip()
    if not given or not family:
        return given or family
    if contains_cjk(given) or contains_cjk(family):
        return family + given
    return f"{given} {family}"


def join_address_parts(parts: Sequence[str]) -> str:
    """Street number and address lines as one address: "8 Stanley Street, Miami", "南山区科技园路1号"."""
    joined = ""
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if not joined:
            joined = part
        elif contains_cjk(joined[-1]) and contains_cjk(part[0]):
            joined += part
        elif joined.isdigit() or (joined[-1].isdigit() and len(joined) <= 6 and " " not in joined):
            joined += " " + part  # a house number before its street
        else:
            joined += ", " + part
    return joined


def _parse_into(values: RowValues, target: Field, cell: object, notes: list[str]) -> None:
    if target == Field.EMAIL:
        for part in _EMAIL_SPLIT.split(_cell_text(cell).strip()):
            if not part:
                continue
            email_key = normalize_email(part)
            if email_key is None:
                raise ValueProblem(
                    f"'{part}' is not an e-mail address", "write it as name@example.com"
                )
            if len(part) > _POINT_LENGTH:
                raise _too_long(part, _POINT_LENGTH)
            values.emails += ((part, email_key),)
        return
    if target == Field.CUSTOMER_ID:
        text = parse_text(cell) or ""
        if not text.isdigit():
            raise ValueProblem(
                f"'{text}' is not an smbcrm customer ID", "IDs are whole numbers, as exported"
            )
        values.customer_id = int(text)
        return
    parsed = parse_text(cell)
    if parsed is None:
        return
    text = parsed
    if target == Field.KIND:
        kind = _lookup(_KIND_WORDS, text)
        if kind is None:
            raise ValueProblem(
                f"'{text}' is not a kind of customer", "write company (公司) or person (个人)"
            )
        values.scalars["kind"] = kind
    elif target == Field.STATUS:
        status = _lookup(_STATUS_WORDS, text)
        if status is None:
            raise ValueProblem(
                f"'{text}' is not a status", "write prospect (潜在), active (成交) or lapsed (流失)"
            )
        values.scalars["status"] = status
    elif target == Field.TIER:
        letter = fold_text(text).upper().rstrip("类级")[:1]
        if letter not in ("A", "B", "C"):
            raise ValueProblem(f"'{text}' is not a tier", "write A, B or C")
        values.scalars["tier"] = Tier(letter)
    elif target == Field.TAGS:
        tags = tuple(t.strip() for t in _TAG_SPLIT.split(text) if t.strip())
        for tag in tags:
            if len(tag) > _TAG_LENGTH:
                raise _too_long(tag, _TAG_LENGTH)
        values.tags += tags
    elif target == Field.TAX_ID:
        tax_id = text.replace(" ", "").upper()
        if len(tax_id) > _TEXT_LENGTHS[Field.TAX_ID]:
            raise _too_long(tax_id, _TEXT_LENGTHS[Field.TAX_ID])
        values.scalars["tax_id"] = tax_id
    else:
        values.scalars[target.value] = text


def _set_scalar(name: str) -> Callable[[RowValues, str, list[str]], None]:
    def setter(values: RowValues, text: str, _notes: list[str]) -> None:
        values.scalars[name] = text

    return setter


def _set_attribute(name: str) -> Callable[[RowValues, str, list[str]], None]:
    def setter(values: RowValues, text: str, _notes: list[str]) -> None:
        setattr(values, name, text)

    return setter


def _add_address(values: RowValues, text: str, _notes: list[str]) -> None:
    values.address_parts += (text,)


def _add_note(_values: RowValues, text: str, notes: list[str]) -> None:
    notes.append(text)


# Columns whose text is taken as written: one dictionary look-up instead of the chain of
# tests in _parse_into, which 100,000 rows × every column otherwise walk.
_TEXT_SETTERS: dict[Field, Callable[[RowValues, str, list[str]], None]] = {
    Field.NAME: _set_scalar("name"),
    Field.GIVEN_NAME: _set_attribute("given_name"),
    Field.FAMILY_NAME: _set_attribute("family_name"),
    Field.ADDRESS: _add_address,
    Field.EXTERNAL_ID: _set_attribute("external_id"),
    Field.CONTACT: _set_attribute("contact"),
    Field.CONTACT_TITLE: _set_attribute("contact_title"),
    Field.WECHAT: _set_attribute("wechat"),
    Field.OWNER: _set_attribute("owner_text"),
    Field.NOTES: _add_note,
    **{
        field: _set_scalar(field.value)
        for field in (
            Field.PROVINCE,
            Field.CITY,
            Field.DISTRICT,
            Field.POSTCODE,
            Field.COUNTRY,
            Field.SOURCE,
            Field.WEBSITE,
        )
    },
}


# -- matching ---------------------------------------------------------------------------


@dataclass
class _Match:
    customer_id: int
    reason: str
    definite: bool
    by_identity: bool = False  # smbcrm ID or the source's own code: the same record


def match_row(values: RowValues, book: BookIndex, source_system: str, region: str) -> _Match | None:
    if values.customer_id is not None:
        cid = book.resolve(values.customer_id)
        if cid in book.customers:
            return _Match(cid, f"same smbcrm ID {values.customer_id}", True, True)
        return None
    if values.external_id:
        cid_ext = book.by_external.get((source_system, normalize_key_text(values.external_id)))
        if cid_ext is not None and cid_ext in book.customers:
            return _Match(
                cid_ext, f"same {source_system} customer code {values.external_id}", True, True
            )
    for _raw, key in values.emails:
        found = book.by_email.get(key)
        if len(found) == 1:
            return _Match(found[0], f"same e-mail {key}", True)
        if len(found) > 1:
            first = min(found)
            return _Match(first, f"e-mail {key} belongs to {len(found)} customers", False)
    for _raw, key in values.phones:
        found = book.by_phone.get(key)
        if len(found) == 1:
            return _Match(found[0], f"same phone {format_phone(key, region)}", True)
        if len(found) > 1:
            first = min(found)
            return _Match(
                first, f"phone {format_phone(key, region)} belongs to {len(found)} customers", False
            )
    name = values.scalars.get("name")
    if name:
        name_key = normalize_name(str(name))
        city = values.scalars.get("city")
        city_key = fold_text(str(city)) if city else None
        same = book.by_name_city.get((name_key, city_key))
        person = values.scalars.get("kind") == CustomerKind.PERSON
        if len(same) == 1:
            cid = same[0]
            where = f" in {city}" if city else ""
            head = book.customers[cid]
            difference = identity_difference(values, head.birthday, head.tax_id)
            if difference:
                # Namesakes: the user decides whether they are one customer.
                return _Match(cid, f"same name{where}, but {difference}", False)
            # A person's name alone (张伟) is too common to be sure without a city.
            definite = not ((person or head.is_person) and city_key is None)
            return _Match(cid, f"same name{where}", definite)
        if len(same) > 1:
            return _Match(min(same), f"{len(same)} customers have this name", False)
        others = book.by_name.get(name_key)
        if others:
            cid = min(others)
            other_city = book.customers[cid].city
            return _Match(
                cid, f"same name, city {other_city or 'not given'} vs {city or 'not given'}", False
            )
    return None


def rows_now_matching(plan: ImportPlan, later: BookIndex) -> list[tuple[RowPlan, _Match]]:
    """The rows the preview found new that match a customer of ``later`` (the customers
    added or changed since the preview), each with that match, in the file's order.

    A match counts where the preview, had it seen the customer, would not have created the
    row: always for the same customer code, and for any match unless matching customers
    are created anyway. Rows the person decided to create are theirs to create.
    """
    create_anyway = plan.options.on_duplicate == OnDuplicate.CREATE
    source = plan.source_system
    keys = _LaterKeys(
        later.by_name.keys(),
        later.by_phone.keys(),
        later.by_email.keys(),
        {key for system, key in later.by_external if system == source},
    )
    found = []
    for row in plan.rows:
        if row.outcome != Outcome.CREATE or row.decision is not None:
            continue
        if not keys.any_of(row.values):
            continue
        match = match_row(row.values, later, source, plan.options.region)
        if match is not None and (match.by_identity or not create_anyway):
            found.append((row, match))
    return found


@dataclass(frozen=True, slots=True)
class _LaterKeys:
    """The keys of the customers added or changed since a preview: few, so most rows hold
    none of them, which one look per key tells, where :func:`match_row` takes several."""

    names: KeysView[str]
    phones: KeysView[str]
    emails: KeysView[str]
    codes: set[str]

    def any_of(self, values: RowValues) -> bool:
        """Whether the row holds any of the keys (every key match_row looks up)."""
        # Cached since the preview worked the name's key out.
        if normalize_name(values.scalars.get("name")) in self.names:
            return True
        for _raw, key in values.phones:
            if key in self.phones:
                return True
        for _raw, key in values.emails:
            if key in self.emails:
                return True
        return bool(self.codes) and normalize_key_text(values.external_id) in self.codes


# -- changes ----------------------------------------------------------------------------


def changes_for(
    values: RowValues, snapshot: CustomerSnapshot, source_system: str
) -> dict[str, tuple[Any, Any]]:
    """What an update would change: only non-empty cells count; lists only add."""
    changes: dict[str, tuple[Any, Any]] = {}
    for column, new in values.scalars.items():
        old = snapshot.values.get(column)
        if column == "notes" and old and str(new) in str(old):
            continue
        if new is not None and new != old:
            changes[column] = (old, new)
    phones = snapshot.phone_keys
    added_phones = [key for _raw, key in values.phones if key not in phones]
    if added_phones:
        changes["phones"] = (None, added_phones)
    emails = snapshot.email_keys
    added_emails = [key for _raw, key in values.emails if key not in emails]
    if added_emails:
        changes["emails"] = (None, added_emails)
    if values.wechat and not any(p.value == values.wechat for p in snapshot.points):
        changes["wechat"] = (None, values.wechat)
    if values.contact and not any(c.name == values.contact for c in snapshot.contacts):
        changes["contact"] = (None, values.contact)
    if values.external_id and not any(
        s == source_system and normalize_key_text(k) == normalize_key_text(values.external_id)
        for s, k in snapshot.external_ids
    ):
        changes["external_id"] = (None, f"{source_system}:{values.external_id}")
    new_tags = [t for t in values.tags if t not in snapshot.tags]
    if new_tags:
        changes["tags"] = (None, new_tags)
    return changes


# -- the plan ---------------------------------------------------------------------------


def _resolve_owner(
    values: RowValues,
    staff: StaffDirectory,
    options: ImportOptions,
    unknown: dict[str, list[int]],
    row_number: int,
    warnings: list[str],
) -> None:
    if not values.owner_text:
        return
    found = staff.find(values.owner_text)
    if found is None:
        unknown.setdefault(values.owner_text, []).append(row_number)
        if not options.create_missing_staff:
            warnings.append(
                f"no staff member is called '{values.owner_text}': the customer goes to the "
                "unassigned pool (or choose to create the staff member)"
            )
        return
    user_id, active = found
    if not active:
        warnings.append(
            f"'{values.owner_text}' has left the company: the customer goes to the unassigned pool"
        )
        return
    values.scalars["owner_id"] = user_id


def build_plan(
    session: Session,
    table: Table,
    mapping: Mapping,
    options: ImportOptions | None = None,
    *,
    progress: Progress | None = None,
    book: BookIndex | None = None,
) -> ImportPlan:
    """Decide every row's outcome without writing anything."""
    options = options or ImportOptions()
    progress = progress or Progress()
    progress.report(0, len(table.rows), "Loading the customer book…")
    book = book or BookIndex.load(session)
    staff = StaffDirectory.load(session)
    source = mapping.source_system
    plan = ImportPlan(
        path=table.path,
        sheet=table.sheet,
        kind=mapping.kind,
        header=table.header,
        header_row=table.header_row,
        mapping=mapping,
        options=options,
        rows=[],
        encoding=table.encoding,
        book_mark=book.mark,
    )
    # Rows that create a customer are matchable by later rows of the same file.
    pending_external: dict[str, RowPlan] = {}
    pending_email: dict[str, RowPlan] = {}
    pending_phone: dict[str, RowPlan] = {}
    pending_name: dict[tuple[str, str | None], list[RowPlan]] = {}
    codes = _CodeClaims(book, source, _header_of(table.header, mapping, Field.EXTERNAL_ID))
    columns = mapped_columns(table.header, mapping)
    columns_of = _columns_of_values(columns)
    day_first, date_warnings = _date_orders(table, columns, options)
    excel_errors = excel_error_problems(table, mapping)
    # Rows matching a customer, compared with that customer's details once every row is read.
    to_compare: list[RowPlan] = []
    total = len(table.rows)
    for position, (cells, row_number) in enumerate(zip(table.rows, table.row_numbers, strict=True)):
        if position % 2000 == 0:
            progress.report(position, total, "Checking rows…")
        values, problems, warnings = parse_cells(cells, columns, options, day_first=day_first)
        if excel_errors and row_number in excel_errors:
            # Before the outcome: an error in the name column is that, not an empty name.
            problems.extend(excel_errors[row_number].values())
        row = RowPlan(row_number, cells, values, Outcome.ERROR, problems=problems)
        row.warnings = warnings
        if position in date_warnings:
            row.warnings.append(date_warnings[position])
        plan.rows.append(row)
        if problems:
            continue
        _resolve_owner(values, staff, options, plan.unknown_staff, row_number, row.warnings)
        name = values.scalars.get("name")
        if (
            values.customer_id is not None
            and book.resolve(values.customer_id) not in book.customers
        ):
            row.problems.append(
                CellProblem(
                    _header_of(table.header, mapping, Field.CUSTOMER_ID),
                    str(values.customer_id),
                    f"no customer has ID {values.customer_id} in this book",
                    "clear the ID to create a new customer, or fix it",
                )
            )
            continue
        # "Create" keeps every row as its own customer unless it repeats the same source code.
        earlier = _pending_match(
            values,
            pending_external,
            *(
                ({}, {}, {})
                if options.on_duplicate == OnDuplicate.CREATE
                else (pending_email, pending_phone, pending_name)
            ),
        )
        if isinstance(earlier, _Namesake):
            row.warnings.append(earlier.warning(values))
        elif earlier is not None:
            differing = _fold_into(earlier, values)
            row.outcome = Outcome.SAME_AS_ROW
            row.same_as_row = earlier.row_number
            row.customer_id = earlier.customer_id
            row.reason = f"same customer as row {earlier.row_number}"
            if differing:
                listed = ", ".join(dict.fromkeys(columns_of.get(key, key) for key in differing))
                row.warnings.append(
                    f"differs from row {earlier.row_number} in {listed}: kept row "
                    f"{earlier.row_number}'s, this row's are not imported"
                )
            continue
        match = match_row(values, book, source, options.region)
        if match is None:
            row.outcome = Outcome.CREATE
            row.reason = "no customer in the book matches"
        else:
            head = book.customers[match.customer_id]
            row.customer_id = match.customer_id
            row.reason = (
                f"{head.name} (archived): {match.reason}"
                if head.archived
                else f"{head.name}: {match.reason}"
            )
            if not match.definite:
                row.outcome = _outcome_of(options.on_duplicate, definite=False)
            else:
                policy = OnDuplicate.UPDATE if match.by_identity else options.on_duplicate
                row.outcome = _outcome_of(policy, definite=True)
                if row.outcome == Outcome.CREATE:
                    row.customer_id = None
                    row.reason = f"created although it looks like {row.reason}"
        if row.outcome == Outcome.CREATE and not name:
            row.outcome = Outcome.ERROR
            row.problems.append(
                CellProblem(
                    _header_of(table.header, mapping, Field.NAME),
                    "",
                    "the name is empty",
                    "every new customer needs a name",
                )
            )
            continue
        code_problem = codes.claim(row)
        if code_problem is not None:
            row.outcome = Outcome.ERROR
            row.problems.append(code_problem)
            continue
        if row.outcome == Outcome.CREATE:
            _remember(row, source, pending_external, pending_email, pending_phone, pending_name)
        elif row.outcome in (Outcome.UPDATE, Outcome.DUPLICATE):
            # For a possible duplicate: what "update" would change, should the user choose it.
            to_compare.append(row)
    _compare_with_book(session, to_compare, source, progress)
    progress.report(total, total, "Checked every row.")
    return plan


def _date_orders(
    table: Table, columns: list[tuple[int, Field, str]], options: ImportOptions
) -> tuple[dict[int, bool], dict[int, str]]:
    """Each date column's day/month order, read from all its cells, and the warnings to
    give (by row position) where a column's order is only the default."""
    day_first: dict[int, bool] = {}
    warnings: dict[int, str] = {}
    for index, target, column in columns:
        if target != Field.BIRTHDAY:
            continue
        order = date_order(
            (cells[index] if index < len(cells) else None for cells in table.rows),
            column,
            options.day_first,
        )
        day_first[index] = order.day_first
        if order.warning and order.warn_at is not None:
            warnings[order.warn_at] = order.warning
    return day_first, warnings


_OUTCOME_OF_POLICY = {
    OnDuplicate.UPDATE: Outcome.UPDATE,
    OnDuplicate.CREATE: Outcome.CREATE,
    OnDuplicate.SKIP: Outcome.SKIP,
    OnDuplicate.REVIEW: Outcome.REVIEW,
}


def _outcome_of(policy: OnDuplicate, *, definite: bool) -> Outcome:
    """A row matching an existing customer, by the policy for such rows; a match that is
    only possible is not updated but left as a duplicate for the user to decide."""
    outcome = _OUTCOME_OF_POLICY[policy]
    return Outcome.DUPLICATE if outcome == Outcome.UPDATE and not definite else outcome


# Outcomes that give a customer the row's code, now or when the user decides.
_CODE_WRITERS = (Outcome.CREATE, Outcome.UPDATE, Outcome.DUPLICATE, Outcome.REVIEW)


class _CodeClaims:
    """Which customer each customer code of the file goes to: one code, one customer.

    The book holds a code once per source system; two rows giving one code to two
    customers (or a code another customer already has) would fail the whole import.
    """

    def __init__(self, book: BookIndex, source: str, column: str) -> None:
        self.book = book
        self.source = source
        self.column = column
        self.rows: dict[str, RowPlan] = {}

    def claim(self, row: RowPlan) -> CellProblem | None:
        """The row's problem when its code belongs to another customer; else the code is
        taken for the row's customer."""
        code = row.values.external_id
        if not code or row.outcome not in _CODE_WRITERS:
            return None
        key = normalize_key_text(code)
        target = None if row.outcome == Outcome.CREATE else row.customer_id
        holder = self.book.by_external.get((self.source, key))
        if holder is not None:
            holder = self.book.resolve(holder)
            if holder == target:
                return None
            head = self.book.customers.get(holder)
            return CellProblem(
                self.column,
                code,
                f"customer code {code} already belongs to "
                f"{head.name if head else 'another customer'} (smbcrm ID {holder})",
                "one code belongs to one customer: fix the code, or the smbcrm ID if this "
                "row is about that customer",
            )
        first = self.rows.setdefault(key, row)
        if first is row or (
            target is not None and first.outcome != Outcome.CREATE and first.customer_id == target
        ):
            return None
        return CellProblem(
            self.column,
            code,
            f"customer code {code} is already on row {first.row_number} "
            f"({_customer_of(first, self.book)})",
            "one code belongs to one customer: fix the code, or make the two rows one",
        )


def _customer_of(row: RowPlan, book: BookIndex) -> str:
    """The customer a row writes to, as a person knows it."""
    if row.outcome == Outcome.CREATE or row.customer_id not in book.customers:
        return f"new customer {row.values.scalars.get('name') or ''}".rstrip()
    return book.customers[row.customer_id].name


def code_conflict(plan: ImportPlan) -> str | None:
    """Two rows giving one customer code to two customers, as the user decided the
    possible duplicates; None when every code goes to one customer."""
    by_code: dict[str, tuple[RowPlan, object]] = {}
    for row in plan.rows:
        code = row.values.external_id
        if not code or row.effective not in (Outcome.CREATE, Outcome.UPDATE):
            continue
        target: object = row.row_number if row.effective == Outcome.CREATE else row.customer_id
        first, first_target = by_code.setdefault(normalize_key_text(code), (row, target))
        if first_target != target:
            return (
                f"Rows {first.row_number} and {row.row_number} give customer code {code} to "
                "two different customers, as the possible duplicates were decided. One code "
                "belongs to one customer: decide those rows again, or fix the code."
            )
    return None


def _compare_with_book(
    session: Session, rows: list[RowPlan], source: str, progress: Progress
) -> None:
    """What each matched row would change, read a chunk of customers at a time.

    A row proposed as an update that changes nothing becomes "unchanged".
    """
    for start in range(0, len(rows), SNAPSHOT_CHUNK):
        progress.report(start, len(rows), "Comparing with the customers they match…")
        chunk = rows[start : start + SNAPSHOT_CHUNK]
        snapshots = load_snapshots(session, [r.customer_id for r in chunk if r.customer_id])
        for row in chunk:
            assert row.customer_id is not None
            snapshot = snapshots[row.customer_id]
            row.base_version = snapshot.version
            row.changes = changes_for(row.values, snapshot, source)
            if row.outcome == Outcome.UPDATE and not row.changes:
                row.outcome = Outcome.UNCHANGED


def _header_of(header: list[str], mapping: Mapping, target: Field) -> str:
    columns = mapping.columns_for(target)
    return header[columns[0]] if columns and columns[0] < len(header) else SPECS[target].label


def _remember(
    row: RowPlan,
    source: str,
    external: dict[str, RowPlan],
    email: dict[str, RowPlan],
    phone: dict[str, RowPlan],
    names: dict[tuple[str, str | None], list[RowPlan]],
) -> None:
    values = row.values
    if values.external_id:
        external.setdefault(normalize_key_text(values.external_id), row)
    for _raw, key in values.emails:
        email.setdefault(key, row)
    for _raw, key in values.phones:
        phone.setdefault(key, row)
    name_key = _name_city_key(values)
    if name_key is not None:
        # Every namesake: a later row may be about any of them.
        names.setdefault(name_key, []).append(row)


def _name_city_key(values: RowValues) -> tuple[str, str | None] | None:
    name = values.scalars.get("name")
    if not name:
        return None
    city = values.scalars.get("city")
    return normalize_name(str(name)), fold_text(str(city)) if city else None


@dataclass(frozen=True, slots=True)
class _Namesake:
    """An earlier row of the file with the same name and city, that a value identifying
    the customer (a birthday, an ID or tax number) says is someone else."""

    row: RowPlan
    difference: str

    def warning(self, values: RowValues) -> str:
        city = values.scalars.get("city")
        where = f" in {city}" if city else ""
        return (
            f"row {self.row.row_number} has the same name{where}, but {self.difference}: "
            "this row is a customer of its own"
        )


def _pending_match(
    values: RowValues,
    external: dict[str, RowPlan],
    email: dict[str, RowPlan],
    phone: dict[str, RowPlan],
    names: dict[tuple[str, str | None], list[RowPlan]],
) -> RowPlan | _Namesake | None:
    """The earlier row creating the customer this row is about; a namesake when only rows
    with another birthday or ID number share its name and city; else None."""
    if values.external_id:
        return external.get(normalize_key_text(values.external_id))
    for _raw, key in values.emails:
        if key in email:
            return email[key]
    for _raw, key in values.phones:
        if key in phone:
            return phone[key]
    name_key = _name_city_key(values)
    if name_key is None or name_key not in names:
        return None
    namesake: _Namesake | None = None
    for earlier in names[name_key]:
        scalars = earlier.values.scalars
        difference = identity_difference(values, scalars.get("birthday"), scalars.get("tax_id"))
        if not difference:
            return earlier
        namesake = namesake or _Namesake(earlier, difference)
    return namesake


def identity_difference(values: RowValues, birthday: date | None, tax_id: str | None) -> str:
    """How a row's birthday or ID/tax number differs from another customer's, when both
    give one: then they are not one customer, whatever their names. "" when none differs."""
    mine = values.scalars.get("birthday")
    if mine is not None and birthday is not None and mine != birthday:
        return f"a different birthday ({mine.isoformat()} vs {birthday.isoformat()})"
    my_tax_id = values.scalars.get("tax_id")
    if my_tax_id and tax_id and normalize_key_text(my_tax_id) != normalize_key_text(tax_id):
        return f"a different ID or tax number ({my_tax_id} vs {tax_id})"
    return ""


# A row's values under another name than their field's.
_VALUE_OF_FIELD = {Field.GIVEN_NAME: "name", Field.FAMILY_NAME: "name", Field.OWNER: "owner_id"}


def _columns_of_values(columns: list[tuple[int, Field, str]]) -> dict[str, str]:
    """The file's columns each of a row's values comes from, as a warning names them."""
    found: dict[str, list[str]] = {}
    for _index, target, column in columns:
        found.setdefault(_VALUE_OF_FIELD.get(target, target.value), []).append(f"'{column}'")
    return {value: ", ".join(names) for value, names in found.items()}


def _same_value(key: str, have: object, new: object) -> bool:
    if have == new:
        return True
    if isinstance(have, str) and isinstance(new, str):
        if key == "name":
            return normalize_name(have) == normalize_name(new)
        return fold_text(have) == fold_text(new)
    return False


def _fold_into(first: RowPlan, later: RowValues) -> list[str]:
    """A later row about a customer an earlier row creates adds its details to that row.

    Returns the values the later row gives otherwise than the earlier one (whose values
    are kept), so the row can say so instead of dropping them unseen.
    """
    target = first.values
    differing = []
    for key, value in later.scalars.items():
        have = target.scalars.setdefault(key, value)
        if have is not value and not _same_value(key, have, value):
            differing.append(key)
    for phone in later.phones:
        if phone[1] not in {k for _r, k in target.phones}:
            target.phones += (phone,)
    for mail in later.emails:
        if mail[1] not in {k for _r, k in target.emails}:
            target.emails += (mail,)
    target.tags += tuple(t for t in later.tags if t not in target.tags)
    target.wechat = target.wechat or later.wechat
    if (
        later.contact
        and later.contact != target.contact
        and later.contact not in target.extra_contacts
    ):
        target.extra_contacts += (later.contact,)
    target.contact = target.contact or later.contact
    return differing


def apply_decisions(plan: ImportPlan, decisions: dict[int, Outcome]) -> None:
    """The user's choices for possible duplicates, by row number (CREATE, UPDATE or SKIP)."""
    by_number = {r.row_number: r for r in plan.rows}
    for number, decision in decisions.items():
        row = by_number.get(number)
        if row is None or row.outcome != Outcome.DUPLICATE:
            continue
        if decision not in (Outcome.CREATE, Outcome.UPDATE, Outcome.SKIP, Outcome.REVIEW):
            raise ValueError(f"not a decision for a possible duplicate: {decision}")
        # What an update would change was worked out with the preview.
        row.decision = decision


RowFilter = Callable[[RowPlan], bool]
