"""Administration > Batch jobs > Send payslips to Kivra, and the payslips admin."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from employees.models import Employee
from integrations.sandboxes.kivra import KivraSandbox
from jobs.models import Job
from payslips.models import KivraLink, PayslipDelivery
from tests.employees.factories import EmployeeFactory
from tests.payslips.factories import KivraLinkFactory, make_run

PAYDAY = datetime.date(2026, 1, 25)
URL = "/payslips/kivra-dispatch/"


@pytest.fixture(autouse=True)
def fast(settings):
    settings.KIVRA_RETRY_BACKOFF = 0.005
    settings.KIVRA_RETRY_BACKOFF_CAP = 0.02
    settings.KIVRA_RETRY_ATTEMPTS = 3
    settings.KIVRA_TIMEOUT = 3.0
    settings.KIVRA_DISPATCH_CONCURRENCY = 4


@pytest.fixture
def browser(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def employees(company):
    staff = [EmployeeFactory(company=company, kivra_send_payslips=True) for _ in range(3)]
    staff.append(EmployeeFactory(company=company, kivra_send_payslips=True))
    return staff


@pytest.mark.django_db(transaction=True)
def test_dispatch_confirms_start_and_end_and_logs_with_a_green_mark(browser, company, employees):
    sandbox = KivraSandbox(users=[e.personal_identity_number for e in employees[:3]])
    run = make_run(company, employees, payment_date=PAYDAY)
    with sandbox.serving() as url:
        KivraLinkFactory(company=company, base_url=url)
        page = browser.get(URL)
        assert page.status_code == 200
        assert "Send payslips to Kivra" in page.content.decode()
        response = browser.post(
            URL,
            {"company": company.pk, "payment_date": PAYDAY.isoformat(), "status": "final"},
            follow=True,
        )
    job = Job.objects.get(kind="kivra_dispatch")
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.started_by_id is not None
    text = response.content.decode()
    assert "Sending payslips to Kivra has started" in text
    assert "Sending payslips to Kivra has finished" in text
    assert "3 sent, 1 retained, 0 printed, 0 failed." in text
    assert "✔" in text and "✘" not in text
    assert "Payment date 2026-01-25" in text and "all employees" in text
    assert f"/jobs/{job.pk}/log.csv" in text
    assert len(sandbox.received) == 4
    # The confirmation of the end is shown once.
    assert "has finished" not in browser.get(URL).content.decode()

    log = browser.get(f"/jobs/{job.pk}/log.csv").content.decode()
    for employee in employees:
        assert employee.employee_number in log
    assert f"({PAYDAY}, #{run.pk})" in log  # the item label has no words (any language)


@pytest.mark.django_db(transaction=True)
def test_errors_give_a_red_mark_and_selected_employees_are_listed(browser, company, employees):
    no_pin = employees[0]
    Employee.objects.filter(pk=no_pin.pk).update(personal_identity_number="")
    make_run(company, employees[:2], payment_date=PAYDAY, status="preliminary")
    sandbox = KivraSandbox(users=[employees[1].personal_identity_number])
    with sandbox.serving() as url:
        KivraLinkFactory(company=company, base_url=url)
        response = browser.post(
            URL,
            {
                "company": company.pk,
                "payment_date": PAYDAY.isoformat(),
                "status": "preliminary",
                "employees": [employees[0].pk, employees[1].pk],
            },
            follow=True,
        )
    job = Job.objects.get(kind="kivra_dispatch")
    assert job.status == Job.Status.PARTLY_FAILED
    text = response.content.decode()
    assert "finished with errors" in text and "✘" in text
    assert employees[0].employee_number in text and "Preliminary" in text
    log = browser.get(f"/jobs/{job.pk}/log.csv").content.decode()
    assert "no personal identity number" in log


@pytest.mark.django_db
def test_any_payment_date_status_is_offered(browser, company, employees):
    KivraLinkFactory(company=company)
    text = browser.get(URL).content.decode()
    assert 'value="final" selected' in text
    assert "Any payment date (older periods)" in text


@pytest.mark.django_db
def test_without_license_the_selection_says_why(browser, company, employees):
    KivraLinkFactory(company=company)
    company.license.kivra_payslips = False
    company.license.save()
    response = browser.post(
        URL, {"company": company.pk, "payment_date": PAYDAY.isoformat(), "status": "final"}
    )
    assert response.status_code == 200
    assert "license does not include Kivra payslips" in response.content.decode()
    assert not Job.objects.exists()
    # The page offers no button the service would refuse.
    assert '<button type="submit" disabled' in browser.get(URL).content.decode()


@pytest.mark.django_db
def test_the_page_needs_the_dispatch_permission(company, make_user):
    viewer = make_user(company, role="viewer")
    client = Client()
    client.force_login(viewer)
    assert client.get(URL).status_code == 403


@pytest.mark.django_db
def test_employees_of_another_company_cannot_be_chosen(browser, company, other_company):
    KivraLinkFactory(company=company)
    stranger = EmployeeFactory(company=other_company)
    response = browser.post(
        URL,
        {
            "company": company.pk,
            "payment_date": PAYDAY.isoformat(),
            "status": "final",
            "employees": [stranger.pk],
        },
    )
    assert response.status_code == 200
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_dashboard_links_the_page(browser):
    assert URL in browser.get("/").content.decode()


# --- admin -----------------------------------------------------------------------------------


@pytest.fixture
def admin_browser(company, make_user):
    superuser = make_user(company, role="admin", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(superuser)
    return client


def _link_form(link, **changes) -> dict:
    data = {
        "company": link.company_id,
        "tenant_key": link.tenant_key,
        "client_id": link.client_id,
        "client_secret": "",
        "environment": link.environment,
        "base_url": link.base_url,
        "retroactive_delivery_days": link.retroactive_delivery_days,
        "employer_street_address": link.employer_street_address,
        "employer_postal_code": link.employer_postal_code,
        "employer_city": link.employer_city,
        "employer_email": link.employer_email,
        "employer_telephone": link.employer_telephone,
        "active": "on",
    }
    if link.send_payslips:
        data["send_payslips"] = "on"
    if link.print_handling:
        data["print_handling"] = "on"
    if link.is_sandbox:
        data["is_sandbox"] = "on"
    for key, value in changes.items():
        if value is False:
            data.pop(key, None)
        else:
            data[key] = "on" if value is True else value
    return data


@pytest.mark.django_db
def test_switching_send_payslips_asks_to_switch_all_employees(admin_browser, company, employees):
    link = KivraLinkFactory(company=company, send_payslips=True)
    change = f"/admin/payslips/kivralink/{link.pk}/change/"
    page = admin_browser.get(change).content.decode()
    assert "390 days" in page and "30 days" in page
    response = admin_browser.post(change, _link_form(link, send_payslips=False))
    assert response.status_code == 302
    apply_url = f"/admin/payslips/kivralink/{link.pk}/apply-to-employees/?fields=send_payslips"
    assert response["Location"] == apply_url
    link.refresh_from_db()
    assert link.send_payslips is False and link.client_secret == "demo-secret"
    question = admin_browser.get(apply_url).content.decode()
    assert "Switch it for all employees too?" in question
    # "No": only the link changes.
    assert Employee.objects.filter(company=company, kivra_send_payslips=True).count() == 4
    admin_browser.post(apply_url, {"fields_to_apply": ["send_payslips"]})
    assert not Employee.objects.filter(company=company, kivra_send_payslips=True).exists()


@pytest.mark.django_db
def test_switching_print_handling_on_asks_too_and_other_edits_do_not(
    admin_browser, company, employees
):
    link = KivraLinkFactory(company=company, send_payslips=True)
    change = f"/admin/payslips/kivralink/{link.pk}/change/"
    response = admin_browser.post(change, _link_form(link, print_handling=True))
    assert response["Location"].endswith("?fields=print_handling")
    admin_browser.post(response["Location"], {"fields_to_apply": ["print_handling"]})
    assert Employee.objects.filter(company=company, kivra_allow_print=True).count() == 4
    link.refresh_from_db()
    response = admin_browser.post(change, _link_form(link, employer_city="Malmö"))
    assert "apply-to-employees" not in response["Location"]


@pytest.mark.django_db
def test_admin_pages_of_runs_payslips_and_deliveries(admin_browser, company, employees):
    run = make_run(company, employees[:1], payment_date=PAYDAY)
    payslip = run.payslips.get()
    assert admin_browser.get(f"/admin/payslips/payrollrun/{run.pk}/change/").status_code == 200
    assert admin_browser.get("/admin/payslips/payslip/").status_code == 200
    pdf = admin_browser.get(f"/admin/payslips/payslip/{payslip.pk}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    payslip.refresh_from_db()
    assert payslip.pdf_sha256
    again = admin_browser.get(f"/admin/payslips/payslip/{payslip.pk}/pdf/")
    assert again.content == pdf.content
    PayslipDelivery.objects.create(
        company=company, payslip=payslip, channel="kivra", request_body=b"{}", request_sha256="x"
    )
    assert admin_browser.get("/admin/payslips/payslipdelivery/").status_code == 200
    delivery = PayslipDelivery.objects.get()
    page = admin_browser.get(f"/admin/payslips/payslipdelivery/{delivery.pk}/change/")
    assert page.status_code == 200
    assert admin_browser.get("/admin/payslips/kivralink/").status_code == 200
    assert KivraLink.objects.count() == 0


@pytest.mark.django_db
def test_admin_is_scoped_to_the_users_companies(company, other_company, make_user):
    staff = make_user(company, role="admin", is_staff=True)
    stranger = EmployeeFactory(company=other_company)
    run = make_run(other_company, [stranger], payment_date=PAYDAY)
    client = Client()
    client.force_login(staff)
    assert client.get(f"/admin/payslips/payrollrun/{run.pk}/change/").status_code in (302, 403, 404)
    payslip = run.payslips.get()
    assert client.get(f"/admin/payslips/payslip/{payslip.pk}/pdf/").status_code == 404


@pytest.mark.django_db
def test_payment_dates_are_picked_from_the_payroll_runs(browser, company, employees):
    KivraLinkFactory(company=company)
    make_run(company, employees[:1], payment_date=PAYDAY)
    make_run(company, employees[:1], payment_date=datetime.date(2025, 12, 25), status="preliminary")
    text = browser.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    select = text[
        text.index('name="payment_date"') : text.index(
            "</select>", text.index('name="payment_date"')
        )
    ]
    assert '<option value="2026-01-25">' in select
    assert '<option value="2025-12-25">' in select
    assert select.index("2026-01-25") < select.index("2025-12-25")  # newest first
    assert 'type="date"' not in select


@pytest.mark.django_db
def test_a_selection_without_payslips_is_refused_with_the_reason(browser, company, employees):
    KivraLinkFactory(company=company)
    make_run(company, employees[:1], payment_date=PAYDAY, status="preliminary")
    nothing = browser.post(
        URL,
        {"company": company.pk, "payment_date": "2026-02-25", "status": "final"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert nothing.status_code == 200
    assert (
        f"Nothing to send: {company.name} has no payroll run with payment date"
        in nothing.content.decode()
    )
    not_final = browser.post(
        URL,
        {"company": company.pk, "payment_date": PAYDAY.isoformat(), "status": "final"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "has the status Preliminary, not Final." in not_final.content.decode()
    swedish = browser.post(
        URL,
        {"company": company.pk, "payment_date": PAYDAY.isoformat(), "status": "final"},
        HTTP_ACCEPT_LANGUAGE="sv",
    )
    assert "Inget att skicka:" in swedish.content.decode()
    assert not Job.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_form_keeps_the_selection_after_a_dispatch(browser, company, employees):
    sandbox = KivraSandbox(users=[e.personal_identity_number for e in employees])
    make_run(company, employees, payment_date=PAYDAY, status="preliminary")
    with sandbox.serving() as url:
        KivraLinkFactory(company=company, base_url=url)
        response = browser.post(
            URL,
            {
                "company": company.pk,
                "payment_date": PAYDAY.isoformat(),
                "status": "preliminary",
                "employees": [employees[1].pk],
            },
            follow=True,
        )
    form = response.context["form"]
    assert not form.is_bound
    assert form.initial["payment_date"] == PAYDAY.isoformat()
    assert form.initial["status"] == "preliminary"
    assert form.initial["employees"] == [employees[1].pk]
    text = response.content.decode()
    assert '<option value="2026-01-25" selected>' in text
    assert '<option value="preliminary" selected>' in text


@pytest.mark.django_db
def test_dispatch_page_says_which_print_handling_applies(browser, company):
    link = KivraLinkFactory(company=company, print_handling=False)
    page = browser.get(URL).content.decode()
    assert "No Kivra print add-on" in page and "print batch" in page
    link.print_handling = True
    link.save()
    page = browser.get(URL).content.decode()
    assert "Kivra&#x27;s print add-on is on" in page or "Kivra's print add-on is on" in page
