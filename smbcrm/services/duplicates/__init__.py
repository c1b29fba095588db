"""Duplicate customers: the scan over the whole book, the review queue, the warning on create.

``from smbcrm.services import duplicates`` — see :mod:`.service` for the scan, queue and
decisions, :mod:`.similar` for the look-up while a new customer is typed, and
:mod:`.scoring` / :mod:`.blocking` for how pairs are found and judged.
"""

from smbcrm.services.duplicates.service import (
    DEFAULT_THRESHOLD,
    Candidate,
    PairSide,
    QueuedPair,
    ScanResult,
    check_threshold,
    decide_pair,
    queue_count,
    review_queue,
    scan_duplicates,
)
from smbcrm.services.duplicates.similar import (
    DraftIdentity,
    SimilarCustomer,
    similar_customers,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "Candidate",
    "DraftIdentity",
    "PairSide",
    "QueuedPair",
    "ScanResult",
    "SimilarCustomer",
    "check_threshold",
    "decide_pair",
    "queue_count",
    "review_queue",
    "scan_duplicates",
    "similar_customers",
]
