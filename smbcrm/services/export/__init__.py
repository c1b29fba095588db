"""Exports to Excel (.xlsx) and CSV that a bookkeeper can use as they are, and that round-trip.

``service.export`` is the use case; one module per kind builds its sheet (customers, orders,
statement, revenue); ``workbook`` and ``csv_writer`` write any sheet.
"""

from smbcrm.services.export.service import (
    ExportKind,
    ExportOptions,
    ExportResult,
    available_kinds,
    export,
)

__all__ = ["ExportKind", "ExportOptions", "ExportResult", "available_kinds", "export"]
