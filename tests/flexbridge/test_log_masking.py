"""Personnummer never reach a log in clear: access-log lines (query strings), logged
exceptions, and job logs."""

from __future__ import annotations

import logging

import pytest

from flexbridge.logging import MaskPersonalIdentityNumbers
from jobs.context import JobContext
from tests.factories import JobFactory


def _through(logger_name: str, msg: str, *args, exc_info=None) -> logging.LogRecord:
    logger = logging.getLogger(logger_name)
    handlers = logger.handlers if not logger.propagate else logging.getLogger().handlers
    # Our configured handlers (pytest adds its own capturing ones to the root logger).
    handlers = [h for h in handlers if not type(h).__module__.startswith("_pytest")]
    assert handlers
    record = logger.makeRecord(logger_name, logging.INFO, __file__, 1, msg, args, exc_info)
    for handler in handlers:
        assert any(isinstance(f, MaskPersonalIdentityNumbers) for f in handler.filters), handler
        handler.filter(record)
    return record


@pytest.mark.parametrize("logger_name", ["django.server", "gunicorn.access"])
@pytest.mark.parametrize(
    "query", ["search=191212121212", "search=19121212-1212", "search=19121212%2D1212"]
)
def test_access_log_query_strings_are_masked(logger_name, query):
    record = _through(
        logger_name, '"%s" %s %s', f"GET /api/v1/employees/?{query} HTTP/1.1", "200", "512"
    )
    message = record.getMessage()
    assert "1212121212" not in message.replace("-", "").replace("%2D", "")
    assert "19121212-****" in message


def test_a_logged_exception_is_masked_in_its_traceback():
    try:
        raise ValueError("no employee with 191212121212")
    except ValueError:
        import sys

        record = _through("jobs.services", "Job failed", exc_info=sys.exc_info())
    assert "191212121212" not in record.exc_text
    assert "19121212-****" in record.exc_text


def test_job_log_lines_are_masked(company):
    job = JobFactory(company=company)
    ctx = JobContext(job)
    ctx.error("persnr 19121212-1212 is unknown", item="191212121212")
    ctx.flush(force=True)
    line = job.log_lines.get()
    assert (line.item, line.message) == ("19121212-****", "persnr 19121212-**** is unknown")
