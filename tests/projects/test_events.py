"""Events (Händelser): extra compensation lines for time registered on a project."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from projects.models import ProjectEvent, TimeCode, TimeRegistration
from projects.selectors import project_events_for_registrations
from tests.employees.factories import EmployeeFactory
from tests.projects.factories import TimeCodeFactory, make_project, make_tree, register

pytestmark = pytest.mark.django_db

MON = datetime.date(2025, 3, 3)
TUE = datetime.date(2025, 3, 4)


def event(project, **fields):
    fields.setdefault("name", "Fältersättning")
    fields.setdefault("salary_type_code", "310")
    fields.setdefault("kind", ProjectEvent.Kind.PER_HOUR)
    fields.setdefault("amount", Decimal("25.50"))
    codes = fields.pop("time_codes", ())
    row = ProjectEvent.objects.create(project=project, **fields)
    row.time_codes.set(codes)
    return row


def lines_for(company):
    return project_events_for_registrations(
        registrations=TimeRegistration.objects.filter(company=company)
    )


def test_per_hour_event_pays_the_hours_times_the_amount(company, employee):
    _main, _sub, bem, rek = make_tree(company)
    event(bem, amount=Decimal("25.50"))
    register(employee, bem, hours="7.5", day=MON)
    register(employee, bem, hours="0.5", day=MON)
    register(employee, rek, hours="8", day=MON)  # no event on Rek
    [line] = lines_for(company)
    assert (line.employee, line.date, line.salary_type_code) == (employee, MON, "310")
    assert (line.quantity, line.unit_price, line.amount) == (
        Decimal("8"),
        Decimal("25.50"),
        Decimal("204.00"),
    )
    assert line.project == bem and line.cost_center is None


def test_fixed_event_pays_once_per_day_with_registrations(company, employee):
    _main, _sub, bem, _rek = make_tree(company)
    event(bem, kind=ProjectEvent.Kind.PER_DAY, amount=Decimal("150"), salary_type_code="320")
    register(employee, bem, hours="4", day=MON)
    register(employee, bem, hours="4", day=MON)
    register(employee, bem, hours="2", day=TUE)
    lines = lines_for(company)
    assert [(x.date, x.quantity, x.amount) for x in lines] == [
        (MON, Decimal(1), Decimal("150.00")),
        (TUE, Decimal(1), Decimal("150.00")),
    ]


def test_rounding_to_ore(company, employee):
    bem = make_project(company, "B")
    event(bem, amount=Decimal("33.33"))
    register(employee, bem, hours="1.25", day=MON)
    [line] = lines_for(company)
    assert line.amount == Decimal("41.66")  # 41.6625


def test_default_is_attendance_codes_and_a_filter_narrows_it(company, employee):
    bem = make_project(company, "B")
    arb = TimeCodeFactory(company=company)
    ob = TimeCodeFactory(company=company, code="OB", name="OB-tid", paxml_code="OB")
    sick = TimeCodeFactory(
        company=company, code="SJK", name="Sjuk", kind=TimeCode.Kind.ABSENCE, paxml_code="SJK"
    )
    any_attendance = event(bem, name="All work", salary_type_code="310")
    only_ob = event(bem, name="OB only", salary_type_code="311", time_codes=[ob])
    register(employee, bem, hours="6", day=MON, time_code=arb)
    register(employee, bem, hours="2", day=MON, time_code=ob)
    register(employee, bem, hours="8", day=TUE, time_code=sick)
    got = {(x.event.pk, x.date, x.quantity) for x in lines_for(company)}
    # Two registrations on one day and project are one line; absence gets nothing.
    assert got == {(any_attendance.pk, MON, Decimal("8")), (only_ob.pk, MON, Decimal("2"))}


def test_validity_dates(company, employee):
    bem = make_project(company, "B")
    event(bem, name="From Tuesday", valid_from=TUE)
    event(bem, name="Until Monday", valid_to=MON, salary_type_code="311")
    register(employee, bem, hours="8", day=MON)
    register(employee, bem, hours="8", day=TUE)
    got = {(x.event.name, x.date) for x in lines_for(company)}
    assert got == {("From Tuesday", TUE), ("Until Monday", MON)}


def test_invalid_date_range_is_refused(company):
    bem = make_project(company, "B")
    row = ProjectEvent(
        project=bem, name="x", salary_type_code="1", amount=1, valid_from=TUE, valid_to=MON
    )
    with pytest.raises(Exception, match="must not end before"):
        row.full_clean()


def test_events_of_ancestors_apply_to_sub_projects_when_flagged(company, employee):
    main, sub, bem, rek = make_tree(company)
    event(main, name="Main, inherited", salary_type_code="301")
    event(sub, name="Sub, own only", salary_type_code="302", applies_to_sub_projects=False)
    event(bem, name="Bem, own", salary_type_code="303", applies_to_sub_projects=False)
    register(employee, bem, hours="8", day=MON)
    register(employee, rek, hours="3", day=MON)
    got = sorted((x.project.code, x.salary_type_code, x.quantity) for x in lines_for(company))
    assert got == [
        ("BS.HR.Bem", "301", Decimal("8")),
        ("BS.HR.Bem", "303", Decimal("8")),
        ("BS.HR.Rek", "301", Decimal("3")),
    ]


def test_fixed_event_on_a_parent_pays_once_per_day_across_its_branch(company, employee):
    main, _sub, bem, rek = make_tree(company)
    event(main, kind=ProjectEvent.Kind.PER_DAY, amount=Decimal("100"))
    register(employee, bem, hours="2", day=MON)
    register(employee, rek, hours="6", day=MON)
    [line] = lines_for(company)
    assert line.amount == Decimal("100.00")
    assert line.project == rek  # accounted where most of the day's hours are


def test_query_count_is_bounded(company, django_assert_num_queries):
    main, _sub, bem, rek = make_tree(company)
    ob = TimeCodeFactory(company=company, code="OB", name="OB-tid", paxml_code="OB")
    event(main, name="Inherited")
    event(bem, name="Own", time_codes=[ob])
    event(rek, name="Daily", kind=ProjectEvent.Kind.PER_DAY, amount=Decimal("50"))
    for i in range(6):
        person = EmployeeFactory(company=company)
        for day in (MON, TUE):
            register(person, bem if i % 2 else rek, hours="8", day=day)
            register(person, bem, hours="1", day=day, time_code=ob)
    registrations = TimeRegistration.objects.filter(company=company)
    with django_assert_num_queries(3):
        lines = project_events_for_registrations(registrations=registrations)
        assert all(x.employee.pk and x.project.code for x in lines)
    assert len(lines) > 20
    # A list of registrations is fetched again in one query: still three.
    rows = list(TimeRegistration.objects.filter(company=company))
    with django_assert_num_queries(3):
        assert len(project_events_for_registrations(registrations=rows)) == len(lines)


def test_no_registrations_no_queries(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert project_events_for_registrations(registrations=[]) == []


def test_api_create_list_and_scoping(api, company, other_company):
    bem = make_project(company, "B")
    ob = TimeCodeFactory(company=company, code="OB", name="OB-tid", paxml_code="OB")
    url = "/api/v1/project-events/"
    response = api.post(
        url,
        {
            "project": bem.pk,
            "name": "OB-tillägg",
            "salary_type_code": "311",
            "kind": "per_hour",
            "amount": "42.75",
            "time_codes": [ob.pk],
            "valid_from": "2025-01-01",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["time_codes"] == [ob.pk]
    assert response.json()["applies_to_sub_projects"] is True

    foreign_project = make_project(other_company, "X")
    foreign = event(foreign_project)
    body = api.get(url).json()
    assert [e["name"] for e in body["results"]] == ["OB-tillägg"]
    assert api.get(f"{url}{foreign.pk}/").status_code == 404
    refused = api.post(
        url,
        {"project": foreign_project.pk, "name": "x", "salary_type_code": "1", "amount": "1"},
        format="json",
    )
    assert refused.status_code == 400
    foreign_code = TimeCodeFactory(company=other_company)
    refused = api.post(
        url,
        {
            "project": bem.pk,
            "name": "x",
            "salary_type_code": "1",
            "amount": "1",
            "time_codes": [foreign_code.pk],
        },
        format="json",
    )
    assert refused.status_code == 400
    refused = api.post(
        url,
        {
            "project": bem.pk,
            "name": "x",
            "salary_type_code": "1",
            "amount": "1",
            "valid_from": "2025-02-01",
            "valid_to": "2025-01-01",
        },
        format="json",
    )
    assert refused.status_code == 400
    assert "valid_to" in refused.json()["error"]["fields"]


def test_api_viewer_may_list_but_not_create(api_client, company, make_user):
    bem = make_project(company, "B")
    event(bem)
    api_client.force_authenticate(make_user(company, role="viewer"))
    assert api_client.get("/api/v1/project-events/").json()["count"] == 1
    response = api_client.post(
        "/api/v1/project-events/",
        {"project": bem.pk, "name": "x", "salary_type_code": "1", "amount": "1"},
        format="json",
    )
    assert response.status_code == 403


def test_admin_inline_and_general_tab_show_events(client, company, user):
    bem = make_project(company, "B")
    event(bem, name="Fältersättning")
    client.force_login(user)
    admin_page = client.get(reverse("admin:projects_project_change", args=[bem.pk]))
    assert admin_page.status_code == 200
    assert b"events-TOTAL_FORMS" in admin_page.content
    page = client.get(reverse("projects:detail", args=[bem.pk]))
    assert page.status_code == 200
    assert "Fältersättning" in page.content.decode()
