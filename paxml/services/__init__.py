"""PAXml services: code-register defaults, import and export.

Split by topic (``defaults``, ``importing``, ``exporting``); import from here.
"""

from .defaults import paxml_codes_seed
from .exporting import ExportResult, paxml_export_run
from .importing import ImportResult, PaxmlLicenseError, paxml_import_run
from .starting import paxml_export_start, paxml_import_start

__all__ = [
    "ExportResult",
    "ImportResult",
    "PaxmlLicenseError",
    "paxml_codes_seed",
    "paxml_export_run",
    "paxml_export_start",
    "paxml_import_run",
    "paxml_import_start",
]
