"""Demo data of the ledger: where the demo payroll run's salary types are posted, and the
demo company's Visma.Net link pointing at the local sandbox (``python manage.py sandbox
visma --port 8702``, started by ``make run``).

The demo run (``payslips/demo.py``) uses the payroll system's numeric salary types: gross
lines 110/120/310/330 (the line names its account), the benefit 530 (friskvårdsbidrag,
not paid out: 7389 against the benefit counter account 7399) and the after-tax lines 910
(union fee withheld: 2790) and 920 (a reimbursed customer lunch: 6072). With these the
run's voucher balances and ``Create accounting file`` / ``Direct transfer`` work on a fresh
machine. Idempotent: existing accounts and salary types are left alone.
"""

from __future__ import annotations

from django.conf import settings

from .defaults import accounts_ensure, salary_types_ensure
from .models import VismaLink

SANDBOX_URL = f"http://127.0.0.1:{settings.EMBEDDED_SANDBOXES.get('visma', 8702)}"

DEMO_ACCOUNTS = {
    "6072": "Representation, ej avdragsgill",
    "7389": "Övriga kostnader för förmåner",
}

# code → (name, debit account, credit account or None, cost centre, project)
DEMO_SALARY_TYPES: dict[str, tuple[str, str, str | None, bool, bool]] = {
    "110": ("Månadslön", "7210", None, True, True),
    "120": ("Timlön", "7010", None, True, True),
    "310": ("Övertid enkel", "7210", None, True, True),
    "330": ("OB-tillägg", "7010", None, True, True),
    "530": ("Friskvårdsbidrag förmån", "7389", "7399", True, True),
    "910": ("Fackavgift", "2790", None, False, False),
    "920": ("Utlägg", "6072", None, True, True),
}


def seed(*, company, admin, stdout) -> None:
    accounts = accounts_ensure(company=company, names=DEMO_ACCOUNTS)
    added = salary_types_ensure(company=company, types=DEMO_SALARY_TYPES, accounts=accounts)
    if added:
        stdout.write(f"Ledger: accounting for {len(added)} demo salary types of {company.code}")
    _link, created = VismaLink.objects.get_or_create(
        company=company,
        defaults={
            "base_url": SANDBOX_URL,
            "token_url": f"{SANDBOX_URL}/connect/token",
            "client_id": "demo-client",
            "client_secret": "demo-secret",
            "tenant_id": "demo-tenant",
            "is_sandbox": True,
            "target_company_name": "Demo AB (Visma.Net sandbox)",
        },
    )
    if created:
        stdout.write(f"Visma.Net link of {company.code} → {SANDBOX_URL}")
