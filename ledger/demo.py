"""Demo data of the ledger: the demo company's Visma.Net link points at the local sandbox
(``python manage.py sandbox visma --port 8702``, started by ``make run``)."""

from __future__ import annotations

from django.conf import settings

from .models import VismaLink

SANDBOX_URL = f"http://127.0.0.1:{settings.EMBEDDED_SANDBOXES.get('visma', 8702)}"


def seed(*, company, admin, stdout) -> None:
    _link, created = VismaLink.objects.get_or_create(
        company=company,
        defaults={
            "base_url": SANDBOX_URL,
            "token_url": f"{SANDBOX_URL}/connect/token",
            "client_id": "demo-client",
            "client_secret": "demo-secret",
            "tenant_id": "demo-tenant",
            "target_company_name": "Demo AB (Visma.Net sandbox)",
        },
    )
    if created:
        stdout.write(f"Visma.Net link of {company.code} → {SANDBOX_URL}")
