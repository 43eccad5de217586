import codecs
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


def test_a_first_import_of_several_batches_stores_every_row_with_its_postid(company):
    """Over BATCH rows: on PostgreSQL each batch's COPY runs behind the next batch's
    reading (``_CopyBehind``); every row and its postid arrive, once."""
    from paxml.models import ImportedTimeRegistration
    from paxml.services.import_write import BATCH

    employee(company, "1")
    employee(company, "2")
    n = 2 * BATCH + 101
    posts = "".join(
        _post(i % 2 + 1, dt.date(2024, 1, 1) + dt.timedelta(days=i % 300), hours="1.5", postid=i)
        for i in range(1, n + 1)
    )
    result = paxml_import_run(company=company, source=_time_doc(posts))
    assert result.ok, [str(p) for p in result.problems]
    assert result.counts["time_registrations"] == n
    rows = TimeRegistration.objects.filter(company=company)
    assert rows.count() == n
    assert sum(rows.values_list("hours", flat=True)) == Decimal("1.5") * n
    links = ImportedTimeRegistration.objects.filter(time_registration__company=company)
    assert sorted(links.values_list("postid", flat=True)) == list(range(1, n + 1))
    assert set(links.values_list("source_file_id", flat=True)) == {result.file.pk}


def test_a_batch_the_database_refuses_raises_its_error_and_stores_nothing(company, monkeypatch):
    """A COPY that fails behind the reading surfaces in the import as Django's error, and
    the import's transaction leaves nothing behind."""
    from django.db import DataError, connection

    from paxml.services import import_write

    if connection.vendor != "postgresql":
        pytest.skip("COPY: PostgreSQL only")
    employee(company, "1")
    monkeypatch.setattr(import_write, "_copy_text_time", lambda ids, rows, company_id: "x\n")
    with pytest.raises(DataError):
        paxml_import_run(company=company, source=_time_doc(_post(1, "2024-03-12")))
    assert not TimeRegistration.objects.filter(company=company).exists()
    assert not PaxmlFile.objects.filter(company=company, status="imported").exists()


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
        PaxmlFile.objects.filter(company=company).delete()  # each round: a source's first file

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


# Files written the way time systems write them -----------------------------------------

TIME_A = "<foretagid>acme</foretagid><programnamn>TidA</programnamn>"
TIME_B = "<foretagid>acme</foretagid><programnamn>TidB</programnamn>"


def _header(extra: str = "") -> str:
    return f"<header><format>LÖNIN</format><version>2.0</version>{extra}</header>\n"


def _salary(number, day, *, belopp="100.00", postid=None, lonart="1100"):
    attr = f' postid="{postid}"' if postid is not None else ""
    return (
        f'<lonetrans anstid="{number}"{attr}><lonart>{lonart}</lonart><datum>{day}</datum>'
        f"<belopp>{belopp}</belopp></lonetrans>\n"
    )


def _file(times: str = "", salaries: str = "", header_extra: str = "", encoding="utf-8"):
    body = f"<tidtransaktioner>\n{times}</tidtransaktioner>\n"
    if salaries:
        body += f"<lonetransaktioner>\n{salaries}</lonetransaktioner>\n"
    return doc(body, header=_header(header_extra), encoding=encoding)


def _person(number, inner):
    return f'<person anstid="{number}">{inner}</person>\n'


def _persons(*posts) -> bytes:
    return doc(f"<personal>\n{''.join(posts)}</personal>\n")


def test_the_same_transactions_again_add_nothing_bom_latin1_reindented(company):
    employee(company, "1")
    employee(company, "2")
    posts = (
        _post(1, "2024-03-04")
        + _post(1, "2024-03-04")  # twice the same on one day: both are kept
        + _post(2, "2024-03-05", code="SJK", hours="4.5")
    )
    first = paxml_import_run(company=company, source=_file(posts, _salary(1, "2024-03-06")))
    assert first.ok and first.counts["added"] == 4
    assert first.counts["time_registrations"] == 3
    assert TimeRegistration.objects.filter(company=company).count() == 3
    bom = codecs.BOM_UTF8 + _file(posts, _salary(1, "2024-03-06"))
    latin1 = _file(posts.replace("><", ">\n    <"), _salary(1, "2024-03-06"), encoding="iso-8859-1")
    for again in (bom, latin1, _file(posts, _salary(1, "2024-03-06")) + b"\n"):
        result = paxml_import_run(company=company, source=again)
        assert result.ok, [str(p) for p in result.problems]
        assert result.counts.get("added", 0) == 0
        assert result.counts["unchanged"] == 4
        assert TimeRegistration.objects.filter(company=company).count() == 3
        assert SalaryRow.objects.filter(company=company).count() == 1
    # one more post in the next file from the same source: only it is added
    more = paxml_import_run(company=company, source=_file(posts + _post(2, "2024-03-07")))
    assert (more.counts["added"], more.counts["unchanged"]) == (1, 3)
    assert TimeRegistration.objects.filter(company=company).count() == 4


def test_a_postid_of_another_source_never_touches_its_rows(company):
    employee(company, "1")
    a = _file(_post(1, "2024-03-04", postid=38), header_extra=TIME_A)
    b = _file(_post(1, "2024-03-05", hours="6", postid=38), header_extra=TIME_B)
    assert paxml_import_run(company=company, source=a).ok
    result = paxml_import_run(company=company, source=b)
    assert result.ok and result.counts["added"] == 1
    assert "replaced" not in result.counts
    assert _rows(company) == [
        ("1", dt.date(2024, 3, 4), "ARB", Decimal("8.00")),
        ("1", dt.date(2024, 3, 5), "ARB", Decimal("6.00")),
    ]
    assert set(PaxmlFile.objects.filter(status="imported").values_list("source", flat=True)) == {
        "acme|tida",
        "acme|tidb",
    }
    # a source chosen on upload keeps two files of one program apart
    c = _file(_post(1, "2024-03-06", postid=38), header_extra=TIME_A)
    assert paxml_import_run(company=company, source=c, source_name="Kundfil").ok
    assert TimeRegistration.objects.filter(company=company).count() == 3


def test_corrected_file_of_the_same_source_replaces_its_rows_only(company):
    employee(company, "1")
    other = _file(_post(1, "2024-03-12", code="SJK", postid=1), header_extra=TIME_B)
    assert paxml_import_run(company=company, source=other).ok
    first = _file(
        _post(1, "2024-03-12", postid=1) + _post(1, "2024-03-13", postid=2),
        _salary(1, "2024-03-14", postid=3),
        header_extra=TIME_A,
    )
    assert paxml_import_run(company=company, source=first).ok
    nyexport = '<nyexport datum="2024-04-01" datumfrom="2024-03-01" datumtom="2024-03-31"/>'
    corrected = _file(
        _post(1, "2024-03-12", hours="7", postid=1),
        _salary(1, "2024-03-14", postid=3),
        header_extra=nyexport + TIME_A,
    )
    result = paxml_import_run(company=company, source=corrected)
    assert result.ok, [str(p) for p in result.problems]
    assert (result.counts["replaced"], result.counts["removed"], result.counts["unchanged"]) == (
        1,
        1,
        1,
    )
    assert _rows(company) == [
        ("1", dt.date(2024, 3, 12), "ARB", Decimal("7.00")),
        ("1", dt.date(2024, 3, 12), "SJK", Decimal("8.00")),  # the other source's row
    ]
    assert SalaryRow.objects.filter(company=company).count() == 1
    assert "replaced 1" in result.summary() and "removed 1" in result.summary()


def test_two_schedule_days_on_one_date_are_summed_and_logged(company):
    emp = employee(company, "1", pay_form="hourly")
    body = (
        '<schematransaktioner>\n<schema anstid="1">\n'
        '<dag datum="2024-03-04" starttid="08:00:00" sluttid="12:00:00"/>\n'
        '<dag datum="2024-03-05" timmar="8"/>\n'
        "</schema>\n"
        '<schema anstid="1">\n'
        '<dag datum="2024-03-04" starttid="13:00:00" sluttid="17:30:00"/>\n'
        "</schema>\n</schematransaktioner>\n"
        "<tidtransaktioner>\n"
        '<tidtrans anstid="1"><tidkod>SJK</tidkod><datum>2024-03-04</datum>'
        "<omfattning>100</omfattning></tidtrans>\n</tidtransaktioner>\n"
    )
    result = paxml_import_run(company=company, source=doc(body))
    assert result.ok, [str(p) for p in result.problems]
    days = {d.date.day: (d.hours, d.start_time, d.end_time) for d in ScheduleDay.objects.all()}
    assert days == {
        4: (Decimal("8.50"), dt.time(8), dt.time(17, 30)),
        5: (Decimal("8.00"), None, None),
    }
    assert result.counts["schedule_days"] == ScheduleDay.objects.filter(employee=emp).count() == 2
    assert result.counts["schedule_days_merged"] == 1
    assert any("lines 6, 10" in note and "8.50" in note for note in result.notes)
    # the absence over the whole day takes the summed schedule
    assert _rows(company) == [("1", dt.date(2024, 3, 4), "SJK", Decimal("8.50"))]


@pytest.mark.parametrize(
    ("post", "field"),
    [
        (_salary(1, "2024-03-04", belopp="1234567890123456789"), "belopp"),
        (_salary(1, "2024-03-04", belopp="10.005"), "belopp"),
        (
            '<lonetrans anstid="1"><lonart>1</lonart><datum>2024-03-04</datum>'
            "<antal>100000000</antal></lonetrans>\n",
            "antal",
        ),
    ],
)
def test_out_of_range_values_are_refused_with_line_and_field(company, post, field):
    employee(company, "1")
    result = paxml_import_run(company=company, source=_file(salaries=post))
    assert not result.ok
    assert [(p.line, p.element, p.field) for p in result.problems] == [(7, "lonetrans", field)]
    assert SalaryRow.objects.count() == 0


def test_schedule_hours_beyond_a_day_are_refused(company):
    employee(company, "1")
    body = (
        '<schematransaktioner><schema anstid="1"><dag datum="2024-03-04" timmar="25"/>'
        "</schema></schematransaktioner>\n"
    )
    result = paxml_import_run(company=company, source=doc(body))
    assert [(p.line, p.field) for p in result.problems] == [(4, "timmar")]
    assert "25" in result.problems[0].message


def test_registers_match_code_else_name_ignoring_case_and_space(company):
    from employees.models import EmploymentForm, PersonnelCategory, Position

    EmploymentForm.objects.create(company=company, code="TV", name="Tillsvidareanställning")
    PersonnelCategory.objects.create(company=company, code="TJM", name="Tjänsteman")
    Position.objects.create(company=company, code="UTV", title="Senior utvecklare")
    employee(company, "1")
    employee(company, "2")
    result = paxml_import_run(
        company=company,
        source=_persons(
            _person(
                1,
                "<kategori> tjänsteman </kategori><befattning>SENIOR \t utvecklare</befattning>"
                "<anstform>TILLSVIDAREANSTÄLLNING </anstform>",
            ),
            _person(2, "<kategori>tjm</kategori><anstform>tv</anstform>"),
        ),
    )
    assert result.ok, [str(p) for p in result.problems]
    for number in ("1", "2"):
        emp = Employee.objects.get(company=company, employee_number=number)
        assert (emp.employment_form.code, emp.personnel_category.code) == ("TV", "TJM")
    assert Employee.objects.get(employee_number="1").position.code == "UTV"


def test_an_ambiguous_register_value_names_the_candidates(company):
    from employees.models import EmploymentForm

    EmploymentForm.objects.create(company=company, code="TV1", name="Tillsvidare")
    EmploymentForm.objects.create(company=company, code="TV2", name="tillsvidare")
    employee(company, "1")
    result = paxml_import_run(
        company=company, source=_persons(_person(1, "<anstform>Tillsvidare</anstform>"))
    )
    assert not result.ok
    (problem,) = result.problems
    assert (problem.line, problem.field) == (5, "anstform")
    assert "Tillsvidare is ambiguous" in problem.message
    assert "TV1 (Tillsvidare), TV2 (tillsvidare)" in problem.message


def test_each_missing_reference_is_one_problem_naming_value_and_lines(company):
    employee(company, "1")
    employee(company, "2")
    units = '<resenheter><resenhet dim="6" id="P{n}"/></resenheter></tidtrans>'
    posts = "".join(
        _post(1 + n % 2, f"2024-03-{1 + n % 28:02d}").replace("</tidtrans>", units.format(n=n % 20))
        for n in range(36)
    )
    result = paxml_import_run(company=company, source=_file(posts))
    assert not result.ok
    assert result.problem_count == 20  # one per project, not one per line
    first = result.problems[0]
    assert (first.line, first.field) == (5, "resenhet dim 6")
    assert first.message.startswith("unknown project P0, used on lines 5, 25:")
    persons = _persons(
        _person(1, "<anstform>Timanställd</anstform>"),
        _person(2, "<anstform>Timanställd</anstform>"),
    )
    result = paxml_import_run(company=company, source=persons)
    assert [p.message.split(":")[0] for p in result.problems] == [
        "unknown employment form Timanställd, used on lines 5, 6"
    ]


def test_create_missing_creates_entries_and_logs_each_dry_run_would(company):
    from employees.models import EmploymentForm
    from projects.models import AccountingDimensionValue, Project

    employee(company, "1")
    data = doc(
        '<resultatenheter><resultatenhet dim="6" id="P-NY" namn="Nytt projekt"/>'
        "</resultatenheter>\n"
        "<tidtransaktioner>\n"
        + _post(1, "2024-03-04").replace(
            "</tidtrans>",
            '<resenheter><resenhet dim="1" id="K9"/><resenhet dim="6" id="P-NY"/></resenheter>'
            "</tidtrans>",
        )
        + "</tidtransaktioner>\n"
        + "<personal>\n"
        + _person(1, "<anstform>Tillsvidareanställning</anstform>")
        + "</personal>\n"
    )
    dry = paxml_import_run(company=company, source=data, dry_run=True, create_missing=True)
    assert dry.ok, [str(p) for p in dry.problems]
    assert any(n.startswith("Would create project P-NY") for n in dry.notes)
    assert not any(n.startswith("Created") for n in dry.notes)
    assert "projects to create 1" in dry.summary()
    assert not Project.objects.filter(code="P-NY").exists()
    result = paxml_import_run(company=company, source=data, create_missing=True)
    assert result.ok, [str(p) for p in result.problems]
    assert sorted(result.notes) == [
        "Created cost centre K9 (line 6).",
        "Created employment form Tillsvidareanställning (line 9).",
        "Created project P-NY (line 6).",
    ]
    assert Project.objects.get(company=company, code="P-NY").name == "Nytt projekt"
    assert AccountingDimensionValue.objects.filter(company=company, code="K9").exists()
    form = EmploymentForm.objects.get(company=company, name="Tillsvidareanställning")
    assert len(form.code) <= 20
    assert Employee.objects.get(employee_number="1").employment_form == form
    reg = TimeRegistration.objects.get(company=company)
    assert (reg.project.code, reg.cost_center.code) == ("P-NY", "K9")


def test_another_companys_file_is_refused_unless_confirmed(company):
    employee(company, "1")
    data = _file(_post(1, "2024-03-04"), header_extra="<foretagorgnr>5565594230</foretagorgnr>")
    result = paxml_import_run(company=company, source=data)
    assert not result.ok
    (problem,) = result.problems
    assert (problem.element, problem.field) == ("header", "foretagorgnr")
    assert "5565594230" in str(problem) and company.organisation_number in str(problem)
    assert "5565594230" in result.summary() and company.organisation_number in result.summary()
    confirmed = paxml_import_run(company=company, source=data, confirm_organisation_number=True)
    assert confirmed.ok and TimeRegistration.objects.count() == 1
    same = _file(
        _post(1, "2024-03-05"),
        header_extra=f"<foretagorgnr>16{company.organisation_number.replace('-', '')}"
        "</foretagorgnr>",
    )
    assert paxml_import_run(company=company, source=same).ok


def test_summary_speaks_one_language(company):
    from django.utils import translation

    employee(company, "1")
    bad = _file(_post(99, "2024-03-04"))
    with translation.override("sv"):
        refused = paxml_import_run(company=company, source=bad)
        rejected = refused.summary()
        problem = str(refused.problems[0])
        invalid = paxml_import_run(
            company=company, source=_file(_post(1, "2024-03-04", hours="8,5"))
        ).problems[0]
        invalid_text = str(invalid)
        dry = paxml_import_run(company=company, source=_file(_post(1, "2024-03-04")), dry_run=True)
        dry_text = dry.summary()
    assert rejected == "avvisad: inget att ändra; 1 problem"
    assert problem == "rad 5, tidtrans, fält @anstid, anställd 99: okänt anställningsnummer"
    assert invalid_text.startswith("rad 5, tidtrans/timmar, fält timmar, anställd 1: inte giltig")
    assert "förväntade ett decimaltal med punkt, t.ex. 8.5, fick '8,5'" in invalid_text
    assert dry_text == "testkörning: att lägga till 1, tidregistreringar att spara 1"


def test_a_dry_run_says_what_it_would_create_and_logs_nothing_as_created(company, caplog):
    caplog.set_level("INFO")
    data = _persons(
        _person(
            5, "<fornamn>Siv</fornamn><efternamn>Berg</efternamn><anstdatum>2024-01-01</anstdatum>"
        )
    )
    result = paxml_import_run(company=company, source=data, dry_run=True)
    assert result.ok, [str(p) for p in result.problems]
    assert result.notes == ["Would create employee 5 (line 5)."]
    assert "employees to create 1" in result.summary()
    assert not [r for r in caplog.records if "created" in r.getMessage()]
    assert not Employee.objects.filter(company=company).exists()
    real = paxml_import_run(company=company, source=data)
    assert real.notes == ["Created employee 5 (line 5)."]
    assert any("Employee 5 created" in r.getMessage() for r in caplog.records)


def test_a_range_without_scheduled_hours_is_refused_not_lost(company):
    emp = employee(company, "1")
    week_schedule(emp)  # Monday to Friday
    data = _file(
        '<tidtrans anstid="1"><tidkod>SEM</tidkod><datumfrom>2024-03-09</datumfrom>'
        "<datumtom>2024-03-10</datumtom><omfattning>100</omfattning></tidtrans>\n"
    )
    result = paxml_import_run(company=company, source=data)
    assert not result.ok
    assert [(p.line, p.field) for p in result.problems] == [(5, "omfattning")]
    assert "no scheduled hours from 2024-03-09 to 2024-03-10" in result.problems[0].message


def test_copy_keeps_every_character_of_the_comment_and_the_postids(company):
    """PostgreSQL writes the rows as COPY text: backslash, tab and newline in ``info`` are
    escaped, a missing project or cost centre and a missing postid are NULL."""
    from paxml.models import ImportedTimeRegistration

    employee(company, "1")
    info = "back\\slash\ttab\nnew line \\N"
    data = _time_doc(
        '<tidtrans anstid="1" postid="7"><tidkod>ARB</tidkod><datum>2024-03-12</datum>'
        f"<timmar>-1.255</timmar><info>{info}</info></tidtrans>\n"
        + _post(1, "2024-03-13", hours="0")
    )
    result = paxml_import_run(company=company, source=data)
    assert result.ok, [str(p) for p in result.problems]
    rows = TimeRegistration.objects.filter(company=company).order_by("date")
    assert [(r.hours, r.internal_comment, r.project_id, r.cost_center_id) for r in rows] == [
        (Decimal("-1.26"), info, None, None),
        (Decimal("0.00"), "", None, None),
    ]
    assert [r.review_status for r in rows] == ["pending", "pending"]
    links = ImportedTimeRegistration.objects.filter(time_registration__in=rows)
    assert sorted(links.values_list("postid", flat=True), key=str) == [7, None]
