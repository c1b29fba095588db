"""The customer aggregate: customer, its contacts and contact points, external ids, team, tags."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from smbcrm.models.base import IDS_NEVER_REUSED, Base, TimestampMixin, enum_column, utcnow
from smbcrm.models.enums import ContactPointKind, CustomerKind, CustomerStatus, Tier

if TYPE_CHECKING:
    from smbcrm.models.staff import User

customer_team = Table(
    "customer_team",
    Base.metadata,
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True, index=True),
)

customer_tags = Table(
    "customer_tags",
    Base.metadata,
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class Customer(TimestampMixin, Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CustomerKind] = mapped_column(
        enum_column(CustomerKind), default=CustomerKind.COMPANY
    )
    name: Mapped[str] = mapped_column(String(300))
    status: Mapped[CustomerStatus] = mapped_column(
        enum_column(CustomerStatus), default=CustomerStatus.PROSPECT
    )
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    tier: Mapped[Tier | None] = mapped_column(enum_column(Tier, 1))
    source: Mapped[str | None] = mapped_column(String(100))
    referred_by_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    birthday: Mapped[date | None]  # persons
    tax_id: Mapped[str | None] = mapped_column(String(64))  # companies: 统一社会信用代码 / VAT no.
    country: Mapped[str | None] = mapped_column(String(100))
    province: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(100))
    district: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(500))
    postcode: Mapped[str | None] = mapped_column(String(20))
    website: Mapped[str | None] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(Text)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Live customers are found through the list indexes, which all start with these two.
    archived_at: Mapped[datetime | None]
    # A merged-away customer stays as a tombstone pointing at the survivor.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    # Match keys and list columns, recomputed on every write (see smbcrm.models.events).
    name_key: Mapped[str] = mapped_column(String(300), default="", index=True)
    # Binary order on every engine, so the database and the in-memory search sort alike.
    sort_key: Mapped[str] = mapped_column(
        String(600).with_variant(String(600, collation="C"), "postgresql"), default=""
    )
    tax_id_key: Mapped[str | None] = mapped_column(String(64), index=True)
    city_key: Mapped[str | None] = mapped_column(String(100))
    primary_phone: Mapped[str | None] = mapped_column(String(32))
    primary_email: Mapped[str | None] = mapped_column(String(320))
    primary_contact: Mapped[str | None] = mapped_column(String(200))
    search_text: Mapped[str] = mapped_column(Text, default="")

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    team: Mapped[list[User]] = relationship(secondary=customer_team)
    tags: Mapped[list[Tag]] = relationship(secondary=customer_tags, order_by=Tag.name)
    referred_by: Mapped[Customer | None] = relationship(
        remote_side=[id], foreign_keys=[referred_by_id]
    )
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Contact.id"
    )
    contact_points: Mapped[list[ContactPoint]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="ContactPoint.id"
    )
    external_ids: Mapped[list[ExternalId]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="ExternalId.id"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_customers_active_sort", "archived_at", "merged_into_id", "sort_key"),
        # Lets a desktop pick up what others changed since its last look (search index refresh).
        Index("ix_customers_updated_at", "updated_at"),
        # One per sortable list column, so any sort of 100,000 customers reads just one page.
        Index("ix_customers_list_status", "archived_at", "merged_into_id", "status", "sort_key"),
        Index("ix_customers_list_city", "archived_at", "merged_into_id", "city_key", "sort_key"),
        Index("ix_customers_list_tier", "archived_at", "merged_into_id", "tier", "sort_key"),
        Index("ix_customers_list_phone", "archived_at", "merged_into_id", "primary_phone"),
        Index("ix_customers_list_updated", "archived_at", "merged_into_id", "updated_at"),
        IDS_NEVER_REUSED,
    )

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def __repr__(self) -> str:
        return f"<Customer {self.id} {self.name!r} {self.status.value}>"


class Contact(TimestampMixin, Base):
    """A person at a customer."""

    __tablename__ = "contacts"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), default="", index=True)
    title: Mapped[str | None] = mapped_column(String(100))
    department: Mapped[str | None] = mapped_column(String(100))
    is_primary: Mapped[bool] = mapped_column(default=False)
    birthday: Mapped[date | None]
    notes: Mapped[str | None] = mapped_column(Text)

    customer: Mapped[Customer] = relationship(back_populates="contacts")
    # No delete-orphan here: a point belongs to the customer first, the contact second.
    points: Mapped[list[ContactPoint]] = relationship(
        back_populates="contact", order_by="ContactPoint.id", cascade="save-update, merge, delete"
    )


class ContactPoint(Base):
    """A phone, e-mail or messaging id, of a contact or of the customer itself."""

    __tablename__ = "contact_points"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ContactPointKind] = mapped_column(enum_column(ContactPointKind))
    value: Mapped[str] = mapped_column(String(320))
    # E.164 for phones, lower-case for e-mails, folded text for messaging ids.
    key: Mapped[str | None] = mapped_column(String(320), index=True)
    label: Mapped[str | None] = mapped_column(String(50))
    is_primary: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="contact_points")
    contact: Mapped[Contact | None] = relationship(back_populates="points")


class ExternalId(Base):
    """The customer's key in another system: accounting code, prospect-list row key..."""

    __tablename__ = "external_ids"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    system: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    key_norm: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="external_ids")

    __table_args__ = (UniqueConstraint("system", "key_norm"), IDS_NEVER_REUSED)
