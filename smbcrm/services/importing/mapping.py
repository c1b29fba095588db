"""Column mapping: which spreadsheet column feeds which customer or order field.

Filled in automatically from header names (English and Chinese), changed by the user, and
saved under a name for a source system, with the order its dates are written in, so the
same file shape maps itself next time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smbcrm.errors import NotFoundError, ValidationError
from smbcrm.models import ExternalId, ImportBatch, ImportKind, SavedMapping, User
from smbcrm.services.importing.fields import (
    SPECS,
    Field,
    column_length,
    fold_header,
    header_index,
)

FUZZY_HEADER_SCORE = 88
# "手机1", "Phone 2", "手机 (2)" (folded: "手机2"): one more column of a kind. One or two
# digits after a name; a year ("销售额2024") is not a column's number.
_COLUMN_NUMBER_RE = re.compile(r"(?<=\D)\d{1,2}$")
# Customer codes, orders and batches keep the system's name in columns of this size.
SOURCE_SYSTEM_LENGTH = column_length(ImportBatch.__table__.c.source_system)


@dataclass
class Mapping:
    """Column index → field (None = ignored), plus the source system the rows come from."""

    kind: ImportKind
    columns: dict[int, Field | None]
    source_system: str = "import"
    name: str | None = None  # the saved mapping this came from, if any
    notes: list[str] = field(default_factory=list)
    # How the file writes 05.03.2024, as the person chose it: True day first, False month
    # first, None decided from its dates. Saved with the mapping and restored from it.
    day_first: bool | None = None

    def columns_for(self, target: Field) -> list[int]:
        return [i for i, f in sorted(self.columns.items()) if f == target]

    def has(self, target: Field) -> bool:
        return any(f == target for f in self.columns.values())


def _smbcrm_export_shape(folded: set[str]) -> bool:
    """An smbcrm customers export: its ``ID`` column is smbcrm's own and round-trips."""
    return {"id", "name", "externalids"} <= folded


def auto_map(header: list[str], kind: ImportKind) -> Mapping:
    index = header_index(kind)
    folded = [fold_header(h) for h in header]
    choices = list(index)
    columns: dict[int, Field | None] = {}
    taken: set[Field] = set()
    # Exact names first, so a fuzzy guess never takes a field an exact header names.
    for i, name in enumerate(folded):
        target = index.get(name)
        if name == "id":
            target = Field.CUSTOMER_ID if _smbcrm_export_shape(set(folded)) else Field.EXTERNAL_ID
        if target is not None and (SPECS[target].repeatable or target not in taken):
            columns[i] = target
            taken.add(target)
    # Then numbered names: a second phone or e-mail column feeds the same field (their
    # numbers add up); a field that takes one column keeps the column named plainly.
    for i, name in enumerate(folded):
        base = _COLUMN_NUMBER_RE.sub("", name)
        target = index.get(base) if i not in columns and base != name else None
        if target is not None and (SPECS[target].repeatable or target not in taken):
            columns[i] = target
            taken.add(target)
    for i, name in enumerate(folded):
        if i in columns or not name:
            continue
        match = process.extractOne(name, choices, scorer=fuzz.ratio)
        if match and match[1] >= FUZZY_HEADER_SCORE:
            target = index[match[0]]
            if SPECS[target].repeatable or target not in taken:
                columns[i] = target
                taken.add(target)
                continue
        columns[i] = None
    return Mapping(kind=kind, columns=columns)


def header_hint(kind: ImportKind) -> Callable[[list[str]], int]:
    """Scores a candidate header row by how many cells name a known field (for the reader)."""
    index = header_index(kind)

    def names_field(cell: str) -> bool:
        folded = fold_header(cell)
        return folded in index or _COLUMN_NUMBER_RE.sub("", folded) in index

    def score(cells: list[str]) -> int:
        return sum(1 for cell in cells if cell and names_field(cell))

    return score


def mapping_problems(mapping: Mapping) -> list[str]:
    """What stops an import with this mapping, in words."""
    problems = []
    if mapping.kind == ImportKind.CUSTOMERS:
        if not any(
            map(mapping.has, (Field.NAME, Field.CUSTOMER_ID, Field.GIVEN_NAME, Field.FAMILY_NAME))
        ):
            problems.append(
                "No column is mapped to the customer's name (客户名称 / Company / Name). "
                "Map the column that holds the name."
            )
    else:
        if not mapping.has(Field.ORDER_NUMBER):
            problems.append("No column is mapped to the order number (订单号 / Order number).")
        if not mapping.has(Field.ORDER_DATE):
            problems.append("No column is mapped to the order date (日期 / Date).")
        if not (mapping.has(Field.AMOUNT) or mapping.has(Field.LINE_AMOUNT)):
            problems.append("No column is mapped to the amount (金额 / Amount).")
        if not any(
            mapping.has(f)
            for f in (
                Field.EXTERNAL_ID,
                Field.CUSTOMER_ID,
                Field.NAME,
                Field.PHONE,
                Field.MOBILE,
                Field.EMAIL,
            )
        ):
            problems.append(
                "No column identifies the customer (customer code, name, phone or e-mail)."
            )
    for target, spec in SPECS.items():
        if not spec.repeatable and len(mapping.columns_for(target)) > 1:
            problems.append(f"Two columns are mapped to '{spec.label}'; keep one.")
    source_length = len(mapping.source_system)
    if source_length > SOURCE_SYSTEM_LENGTH:
        problems.append(
            f"The name of the system the file comes from is {source_length} characters "
            f"long, and at most {SOURCE_SYSTEM_LENGTH} fit. Give it a shorter name."
        )
    return problems


# -- saved mappings -------------------------------------------------------------------


def _signature(header: list[str]) -> list[str]:
    return sorted({fold_header(h) for h in header if h and fold_header(h)})


def save_mapping(
    session: Session,
    actor: User | None,
    name: str,
    header: list[str],
    mapping: Mapping,
) -> SavedMapping:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the mapping a name, e.g. the system it is for."})
    saved = session.scalar(
        select(SavedMapping).where(SavedMapping.kind == mapping.kind, SavedMapping.name == name)
    )
    if saved is None:
        saved = SavedMapping(name=name, kind=mapping.kind)
        session.add(saved)
    saved.source_system = mapping.source_system
    saved.signature = _signature(header)
    saved.columns = {
        header[i]: f.value for i, f in mapping.columns.items() if f is not None and i < len(header)
    }
    saved.day_first = mapping.day_first
    saved.created_by_id = actor.id if actor else None
    session.flush()
    return saved


def _apply_saved(saved: SavedMapping, header: list[str], kind: ImportKind) -> Mapping:
    by_header = {fold_header(h): v for h, v in saved.columns.items()}
    columns: dict[int, Field | None] = {}
    for i, text in enumerate(header):
        value = by_header.get(fold_header(text))
        columns[i] = Field(value) if value else None
    return Mapping(
        kind=kind,
        columns=columns,
        source_system=saved.source_system,
        name=saved.name,
        day_first=saved.day_first,
    )


def load_mapping(session: Session, name: str, header: list[str], kind: ImportKind) -> Mapping:
    saved = session.scalar(
        select(SavedMapping).where(SavedMapping.kind == kind, SavedMapping.name == name)
    )
    if saved is None:
        known = ", ".join(
            session.scalars(select(SavedMapping.name).where(SavedMapping.kind == kind)).all()
        )
        raise NotFoundError(
            f"There is no saved {kind.value} mapping called '{name}'."
            + (f" Saved mappings: {known}." if known else "")
        )
    return _apply_saved(saved, header, kind)


def find_saved_mapping(session: Session, header: list[str], kind: ImportKind) -> Mapping | None:
    """The saved mapping made for exactly these headers, if there is one."""
    signature = _signature(header)
    candidates = session.scalars(
        select(SavedMapping)
        .where(SavedMapping.kind == kind)
        .order_by(SavedMapping.updated_at.desc())
    ).all()
    for saved in candidates:
        if saved.signature == signature:
            return _apply_saved(saved, header, kind)
    return None


def known_source_systems(session: Session) -> list[str]:
    """The systems customer codes and saved mappings came from, the most used first.

    Offered when naming the system of a new file: one system named two ways ("ERP",
    "erp ") would keep two sets of codes, and a newer export would add its customers again.
    """
    counts: dict[str, int] = {
        system: int(used)
        for system, used in session.execute(
            select(ExternalId.system, func.count()).group_by(ExternalId.system)
        )
    }
    for system in session.scalars(select(SavedMapping.source_system)):
        counts.setdefault(system, 0)
    return sorted((s for s in counts if s.strip()), key=lambda s: (-counts[s], s.casefold()))


def saved_mapping_names(session: Session, kind: ImportKind) -> list[str]:
    return list(
        session.scalars(
            select(SavedMapping.name).where(SavedMapping.kind == kind).order_by(SavedMapping.name)
        )
    )
