"""CSV cells a spreadsheet would run as a formula, neutralised (CSV/formula injection)."""

from __future__ import annotations

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """``value`` as text; one that starts like a formula gets a leading apostrophe, which
    spreadsheet programs show as text (``=1+1`` → ``'=1+1``)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
