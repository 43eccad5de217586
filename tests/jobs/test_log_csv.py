"""The job log's CSV download neutralises cells a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io

import pytest

from jobs.models import JobLogLine
from tests.factories import JobFactory


@pytest.mark.parametrize(
    "message",
    ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"],
)
def test_formula_cells_are_neutralised(api, company, message):
    job = JobFactory(company=company)
    JobLogLine.objects.create(job=job, item=message, message=message)
    JobLogLine.objects.create(job=job, item="anna", message="Done.")
    response = api.get(f"/api/v1/jobs/{job.pk}/log/", {"download": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[1][2:] == ["'" + message, "'" + message]
    assert rows[2][2:] == ["anna", "Done."]
