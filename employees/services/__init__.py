"""Writes of the employee register (a package by concern): ``employee`` (employees),
``dated_values`` (employment rates, salaries, wages), ``registers`` (categories, forms,
positions, templates and the per-company defaults), ``number_check`` (the payroll number
check other apps register) and ``checks`` (the refusals they share).

Every function is keyword-only and runs in a transaction. ``user`` is the person (or API
user) acting; ``None`` means the system itself (an import, the payroll sync) and skips the
per-field permission checks, which the callers of such paths have made already.
"""

from .dated_values import (
    dated_value_delete,
    employment_rate_set,
    hourly_wage_set,
    monthly_salary_set,
)
from .employee import (
    EMPLOYEE_FIELDS,
    PERM_CHANGE_PIN,
    PERM_KIVRA_PRINT,
    PERM_KIVRA_SEND,
    PERM_VIEW_BANK,
    PERM_VIEW_PIN,
    TASK_KIND_TERMINATION_REASON,
    employee_change_number,
    employee_create,
    employee_end_employment,
    employee_update,
    employees_bulk_set,
)
from .number_check import (
    PayrollNumberCheck,
    payroll_number_check,
    payroll_number_check_register,
    payroll_number_check_unregister,
)
from .registers import (
    STANDARD_TEMPLATE_CODE,
    employee_registers_setup,
    employment_template_delete,
    employment_template_save,
    employment_template_set_default,
    register_save,
)

__all__ = [
    "EMPLOYEE_FIELDS",
    "PERM_CHANGE_PIN",
    "PERM_KIVRA_PRINT",
    "PERM_KIVRA_SEND",
    "PERM_VIEW_BANK",
    "PERM_VIEW_PIN",
    "STANDARD_TEMPLATE_CODE",
    "TASK_KIND_TERMINATION_REASON",
    "PayrollNumberCheck",
    "dated_value_delete",
    "employee_change_number",
    "employee_create",
    "employee_end_employment",
    "employee_registers_setup",
    "employee_update",
    "employees_bulk_set",
    "employment_rate_set",
    "employment_template_delete",
    "employment_template_save",
    "employment_template_set_default",
    "hourly_wage_set",
    "monthly_salary_set",
    "payroll_number_check",
    "payroll_number_check_register",
    "payroll_number_check_unregister",
    "register_save",
]
