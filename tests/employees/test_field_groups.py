"""One source for the employee's field lists: services, API, admin and bench read it."""

from employees import admin, api, field_groups, services
from employees.models import Employee

GROUPS = (
    field_groups.PERSONAL,
    field_groups.EMPLOYMENT,
    field_groups.PAY,
    field_groups.KIVRA,
    field_groups.LOGIN,
)


def test_every_name_is_an_employee_field_and_in_one_group_only():
    names = [name for group in GROUPS for name in group]
    assert len(names) == len(set(names))
    model_fields = {f.name for f in Employee._meta.get_fields() if f.concrete}
    assert set(names) <= model_fields
    # Every concrete field a person keeps is in a group (ids, company and stamps are not).
    assert model_fields - set(names) == {"id", "company", "created_at", "updated_at"}


def test_services_may_set_every_group_but_the_number_and_the_derived_flag():
    assert services.EMPLOYEE_FIELDS == field_groups.EDITABLE
    assert "employee_number" not in services.EMPLOYEE_FIELDS
    assert "is_coordination_number" not in services.EMPLOYEE_FIELDS
    assert {"first_name", "personnel_category", "tax_table", "kivra_allow_print", "user"} <= (
        services.EMPLOYEE_FIELDS
    )


def test_the_api_and_the_admin_show_every_group():
    serializer_fields = api.EmployeeSerializer.Meta.fields
    admin_fields = admin.EmployeeForm.Meta.fields
    for group in GROUPS:
        assert set(group) <= set(serializer_fields)
        assert set(group) - {"is_coordination_number"} <= set(admin_fields)
