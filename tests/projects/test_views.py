"""The tree page, the project page with its tabs, attachments and the admin."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from projects.models import Project, ProjectAttachment
from projects.services import project_attachment_create
from tests.employees.factories import EmployeeFactory
from tests.projects.factories import make_project, make_tree, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client, user):
    client.force_login(user)
    return client


def test_tree_page_shows_codes_and_red_green_bars(web, company, other_company):
    _main, _sub, bem, rek = make_tree(company, budget_hours=Decimal("4"))
    make_project(other_company, "SECRET")
    employee = EmployeeFactory(company=company)
    register(employee, bem, "6")
    register(employee, rek, "1")
    response = web.get("/projects/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert "BS.HR.Bem" in html and "SECRET" not in html
    assert 'class="hbar red"' in html and 'class="hbar green"' in html


def test_project_page_tabs(web, company):
    _main, _sub, bem, _rek = make_tree(company)
    for tab in [
        "general",
        "comments",
        "attachments",
        "staffing",
        "competences",
        "participants",
        "status",
        "billing",
        "review",
        "places",
        "authorization",
    ]:
        response = web.get(f"/projects/{bem.pk}/?tab={tab}")
        assert response.status_code == 200, tab
    assert "BS.HR" in web.get(f"/projects/{bem.pk}/").content.decode()


def test_status_tab_filters_by_employee(web, company):
    leaf = make_project(company, "A", budget_hours=Decimal("10"))
    anna, bo = EmployeeFactory(company=company), EmployeeFactory(company=company)
    register(anna, leaf, "3", day=datetime.date(2025, 3, 3))
    register(bo, leaf, "5", day=datetime.date(2025, 3, 4))
    html = web.get(
        f"/projects/{leaf.pk}/?tab=status&employee={anna.pk}&bar=worked"
    ).content.decode()
    assert f"<td>{anna.display_name}</td>" in html and f"<td>{bo.display_name}</td>" not in html


def test_authorization_tab_needs_the_permission(client, company, make_user):
    from django.contrib.auth.models import Permission

    from companies.models import Membership, Role

    leaf = make_project(company, "A")
    reader = Role.objects.create(code="project_reader", name="Project reader")
    reader.permissions.add(Permission.objects.get(codename="view_project"))
    outsider = make_user()
    Membership.objects.create(user=outsider, company=company, role=reader)
    client.force_login(outsider)
    html = client.get(f"/projects/{leaf.pk}/").content.decode()
    assert "tab=authorization" not in html
    client.force_login(make_user(company, role="hr_admin"))
    assert "tab=authorization" in client.get(f"/projects/{leaf.pk}/").content.decode()


def test_other_companys_project_page_is_404(web, other_company):
    foreign = make_project(other_company, "X")
    assert web.get(f"/projects/{foreign.pk}/").status_code == 404


def test_attachment_upload_download_delete(web, company):
    leaf = make_project(company, "A")
    upload = SimpleUploadedFile("plan.pdf", b"%PDF-1.4 plan", content_type="application/pdf")
    response = web.post(
        f"/projects/{leaf.pk}/attachments/",
        {"file": upload, "description": "Plan", "show_at_registration": "on"},
    )
    assert response.status_code == 302
    attachment = ProjectAttachment.objects.get()
    assert (attachment.original_name, attachment.size, attachment.show_at_registration) == (
        "plan.pdf",
        13,
        True,
    )
    download = web.get(f"/projects/attachments/{attachment.pk}/")
    assert b"".join(download.streaming_content) == b"%PDF-1.4 plan"
    storage, name = attachment.file.storage, attachment.file.name
    assert storage.exists(name)
    with pytest.MonkeyPatch.context():
        response = web.post(f"/projects/attachments/{attachment.pk}/delete/")
    assert response.status_code == 302
    assert not ProjectAttachment.objects.exists()


def test_attachment_type_and_size_limits(company):
    from django.core.exceptions import ValidationError

    leaf = make_project(company, "A")
    with pytest.raises(ValidationError, match="not allowed"):
        project_attachment_create(project=leaf, file=SimpleUploadedFile("x.exe", b"MZ"))
    with (
        override_settings(PROJECT_ATTACHMENT_MAX_BYTES=3),
        pytest.raises(ValidationError, match="limit"),
    ):
        project_attachment_create(project=leaf, file=SimpleUploadedFile("a.txt", b"1234"))


def test_admin_creates_sub_project_through_the_service(web, company):
    main = make_project(company, "BS", registrable=False)
    response = web.post(
        "/admin/projects/project/add/",
        {
            "company": company.pk,
            "parent": main.pk,
            "code": "HR",
            "name": "HR",
            "registrable": "on",
            "status": "ongoing",
            "followup_unit": "week",
            "billing": "may_yes",
            "billing_model": "time_and_materials",
            **{f"{prefix}-TOTAL_FORMS": "0" for prefix in _inline_prefixes()},
            **{f"{prefix}-INITIAL_FORMS": "0" for prefix in _inline_prefixes()},
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    created = Project.objects.get(code="BS.HR")
    assert created.level == 1 and created.path.startswith(main.path)
    assert created.inherit_color is False  # the admin form sent the box unticked


def test_admin_shows_budget_rule_errors(web, company):
    main = make_project(company, "BS", registrable=False, budget_hours=Decimal("5"))
    response = web.post(
        "/admin/projects/project/add/",
        {
            "company": company.pk,
            "parent": main.pk,
            "code": "HR",
            "name": "HR",
            "registrable": "on",
            "status": "ongoing",
            "followup_unit": "week",
            "billing": "may_yes",
            "billing_model": "time_and_materials",
            "budget_hours": "3",
            **{f"{prefix}-TOTAL_FORMS": "0" for prefix in _inline_prefixes()},
            **{f"{prefix}-INITIAL_FORMS": "0" for prefix in _inline_prefixes()},
        },
    )
    assert response.status_code == 200
    assert "BS already has a budget" in response.content.decode()
    assert not Project.objects.filter(code="BS.HR").exists()


def test_admin_changelists_render(web, company):
    make_tree(company)
    for name in [
        "project",
        "accountingdimension",
        "costcenter",
        "timecode",
        "timeregistration",
        "homeaccounting",
        "workschedule",
        "competencegroup",
        "place",
    ]:
        assert web.get(f"/admin/projects/{name}/").status_code == 200, name


def _inline_prefixes():
    return [
        "accounting_defaults",
        "controls",
        "events",
        "attachments",
        "shifts",
        "competences",
        "participants",
        "prices",
        "reviewers",
        "authorizations",
    ]


def _change_data(project, **overrides):
    """The admin change form's POST for ``project`` as it is, with ``overrides``."""
    data = {
        "company": project.company_id,
        "parent": project.parent_id or "",
        "code": project.code,
        "name": project.name,
        "status": project.status,
        "followup_unit": project.followup_unit,
        "billing": project.billing,
        "billing_model": project.billing_model,
        **{f"{prefix}-TOTAL_FORMS": "0" for prefix in _inline_prefixes()},
        **{f"{prefix}-INITIAL_FORMS": "0" for prefix in _inline_prefixes()},
    }
    if project.registrable:
        data["registrable"] = "on"
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Sub projects of BS have budgets; BS shows their sum and cannot be set."),
        ("sv", "Delprojekt till BS har budgetar; BS visar summan av dem och kan inte anges."),
    ],
)
def test_admin_change_refused_by_the_service_is_a_field_error(web, company, language, expected):
    main, _sub, _bem, _rek = make_tree(company, budget_hours=Decimal("4"))
    response = web.post(
        f"/admin/projects/project/{main.pk}/change/",
        _change_data(main, budget_hours="10"),
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["budget_hours"] == [expected]
    main.refresh_from_db()
    assert main.budget_hours is None


def test_project_page_offers_no_sub_project_where_the_service_refuses_one(web, company):
    leaf = make_project(company, "L", registrable=True)
    register(EmployeeFactory(company=company), leaf)
    page = web.get(f"/projects/{leaf.pk}/").content.decode()
    assert f"?company={company.pk}&amp;parent={leaf.pk}" not in page
    assert "L is registrable and has registrations; it cannot get sub projects." in page

    # The admin's add form (reached by hand) answers with the same reason on the field.
    response = web.post(
        "/admin/projects/project/add/",
        {
            **_change_data(leaf, code="X", name="X", parent=leaf.pk),
            "followup_unit": "week",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["parent"] == [
        "L is registrable and has registrations; it cannot get sub projects."
    ]
    assert not leaf.children.exists()

    # A leaf without registrations may get one.
    empty = make_project(company, "E", registrable=True)
    assert f"parent={empty.pk}" in web.get(f"/projects/{empty.pk}/").content.decode()


def test_tree_groups_thousands_in_the_readers_language_and_neutral_bars(web, company):
    make_project(company, "BIG", budget_hours=Decimal("1500"))
    make_project(company, "NONE")
    swedish = web.get("/projects/", HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "1\xa0500" in swedish
    english = web.get("/projects/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "1,500" in english
    assert 'class="hbar neutral"' in english  # no budget: no green "all fine" bar
    assert 'id="ptree-search"' in english and 'data-tree="open"' in english
