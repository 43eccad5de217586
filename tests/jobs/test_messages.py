"""Translatable texts kept as data (msgid + arguments) and Django's validation errors kept
as message parts: stored in one language, read in the other."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import translation
from django.utils.translation import gettext_lazy as lazy_text
from django.utils.translation import ngettext_lazy as lazy_plural

from jobs.context import message_parts
from jobs.messages import (
    JobMessage,
    field_label,
    model_label,
    render_text,
    text_data,
    validation_error_data,
    validation_part_text,
)


def test_a_lazy_text_keeps_its_msgid_whatever_language_is_active():
    with translation.override("sv"):
        data = text_data(lazy_text("postal code"))
    assert data == {"msgid": "postal code", "args": {}}
    with translation.override("en"):
        assert render_text(data) == "postal code"
    with translation.override("sv"):
        assert render_text(data) == "postnummer"


def test_a_lazy_plural_keeps_both_msgids_and_the_key_of_its_number():
    message = lazy_plural("%(n)s line", "%(n)s lines", "n")
    with translation.override("sv"):
        data = text_data(message, {"n": 3})
    assert data == {"msgid": "%(n)s line", "plural": "%(n)s lines", "count": "n", "args": {"n": 3}}
    assert render_text(data) == "3 lines"
    assert render_text({**data, "args": {"n": 1}}) == "1 line"
    fixed = text_data(lazy_plural("one day", "%(d)s days", 2), {"d": 2})
    assert fixed["number"] == 2 and render_text(fixed) == "2 days"


def test_a_plain_text_is_its_own_msgid_and_arguments_become_json():
    import datetime as dt
    from decimal import Decimal

    data = text_data("as is %(a)s %(b)s", {"a": Decimal("1.50"), "b": dt.date(2025, 3, 25)})
    assert data == {"msgid": "as is %(a)s %(b)s", "args": {"a": "1.50", "b": "2025-03-25"}}
    assert render_text(data) == "as is 1.50 2025-03-25"


def test_djangos_own_validation_message_reads_in_the_readers_language():
    try:
        MaxLengthValidator(3)("abcdef")
    except ValidationError as exc:
        error = ValidationError({"city": exc.error_list})
    with translation.override("sv"):
        [part] = validation_error_data(error, model="employees.Employee")
    assert part["field"] == "city" and part["model"] == "employees.Employee"
    assert part["text"]["msgid"].startswith("Ensure this value has at most")
    with translation.override("en"):
        assert validation_part_text(part) == (
            "City: Ensure this value has at most 3 characters (it has 6)."
        )
    with translation.override("sv"):
        assert validation_part_text(part) == (
            "Ort: Säkerställ att detta värde har som mest 3 tecken (den har 6)."
        )


def test_a_key_that_is_no_field_reads_by_its_label_and_an_error_without_field_alone():
    error = ValidationError(
        {
            "payslips[0]": [
                ValidationError(
                    lazy_text("Unknown employee number %(number)s."), params={"number": "7"}
                )
            ],
            "__all__": [ValidationError(lazy_text("The period ends before it starts."))],
        }
    )
    labels = {"payslips[0]": text_data("Payslip of employee %(number)s", {"number": "7"})}
    first, second = validation_error_data(error, model="payslips.PayrollRun", labels=labels)
    with translation.override("sv"):
        assert validation_part_text(first) == (
            "Lönespecifikation för anställd 7: Okänt anställningsnummer 7."
        )
        assert validation_part_text(second) == "Perioden slutar innan den börjar."


def test_field_and_model_labels_fall_back_to_the_key():
    with translation.override("sv"):
        assert field_label("employees.Employee", "postal_code") == "Postnummer"
        assert field_label("employees.Employee", "no_such_field") == "no_such_field"
        assert field_label("no.Model", "x") == "x"
        assert model_label("employees.EmploymentRate", count=1) == "sysselsättningsgrad"
        assert model_label("employees.EmploymentRate", count=2) == "sysselsättningsgrader"


def test_nested_parameters_are_masked_when_stored():
    message = JobMessage(
        "payroll_import.invalid",
        errors=[{"text": {"msgid": "%(v)s", "args": {"v": "19800101-1234"}}}],
    )
    _id, params = message_parts(message)
    assert params["errors"][0]["text"]["args"]["v"] == "19800101-****"
