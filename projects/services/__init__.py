"""Every write of the project register (a package: tree, registration with its draft,
accounting rules and project checks, review, staffing, attachments, accounting, places,
expenses)."""

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
from .places import places_import
from .registration import (
    registration_accounting_validate,
    time_registration_create,
    time_registration_validate,
)
from .registration_accounting import accounting_rule_resolve
from .registration_draft import Finding, TimeRegistrationRejected
from .review import (
    billing_of_time_used,
    time_registration_delete,
    time_registrations_release,
    time_registrations_review,
)
from .staffing import (
    shift_assign,
    shift_assignment_set_comment,
    shift_create,
    shift_for_occurrence,
    shift_unassign,
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
    "billing_of_time_used",
    "cost_center_create",
    "dimension_value_create",
    "expense_code_save",
    "home_accounting_delete",
    "home_accounting_set",
    "places_import",
    "project_attachment_create",
    "project_attachment_delete",
    "project_attachment_update",
    "project_check",
    "project_copy",
    "project_create",
    "project_set_status",
    "project_update",
    "registration_accounting_validate",
    "shift_assign",
    "shift_assignment_set_comment",
    "shift_create",
    "shift_for_occurrence",
    "shift_unassign",
    "time_registration_create",
    "time_registration_delete",
    "time_registration_validate",
    "time_registrations_release",
    "time_registrations_review",
]
