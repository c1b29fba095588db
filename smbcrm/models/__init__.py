"""ORM tables, the engine/session factory and match-key normalisation. No Qt here."""

from smbcrm.models import events as _events  # noqa: F401  (registers the flush hooks)
from smbcrm.models.activities import Activity, FollowUp
from smbcrm.models.base import Base, utcnow
from smbcrm.models.cases import Case, SatisfactionRating, ServicePromise
from smbcrm.models.customer import (
    Contact,
    ContactPoint,
    Customer,
    ExternalId,
    Tag,
    customer_tags,
    customer_team,
)
from smbcrm.models.db import Database
from smbcrm.models.enums import (
    ActivityKind,
    BatchStatus,
    CaseKind,
    CaseSeverity,
    CaseStatus,
    ChangeAction,
    ContactPointKind,
    CustomerKind,
    CustomerStatus,
    DuplicateStatus,
    ImportKind,
    LinkRoute,
    Role,
    Tier,
)
from smbcrm.models.history import (
    AssignmentChange,
    AuditEntry,
    DuplicatePair,
    ExportEntry,
    ImportBatch,
    ImportChange,
    Merge,
)
from smbcrm.models.imports import ImportProblem, ImportReviewItem, SavedMapping
from smbcrm.models.orders import (
    CANCELLED_STATUSES,
    Conversion,
    Order,
    OrderLine,
    counts_as_sale,
    is_cancelled_status,
)
from smbcrm.models.settings import Setting
from smbcrm.models.staff import User

__all__ = [
    "CANCELLED_STATUSES",
    "Activity",
    "ActivityKind",
    "AssignmentChange",
    "AuditEntry",
    "Base",
    "BatchStatus",
    "Case",
    "CaseKind",
    "CaseSeverity",
    "CaseStatus",
    "ChangeAction",
    "Contact",
    "ContactPoint",
    "ContactPointKind",
    "Conversion",
    "Customer",
    "CustomerKind",
    "CustomerStatus",
    "Database",
    "DuplicatePair",
    "DuplicateStatus",
    "ExportEntry",
    "ExternalId",
    "FollowUp",
    "ImportBatch",
    "ImportChange",
    "ImportKind",
    "ImportProblem",
    "ImportReviewItem",
    "LinkRoute",
    "Merge",
    "Order",
    "OrderLine",
    "Role",
    "SatisfactionRating",
    "SavedMapping",
    "ServicePromise",
    "Setting",
    "Tag",
    "Tier",
    "User",
    "counts_as_sale",
    "customer_tags",
    "customer_team",
    "is_cancelled_status",
    "utcnow",
]
