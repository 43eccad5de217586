"""The employee's fields by group: the one list the services, the API, the admin and the
benchmarks read (a new field is added here once).

``EDITABLE`` is what a caller may set through ``employee_create`` / ``employee_update``: every
group except the employee number (its own service), the derived samordningsnummer flag and
the company (fixed at creation).
"""

from __future__ import annotations

IDENTITY = (
    "employee_number",
    "personal_identity_number",
    "is_coordination_number",
    "first_name",
    "last_name",
)
CONTACT = (
    "street_address",
    "care_of",
    "postal_code",
    "city",
    "country",
    "mobile_phone",
    "home_phone",
    "work_phone",
    "work_email",
    "private_email",
)
PERSONAL = IDENTITY + CONTACT
# The company comes first in the admin's "Employment" section; it is not part of this group.
EMPLOYMENT = (
    "personnel_category",
    "employment_form",
    "template",
    "position",
    "employment_start_date",
    "employment_end_date",
    "termination_reason",
)
PAY = ("pay_form", "tax_table", "tax_column", "clearing_number", "bank_account_number")
KIVRA = ("kivra_send_payslips", "kivra_allow_print")
LOGIN = ("user",)

EDITABLE = frozenset((*PERSONAL, *EMPLOYMENT, *PAY, *KIVRA, *LOGIN)) - {
    "employee_number",
    "is_coordination_number",
}
