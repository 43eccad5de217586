import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from employees.models import Employee
from paxml import codes
from paxml.models import PaxmlFile
from paxml.models import SalaryTransaction as SalaryRow
from paxml.reader import read_records
from paxml.records import Person, SalaryTransaction, ScheduleDay, TimeTransaction
from paxml.services import paxml_export_run, paxml_import_run
from paxml.validation import xsd_validate_document
from projects.models import TimeCode, TimeRegistration
from tests.factories import CompanyFactory
from tests.paxml.factories import cost_centre, employee, project
from tests.paxml.helpers import doc

pytestmark = pytest.mark.django_db

MARCH = {"date_from": dt.date(2024, 3, 1), "date_to": dt.date(2024, 3, 31)}


def _reg(company, emp, day, code, hours, **fields):
    return TimeRegistration.objects.create(
        company=company,
        employee=emp,
        date=day,
        time_code=TimeCode.objects.get(company=company, code=code),
        hours=Decimal(hours),
        **fields,
    )


def _export(company, **kwargs) -> tuple[bytes, object]:
    out = io.BytesIO()
    result = paxml_export_run(company=company, out=out, **{**MARCH, **kwargs})
    return out.getvalue(), result


def test_monthly_gets_deviations_hourly_gets_all_plus_schedule(company):
    monthly = employee(company, "1")
    hourly = employee(company, "2", pay_form="hourly")
    kst = cost_centre(company, "100")
    proj = project(company, "P1")
    _reg(company, monthly, dt.date(2024, 3, 4), "ARB", "8")
    _reg(company, monthly, dt.date(2024, 3, 5), "SJK", "8")
    _reg(company, monthly, dt.date(2024, 3, 6), "ÖT1", "2", cost_center=kst, project=proj)
    _reg(company, hourly, dt.date(2024, 3, 4), "ARB", "6")
    _reg(company, hourly, dt.date(2024, 3, 5), "SEM", "7.5")
    data, result = _export(company)
    assert result.ok
    assert xsd_validate_document(data) == []
    records, reader = read_records(data)
    assert reader.ok
    times = [
        (t.anstid, t.datum.day, t.tidkod, t.timmar, t.resenheter)
        for t in records
        if isinstance(t, TimeTransaction)
    ]
    assert times == [
        ("1", 5, "SJK", Decimal("8.00"), ()),
        ("1", 6, "ÖT1", Decimal("2.00"), ((1, "100"), (6, "P1"))),
        ("2", 4, "ARB", Decimal("6.00"), ()),
        ("2", 5, "SEM", Decimal("7.50"), ()),
    ]
    days = [(d.anstid, d.datum.day, d.timmar) for d in records if isinstance(d, ScheduleDay)]
    assert days == [("2", 5, Decimal("7.50"))]
    assert result.counts["left_out_worked_time_monthly"] == 1
    header = records[0]
    assert (header.format, header.foretagid, header.foretagnamn, header.programnamn) == (
        "LÖNIN",
        company.code,
        company.name,
        "flexbridge",
    )
    assert header.foretagorgnr == company.organisation_number
    assert data.startswith(b"<?xml version='1.0' encoding='ISO-8859-1'?>")


def test_never_transfer_projects_still_reach_payroll(company):
    # the flag governs the billing basis, not payroll: hourly employees are paid for it
    emp = employee(company, "1", pay_form="hourly")
    main = project(company, "M")
    secret = project(company, "S", parent=main, never_transfer=True)
    _reg(company, emp, dt.date(2024, 3, 4), "ARB", "8", project=main)
    _reg(company, emp, dt.date(2024, 3, 5), "ARB", "8", project=secret)
    data, result = _export(company)
    times = [r for r in read_records(data)[0] if isinstance(r, TimeTransaction)]
    assert [(t.datum.day, t.resenheter) for t in times] == [
        (4, ((6, "M"),)),
        (5, ((6, secret.code),)),
    ]
    assert "left_out_never_transfer" not in result.counts
    assert not any("never transfer" in w for w in result.warnings)


def test_semantic_checks_stop_the_export(company):
    emp = employee(company, "1", start=dt.date(2024, 3, 10))
    _reg(company, emp, dt.date(2024, 3, 4), "SJK", "8")
    data, result = _export(company)
    assert not result.ok and data == b""
    assert "outside the employment period" in result.problems[0].message
    assert result.problems[0].employee == "1"


def test_fortnox_profile_and_utf8(company):
    emp = employee(company, "1")
    _reg(company, emp, dt.date(2024, 3, 4), "ÖT1", "2")
    data, result = _export(company, profile="fortnox", encoding="utf-8")
    assert "<tidkod>ÖB1</tidkod>".encode() in data
    assert any("ÖB1" in w for w in result.warnings)
    assert xsd_validate_document(data, profile=codes.FORTNOX) == []


def test_salary_transactions_carry_amount_and_expense_code(company):
    emp = employee(company, "1")
    SalaryRow.objects.create(
        company=company,
        employee=emp,
        salary_code="UTLÄGG",
        date=dt.date(2024, 3, 8),
        period_date=dt.date(2024, 3, 8),
        amount=Decimal("249.90"),
        product_group="TAXI",
    )
    data, _result = _export(company)
    assert xsd_validate_document(data) == []
    assert "<belopp>249.90</belopp>" in data.decode("iso-8859-1")
    assert "<varugrupp>TAXI</varugrupp>" in data.decode("iso-8859-1")
    assert "<antal>" not in data.decode("iso-8859-1")


def _import_doc() -> bytes:
    posts = "".join(
        f'<tidtrans anstid="{n}" postid="{i}"><tidkod>{code}</tidkod><datum>2024-03-{d:02d}</datum>'
        f'<timmar>{h}</timmar><resenheter><resenhet dim="1" id="100"/>'
        f'<resenhet dim="6" id="P1"/></resenheter></tidtrans>\n'
        for i, (n, code, d, h) in enumerate(
            [
                ("1", "SJK", 4, "8"),
                ("1", "ÖT2", 5, "1.5"),
                ("2", "ARB", 4, "6"),
                ("2", "VAB", 6, "4"),
            ]
        )
    )
    salary = (
        '<lonetrans anstid="1" postid="50"><lonkod>BONUS</lonkod><datum>2024-03-20</datum>'
        "<belopp>1000.00</belopp></lonetrans>\n"
    )
    return doc(
        f"<tidtransaktioner>\n{posts}</tidtransaktioner>\n"
        f"<lonetransaktioner>\n{salary}</lonetransaktioner>\n"
    )


def _setup(company):
    employee(company, "1")
    employee(company, "2", pay_form="hourly")
    cost_centre(company, "100")
    project(company, "P1")


def _snapshot(company):
    times = sorted(
        TimeRegistration.objects.filter(company=company).values_list(
            "employee__employee_number",
            "date",
            "time_code__code",
            "hours",
            "cost_center__code",
            "project__code",
        )
    )
    salaries = sorted(
        SalaryRow.objects.filter(company=company).values_list(
            "employee__employee_number", "salary_code", "period_date", "amount"
        )
    )
    return times, salaries


def test_round_trip_import_export_import(company):
    _setup(company)
    assert paxml_import_run(company=company, source=_import_doc()).ok
    data, result = _export(company)
    assert result.ok and xsd_validate_document(data) == []
    other = CompanyFactory(code="copy")
    _setup(other)
    imported = paxml_import_run(company=other, source=data, confirm_organisation_number=True)
    assert imported.ok, [str(p) for p in imported.problems]
    assert _snapshot(other) == _snapshot(company)
    assert len(_snapshot(company)[0]) == 4
    # and back into the first company: postids make it replace, not duplicate
    assert paxml_import_run(company=company, source=data).ok
    assert len(_snapshot(company)[0]) == 4


def test_management_commands(company, tmp_path, capsys):
    _setup(company)
    source = tmp_path / "in.pax"
    source.write_bytes(_import_doc())
    call_command("paxml_import", str(source), "--company", company.code, "--dry-run")
    assert "dry run" in capsys.readouterr().out
    assert TimeRegistration.objects.filter(company=company).count() == 0
    call_command("paxml_import", str(source), "--company", company.code)
    assert TimeRegistration.objects.filter(company=company).count() == 4
    out = tmp_path / "out.pax"
    call_command(
        "paxml_export",
        "--company",
        company.code,
        "--from",
        "2024-03-01",
        "--to",
        "2024-03-31",
        "--profile",
        "fortnox",
        "--encoding",
        "utf-8",
        "--out",
        str(out),
    )
    assert "<tidkod>ÖB2</tidkod>".encode() in out.read_bytes()
    bad = tmp_path / "bad.pax"
    bad.write_bytes(
        doc(
            '<tidtransaktioner><tidtrans anstid="404"><tidkod>SJK</tidkod>'
            "<datum>2024-03-04</datum></tidtrans></tidtransaktioner>"
        )
    )
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("paxml_import", str(bad), "--company", company.code)
    assert "unknown employee number" in capsys.readouterr().err


def test_api_import_and_export_start_jobs(api, company, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _setup(company)
    response = api.post(
        "/api/v1/paxml/imports/",
        {
            "company": company.pk,
            "file": SimpleUploadedFile("t.pax", _import_doc()),
            "dry_run": "true",
        },
        format="multipart",
    )
    assert response.status_code == 202, response.content
    assert response.json()["kind"] == "paxml_import"
    assert response.json()["parameters"]["dry_run"] is True
    response = api.post(
        "/api/v1/paxml/exports/",
        {"company": company.pk, "date_from": "2024-03-01", "date_to": "2024-03-31"},
        format="json",
    )
    assert response.status_code == 202, response.content
    assert response.json()["kind"] == "paxml_export"


def test_jobs_run_import_then_export_with_result_file(api, company, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from jobs.models import JobLogLine
    from jobs.runner import job_execute

    settings.MEDIA_ROOT = tmp_path
    _setup(company)
    response = api.post(
        "/api/v1/paxml/imports/",
        {"company": company.pk, "file": SimpleUploadedFile("t.pax", _import_doc())},
        format="multipart",
    )
    job = job_execute(job_id=response.json()["id"])
    assert job.status == "succeeded", job.message
    assert job.summary["time_registrations"] == 4
    response = api.post(
        "/api/v1/paxml/exports/",
        {"company": company.pk, "date_from": "2024-03-01", "date_to": "2024-03-31"},
        format="json",
    )
    job = job_execute(job_id=response.json()["id"])
    assert job.status == "succeeded", job.message
    download = api.get(f"/api/v1/jobs/{job.pk}/file/")
    assert download.status_code == 200
    data = b"".join(download.streaming_content)
    assert xsd_validate_document(data) == []
    bad = SimpleUploadedFile("bad.pax", b"<paxml><header><version>2.0</version></header>")
    response = api.post(
        "/api/v1/paxml/imports/", {"company": company.pk, "file": bad}, format="multipart"
    )
    job = job_execute(job_id=response.json()["id"])
    assert job.status == "failed"
    assert JobLogLine.objects.filter(
        job=job, level="error", message__contains="well-formed"
    ).exists()


def test_every_transaction_has_a_stable_postid_and_reimport_adds_nothing(company):
    _setup(company)
    assert paxml_import_run(company=company, source=_import_doc()).ok
    emp = Employee.objects.get(company=company, employee_number="1")
    SalaryRow.objects.create(
        company=company, employee=emp, salary_type="1100", period_date=dt.date(2024, 3, 8)
    )
    data, _result = _export(company)
    records = read_records(data)[0]
    posts = [r for r in records if isinstance(r, TimeTransaction | SalaryTransaction)]
    assert posts and all(r.postid is not None for r in posts)
    assert sorted(r.postid for r in posts if isinstance(r, TimeTransaction)) == sorted(
        TimeRegistration.objects.filter(company=company).values_list("pk", flat=True)
    )
    again = [r.postid for r in read_records(_export(company)[0])[0] if hasattr(r, "postid")]
    assert again == [r.postid for r in records if hasattr(r, "postid")]
    before = (TimeRegistration.objects.count(), SalaryRow.objects.count())
    back = paxml_import_run(company=company, source=data)
    assert back.ok, [str(p) for p in back.problems]
    assert back.source == "flexbridge:self"
    assert back.counts.get("added", 0) == 0 and back.counts["unchanged"] == len(posts)
    assert (TimeRegistration.objects.count(), SalaryRow.objects.count()) == before
    # a corrected own export replaces the row it names, nothing else
    changed = data.replace(b"<timmar>8.00</timmar>", b"<timmar>7.00</timmar>", 1)
    fixed = paxml_import_run(company=company, source=changed)
    assert fixed.ok and fixed.counts["replaced"] == 1
    assert (TimeRegistration.objects.count(), SalaryRow.objects.count()) == before


def _event(project_obj, **fields):
    from projects.models import ProjectEvent

    fields.setdefault("name", "OB-tillägg")
    fields.setdefault("salary_type_code", "350")
    fields.setdefault("amount", Decimal("25.50"))
    return ProjectEvent.objects.create(project=project_obj, **fields)


def test_project_events_go_out_as_salary_transactions(company):
    emp = employee(company, "1", pay_form="hourly")
    monthly = employee(company, "2")
    main = project(company, "M")
    site = project(company, "S", parent=main, never_transfer=True)
    _event(main)  # per hour, for sub projects too
    _event(site, name="Fältdag", salary_type_code="351", kind="per_day", amount=Decimal("100"))
    _reg(company, emp, dt.date(2024, 3, 4), "ARB", "8", project=site)
    _reg(company, emp, dt.date(2024, 3, 4), "ARB", "1.5", project=site)
    _reg(company, monthly, dt.date(2024, 3, 5), "ARB", "2", project=site)
    data, result = _export(company)
    assert xsd_validate_document(data) == []
    lines = [
        (s.anstid, s.lonart, s.benamning, s.datum.day, s.antal, s.apris, s.belopp, s.resenheter)
        for s in read_records(data)[0]
        if isinstance(s, SalaryTransaction)
    ]
    code = site.code
    assert lines == [
        (
            "1",
            "350",
            "OB-tillägg",
            4,
            Decimal("9.50"),
            Decimal("25.50"),
            Decimal("242.25"),
            ((6, code),),
        ),
        (
            "1",
            "351",
            "Fältdag",
            4,
            Decimal("1"),
            Decimal("100.00"),
            Decimal("100.00"),
            ((6, code),),
        ),
        (
            "2",
            "350",
            "OB-tillägg",
            5,
            Decimal("2.00"),
            Decimal("25.50"),
            Decimal("51.00"),
            ((6, code),),
        ),
        (
            "2",
            "351",
            "Fältdag",
            5,
            Decimal("1"),
            Decimal("100.00"),
            Decimal("100.00"),
            ((6, code),),
        ),
    ]
    assert result.counts["event_transactions"] == 4
    # the own export back: event lines are computed, never imported as salary rows
    back = paxml_import_run(company=company, source=data)
    assert back.ok and back.counts["own_event_lines_skipped"] == 4
    assert back.counts.get("added", 0) == 0 and back.counts["unchanged"] == 2  # monthly: no ARB
    assert SalaryRow.objects.count() == 0
    assert TimeRegistration.objects.count() == 3


def test_an_overlong_code_fails_only_the_rows_that_use_it(company):
    one = employee(company, "1")
    two = employee(company, "2")
    long_project = project(company, "PROJEKT-12345")
    _reg(company, one, dt.date(2024, 3, 4), "SJK", "8", project=long_project)
    _reg(company, one, dt.date(2024, 3, 5), "SJK", "8")
    _reg(company, two, dt.date(2024, 3, 6), "SJK", "8")
    data, result = _export(company)
    assert result.ok
    times = [
        (t.anstid, t.datum.day) for t in read_records(data)[0] if isinstance(t, TimeTransaction)
    ]
    assert times == [("1", 5), ("2", 6)]
    (problem,) = result.problems
    assert problem.field == "resenhet dim 6"
    assert "PROJEKT-12345" in problem.message and "1 2024-03-04" in problem.message
    assert result.counts["left_out_rows"] == 1


@pytest.mark.parametrize("stored", ["999999999999.99", "1234567890123456789"])
def test_stored_values_beyond_the_bounds_never_crash_the_export(company, tmp_path, stored):
    from django.db import connection

    if len(stored) > 15 and connection.vendor == "postgresql":
        pytest.skip("PostgreSQL's numeric(14, 2) refuses it; SQLite stored it")
    emp = employee(company, "1")
    row = SalaryRow.objects.create(
        company=company, employee=emp, salary_type="1", period_date=dt.date(2024, 3, 4)
    )
    ok_row = SalaryRow.objects.create(
        company=company,
        employee=emp,
        salary_type="2",
        period_date=dt.date(2024, 3, 5),
        amount=Decimal("10"),
    )
    # what an unbounded import stored before: beyond the bounds, within the column
    SalaryRow.objects.filter(pk=row.pk).update(amount=Decimal(stored))
    data, result = _export(company)
    salaries = [s.postid for s in read_records(data)[0] if isinstance(s, SalaryTransaction)]
    assert salaries == [ok_row.pk]
    assert [p.field for p in result.problems] == ["amount"]
    out = tmp_path / "out.pax"
    call_command(
        "paxml_export", "--company", company.code, "--from", "2024-03-01", "--to", "2024-03-31",
        "--out", str(out),
    )  # fmt: skip
    assert out.exists() and not (tmp_path / "out.pax.part").exists()


def test_a_failing_export_leaves_no_partial_file(company, tmp_path, monkeypatch):
    from paxml.management.commands import paxml_export as command

    employee(company, "1")

    def broken(**kwargs):
        kwargs["out"].write(b"<?xml half a file")
        raise RuntimeError("disk gone")

    monkeypatch.setattr(command, "paxml_export_run", broken)
    out = tmp_path / "out.pax"
    with pytest.raises(RuntimeError):
        call_command(
            "paxml_export", "--company", company.code, "--from", "2024-03-01", "--to",
            "2024-03-31", "--out", str(out),
        )  # fmt: skip
    assert list(tmp_path.iterdir()) == []


FORTNOX_PERSON_FIELDS = [
    "fornamn", "efternamn", "extraadress", "postadress", "postnr", "ort", "land",
    "mobiltelefon", "kategori", "befattning", "anstform", "bankclearing", "bankkonto",
    "anstdatum", "lonform", "timlon", "manlon", "skattetabell", "skattekolumn",
]  # fmt: skip


def test_personnel_writes_every_fortnox_field(company, tmp_path):
    from employees.models import EmploymentForm, Position
    from employees.services import hourly_wage_set, monthly_salary_set

    emp = employee(
        company,
        "1",
        personal_identity_number="198210101237",
        street_address="Storgatan 1",
        care_of="c/o Andersson",
        postal_code="447 34",
        city="Vårgårda",
        country="SE",
        mobile_phone="070-1234567",
        clearing_number="5000",
        bank_account_number="1234560",
        tax_table=33,
        tax_column=1,
        position=Position.objects.create(company=company, code="UTV", title="Utvecklare"),
        employment_form=EmploymentForm.objects.create(
            company=company, code="TV", name="Tillsvidare"
        ),
    )
    monthly_salary_set(employee=emp, valid_from=dt.date(2024, 1, 1), amount=Decimal("35000"))
    hourly_wage_set(employee=emp, valid_from=dt.date(2024, 1, 1), amount=Decimal("210.50"))
    out = tmp_path / "personal.pax"
    call_command(
        "paxml_export", "--company", company.code, "--from", "2024-03-01", "--to", "2024-03-31",
        "--personnel", "--out", str(out),
    )  # fmt: skip
    data = out.read_bytes()
    assert xsd_validate_document(data) == []
    (person,) = [r for r in read_records(data)[0] if isinstance(r, Person)]
    assert (person.anstid, person.persnr) == ("1", "198210101237")
    assert all(person.has(name) for name in FORTNOX_PERSON_FIELDS), [
        n for n in FORTNOX_PERSON_FIELDS if not person.has(n)
    ]
    assert person.values["extraadress"] == "c/o Andersson"
    assert person.values["manlon"].value == Decimal("35000.00")
    assert person.values["timlon"].value == Decimal("210.50")
    assert (person.values["skattetabell"], person.values["skattekolumn"]) == (33, 1)
    # and it imports back into an empty company as the same person
    other = CompanyFactory(code="copy")
    EmploymentForm.objects.create(company=other, code="TV", name="Tillsvidare")
    result = paxml_import_run(
        company=other, source=data, confirm_organisation_number=True, create_missing=True
    )
    assert result.ok, [str(p) for p in result.problems]
    copy = Employee.objects.get(company=other, employee_number="1")
    assert (copy.care_of, copy.tax_table) == ("c/o Andersson", 33)
    assert (copy.position.code, copy.position.title) == ("UTV", "Utvecklare")


def test_api_options_reach_the_jobs_in_the_users_language(api, company, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from jobs.models import JobLogLine
    from jobs.runner import job_execute
    from projects.models import Project

    settings.MEDIA_ROOT = tmp_path
    one = employee(company, "1")
    employee(company, "2")
    _reg(company, one, dt.date(2024, 3, 6), "SJK", "8", project=project(company, "LÅNGT-PROJEKT"))
    posts = (
        '<tidtrans anstid="1"><tidkod>SJK</tidkod><datum>2024-03-04</datum><timmar>8</timmar>'
        '<resenheter><resenhet dim="6" id="NYTT"/></resenheter></tidtrans>\n'
        '<tidtrans anstid="2"><tidkod>SJK</tidkod><datum>2024-03-05</datum><timmar>8</timmar>'
        "</tidtrans>\n"
    )
    header = (
        "<header><format>LÖNIN</format><version>2.0</version>"
        "<foretagorgnr>5565594230</foretagorgnr></header>\n"
    )
    data = doc(f"<tidtransaktioner>\n{posts}</tidtransaktioner>\n", header=header)
    response = api.post(
        "/api/v1/paxml/imports/",
        {
            "company": company.pk,
            "file": SimpleUploadedFile("t.pax", data),
            "create_missing": True,
            "confirm_organisation_number": True,
            "source": "Tidsystemet",
        },
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="sv",
    )
    job = job_execute(job_id=response.json()["id"])
    assert job.status == "succeeded", list(job.log_lines.values_list("item", "message"))
    assert Project.objects.filter(company=company, code="NYTT").exists()
    assert PaxmlFile.objects.get(job=job).source == "chosen:tidsystemet"
    messages = list(JobLogLine.objects.filter(job=job).values_list("message", flat=True))
    assert "Skapade projekt NYTT (rad 5)." in messages
    assert any(m.startswith("importerad: tillagda 2") for m in messages), messages
    response = api.post(
        "/api/v1/paxml/exports/",
        {"company": company.pk, "date_from": "2024-03-01", "date_to": "2024-03-31",
         "personnel": True},
        format="json",
    )  # fmt: skip
    job = job_execute(job_id=response.json()["id"])
    assert job.status == "partly_failed", job.message
    data = b"".join(api.get(f"/api/v1/jobs/{job.pk}/file/").streaming_content)
    records = read_records(data)[0]
    assert [(t.anstid, t.datum.day) for t in records if isinstance(t, TimeTransaction)] == [
        ("1", 4),
        ("2", 5),
    ]
    assert sorted(p.anstid for p in records if isinstance(p, Person)) == ["1", "2"]
    error = JobLogLine.objects.get(job=job, level="error")
    assert "LÅNGT-PROJEKT" in error.message and "1 2024-03-06" in error.message
