"""The one place that turns settings into a client's timeout and retry policy.

Every ``*_client_for(link=...)`` builder (payroll, Kivra, Visma.Net) passes
``**client_options(system)`` to its client, so the settings a client reads are declared in
``flexbridge/settings.py`` (environment variables of the same names) and read only here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from .base import RetryPolicy

# Seconds to open a connection, whatever the system.
CONNECT_TIMEOUT = 5.0


@dataclass(frozen=True)
class _Names:
    timeout: str
    attempts: str
    backoff: str
    backoff_cap: str


SETTINGS = {
    "payroll": _Names(
        "PAYROLL_CLIENT_TIMEOUT",
        "PAYROLL_CLIENT_MAX_ATTEMPTS",
        "PAYROLL_CLIENT_BACKOFF",
        "PAYROLL_CLIENT_BACKOFF_CAP",
    ),
    "kivra": _Names(
        "KIVRA_TIMEOUT", "KIVRA_RETRY_ATTEMPTS", "KIVRA_RETRY_BACKOFF", "KIVRA_RETRY_BACKOFF_CAP"
    ),
    "visma": _Names(
        "VISMA_CLIENT_TIMEOUT",
        "VISMA_CLIENT_MAX_ATTEMPTS",
        "VISMA_CLIENT_BACKOFF",
        "VISMA_CLIENT_BACKOFF_CAP",
    ),
}


def client_options(system: str) -> dict[str, Any]:
    """``timeout`` and ``retry`` for the client of ``system`` ("payroll", "kivra", "visma")."""
    names = SETTINGS[system]
    return {
        "timeout": httpx.Timeout(getattr(settings, names.timeout), connect=CONNECT_TIMEOUT),
        "retry": RetryPolicy(
            max_attempts=getattr(settings, names.attempts),
            backoff_base=getattr(settings, names.backoff),
            backoff_cap=getattr(settings, names.backoff_cap),
        ),
    }
