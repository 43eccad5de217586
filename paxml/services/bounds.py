"""What PAXml import and export share: the product's own name and sources, and the bounds
at the door — what a payroll holds and the database stores (``docs/paxml.md``)."""

from __future__ import annotations

from decimal import Decimal

SELF_SOURCE = "flexbridge:self"
PROGRAM_NAME = "flexbridge"
# Own exports write project-event lines (computed from time registrations, never stored)
# with postids from here up, so importing the own export back skips them.
EVENT_POSTID_BASE = 2_000_000_000

# Bounds at the door: what a payroll holds and the database stores (docs/paxml.md).
HOURS_MAX = Decimal(24)  # tidtrans/timmar and schema/dag timmar, per day
QUANTITY_MAX = Decimal("99999")  # lonetrans/antal
UNIT_PRICE_MAX = Decimal("9999999.99")  # lonetrans/apris
AMOUNT_MAX = Decimal("99999999.99")  # lonetrans/belopp and moms (100 million SEK)
MONTHLY_SALARY_MAX = Decimal("9999999.99")  # person/manlon
HOURLY_WAGE_MAX = Decimal("99999.99")  # person/timlon
# field -> (largest absolute value, decimals stored)
SALARY_BOUNDS = {
    "antal": (QUANTITY_MAX, 4),
    "apris": (UNIT_PRICE_MAX, 4),
    "belopp": (AMOUNT_MAX, 2),
    "moms": (AMOUNT_MAX, 2),
}
HUNDREDTH = Decimal("0.01")
