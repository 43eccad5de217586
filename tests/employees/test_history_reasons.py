"""Why an employee changed, kept as a reason id with parameters and read in the reader's
language, in the admin's history too."""

import pytest
from django.urls import reverse
from django.utils import translation

from employees import services
from employees.history_reasons import history_reason, history_reason_text
from payslips.models import KivraLink
from payslips.services.link import kivra_link_apply_to_employees
from tests.employees.factories import EmployeeFactory
from tests.payslips.factories import KivraLinkFactory


def test_a_reason_is_stored_once_and_read_in_either_language():
    stored = history_reason("switchover_abort", switchover=3)
    assert stored == '@{"id":"switchover_abort","p":{"switchover":3}}'
    with translation.override("en"):
        assert history_reason_text(stored) == "Switchover 3: aborted, HR's values restored"
    with translation.override("sv"):
        assert history_reason_text(stored) == (
            "Byte av master 3: avbrutet, HR:s värden återställda"
        )


def test_a_field_parameter_is_read_as_the_fields_name():
    stored = history_reason("kivra_flag_all", field="payslips.KivraLink.send_payslips")
    label = str(KivraLink._meta.get_field("send_payslips").verbose_name)
    with translation.override("en"):
        assert history_reason_text(stored) == (
            f"Kivra link: “{label[:1].upper()}{label[1:]}” switched for all employees"
        )
    with translation.override("sv"):
        assert history_reason_text(stored).startswith("Programlänk till Kivra: ”")


def test_typed_and_earlier_reasons_are_shown_as_written():
    assert history_reason_text("not now") == "not now"
    assert history_reason_text("switchover 3: abort") == "switchover 3: abort"
    assert history_reason_text("@not json") == "@not json"
    assert history_reason_text('@{"id":"no_such_reason"}') == '@{"id":"no_such_reason"}'
    assert history_reason_text(None) == ""


def test_unknown_ids_and_overlong_reasons_are_refused():
    with pytest.raises(KeyError):
        history_reason("no_such_reason")
    with pytest.raises(ValueError):
        history_reason("employee_number", old="1" * 60, new="2" * 60)


def test_bulk_switch_of_the_kivra_flag_is_recorded_with_its_reason(company):
    employee = EmployeeFactory(company=company, kivra_send_payslips=False)
    link = KivraLinkFactory(company=company)
    assert kivra_link_apply_to_employees(link=link, field="send_payslips", value=True) == 1
    stored = employee.history.first().history_change_reason
    with translation.override("en"):
        assert history_reason_text(stored).endswith("switched for all employees")


def test_the_admin_history_reads_the_reason_in_the_users_language(client, user, company):
    employee = EmployeeFactory(company=company, employee_number="1001")
    services.employee_change_number(employee=employee, new_number="A2001")
    client.force_login(user)
    url = reverse("admin:employees_employee_history", args=[employee.pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "Anställningsnumret ändrat från 1001 till A2001" in page
    assert '"id"' not in page
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Employee number changed from 1001 to A2001" in page
