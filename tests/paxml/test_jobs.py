"""PAXml jobs store their problems, notes, warnings and summaries as message ids with
parameters: the same job reads in Swedish and in English, whoever started it."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from jobs.models import JobLogLine
from jobs.runner import job_execute
from paxml.services import paxml_export_start, paxml_import_start
from projects.models import TimeCode, TimeRegistration
from tests.paxml.factories import employee, project
from tests.paxml.helpers import doc

pytestmark = pytest.mark.django_db


def _import(user, company, language: str, body: str, **options):
    data = doc(f"<tidtransaktioner>\n{body}</tidtransaktioner>\n")
    with translation.override(language):
        job = paxml_import_start(
            user=user, company=company, upload=SimpleUploadedFile("t.pax", data), **options
        )
        return job_execute(job_id=job.pk)


def _lines(job, language: str) -> list[tuple[str, str, str]]:
    with translation.override(language):
        return [
            (line.level, line.item, line.text)
            for line in JobLogLine.objects.filter(job=job).order_by("pk")
        ]


def test_an_import_run_in_swedish_reads_in_english(user, company):
    employee(company, "1")
    post = (
        '<tidtrans anstid="9"><tidkod>ARB</tidkod><datum>2024-03-04</datum>'
        "<timmar>8</timmar></tidtrans>\n"
    )
    job = _import(user, company, "sv", post)
    assert job.status == "failed"
    stored = JobLogLine.objects.get(job=job, level="error")
    assert stored.message == "rad 5, tidtrans, fält @anstid: okänt anställningsnummer"
    assert stored.message_id == "paxml.problem"
    assert stored.message_params["text"]["msgid"] == "unknown employee number"

    english = _lines(job, "en")
    assert ("error", "9", "line 5, tidtrans, field @anstid: unknown employee number") in english
    assert english[-1] == ("info", "", "rejected: nothing to change; 1 problem")
    swedish = _lines(job, "sv")
    assert ("error", "9", "rad 5, tidtrans, fält @anstid: okänt anställningsnummer") in swedish
    assert swedish[-1] == ("info", "", "avvisad: inget att ändra; 1 problem")


def test_an_xsd_problem_reads_with_its_nested_example_in_either_language(user, company):
    employee(company, "1")
    post = (
        '<tidtrans anstid="1"><tidkod>ARB</tidkod><datum>4 mars</datum>'
        "<timmar>8</timmar></tidtrans>\n"
    )
    job = _import(user, company, "en", post)
    (_level, _item, english), *_ = [line for line in _lines(job, "en") if line[0] == "error"]
    assert english == (
        "line 5, tidtrans/datum, field datum: not valid against the PAXml 2.0 schema: "
        "expected xs:date, e.g. 2012-06-02, got '4 mars'"
    )
    (_level, _item, swedish), *_ = [line for line in _lines(job, "sv") if line[0] == "error"]
    assert swedish == (
        "rad 5, tidtrans/datum, fält datum: inte giltig enligt PAXml 2.0-schemat: "
        "förväntade xs:date, t.ex. 2012-06-02, fick '4 mars'"
    )


def test_an_import_run_in_english_reads_in_swedish(user, company):
    employee(company, "1")
    post = (
        '<tidtrans anstid="1"><tidkod>ARB</tidkod><datum>2024-03-04</datum><timmar>8</timmar>'
        '<resenheter><resenhet dim="6" id="NYTT"/></resenheter></tidtrans>\n'
    )
    job = _import(user, company, "en", post, create_missing=True)
    assert job.status == "succeeded"
    assert TimeRegistration.objects.filter(company=company).count() == 1
    english = [text for _level, _item, text in _lines(job, "en")]
    assert "Created project NYTT (line 5)." in english
    assert english[-1] == "imported: added 1, time registrations stored 1, projects created 1"
    swedish = [text for _level, _item, text in _lines(job, "sv")]
    assert "Skapade projekt NYTT (rad 5)." in swedish
    assert swedish[-1] == ("importerad: tillagda 1, tidregistreringar sparade 1, projekt skapade 1")


def test_the_job_page_shows_the_import_in_the_readers_language(client, user, company):
    employee(company, "1")
    post = (
        '<tidtrans anstid="9"><tidkod>ARB</tidkod><datum>2024-03-04</datum>'
        "<timmar>8</timmar></tidtrans>\n"
    )
    job = _import(user, company, "sv", post)
    client.force_login(user)
    english = client.get(f"/jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "line 5, tidtrans, field @anstid: unknown employee number" in english
    assert "okänt anställningsnummer" not in english
    swedish = client.get(f"/jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "rad 5, tidtrans, fält @anstid: okänt anställningsnummer" in swedish


def test_an_export_run_in_swedish_reads_in_english(user, company):
    emp = employee(company, "1")
    TimeRegistration.objects.create(
        company=company,
        employee=emp,
        date=dt.date(2024, 3, 6),
        time_code=TimeCode.objects.get(company=company, code="SJK"),
        hours=8,
        project=project(company, "LÅNGT-PROJEKT"),
    )
    with translation.override("sv"):
        job = paxml_export_start(
            user=user,
            company=company,
            date_from=dt.date(2024, 3, 1),
            date_to=dt.date(2024, 3, 31),
        )
        job = job_execute(job_id=job.pk)
    error = JobLogLine.objects.get(job=job, level="error")
    assert error.message_id == "paxml.problem"
    with translation.override("en"):
        assert error.text.startswith("file, tidtrans, field resenhet dim 6: code LÅNGT-PROJEKT is")
        assert "1 row not exported (employee, day: 1 2024-03-06)" in error.text
        summary = JobLogLine.objects.filter(job=job).order_by("pk").last().text
        assert summary == "exported: rows not exported 1; 1 problem"
    with translation.override("sv"):
        assert error.text.startswith("fil, tidtrans, fält resenhet dim 6: koden LÅNGT-PROJEKT är")
        summary = JobLogLine.objects.filter(job=job).order_by("pk").last().text
        assert summary.startswith("exporterade: ")


def _import_persons(user, company, language: str, persons: str):
    data = doc(f"<personal>\n{persons}</personal>\n")
    with translation.override(language):
        job = paxml_import_start(
            user=user, company=company, upload=SimpleUploadedFile("p.pax", data)
        )
        return job_execute(job_id=job.pk)


def test_a_register_refusal_of_a_person_reads_in_the_readers_language(user, company):
    """The employee register's validation message is kept by its msgid and parameters, not
    as text in the language the import ran in."""
    employee(company, "1")
    job = _import_persons(
        user, company, "sv", '<person anstid="1"><postnr>123</postnr><land>Narnia</land></person>\n'
    )
    errors = [line for line in _lines(job, "sv") if line[0] == "error"]
    assert ("error", "1", "rad 5, person, fält land: okänt land Narnia") in errors
    english = [line for line in _lines(job, "en") if line[0] == "error"]
    assert ("error", "1", "line 5, person, field land: unknown country Narnia") in english


def test_djangos_and_the_registers_messages_of_a_person_read_in_either_language(user, company):
    employee(company, "1")
    job = _import_persons(user, company, "en", '<person anstid="1"><postnr>123</postnr></person>\n')
    [(_level, item, english)] = [line for line in _lines(job, "en") if line[0] == "error"]
    assert (item, english) == (
        "1",
        "line 5, person, field postnr: A Swedish postal code has five digits (NNN NN).",
    )
    [(_level, _item, swedish)] = [line for line in _lines(job, "sv") if line[0] == "error"]
    assert swedish == "rad 5, person, fält postnr: Ett svenskt postnummer har fem siffror (NNN NN)."


def test_the_import_options_read_by_their_names_in_the_readers_language(client, user, company):
    employee(company, "1")
    post = '<tidtrans anstid="9"><tidkod>ARB</tidkod><datum>2024-03-04</datum></tidtrans>\n'
    job = _import(user, company, "en", post, create_missing=True)
    client.force_login(user)
    swedish = client.get(f"/jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "Skapa saknade registerposter, projekt och kostnadsställen" in swedish
    assert "Importera även om filen anger ett annat organisationsnummer" in swedish
    for code in ("Create missing", "Confirm organisation number", "Source name", "Language"):
        assert code not in swedish
