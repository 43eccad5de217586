"""Review (partial approval): only reviewers of a project (or of an ancestor) approve or
reject its registrations — in the service, the admin action and the review page; approved
registrations lock; release to billing takes approved time only."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from projects.models import Project, ProjectReviewer, ReviewStatus, TimeRegistration
from projects.selectors import billing_basis, project_rollups, review_registrations
from projects.services import (
    TimeRegistrationRejected,
    time_registration_delete,
    time_registrations_release,
    time_registrations_review,
)
from tests.employees.factories import EmployeeFactory
from tests.projects.factories import (
    approve,
    make_project,
    make_tree,
    register,
    reviewer,
    use_billing,
)

pytestmark = pytest.mark.django_db


def _all(*registrations):
    return TimeRegistration.objects.filter(pk__in=[r.pk for r in registrations])


def test_a_reviewer_of_a_parent_reviews_its_branch_only(company, employee):
    _main, sub, bem, rek = make_tree(company)
    elsewhere = make_project(company, "X")
    on_bem, _w = register(employee, bem, "4")
    on_rek, _w = register(employee, rek, "3")
    on_x, _w = register(employee, elsewhere, "2")
    user = reviewer(company, sub)
    assert time_registrations_review(user=user, registrations=_all(on_bem), approve=True) == 1
    on_bem.refresh_from_db()
    assert on_bem.review_status == ReviewStatus.APPROVED and on_bem.reviewed
    assert on_bem.reviewed_by == user and on_bem.reviewed_at is not None
    with pytest.raises(PermissionDenied, match="project X"):
        time_registrations_review(user=user, registrations=_all(on_rek, on_x), approve=True)
    on_rek.refresh_from_db()
    assert on_rek.review_status == ReviewStatus.PENDING  # nothing half-written
    assert time_registrations_review(user=user, registrations=_all(on_rek), approve=False) == 1
    on_rek.refresh_from_db()
    assert on_rek.review_status == ReviewStatus.REJECTED and not on_rek.reviewed


def test_a_reviewer_row_without_the_role_capability_is_not_enough(company, employee, make_user):
    leaf = make_project(company, "A")
    registration, _w = register(employee, leaf)
    payroll = make_user(company, role="payroll")
    ProjectReviewer.objects.create(project=leaf, user=payroll)
    with pytest.raises(PermissionDenied):
        time_registrations_review(user=payroll, registrations=_all(registration), approve=True)


def test_approving_on_create_needs_a_reviewer(company, employee, make_user):
    leaf = make_project(company, "A")
    hr = make_user(company, role="hr_admin")
    with pytest.raises(TimeRegistrationRejected, match="Only a reviewer"):
        register(employee, leaf, reviewed=True, user=hr)
    ProjectReviewer.objects.create(project=leaf, user=hr)
    registration, _w = register(employee, leaf, reviewed=True, user=hr)
    assert registration.review_status == ReviewStatus.APPROVED


def test_approved_registrations_are_locked(company, employee):
    leaf = make_project(company, "A")
    registration, _w = register(employee, leaf)
    approve(registration)
    with pytest.raises(ValidationError, match="approved and locked"):
        time_registration_delete(registration=registration)
    assert TimeRegistration.objects.filter(pk=registration.pk).exists()


def test_release_takes_approved_billable_attendance_time_only(company, employee):
    leaf = make_project(company, "A", billing=Project.Billing.ALWAYS, hourly_price=Decimal("900"))
    approved, _w = register(employee, leaf, "5")
    pending, _w = register(employee, leaf, "3")
    approve(approved)
    with pytest.raises(TimeRegistrationRejected, match="Billing of time is not used"):
        time_registrations_release(registrations=_all(approved, pending))
    use_billing(company)
    assert time_registrations_release(registrations=_all(approved, pending)) == 1
    approved.refresh_from_db()
    pending.refresh_from_db()
    assert approved.released_for_billing and not pending.released_for_billing
    assert project_rollups(company=company)[leaf.path].released_hours == Decimal("5.00")
    with pytest.raises(ValidationError, match="released for billing"):
        approve(approved)  # released time is not reviewed again


def test_release_needs_the_capability(company, employee, make_user):
    leaf = make_project(company, "A", billing=Project.Billing.ALWAYS)
    use_billing(company)
    registration, _w = register(employee, leaf)
    approve(registration)
    viewer = make_user(company, role="viewer")
    with pytest.raises(PermissionDenied):
        time_registrations_release(registrations=_all(registration), user=viewer)
    payroll = make_user(company, role="payroll")
    assert time_registrations_release(registrations=_all(registration), user=payroll) == 1


def test_billing_basis_honours_never_transfer_and_fixed_price(company, employee):
    use_billing(company)
    main = make_project(company, "K", registrable=False)
    sent = make_project(company, "S", parent=main, billing="always", hourly_price=Decimal("1000"))
    kept = make_project(
        company,
        "N",
        parent=main,
        billing="always",
        hourly_price=Decimal("1000"),
        never_transfer=True,
    )
    fixed = make_project(
        company,
        "F",
        billing="always",
        billing_model="fixed_price",
        fixed_price=Decimal("40000"),
        external_comment="As agreed",
    )
    rows = [
        register(employee, sent, "2.5", day=datetime.date(2025, 3, 3))[0],
        register(employee, sent, "1", day=datetime.date(2025, 4, 1))[0],
        register(employee, kept, "4", day=datetime.date(2025, 3, 3))[0],
        register(employee, fixed, "6", day=datetime.date(2025, 3, 5))[0],
    ]
    approve(*rows[:3], user=reviewer(company, main))
    approve(rows[3])
    time_registrations_release(registrations=TimeRegistration.objects.all())
    from projects.services import project_set_status

    project_set_status(project=fixed, status=Project.Status.CLOSED)
    lines = billing_basis(
        company=company, date_from=datetime.date(2025, 3, 1), date_to=datetime.date(2025, 3, 31)
    )
    assert [(line.project.code, line.hours, line.price, line.amount) for line in lines] == [
        ("F", Decimal("6.00"), None, Decimal("40000")),
        ("K.S", Decimal("2.50"), Decimal("1000.00"), Decimal("2500.00")),
    ]
    assert lines[0].external_comment == "As agreed" and lines[1].employee == employee
    # The flag governs the billing basis only: the hours still count as worked/released.
    assert project_rollups(company=company)[kept.path].released_hours == Decimal("4.00")


def test_billing_basis_api_and_csv(api, company, employee):
    use_billing(company)
    leaf = make_project(company, "A", billing="always", hourly_price=Decimal("1250"))
    approve(register(employee, leaf, "2")[0])
    time_registrations_release(registrations=TimeRegistration.objects.all())
    body = api.get(f"/api/v1/billing-basis/?company={company.pk}").json()
    assert body["lines"] == [
        {
            "project": "A",
            "project_name": "Project A",
            "employee": employee.employee_number,
            "hours": "2.00",
            "price": "1250.00",
            "amount": "2500.00",
            "external_comment": "",
        }
    ]
    assert body["total"] == "2500.00"
    response = api.get(f"/api/v1/billing-basis/?company={company.pk}&output=csv")
    lines = response.content.decode().splitlines()
    assert lines[0] == "project;project_name;employee;hours;price;amount;external_comment"
    assert lines[1] == f"A;Project A;{employee.employee_number};2.00;1250.00;2500.00;"


def test_review_api_enforces_reviewers(api_client, company, employee, make_user):
    leaf = make_project(company, "A")
    registration, _w = register(employee, leaf)
    outsider = make_user(company, role="project_reviewer")
    api_client.force_authenticate(outsider)
    # Not a reviewer: the registration is not even visible to this role.
    response = api_client.post(
        "/api/v1/time-registrations/review/",
        {"registrations": [registration.pk], "approve": True},
        format="json",
    )
    assert response.status_code == 400
    ProjectReviewer.objects.create(project=leaf, user=outsider)
    response = api_client.post(
        "/api/v1/time-registrations/review/",
        {"registrations": [registration.pk], "approve": True},
        format="json",
    )
    assert response.status_code == 200 and response.json() == {"changed": 1}
    approved = api_client.get("/api/v1/time-registrations/?review_status=approved").json()
    assert [r["id"] for r in approved["results"]] == [registration.pk]
    assert approved["results"][0]["reviewed_by"] == outsider.pk
    pending = api_client.get("/api/v1/time-registrations/?review_status=pending").json()
    assert pending["results"] == []
    response = api_client.delete(f"/api/v1/time-registrations/{registration.pk}/")
    assert response.status_code in (400, 403)
    assert TimeRegistration.objects.filter(pk=registration.pk).exists()


def test_admin_mark_as_reviewed_refuses_non_reviewers(client, company, employee, make_user):
    leaf = make_project(company, "A")
    registration, _w = register(employee, leaf)
    hr = make_user(company, role="hr_admin")
    client.force_login(hr)
    url = "/admin/projects/timeregistration/"
    html = client.post(
        url,
        {"action": "mark_reviewed", "_selected_action": [registration.pk]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert "not a reviewer of project A" in html
    registration.refresh_from_db()
    assert registration.review_status == ReviewStatus.PENDING
    ProjectReviewer.objects.create(project=leaf, user=hr)
    client.post(url, {"action": "mark_reviewed", "_selected_action": [registration.pk]})
    registration.refresh_from_db()
    assert registration.review_status == ReviewStatus.APPROVED


def test_review_page_filters_and_approves_part(client, company):
    main, _sub, bem, rek = make_tree(company)
    anna, bo = EmployeeFactory(company=company), EmployeeFactory(company=company)
    a1, _w = register(anna, bem, "4", day=datetime.date(2025, 3, 3))
    a2, _w = register(anna, rek, "3", day=datetime.date(2025, 3, 4))
    b1, _w = register(bo, bem, "5", day=datetime.date(2025, 3, 20))
    user = reviewer(company, main)
    client.force_login(user)
    html = client.get(
        f"/projects/review/?project={bem.pk}&date_to=2025-03-10", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert f'data-registration="{a1.pk}"' in html
    assert f'data-registration="{a2.pk}"' not in html  # another subtree
    assert f'data-registration="{b1.pk}"' not in html  # outside the period
    client.post("/projects/review/", {"registration": [a1.pk], "decision": "approve"})
    statuses = dict(TimeRegistration.objects.values_list("pk", "review_status"))
    assert statuses == {a1.pk: "approved", a2.pk: "pending", b1.pk: "pending"}


def test_review_selector_queries_are_bounded(company, employee, django_assert_max_num_queries):
    main = make_project(company, "M", registrable=False)
    leaves = [make_project(company, f"L{n}", parent=main) for n in range(30)]
    for leaf in leaves:
        register(employee, leaf, "1")
    user = reviewer(company, main)
    with django_assert_max_num_queries(2):
        rows = list(review_registrations(user=user, company=company, root=main))
        names = [(r.project.code, r.employee.last_name, r.time_code.code) for r in rows]
    assert len(names) == 30


def test_review_page_answers_in_a_bounded_number_of_queries(
    client, company, employee, django_assert_max_num_queries
):
    main = make_project(company, "M", registrable=False)
    user = reviewer(company, main)
    client.force_login(user)
    leaves = [make_project(company, f"L{n}", parent=main) for n in range(3)]
    for leaf in leaves:
        register(employee, leaf, "1")
    client.get("/projects/review/")  # warm the session

    def page_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/projects/review/?project={main.pk}").status_code == 200
        return len(captured)

    few = page_queries()
    more = [make_project(company, f"K{n}", parent=main) for n in range(25)]
    for n, leaf in enumerate(more):
        register(EmployeeFactory(company=company), leaf, "2", day=datetime.date(2025, 3, 1 + n))
    assert page_queries() == few  # does not grow with projects, employees or rows
    with django_assert_max_num_queries(few):
        client.get(f"/projects/review/?project={main.pk}")


def test_billing_basis_api_needs_the_capability_and_the_company(
    api_client, company, other_company, make_user
):
    viewer = make_user(company, role="viewer")
    api_client.force_authenticate(viewer)
    assert api_client.get(f"/api/v1/billing-basis/?company={company.pk}").status_code == 403
    payroll = make_user(company, role="payroll")
    api_client.force_authenticate(payroll)
    assert api_client.get(f"/api/v1/billing-basis/?company={company.pk}").status_code == 200
    assert api_client.get(f"/api/v1/billing-basis/?company={other_company.pk}").status_code == 404
    response = api_client.get(f"/api/v1/billing-basis/?company={company.pk}&date_from=03/01")
    assert response.status_code == 400
