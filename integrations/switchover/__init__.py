"""The master switchover of personal data, payroll → HR, as the seed describes it.

Steps, in the seed's order, each a job (kind ``switchover_<step>``):

1. ``preflight`` — the checklist, pass / warning / fail per item with the offenders listed,
   and a field-level diff per employee of what the sync will change;
2. ``test_export`` — one employee from payroll into HR, side by side, for approval;
3. ``export_all`` — every employee, ended ones included, with the default template (or a
   chosen one and a selection, in rounds), then the count check;
4. ``payroll_off`` — payroll's "export personal data" off, "export balances" left on;
5. ``hr_on`` — HR master, "transfer employment data" all or a selection;
6. ``verify`` — a temporary address change in HR seen in payroll, then reverted.

Nothing advances past a failed check (or the strong warning about hourly/monthly wage
salary codes) without an explicit override, kept with who, when and why. Abort is possible
until step 5 and puts both systems' switches back. Every step can run again.

The package by concern: ``states`` (which step may run, start, override, approve, a step's
outcome), ``preflight`` (the checks), ``export`` (steps 2 and 3), ``hr_changes`` (the
journal of what the exports did to HR, and the abort), ``master`` (steps 4–6) and
``messages`` (the stored words). Its public names are importable from here.
"""

from __future__ import annotations

from .export import (
    count_check,
    switchover_export_all_run,
    switchover_test_export_run,
)
from .hr_changes import _journal, switchover_abort, switchover_abort_run
from .master import (
    FILE_HR_ON_STEPS,
    FILE_PAYROLL_OFF_STEPS,
    switchover_hr_on_run,
    switchover_payroll_off_run,
    switchover_verify_run,
)
from .preflight import (
    EMAIL_RE,
    FAIL,
    ONBOARDING_FLOW_PROVIDERS,
    PASS,
    PREFLIGHT_CHECKS,
    WARNING,
    Preflight,
    check_accountings,
    check_bank_accounts,
    check_emails,
    check_employment_forms,
    check_employment_rates,
    check_field_diff,
    check_name_order,
    check_onboarding_flows,
    check_personnel_categories,
    check_position,
    check_salary_codes,
    check_templates,
    check_termination_reason,
    check_web_service,
    preflight_report,
    report_outcome,
    switchover_preflight_run,
)
from .states import (
    PERMISSION,
    STEP_LABELS,
    STEPS,
    SwitchoverRefused,
    step_allowed,
    step_index,
    switchover_approve,
    switchover_current,
    switchover_override,
    switchover_personnel_file_upload,
    switchover_step_start,
)

# The job handler of each step (registered as ``switchover_<step>`` by integrations.jobs).
HANDLERS = {
    "preflight": switchover_preflight_run,
    "test_export": switchover_test_export_run,
    "export_all": switchover_export_all_run,
    "payroll_off": switchover_payroll_off_run,
    "hr_on": switchover_hr_on_run,
    "verify": switchover_verify_run,
}

__all__ = [
    "EMAIL_RE",
    "FAIL",
    "FILE_HR_ON_STEPS",
    "FILE_PAYROLL_OFF_STEPS",
    "HANDLERS",
    "ONBOARDING_FLOW_PROVIDERS",
    "PASS",
    "PERMISSION",
    "PREFLIGHT_CHECKS",
    "STEPS",
    "STEP_LABELS",
    "WARNING",
    "Preflight",
    "SwitchoverRefused",
    "_journal",
    "check_accountings",
    "check_bank_accounts",
    "check_emails",
    "check_employment_forms",
    "check_employment_rates",
    "check_field_diff",
    "check_name_order",
    "check_onboarding_flows",
    "check_personnel_categories",
    "check_position",
    "check_salary_codes",
    "check_templates",
    "check_termination_reason",
    "check_web_service",
    "count_check",
    "preflight_report",
    "report_outcome",
    "step_allowed",
    "step_index",
    "switchover_abort",
    "switchover_abort_run",
    "switchover_approve",
    "switchover_current",
    "switchover_export_all_run",
    "switchover_hr_on_run",
    "switchover_override",
    "switchover_payroll_off_run",
    "switchover_personnel_file_upload",
    "switchover_preflight_run",
    "switchover_step_start",
    "switchover_test_export_run",
    "switchover_verify_run",
]
