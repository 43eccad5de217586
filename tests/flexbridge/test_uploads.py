"""Uploads: the size limit holds while the body streams in, permission is checked before
anything is stored, and a refused upload leaves no file."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from flexbridge.uploads import UploadLimitHandler, UploadTooLarge
from jobs.models import Job

PAX = b'<?xml version="1.0"?><paxml><header><version>2.0</version></header></paxml>'


def _stored_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_an_upload_over_the_limit_is_refused_with_413_and_nothing_stored(api, company, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    big = SimpleUploadedFile("big.pax", b"x" * 5000)
    response = api.post(
        "/api/v1/paxml/imports/", {"company": company.pk, "file": big}, format="multipart"
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert _stored_files(settings) == []
    assert not Job.objects.exists()


def test_the_limit_also_holds_without_a_declared_length(settings):
    """A body that streams past the limit is cut off at the chunk that crosses it."""
    settings.UPLOAD_MAX_BYTES = 100
    handler = UploadLimitHandler()
    handler.handle_raw_input(io.BytesIO(), {}, None, "b")
    assert handler.receive_data_chunk(b"x" * 60, 0) == b"x" * 60
    with pytest.raises(UploadTooLarge):
        handler.receive_data_chunk(b"x" * 60, 60)


def test_a_declared_length_over_the_limit_is_refused_before_reading(settings):
    settings.UPLOAD_MAX_BYTES = 100
    with pytest.raises(UploadTooLarge):
        UploadLimitHandler().handle_raw_input(io.BytesIO(), {}, 101, "b")


def test_a_refused_upload_is_not_stored(api_client, company, make_user, settings):
    api_client.force_authenticate(make_user(company, role="viewer"))
    response = api_client.post(
        "/api/v1/paxml/imports/",
        {"company": company.pk, "file": SimpleUploadedFile("t.pax", PAX * 100)},
        format="multipart",
    )
    assert response.status_code == 403
    assert _stored_files(settings) == []
    assert not Job.objects.exists()


def test_an_allowed_upload_is_stored_once(api, company, settings):
    response = api.post(
        "/api/v1/paxml/imports/",
        {"company": company.pk, "file": SimpleUploadedFile("t.pax", PAX), "dry_run": "true"},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    assert len(_stored_files(settings)) == 1


@pytest.mark.parametrize("debug", [False, True])
def test_a_page_upload_over_the_limit_answers_a_page_that_says_the_limit(
    client, user, company, settings, debug
):
    """The PAXml upload page in the admin, in Swedish: a 413 page with the limit, not
    Django's bare or technical 400 page; nothing stored."""
    settings.DEBUG = debug
    settings.UPLOAD_MAX_BYTES = 2 * 1024 * 1024
    client.force_login(user)
    big = SimpleUploadedFile("big.pax", b"x" * (3 * 1024 * 1024))
    response = client.post(
        reverse("admin:paxml_upload"),
        {"company": company.pk, "file": big},
        HTTP_ACCEPT_LANGUAGE="sv",
    )
    assert response.status_code == 413
    text = response.content.decode()
    assert "uppladdningsgränsen på 2 MB" in text
    assert "Traceback" not in text and "RequestDataTooBig" not in text
    assert _stored_files(settings) == []
    assert not Job.objects.exists()
