"""Every write of the project register (a package: tree, registration, attachments,
accounting)."""

from .accounting import (
    cost_center_create,
    dimension_value_create,
    home_accounting_delete,
    home_accounting_set,
)
from .attachments import (
    attachment_check_file,
    project_attachment_create,
    project_attachment_delete,
    project_attachment_update,
)
from .expenses import expense_code_save
from .registration import (
    Finding,
    TimeRegistrationRejected,
    accounting_rule_resolve,
    registration_accounting_validate,
    time_registration_create,
    time_registration_set_reviewed,
    time_registration_validate,
    time_registrations_release,
)
from .tree import (
    project_check,
    project_copy,
    project_create,
    project_set_status,
    project_update,
)

__all__ = [
    "Finding",
    "TimeRegistrationRejected",
    "accounting_rule_resolve",
    "attachment_check_file",
    "cost_center_create",
    "dimension_value_create",
    "expense_code_save",
    "home_accounting_delete",
    "home_accounting_set",
    "project_attachment_create",
    "project_attachment_delete",
    "project_attachment_update",
    "project_check",
    "project_copy",
    "project_create",
    "project_set_status",
    "project_update",
    "registration_accounting_validate",
    "time_registration_create",
    "time_registration_set_reviewed",
    "time_registration_validate",
    "time_registrations_release",
]
