"""Uploading a file-based payroll system's personnel file outside the page: over REST
(``POST /api/v1/switchovers/personnel-file/``) and from the shell (``--file``)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from integrations.models import Switchover
from jobs.models import Job
from tests.integrations.helpers import personnel_file

pytestmark = pytest.mark.django_db

URL = "/api/v1/switchovers/personnel-file/"


def upload(client, company, content: bytes, name="personnel.pax"):
    return client.post(
        URL, {"company": company.pk, "file": SimpleUploadedFile(name, content)}, format="multipart"
    )


def test_api_upload_stores_the_file_and_the_preflight_reads_it(api, company, file_link, payroll):
    response = upload(api, company, personnel_file(payroll), name="fortnox.pax")
    assert response.status_code == 200, response.content
    switchover = Switchover.objects.get(company=company)
    assert response.data["id"] == switchover.pk
    assert switchover.personnel_file.name.endswith(".pax")
    response = api.post("/api/v1/switchovers/preflight/", {"company": company.pk}, format="json")
    assert response.status_code == 202
    job = Job.objects.get(pk=response.data["id"])
    if not job.is_finished:
        from jobs.runner import job_execute

        job = job_execute(job_id=job.pk)
    assert job.status == Job.Status.SUCCEEDED, job.message


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"<nonsense", "could not be read"),
        (None, "no employees"),
    ],
)
def test_api_upload_refuses_unreadable_or_empty(api, company, file_link, content, problem):
    if content is None:
        from tests.paxml.helpers import doc

        content = doc("")
    response = upload(api, company, content)
    assert response.status_code == 400
    body = response.json()["error"]
    assert problem in body["message"] and "file" in body["fields"]
    assert not Switchover.objects.filter(company=company).exclude(personnel_file="").exists()


def test_api_upload_needs_a_file(api, company, file_link):
    response = api.post(URL, {"company": company.pk}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["error"]["fields"]
    response = upload(api, company, b"")
    assert response.status_code == 400
    assert "empty" in response.json()["error"]["message"]


def test_api_upload_is_scoped_and_needs_the_permission(
    api, api_client, company, other_company, file_link, payroll, make_user
):
    response = upload(api, other_company, personnel_file(payroll))
    assert response.status_code == 400  # another company's id is not a choice
    api_client.force_authenticate(make_user(company, role="viewer"))
    response = upload(api_client, company, personnel_file(payroll))
    assert response.status_code == 403
    assert not Switchover.objects.filter(company=company).exists()


def test_command_file_is_stored_before_the_preflight(
    company, file_link, payroll, make_user, tmp_path, capsys
):
    make_user(company, role="admin", is_superuser=True)
    path = tmp_path / "personal.pax"
    path.write_bytes(personnel_file(payroll))
    call_command("switchover", company="acme", step="preflight", personnel_file=str(path))
    out = capsys.readouterr().out
    assert "Personnel file personal.pax stored on the switchover." in out
    assert "Step preflight: warning" in out
    assert Switchover.objects.get(company=company).personnel_file.name.endswith(".pax")


def test_command_file_refused_when_unreadable(company, file_link, make_user, tmp_path):
    make_user(company, role="admin", is_superuser=True)
    path = tmp_path / "broken.pax"
    path.write_bytes(b"<nonsense")
    with pytest.raises(CommandError, match="could not be read"):
        call_command("switchover", company="acme", step="preflight", personnel_file=str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command(
            "switchover", company="acme", step="preflight", personnel_file=str(tmp_path / "no")
        )
    with pytest.raises(CommandError, match="--file goes with"):
        call_command("switchover", company="acme", step="hr_on", personnel_file=str(path))
    assert not Job.objects.filter(kind="switchover_preflight").exists()
