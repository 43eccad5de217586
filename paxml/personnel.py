"""The personnel register as PAXml ``<person>`` posts: every field Fortnox Lön reads.

The seed ``paxml-for-fortnox-lon.sv.md`` lists what Fortnox Lön imports from a personnel
file: employee number, first and last name, address, address 2, postal code, city,
country, telephone, category, position, employment form, clearing and account number,
employment date, monthly salary, hourly wage, tax table and tax column. This module is the
one writer of those posts: ``paxml_export --personnel`` (the API and the export page) and
the file-based payroll link both use it.
"""

from __future__ import annotations

from django.db.models import Prefetch

from employees.models import Employee, EmploymentRate, HourlyWage, MonthlySalary, PayForm

from .records import DatedValue, Person

# The order of ``personTYPE``'s elements in the PAXml 2.0 schema (a sequence).
PERSON_ORDER = [
    "fornamn", "efternamn", "extraadress", "postadress", "postnr", "ort", "land",
    "mobiltelefon", "hemtelefon", "arbetstelefon", "epostarb", "eposthem", "personaltyp",
    "kategori", "befattning", "befattningskod", "anstform", "semesteravtal", "bankclearing",
    "bankkonto", "anstdatum", "avgdatum", "lonform", "innevarande", "timlon", "manlon",
    "personbelopp", "persontexter", "sysgrad", "semesterdagar", "skattetabell",
    "skattekolumn",
]  # fmt: skip


def ordered(values: dict[str, object]) -> dict[str, object]:
    """``values`` in the schema's order (elements the schema does not know are dropped)."""
    return {tag: values[tag] for tag in PERSON_ORDER if tag in values}


def _latest(rows):
    rows = sorted(rows, key=lambda row: row.valid_from)
    return rows[-1] if rows else None


def person_record(employee: Employee, *, resenheter=()) -> Person:
    """One employee as a ``<person>`` post. Expects the employee with its registers and
    its dated rows (``monthly_salaries``, ``hourly_wages``, ``employment_rates``) loaded,
    as :func:`personnel_queryset` does; works without, at a few queries more."""
    e = employee
    values: dict[str, object] = {
        "fornamn": e.first_name,
        "efternamn": e.last_name,
        "extraadress": e.care_of,
        "postadress": e.street_address,
        "postnr": e.postal_code,
        "ort": e.city,
        "land": e.country,
        "mobiltelefon": e.mobile_phone,
        "hemtelefon": e.home_phone,
        "arbetstelefon": e.work_phone,
        "epostarb": e.work_email,
        "eposthem": e.private_email,
        "kategori": e.personnel_category.code if e.personnel_category_id else "",
        "befattning": e.position.title if e.position_id else "",
        "befattningskod": e.position.code if e.position_id else "",
        "anstform": e.employment_form.code if e.employment_form_id else "",
        "bankclearing": e.clearing_number,
        "bankkonto": e.bank_account_number,
        "anstdatum": e.employment_start_date,
        "avgdatum": e.employment_end_date,
        "lonform": "TIM" if e.pay_form == PayForm.HOURLY else "MÅN",
        "skattetabell": e.tax_table,
        "skattekolumn": e.tax_column,
    }
    for tag, rows, attr in (
        ("manlon", e.monthly_salaries.all(), "amount"),
        ("timlon", e.hourly_wages.all(), "amount"),
        ("sysgrad", e.employment_rates.all(), "rate_percent"),
    ):
        latest = _latest(rows)
        if latest is not None:
            values[tag] = DatedValue(getattr(latest, attr), latest.valid_from)
    # an empty field is left out: an element left out leaves the receiver's value as it is
    values = {tag: value for tag, value in values.items() if value not in (None, "")}
    return Person(
        anstid=e.employee_number,
        persnr=e.personal_identity_number,
        values=ordered(values),
        resenheter=tuple(resenheter),
    )


def personnel_queryset(queryset):
    """``queryset`` (employees) with what :func:`person_record` reads, in a few queries."""
    return (
        queryset.select_related("personnel_category", "position", "employment_form")
        .prefetch_related(
            Prefetch("monthly_salaries", queryset=MonthlySalary.objects.order_by("valid_from")),
            Prefetch("hourly_wages", queryset=HourlyWage.objects.order_by("valid_from")),
            Prefetch("employment_rates", queryset=EmploymentRate.objects.order_by("valid_from")),
        )
        .order_by("employee_number")
    )


def personnel_write(writer, employees) -> int:
    """A ``<personal>`` section with one post per employee; returns how many."""
    count = 0
    with writer.section("personal"):
        for employee in employees:
            writer.write(person_record(employee))
            count += 1
    return count
