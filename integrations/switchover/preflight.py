"""Step 1, the preflight: the seed's checklist as a registry of checks
(:data:`PREFLIGHT_CHECKS`), one function per item, each returning one item of the report."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from companies.models import Company
from employees.models import (
    Employee,
    EmploymentForm,
    EmploymentRate,
    EmploymentTemplate,
    PersonnelCategory,
    Position,
)
from flexbridge.masking import mask_personal_identity_number
from jobs.context import JobContext
from jobs.messages import JobMessage
from jobs.models import FileHolds, Job

from ..clients.payroll import PayrollClient, PayrollEmployee
from ..models import PayrollLink
from ..payroll_mapping import field_diff, hr_employee_payload, payroll_view
from .messages import PREFLIGHT_LABELS, is_part, part, render
from .states import _client, _finish_step, _link

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PASS, WARNING, FAIL = "pass", "warning", "fail"

# Other apps may report active onboarding flows: ``func(*, company) -> list[str]``.
ONBOARDING_FLOW_PROVIDERS: list[Callable[..., list[str]]] = []


# --- 1. preflight -----------------------------------------------------------------------------


def _item(
    key: str, status: str, parts: list[dict], offenders=None, strong=False, sep: str = " "
) -> dict:
    """A checklist item. The words are kept twice: as message ids with parameters
    (``parts``, ``offender_parts``: rendered in the reader's language) and as text in the
    language of whoever ran the preflight (``label``, ``message``, ``offenders``: for the
    preflight.json file and older readers)."""
    offenders = list(offenders or [])
    item = {
        "key": key,
        "label": str(PREFLIGHT_LABELS[key]),
        "status": status,
        "message": sep.join(render(p) for p in parts),
        "parts": parts,
        "sep": sep,
        "offenders": [render(o) for o in offenders[:200]],
        "offender_count": len(offenders),
        "strong": strong,
    }
    if any(is_part(o) for o in offenders):
        item["offender_parts"] = offenders[:200]
    return item


def _not_checkable(key: str, reason: dict) -> dict:
    """A check a PAXml personnel file cannot answer: yellow, with the reason."""
    item = _item(key, WARNING, [part("preflight.not_checkable", reason=reason)])
    item["not_checkable"] = True
    return item


def _file_wage_item(backend) -> dict:
    """Hourly/monthly wage from a personnel file: its ``timlon``/``manlon`` elements."""
    if backend.wages:
        offenders = [f"{n} ({', '.join(tags)})" for n, tags in sorted(backend.wages.items())]
        return _item(
            "salary_codes",
            WARNING,
            [part("preflight.wage.file_not_recommended")],
            offenders,
            strong=True,
        )
    return _not_checkable("salary_codes", part("preflight.wage.file_reason"))


def _payroll_employees(
    client: PayrollClient, ctx: JobContext | None = None
) -> list[PayrollEmployee]:
    people: list[PayrollEmployee] = []
    for page in client.employees_iter(page_size=1000, include_ended=True):
        if ctx:
            ctx.check_cancelled()
        people.extend(page.items)
    return people


@dataclass
class Preflight:
    """What every preflight check reads: the company and its link, the payroll system (a
    client, or a personnel file's backend) with its settings and employees, and HR's
    employees. Read once, before the first check."""

    company: Company
    link: PayrollLink
    client: PayrollClient
    file_based: bool
    settings: Any
    people: list[PayrollEmployee]
    hr_employees: dict[str, Employee]
    _diff: list[dict] | None = None

    @classmethod
    def load(
        cls, *, company: Company, client: PayrollClient, ctx: JobContext | None = None
    ) -> Preflight:
        link = _link(company)
        file_based = getattr(client, "file_based", False)
        settings = None if file_based else client.settings_get()
        people = _payroll_employees(client, ctx)
        hr_employees = {
            e.employee_number: e
            for e in Employee.objects.filter(company=company).select_related(
                "personnel_category", "employment_form", "template", "position"
            )
        }
        return cls(company, link, client, file_based, settings, people, hr_employees)

    @property
    def diff(self) -> list[dict]:
        """The field-level diff: what the sync would change in payroll, per employee."""
        if self._diff is None:
            self._diff = _preflight_diff(self)
        return self._diff


def _preflight_diff(pf: Preflight) -> list[dict]:
    rates: dict[int, list] = {}
    for rate in EmploymentRate.objects.filter(employee__company=pf.company):
        rates.setdefault(rate.employee_id, []).append(rate)
    diff = []
    for person in pf.people:
        employee = pf.hr_employees.get(person.employee_number)
        if employee is None:
            diff.append(
                {
                    "employee_number": person.employee_number,
                    "change": "only_in_payroll",
                    "fields": [],
                }
            )
            continue
        changes = field_diff(
            hr=hr_employee_payload(employee, rates=rates.get(employee.pk, [])),
            payroll=payroll_view(person),
        )
        if changes:
            diff.append(
                {"employee_number": person.employee_number, "change": "differs", "fields": changes}
            )
    payroll_numbers = {p.employee_number for p in pf.people}
    for number in sorted(set(pf.hr_employees) - payroll_numbers):
        diff.append({"employee_number": number, "change": "only_in_hr", "fields": []})
    return diff


# --- the checks: one per item of the seed's checklist, in the report's order -----------------


def check_salary_codes(pf: Preflight) -> dict:
    """The seed's "Observera!": salary codes for hourly or monthly wage are removed when the
    flow turns, so switching is not recommended while they are in use."""
    if pf.file_based:
        return _file_wage_item(pf.client)
    wage_codes = [
        f"{c['code']} {c['name']}"
        for c in pf.client.salary_codes_list()
        if c.get("kind") in ("hourly_wage", "monthly_wage") and c.get("in_use")
    ]
    return _item(
        "salary_codes",
        WARNING if wage_codes else PASS,
        [part("preflight.wage.not_recommended" if wage_codes else "preflight.wage.none")],
        wage_codes,
        strong=bool(wage_codes),
    )


def check_personnel_categories(pf: Preflight) -> dict:
    """The personnel category registers match (by code)."""
    hr_categories = set(
        PersonnelCategory.objects.filter(company=pf.company).values_list("code", flat=True)
    )
    payroll_categories = (
        hr_categories
        if pf.file_based
        else {c["code"] for c in pf.client.personnel_categories_list()}
    )
    missing_in_payroll = sorted(hr_categories - payroll_categories)
    missing_in_hr = sorted({p.personnel_category for p in pf.people} - hr_categories)
    parts = []
    if missing_in_hr:
        parts.append(part("preflight.missing_in_hr", codes=", ".join(missing_in_hr)))
    if missing_in_payroll:
        parts.append(
            part("preflight.categories.missing_in_payroll", codes=", ".join(missing_in_payroll))
        )
    if pf.file_based:
        parts.append(part("preflight.not_in_file_register"))
    return _item(
        "personnel_categories",
        FAIL if missing_in_hr else WARNING if missing_in_payroll else PASS,
        parts or [part("preflight.registers_match")],
        missing_in_hr + missing_in_payroll,
        sep="; ",
    )


def check_employment_forms(pf: Preflight) -> dict:
    """The employment form registers match, and payroll's forms have LAS settings."""
    hr_forms = set(EmploymentForm.objects.filter(company=pf.company).values_list("code", flat=True))
    payroll_forms = (
        [{"code": c, "las_settings": True} for c in hr_forms]
        if pf.file_based
        else pf.client.employment_forms_list()
    )
    forms_missing_payroll = sorted(hr_forms - {f["code"] for f in payroll_forms})
    forms_missing_hr = sorted(
        {p.employment_form for p in pf.people if p.employment_form} - hr_forms
    )
    without_las = sorted(f["code"] for f in payroll_forms if not f.get("las_settings"))
    problems = []
    if forms_missing_hr:
        problems.append(part("preflight.missing_in_hr", codes=", ".join(forms_missing_hr)))
    if forms_missing_payroll:
        problems.append(
            part("preflight.forms.missing_in_payroll", codes=", ".join(forms_missing_payroll))
        )
    if without_las:
        problems.append(part("preflight.forms.without_las", codes=", ".join(without_las)))
    if pf.file_based:
        problems.append(part("preflight.not_in_file_register"))
    return _item(
        "employment_forms",
        FAIL if forms_missing_hr else WARNING if forms_missing_payroll or without_las else PASS,
        problems or [part("preflight.registers_match")],
        forms_missing_hr + forms_missing_payroll + without_las,
    )


def check_emails(pf: Preflight) -> dict:
    """E-mail addresses are in payroll and well-formed (an address only in HR is overwritten
    by the last export; a malformed one fails it)."""
    malformed = [
        f"{p.employee_number} ({p.email})"
        for p in pf.people
        if p.email and not EMAIL_RE.match(p.email)
    ]
    missing_email = [p.employee_number for p in pf.people if not p.email]
    only_in_hr = [
        n for n in missing_email if n in pf.hr_employees and pf.hr_employees[n].work_email
    ]
    email_status = FAIL if malformed or only_in_hr else WARNING if missing_email else PASS
    parts = []
    if malformed:
        parts.append(part("preflight.emails.malformed", n=len(malformed)))
    if only_in_hr:
        parts.append(part("preflight.emails.only_in_hr", n=len(only_in_hr)))
    if missing_email and not only_in_hr:
        parts.append(part("preflight.emails.missing", n=len(missing_email)))
    return _item(
        "emails",
        email_status,
        parts or [part("preflight.emails.ok")],
        malformed + missing_email,
    )


def check_position(pf: Preflight) -> dict:
    """The position is present on both sides."""
    hr_positions = {
        t.casefold()
        for t in Position.objects.filter(company=pf.company).values_list("title", flat=True)
    }
    no_position = [p.employee_number for p in pf.people if not p.position]
    unknown_positions = sorted(
        {p.position for p in pf.people if p.position and p.position.casefold() not in hr_positions}
    )
    parts = []
    if no_position:
        parts.append(part("preflight.position.none", n=len(no_position)))
    if unknown_positions:
        parts.append(part("preflight.position.unknown", p=", ".join(unknown_positions)))
    return _item(
        "position",
        WARNING if no_position or unknown_positions else PASS,
        parts or [part("preflight.position.ok")],
        no_position + unknown_positions,
    )


def check_bank_accounts(pf: Preflight) -> dict:
    """Clearing and bank account numbers are present (exported from payroll into HR)."""
    no_bank = [
        p.employee_number for p in pf.people if not (p.clearing_number and p.bank_account_number)
    ]
    return _item(
        "bank_accounts",
        WARNING if no_bank else PASS,
        [part("preflight.bank.missing", n=len(no_bank)) if no_bank else part("preflight.bank.ok")],
        no_bank,
    )


def _name_order(code: str) -> dict:
    return part("preflight.name_order_label", code=code)


def check_name_order(pf: Preflight) -> dict:
    """The first/last name setting is set, and the same in payroll and HR."""
    if pf.file_based:
        if pf.company.name_order == Company.NameOrder.UNDEFINED:
            return _item("name_order", FAIL, [part("preflight.name_order.hr_undefined")])
        return _not_checkable("name_order", part("preflight.name_order.file_reason"))
    settings, company = pf.settings, pf.company
    problems = []
    if settings.name_order == "undefined":
        problems.append(part("preflight.name_order.payroll_undefined"))
    if company.name_order == Company.NameOrder.UNDEFINED:
        problems.append(part("preflight.name_order.hr_undefined"))
    elif settings.name_order not in ("undefined", company.name_order):
        problems.append(
            part(
                "preflight.name_order.differs",
                p=_name_order(settings.name_order),
                h=_name_order(company.name_order),
            )
        )
    return _item(
        "name_order",
        FAIL if problems else PASS,
        problems or [part("preflight.name_order.same", order=_name_order(settings.name_order))],
    )


def check_templates(pf: Preflight) -> dict:
    """Payroll's person templates have the same code and name as HR's employment templates."""
    if pf.file_based:
        return _not_checkable("templates", part("preflight.templates.file_reason"))
    hr_templates = {t.code: t.name for t in EmploymentTemplate.objects.filter(company=pf.company)}
    payroll_templates = {t["code"]: t["name"] for t in pf.client.person_templates_list()}
    template_mismatch = sorted(
        (
            part(
                "preflight.templates.differs",
                code=code,
                hr=name,
                payroll=payroll_templates[code],
            )
            for code, name in hr_templates.items()
            if code in payroll_templates and payroll_templates[code].casefold() != name.casefold()
        ),
        key=render,
    )
    template_missing = sorted(
        [
            part("preflight.templates.hr_only", code=c)
            for c in hr_templates
            if c not in payroll_templates
        ]
        + [
            part("preflight.templates.payroll_only", code=c)
            for c in payroll_templates
            if c not in hr_templates
        ],
        key=render,
    )
    return _item(
        "templates",
        FAIL if template_mismatch else WARNING if template_missing else PASS,
        [
            part("preflight.templates.summary", n=len(template_mismatch), m=len(template_missing))
            if template_mismatch or template_missing
            else part("preflight.templates.ok")
        ],
        template_mismatch + template_missing,
    )


def check_employment_rates(pf: Preflight) -> dict:
    """Every employment rate has a start date (payroll needs it), on both sides."""
    rates_without_start = [
        p.employee_number
        for p in pf.people
        if any(not r.get("start_date") for r in p.employment_rates)
    ]
    hr_without_start = list(
        EmploymentRate.objects.filter(
            employee__company=pf.company, valid_from__isnull=True
        ).values_list("employee__employee_number", flat=True)
    )
    missing = rates_without_start + hr_without_start
    return _item(
        "employment_rates",
        FAIL if missing else PASS,
        [
            part("preflight.rates.missing", n=len(missing))
            if missing
            else part("preflight.rates.ok")
        ],
        missing,
    )


def check_onboarding_flows(pf: Preflight) -> dict:
    """Onboarding flows are paused while data is exported from payroll."""
    flows = [
        name for provider in ONBOARDING_FLOW_PROVIDERS for name in provider(company=pf.company)
    ]
    return _item(
        "onboarding_flows",
        FAIL if flows else PASS,
        [part("preflight.onboarding.active" if flows else "preflight.onboarding.none")],
        flows,
    )


def check_web_service(pf: Preflight) -> dict:
    """'Use HR web service' is on in payroll and the integration user exists and is active."""
    if pf.file_based:
        return _not_checkable("web_service", part("preflight.web.file_reason"))
    settings = pf.settings
    users = {u["username"]: u for u in pf.client.users_list()}
    wanted_user = pf.link.integration_username or settings.integration_username
    problems = []
    if not settings.use_hr_web_service:
        problems.append(part("preflight.web.off"))
    if wanted_user not in users:
        problems.append(part("preflight.web.no_user", u=wanted_user))
    elif not users[wanted_user].get("active"):
        problems.append(part("preflight.web.inactive", u=wanted_user))
    return _item(
        "web_service",
        FAIL if problems else PASS,
        problems or [part("preflight.web.ok", u=wanted_user)],
    )


def check_accountings(pf: Preflight) -> dict:
    """Which accountings HR sends, and the accounting distributions that would overwrite."""
    send = pf.link.send_home_accounting
    if pf.file_based and send:
        return _not_checkable("accountings", part("preflight.accountings.file_reason"))
    split = [p.employee_number for p in pf.people if len(p.home_accounting) > 1]
    return _item(
        "accountings",
        WARNING if send and split else PASS,
        [
            part("preflight.accountings.overwrite", n=len(split))
            if send and split
            else part(
                "preflight.accountings.sent",
                on=part("preflight.yes" if send else "preflight.no"),
            )
        ],
        split if send else [],
    )


def check_field_diff(pf: Preflight) -> dict:
    """The fields the sync will change (the seed: go through the fields it may affect)."""
    diff = pf.diff
    differing = sum(1 for d in diff if d["change"] == "differs")
    return _item(
        "field_diff",
        WARNING if differing else PASS,
        [
            part(
                "preflight.diff",
                d=differing,
                p=sum(1 for d in diff if d["change"] == "only_in_payroll"),
                h=sum(1 for d in diff if d["change"] == "only_in_hr"),
            )
        ],
        [d["employee_number"] for d in diff if d["change"] == "differs"],
    )


def check_termination_reason(pf: Preflight) -> dict:
    """The reminder to enter the termination reason in payroll by hand."""
    return _item("termination_reason", PASS, [part("preflight.termination")])


# The preflight's checklist, in the order the report shows it (the seed's "Observera!" first).
PREFLIGHT_CHECKS: list[Callable[[Preflight], dict]] = [
    check_salary_codes,
    check_personnel_categories,
    check_employment_forms,
    check_emails,
    check_position,
    check_bank_accounts,
    check_name_order,
    check_templates,
    check_employment_rates,
    check_onboarding_flows,
    check_web_service,
    check_accountings,
    check_field_diff,
    check_termination_reason,
]


def preflight_report(
    *, company: Company, client: PayrollClient, ctx: JobContext | None = None
) -> dict:
    """The checklist (one item per check in :data:`PREFLIGHT_CHECKS`) and the field-level
    diff, as JSON-able data."""
    pf = Preflight.load(company=company, client=client, ctx=ctx)
    return {
        "items": [check(pf) for check in PREFLIGHT_CHECKS],
        "diff": pf.diff,
        "payroll_total": len(pf.people),
        "hr_total": len(pf.hr_employees),
    }


def report_outcome(items: list[dict]) -> str:
    if any(i["status"] == FAIL for i in items):
        return "failed"
    if any(i["strong"] for i in items):
        return "strong_warning"
    if any(i["status"] == WARNING for i in items):
        return "warning"
    return "passed"


def switchover_preflight_run(*, job: Job, ctx: JobContext) -> None:
    with _client(job) as client:
        report = preflight_report(company=job.company, client=client, ctx=ctx)
    ctx.set_total(len(report["items"]))
    for item in report["items"]:
        message = JobMessage(
            "switchover.preflight_item",
            key=item["key"],
            label=item["label"],
            message=item["message"],
            parts=item["parts"],
            sep=item["sep"],
            offenders=item["offenders"][:50],
            **({"offender_parts": item["offender_parts"][:50]} if "offender_parts" in item else {}),
        )
        # No item: the check's key is a code, its label begins the message.
        if item["status"] == FAIL:
            ctx.error(message)
        elif item["status"] == WARNING:
            ctx.warning(message)
        else:
            ctx.info(message)
        ctx.count(item["status"])
        ctx.advance()
    for entry in report["diff"][:500]:
        if entry["fields"]:
            ctx.info(
                JobMessage("switchover.field_diff", fields=_diff_params(entry["fields"])),
                item=entry["employee_number"],
            )
    ctx.save_result_file(
        "preflight.json",
        json.dumps(report, indent=1, default=str).encode(),
        holds=list(FileHolds),
    )
    outcome = report_outcome(report["items"])
    _finish_step(
        job=job,
        step="preflight",
        outcome=outcome,
        report={
            "items": report["items"],
            "failed_items": [
                i["key"] for i in report["items"] if i["status"] == FAIL or i["strong"]
            ],
            "diff_count": len(report["diff"]),
        },
    )
    # A failed check is the report's answer, not a failed job: the job itself succeeded
    # unless it logged errors, which it did for each failed item.


def _diff_params(fields: list[dict]) -> list[dict]:
    """A diff's fields as log parameters: JSON values, the personnummer masked."""

    def value(name: str, v):
        if name == "personal_identity_number" and isinstance(v, str) and v:
            return mask_personal_identity_number(v)
        return json.loads(json.dumps(v, default=str))

    return [
        {
            "field": f["field"],
            "hr": value(f["field"], f["hr"]),
            "payroll": value(f["field"], f["payroll"]),
        }
        for f in fields
    ]
