"""A job's selection as a person reads it: labels in the reader's language, in the order
they were registered, machine-only keys left out."""

import pytest
from django.utils import translation

from jobs.selectors import job_parameters_display
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


def test_the_selection_reads_from_before_to_and_hides_the_jobs_language():
    job = JobFactory(
        kind="paxml_export",
        parameters={
            "date_to": "2026-11-30",
            "profile": "standard",
            "language": "sv",
            "date_from": "2026-11-01",
            "path": "x/y.pax",
        },
    )
    with translation.override("sv"):
        labels = [label for label, _value in job_parameters_display(job=job)]
    assert labels == ["Från", "Till", "Profil"]


def test_the_paxml_import_options_have_names():
    job = JobFactory(
        kind="paxml_import",
        parameters={
            "create_missing": True,
            "confirm_organisation_number": False,
            "source_name": "",
        },
    )
    with translation.override("en"):
        shown = dict(job_parameters_display(job=job))
    assert shown == {
        "Create missing register entries, projects and cost centres": "yes",
        "Import even if the file names another organisation number": "no",
        "Source": "–",
    }
