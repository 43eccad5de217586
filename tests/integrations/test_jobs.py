"""The kinds of job the integrations register (``integrations/jobs.py``)."""

import pytest
from django.utils import translation

from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


def test_switchover_job_names_follow_the_reader(company):
    job = JobFactory(company=company, kind="switchover_preflight")
    with translation.override("en"):
        assert job.get_kind_display() == "Switchover: 1. Preflight report"
    with translation.override("sv"):
        swedish = job.get_kind_display()
    assert swedish.startswith("Byte av master") and "Preflight report" not in swedish
