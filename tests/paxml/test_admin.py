import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jobs.models import Job
from tests.paxml.helpers import doc

pytestmark = pytest.mark.django_db


def test_admin_upload_and_export_pages_start_jobs(client, user, company, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(user)
    assert client.get("/admin/paxml/paxmlfile/upload/").status_code == 200
    response = client.post(
        "/admin/paxml/paxmlfile/upload/",
        {
            "company": company.pk,
            "file": SimpleUploadedFile("x.pax", doc("<personal/>")),
            "dry_run": "on",
            "profile": "standard",
            "create_missing": "on",
            "confirm_organisation_number": "on",
            "source": "Tidsystemet",
        },
    )
    assert response.status_code == 302
    job = Job.objects.get(kind="paxml_import")
    assert job.parameters["dry_run"] is True and job.company == company
    assert job.parameters["create_missing"] is True
    assert job.parameters["confirm_organisation_number"] is True
    assert job.parameters["source_name"] == "Tidsystemet"
    response = client.post(
        "/admin/paxml/paxmlfile/export/",
        {
            "company": company.pk,
            "date_from": "2024-03-01",
            "date_to": "2024-03-31",
            "employees": "1, 2",
            "profile": "fortnox",
            "encoding": "utf-8",
            "personnel": "on",
        },
    )
    assert response.status_code == 302
    job = Job.objects.get(kind="paxml_export")
    assert job.parameters["employees"] == ["1", "2"]
    assert job.parameters["profile"] == "fortnox"
    assert job.parameters["personnel"] is True


def test_the_upload_page_has_one_title_and_its_labels_start_with_a_capital(client, user):
    client.force_login(user)
    page = client.get("/admin/paxml/paxmlfile/upload/", HTTP_ACCEPT_LANGUAGE="sv")
    html = page.content.decode()
    assert html.count("<h1>Importera en PAXml-fil</h1>") == 1
    assert ">Företag:</label>" in html and ">Profil:</label>" in html and ">Källa:</label>" in html
    assert ">företag:</label>" not in html
