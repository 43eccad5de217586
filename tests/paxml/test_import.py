import datetime as dt
from decimal import Decimal

import pytest

from employees.models import Employee
from paxml.models import PaxmlFile, SalaryCode, ScheduleDay
from paxml.models import SalaryTransaction as SalaryRow
from paxml.services import PaxmlLicenseError, paxml_import_run
from projects.models import TimeCode, TimeRegistration
from tests.paxml.factories import cost_centre, employee, project, week_schedule
from tests.paxml.helpers import doc

pytestmark = pytest.mark.django_db


def _rows(company):
    return sorted(
        (r.employee.employee_number, r.date, r.time_code.paxml_code, r.hours)
        for r in TimeRegistration.objects.filter(company=company).select_related(
            "employee", "time_code"
        )
    )


@pytest.fixture
def official_setup(company):
    emp = employee(company, "101")
    week_schedule(emp)
    employee(company, "7", personal_identity_number="198210101237")
    cost_centre(company, "12")
    project(company, "100")
    return company


def test_every_company_has_the_standard_code_list(company):
    assert TimeCode.objects.filter(company=company).exclude(paxml_code="").count() == 106
    sick = TimeCode.objects.get(company=company, code="SJK")
    assert (sick.paxml_code, sick.kind, sick.name) == ("SJK", "absence", "Sjukdom")
    assert TimeCode.objects.get(company=company, code="ÖT1").kind == "attendance"
    assert SalaryCode.objects.filter(company=company).count() == 113
    assert SalaryCode.objects.get(company=company, code="UTLÄGG").is_expense


def test_official_example_into_an_empty_company_is_rejected_whole(company, samples):
    result = paxml_import_run(company=company, source=samples / "official-example-2.0.pax")
    assert not result.ok
    assert Employee.objects.filter(company=company).count() == 0  # person 51 rolled back
    assert TimeRegistration.objects.filter(company=company).count() == 0
    first = result.problems[0]
    assert (first.line, first.employee, first.field) == (32, "101", "@anstid")
    assert first.message == "unknown employee number"
    assert {p.line for p in result.problems} == {32, 38, 48, 62, 63, 64}
    assert PaxmlFile.objects.get(company=company).status == "rejected"


def test_official_example_imports(official_setup, samples):
    company = official_setup
    result = paxml_import_run(company=company, source=samples / "official-example-2.0.pax")
    assert result.ok, [str(p) for p in result.problems]
    assert result.not_imported_sections == ["resetransaktioner"]
    assert _rows(company) == [
        ("101", dt.date(2012, 6, 1), "TJL", Decimal("8.00")),
        ("101", dt.date(2012, 6, 2), "SJK", Decimal("8.00")),
        ("101", dt.date(2012, 6, 3), "SJK", Decimal("4.50")),
        ("101", dt.date(2012, 6, 5), "SJK", Decimal("8.00")),
    ]
    siv = Employee.objects.get(company=company, employee_number="51")
    assert (siv.first_name, siv.last_name, siv.city, siv.postal_code, siv.country) == (
        "Siv",
        "Ljunggren",
        "Vårgårda",
        "447 34",
        "SE",
    )
    assert siv.employment_start_date == dt.date(1995, 1, 1)
    assert siv.monthly_salaries.get().amount == Decimal("25000.00")
    assert siv.monthly_salaries.get().valid_from == dt.date(2010, 1, 1)
    assert siv.employment_rates.get().rate_percent == Decimal("100.00")
    salary = SalaryRow.objects.get(company=company)
    assert (salary.employee.employee_number, salary.salary_type, salary.quantity) == (
        "7",
        "145",
        Decimal("8.4000"),
    )
    assert (salary.cost_center.code, salary.project.code, salary.account) == ("12", "100", "6510")
    assert sorted(
        ScheduleDay.objects.filter(company=company).values_list("date__day", "hours")
    ) == [(2, Decimal("8.00")), (3, Decimal("4.50")), (4, Decimal("0.00"))]
    assert result.counts["employees_created"] == 1

    again = paxml_import_run(company=company, source=samples / "official-example-2.0.pax")
    assert again.ok and again.already_imported
    assert TimeRegistration.objects.filter(company=company).count() == 4
    assert SalaryRow.objects.filter(company=company).count() == 1


def test_dry_run_writes_nothing_and_reports(official_setup, samples):
    result = paxml_import_run(
        company=official_setup, source=samples / "official-example-2.0.pax", dry_run=True
    )
    assert result.ok and result.dry_run
    assert result.counts["time_registrations"] == 4
    assert result.counts["employees_created"] == 1
    assert TimeRegistration.objects.filter(company=official_setup).count() == 0
    assert not Employee.objects.filter(company=official_setup, employee_number="51").exists()
    assert not PaxmlFile.objects.filter(company=official_setup, status="imported").exists()


def test_invalid_samples_are_rejected_with_line_and_field(company, samples):
    result = paxml_import_run(company=company, source=samples / "invalid-persnr-10-digits.xml")
    assert not result.ok
    assert [(p.line, p.field) for p in result.problems] == [(7, "@persnr"), (14, "@persnr")]
    result = paxml_import_run(company=company, source=samples / "invalid-tidpunkt-with-zone.xml")
    assert [(p.line, p.field) for p in result.problems] == [(19, "tidpunkt")]
    assert Employee.objects.filter(company=company).count() == 0


def _time_doc(posts: str, header_extra: str = "") -> bytes:
    header = f"<header><format>LÖNIN</format><version>2.0</version>{header_extra}</header>\n"
    return doc(f"<tidtransaktioner>\n{posts}</tidtransaktioner>\n", header=header)


def _post(number, day, code="ARB", hours="8", postid=None):
    attr = f' postid="{postid}"' if postid is not None else ""
    return (
        f'<tidtrans anstid="{number}"{attr}><tidkod>{code}</tidkod><datum>{day}</datum>'
        f"<timmar>{hours}</timmar></tidtrans>\n"
    )


def test_seed_errors_are_all_listed_and_nothing_is_written(company):
    employee(company, "1", start=dt.date(2024, 3, 10))
    TimeCode.objects.filter(company=company, code="FR9").delete()
    data = _time_doc(
        _post(1, "2024-03-12")
        + _post(99, "2024-03-12")
        + _post(1, "2024-03-01")
        + _post(1, "2024-03-13", code="FR9")
    )
    result = paxml_import_run(company=company, source=data)
    assert not result.ok
    assert [(p.line, p.employee, p.field) for p in result.problems] == [
        (6, "99", "@anstid"),
        (7, "1", "datum"),
        (8, "1", "tidkod"),
    ]
    assert "unknown employee number" in result.problems[0].message
    assert "outside the employment period" in result.problems[1].message
    assert "unknown code FR9" in result.problems[2].message
    assert TimeRegistration.objects.filter(company=company).count() == 0


def test_unknown_cost_centre_and_project_are_named_and_nothing_is_written(company):
    employee(company, "1")
    cost_centre(company, "100")
    project(company, "P1")
    units = (
        '<resenheter><resenhet dim="1" id="999"/><resenhet dim="6" id="P9"/></resenheter>'
        "</tidtrans>"
    )
    data = _time_doc(_post(1, "2024-03-12").replace("</tidtrans>", units))
    result = paxml_import_run(company=company, source=data)
    assert not result.ok
    assert [(p.line, p.field) for p in result.problems] == [
        (5, "resenhet dim 1"),
        (5, "resenhet dim 6"),
    ]
    assert "unknown cost centre 999, used on lines 5" in result.problems[0].message
    assert "unknown project P9, used on lines 5" in result.problems[1].message
    assert TimeRegistration.objects.filter(company=company).count() == 0


def test_postid_makes_a_repeated_post_replace_the_first(company):
    employee(company, "1")
    paxml_import_run(company=company, source=_time_doc(_post(1, "2024-03-12", postid=5)))
    paxml_import_run(
        company=company, source=_time_doc(_post(1, "2024-03-12", hours="6", postid=5) + " ")
    )
    assert _rows(company) == [("1", dt.date(2024, 3, 12), "ARB", Decimal("6.00"))]


def test_nyexport_replaces_the_rows_of_its_period(company):
    employee(company, "1")
    first = _time_doc(_post(1, "2024-03-12") + _post(1, "2024-03-13") + _post(1, "2024-04-02"))
    assert paxml_import_run(company=company, source=first).ok
    again = _time_doc(
        _post(1, "2024-03-12", hours="7.5"),
        header_extra='<nyexport datum="2024-04-01" datumfrom="2024-03-01" datumtom="2024-03-31"/>',
    )
    result = paxml_import_run(company=company, source=again)
    assert result.ok
    assert _rows(company) == [
        ("1", dt.date(2024, 3, 12), "ARB", Decimal("7.50")),
        ("1", dt.date(2024, 4, 2), "ARB", Decimal("8.00")),
    ]


def test_person_update_changes_only_present_fields_and_delete_ends(company):
    emp = employee(company, "5", city="Borås", street_address="Gatan 1")
    body = (
        '<personal>\n<person anstid="5"><ort>Vårgårda</ort><lonform>TIM</lonform></person>\n'
        "</personal>\n"
    )
    assert paxml_import_run(company=company, source=doc(body)).ok
    emp.refresh_from_db()
    assert (emp.city, emp.street_address, emp.pay_form) == ("Vårgårda", "Gatan 1", "hourly")
    body = (
        '<personal>\n<person anstid="5" delete="true"><avgdatum>2024-06-30</avgdatum>'
        "</person>\n</personal>\n"
    )
    assert paxml_import_run(company=company, source=doc(body)).ok
    emp.refresh_from_db()
    assert emp.employment_end_date == dt.date(2024, 6, 30)
    assert Employee.objects.filter(pk=emp.pk).exists()


def test_license_is_required(company):
    company.license.paxml = False
    company.license.save()
    with pytest.raises(PaxmlLicenseError):
        paxml_import_run(company=company, source=_time_doc(""))


def _import_queries(company, posts, **kwargs) -> tuple[int, list[str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        result = paxml_import_run(company=company, source=_time_doc(posts, **kwargs))
    assert result.ok, [str(p) for p in result.problems]
    return len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries]


@pytest.mark.parametrize("replace", ["postid", "nyexport"])
def test_import_query_count_does_not_grow_with_the_transactions(company, replace):
    """50 and 500 transactions (and replacing them, with "other accounting" on the replaced
    rows) take a bounded number of queries: no per-row INSERT, DELETE or cascade."""
    from django.db import connection

    employee(company, "1")
    employee(company, "2")
    extra = cost_centre(company, "77")
    nyexport = '<nyexport datum="2024-04-01" datumfrom="2024-01-01" datumtom="2024-12-31"/>'
    counts = {}
    for n in (50, 500):
        TimeRegistration.objects.filter(company=company).delete()

        def posts(hours, n=n):
            return "".join(
                _post(
                    i % 2 + 1,
                    dt.date(2024, 1, 1) + dt.timedelta(days=i % 300),
                    hours=hours,
                    postid=i + 1 if replace == "postid" else None,
                )
                for i in range(n)
            )

        first, _sql = _import_queries(company, posts("8"))
        for reg in TimeRegistration.objects.filter(company=company)[:20]:
            reg.dimension_values.add(extra)
        kwargs = {"header_extra": nyexport} if replace == "nyexport" else {}
        second, sql = _import_queries(company, posts("6") + " ", **kwargs)
        assert TimeRegistration.objects.filter(company=company).count() == n
        assert set(
            TimeRegistration.objects.filter(company=company).values_list("hours", flat=True)
        ) == {Decimal("6.00")}
        assert not TimeRegistration.dimension_values.through.objects.exists()
        counts[n] = (first, second)
        per_row = [s for s in sql if "dimension_values" in s]
        assert len(per_row) <= 2, per_row
    # the same on PostgreSQL (COPY); SQLite splits a bulk INSERT at 999 parameters
    assert counts[500][0] <= 40 and counts[500][1] <= 50, counts
    if connection.vendor == "postgresql":
        assert counts[50] == counts[500], counts
    else:
        assert counts[500][1] - counts[50][1] <= 12, counts
