"""One error model: every domain exception is a DomainError, translated to HTTP by the API's
exception handler and to a message by one helper each for the admin and the pages."""

from __future__ import annotations

import logging

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory
from django.urls import reverse

from flexbridge.api import exception_handler
from flexbridge.errors import DomainError, admin_error, error_text, page_error
from integrations import switchover as sw
from integrations.clients.kivra import KivraContentInvalid
from integrations.clients.visma import VismaRefused
from integrations.payroll_backend import PayrollLinkMissing
from ledger.selectors import ContributionsTooLarge
from ledger.services import TransferRefused
from ledger.sie import SieError
from ledger.vouchers import VoucherError
from paxml.reader import PaxmlFatalError, PaxmlTooLarge
from paxml.services import PaxmlLicenseError
from paxml.validation import Problem
from paxml.writer import PaxmlWriterError
from projects.services.registration import TimeRegistrationRejected


class Refused(DomainError):
    code = "refused_here"
    http_status = 409


def test_a_domain_error_carries_code_status_message_and_fields():
    plain = DomainError("No.")
    assert (plain.code, plain.http_status, plain.message, plain.fields) == (
        "invalid",
        400,
        "No.",
        {},
    )
    error = Refused("Not now.", fields={"date": "closed"})
    assert (error.code, error.http_status, error.message) == ("refused_here", 409, "Not now.")
    assert error.fields == {"date": "closed"}
    other = Refused("x", code="other", http_status=422)
    assert (other.code, other.http_status) == ("other", 422)
    assert Refused.code == "refused_here"  # the override is the instance's only


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (PaxmlLicenseError("no licence"), "not_licensed", 403),
        (PaxmlFatalError(Problem(line=3, message="not XML")), "unreadable_file", 400),
        (PaxmlTooLarge(), "file_too_large", 413),
        (PaxmlWriterError("no header"), "paxml_writer_error", 500),
        (VoucherError(["run 1 has no lines"]), "voucher_refused", 400),
        (TransferRefused("no link"), "transfer_refused", 409),
        (ContributionsTooLarge("too big"), "amount_out_of_range", 400),
        (SieError("bad", line=4), "invalid_sie", 400),
        (sw.SwitchoverRefused("order"), "conflict", 409),
        (PayrollLinkMissing("no link"), "payroll_link_missing", 409),
        (KivraContentInvalid("too large"), "kivra_content_invalid", 400),
        (VismaRefused("no ledger"), "visma_refused", 409),
    ],
)
def test_every_domain_exception_is_a_domain_error(error, code, status):
    assert isinstance(error, DomainError)
    assert (error.code, error.http_status) == (code, status)
    assert error.message == str(error)


def test_the_exceptions_keep_their_own_shape():
    assert isinstance(SieError("x"), ValueError) and isinstance(
        KivraContentInvalid("x"), ValueError
    )
    sie = SieError("invalid date", line=4)
    assert sie.line == 4 and str(sie) == "line 4: invalid date" and sie.fields == {"line": 4}
    voucher = VoucherError(["Run 1: no accounts."])
    assert voucher.problems == ["Run 1: no accounts."]
    assert voucher.fields == {"problems": ["Run 1: no accounts."]}
    assert str(voucher).endswith("Run 1: no accounts.")


def test_the_api_answers_a_domain_error_in_the_one_error_shape():
    response = exception_handler(Refused("Not now.", fields={"date": "closed"}), {})
    assert response.status_code == 409
    assert response.data == {
        "error": {"code": "refused_here", "message": "Not now.", "fields": {"date": "closed"}}
    }


def test_a_rejected_registration_names_its_rules_in_the_api_body():
    class Finding:
        def __init__(self, rule, message, project):
            self.rule, self.message, self.project = rule, message, project

        def as_dict(self):
            return {"rule": self.rule, "message": self.message}

    error = TimeRegistrationRejected(
        [Finding("status", "Project A is closed.", "A"), Finding("dates", "Too late.", "A")]
    )
    response = exception_handler(error, {})
    assert response.status_code == 400
    assert response.data["error"] == {
        "code": "registration_rejected",
        "message": "Project A is closed. Too late.",
        "fields": {
            "rules": [
                {"rule": "status", "message": "Project A is closed."},
                {"rule": "dates", "message": "Too late."},
            ],
            "project": "A",
        },
    }


def _request():
    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


@pytest.mark.parametrize(
    ("exc", "text"),
    [
        (Refused("Not now."), "Not now."),
        (ValidationError(["First.", "Second."]), "First.; Second."),
        (ValidationError({"code": ["Taken."]}), "Taken."),
        (PermissionDenied("Not yours."), "Not yours."),
    ],
)
def test_admin_and_pages_show_a_refusal_as_one_line(exc, text):
    assert error_text(exc) == text
    request = _request()
    page_error(request, exc, prefix="P1: ")

    class ModelAdmin:
        def message_user(self, request, message, level):
            from django.contrib import messages

            messages.add_message(request, level, message)

    admin_error(ModelAdmin(), request, exc)
    shown = [(m.level_tag, m.message) for m in get_messages(request)]
    assert shown == [("error", f"P1: {text}"), ("error", text)]


@pytest.mark.django_db
def test_the_switchover_page_logs_an_unexpected_error(client, user, monkeypatch, caplog):
    def boom(**kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(sw, "switchover_step_start", boom)
    client.force_login(user)
    with caplog.at_level(logging.ERROR, logger="integrations.switchover_views"):
        response = client.post(
            reverse("switchover:page"), {"company": "acme", "action": "preflight"}, follow=True
        )
    assert [str(m) for m in response.context["messages"]] == ["the disk is full"]
    record = next(r for r in caplog.records if r.name == "integrations.switchover_views")
    assert record.exc_info and record.exc_info[0] is RuntimeError


@pytest.mark.django_db
def test_the_switchover_page_shows_a_refusal_without_logging_it(client, user, monkeypatch, caplog):
    def refuse(**kwargs):
        raise sw.SwitchoverRefused("Set up the payroll link first.")

    monkeypatch.setattr(sw, "switchover_step_start", refuse)
    client.force_login(user)
    with caplog.at_level(logging.ERROR, logger="integrations.switchover_views"):
        response = client.post(
            reverse("switchover:page"), {"company": "acme", "action": "preflight"}, follow=True
        )
    assert [str(m) for m in response.context["messages"]] == ["Set up the payroll link first."]
    assert not [r for r in caplog.records if r.name == "integrations.switchover_views"]
