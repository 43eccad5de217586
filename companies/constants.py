"""Permissions and the default roles that bundle them.

Permissions are named for what they allow. They live on ``Company`` (they are company-wide
capabilities) and are granted per company through a user's role in it. Later apps check
them as ``companies.<codename>`` with the object whose company decides.
"""

from django.utils.translation import gettext_lazy as _

COMPANY_PERMISSIONS = [
    ("view_personal_identity_number", _("View personal identity numbers in clear")),
    ("change_personal_identity_number", _("Change personal identity numbers")),
    ("view_bank_account", _("View bank account numbers in clear")),
    ("change_employee_kivra_send", _("Set 'send payslips via Kivra' on an employee")),
    ("change_employee_kivra_print", _("Set 'allow print handling via Kivra' on an employee")),
    ("run_kivra_dispatch", _("Run 'send payslips to Kivra'")),
    ("run_visma_transfer", _("Transfer accounting to Visma.Net")),
    ("run_sie_export", _("Create the accounting file (SIE)")),
    ("run_switchover", _("Run the master switchover of personal data")),
    ("run_payroll_sync", _("Run the sync to the payroll system")),
    ("run_paxml_import", _("Import PAXml files")),
    ("run_paxml_export", _("Export PAXml files")),
    ("view_project_authorization", _("View project authorization")),
    ("change_project_authorization", _("Change project authorization")),
    ("manage_integration_links", _("Manage program links to outside systems")),
    ("cancel_job", _("Cancel a running job")),
    ("view_others_time", _("View other employees' time registrations")),
    ("register_time_for_others", _("Register time for other employees")),
    ("review_time", _("Partially approve (review) time registrations")),
    ("release_billing", _("Release approved time for billing and read the billing basis")),
]

# Apps whose model permissions (add/change/delete/view) a role may carry by label.
ROLE_ADMIN = "admin"
ROLE_HR = "hr_admin"
ROLE_PAYROLL = "payroll"
ROLE_VIEWER = "viewer"
ROLE_INTEGRATION = "integration"
ROLE_SELF_SERVICE = "self_service"
ROLE_REVIEWER = "project_reviewer"

ALL_APPS = [
    "companies",
    "jobs",
    "integrations",
    "employees",
    "projects",
    "payslips",
    "ledger",
    "paxml",
]

# Each role: (name, model-permission rule per app, extra company permissions).
# The model rule is "all" (add/change/delete/view), "view", or a list of codenames.
DEFAULT_ROLES: dict[str, tuple] = {
    ROLE_ADMIN: (
        _("Company administrator"),
        dict.fromkeys(ALL_APPS, "all"),
        [codename for codename, _label in COMPANY_PERMISSIONS],
    ),
    ROLE_HR: (
        _("HR administrator"),
        {
            "employees": "all",
            "projects": "all",
            "jobs": "view",
            "integrations": "view",
            "companies": "view",
        },
        [
            "view_personal_identity_number",
            "change_personal_identity_number",
            "view_bank_account",
            "change_employee_kivra_send",
            "change_employee_kivra_print",
            "run_switchover",
            "run_payroll_sync",
            "run_paxml_import",
            "run_paxml_export",
            "view_project_authorization",
            "cancel_job",
            "view_others_time",
            "register_time_for_others",
            "review_time",
            "release_billing",
        ],
    ),
    ROLE_PAYROLL: (
        _("Payroll administrator"),
        {
            "employees": "view",
            "projects": "view",
            "payslips": "all",
            "ledger": "all",
            "paxml": "all",
            "jobs": "view",
            "integrations": "view",
            "companies": "view",
        },
        [
            "view_bank_account",
            "run_kivra_dispatch",
            "run_visma_transfer",
            "run_sie_export",
            "run_paxml_import",
            "run_paxml_export",
            "cancel_job",
            "view_others_time",
            "release_billing",
        ],
    ),
    ROLE_VIEWER: (_("Read only"), dict.fromkeys(ALL_APPS, "view"), ["view_others_time"]),
    ROLE_INTEGRATION: (
        _("Integration (API user)"),
        {
            "employees": "all",
            "projects": "all",
            "payslips": "all",
            "paxml": "all",
            "jobs": "view",
            "integrations": "view",
            "companies": "view",
        },
        ["run_paxml_import", "run_paxml_export", "view_others_time", "register_time_for_others"],
    ),
    # An employee linked to a user: registers and sees their own time and schedule only
    # (the own schedule needs no permission; the staffing overview of everyone does).
    ROLE_SELF_SERVICE: (
        _("Employee (self-service)"),
        {
            "projects": [
                "view_project",
                "view_projectattachment",
                "add_timeregistration",
                "view_timeregistration",
            ]
        },
        [],
    ),
    # Partial approval (delattest): approves time on the projects they are reviewers of
    # (Review tab of the project), and registers their own time.
    ROLE_REVIEWER: (
        _("Project reviewer (partial approval)"),
        {
            "projects": [
                "view_project",
                "view_projectattachment",
                "add_timeregistration",
                "view_timeregistration",
            ]
        },
        ["review_time"],
    ),
}
