"""Demo data for the payroll integration: the demo company's payroll link points at the
local payroll sandbox (``make run`` starts it on port 8703), and the HR registers the
switchover compares are there, so the whole switchover can be walked through.

The sandbox's seeded differences then show on the checklist: a category payroll lacks
(``KONS``), an employment form without LAS settings (``VIK``), a missing and a malformed
email, template "2" named differently, an hourly-wage salary code in use.
"""

from __future__ import annotations

from employees.models import EmploymentForm, EmploymentTemplate, PersonnelCategory, Position

from .models import PayrollLink
from .sandboxes.payroll import POSITIONS

SANDBOX_URL = "http://127.0.0.1:8703"
SANDBOX_TOKEN = "sandbox-token"  # noqa: S105 - the local sandbox's fixed demo token


def seed(*, company, admin, stdout) -> None:
    _link, created = PayrollLink.objects.get_or_create(
        company=company,
        defaults={"base_url": SANDBOX_URL, "api_token": SANDBOX_TOKEN, "is_sandbox": True},
    )
    if company.name_order == "undefined":
        company.name_order = "first_last"
        company.save(update_fields=["name_order"])
    for code, name in [("TJM", "Tjänstemän"), ("ARB", "Arbetare"), ("KONS", "Konsulter")]:
        PersonnelCategory.objects.get_or_create(company=company, code=code, defaults={"name": name})
    for code, name in [
        ("TV", "Tillsvidare"),
        ("PRO", "Provanställning"),
        ("TIM", "Timanställning"),
    ]:
        EmploymentForm.objects.get_or_create(company=company, code=code, defaults={"name": name})
    for number, title in enumerate(POSITIONS, start=1):
        if not Position.objects.filter(company=company, title=title).exists():
            Position.objects.get_or_create(
                company=company, code=f"SW{number}", defaults={"title": title}
            )
    for code, name in [("1", "Tjänsteman"), ("2", "Arbetare")]:
        EmploymentTemplate.objects.get_or_create(
            company=company, code=code, defaults={"name": name}
        )
    if created:
        stdout.write(f"Payroll link → {SANDBOX_URL} (switchover: /integrations/switchover/)")
