"""Time registration validation: every rule of the project register."""

import datetime
from decimal import Decimal

import pytest

from projects.models import (
    AccountingDimension,
    AccountingRule,
    Project,
    ProjectAccountingDefault,
    ProjectControl,
    ProjectParticipant,
    ProjectPrice,
    TimeCodeDimensionRule,
    TimeRegistration,
)
from projects.models.accounting import SIE_PROJECT
from projects.services import (
    TimeRegistrationRejected,
    home_accounting_set,
    project_set_status,
    project_update,
    time_registrations_release,
)
from tests.employees.factories import EmployeeFactory
from tests.projects.factories import (
    DimensionValueFactory,
    TimeCodeFactory,
    approve,
    dimension,
    make_project,
    make_tree,
    register,
    use_billing,
)

pytestmark = pytest.mark.django_db


def rejected(excinfo) -> list[tuple[str, str | None]]:
    return [(e.rule, e.project) for e in excinfo.value.errors]


def test_a_plain_registration_is_saved(company, employee):
    leaf = make_project(company, "A")
    registration, warnings = register(employee, leaf, "7.5")
    assert warnings == []
    assert TimeRegistration.objects.get().hours == Decimal("7.50")
    assert registration.project == leaf and registration.company == company


@pytest.mark.parametrize("status", [Project.Status.FROZEN, Project.Status.CLOSED])
def test_frozen_and_closed_projects_take_no_registrations(company, employee, status):
    leaf = make_project(company, "A")
    project_set_status(project=leaf, status=status)
    leaf.refresh_from_db()
    with pytest.raises(TimeRegistrationRejected) as excinfo:
        register(employee, leaf)
    assert rejected(excinfo) == [("status", "A")]
    assert "takes no registrations" in excinfo.value.errors[0].message
    assert not TimeRegistration.objects.exists()


def test_a_frozen_parent_stops_its_children(company, employee):
    main, _sub, bem, _rek = make_tree(company)
    project_set_status(project=main, status=Project.Status.FROZEN)
    with pytest.raises(TimeRegistrationRejected, match="BS is frozen"):
        register(employee, bem)


def test_only_registrable_projects_take_registrations(company, employee):
    main, *_ = make_tree(company)
    with pytest.raises(TimeRegistrationRejected) as excinfo:
        register(employee, main)
    assert ("registrable", "BS") in rejected(excinfo)


def test_internal_comment_required(company, employee):
    leaf = make_project(company, "A", internal_comment_required=True)
    with pytest.raises(TimeRegistrationRejected, match="requires an internal comment"):
        register(employee, leaf)
    _reg, warnings = register(employee, leaf, internal_comment="Kickoff")
    assert warnings == []


def test_dates_outside_the_project_are_refused(company, employee):
    leaf = make_project(company, "A", start_date=datetime.date(2025, 4, 1))
    with pytest.raises(TimeRegistrationRejected) as excinfo:
        register(employee, leaf, day=datetime.date(2025, 3, 31))
    assert rejected(excinfo) == [("project_dates", "A")]


def test_time_control_on_a_leaf_counts_only_its_own_time(company, employee):
    _main, _sub, bem, rek = make_tree(company, budget_hours=Decimal("10"))
    ProjectControl.objects.create(
        project=bem, kind="time", action="warning", threshold_percent=Decimal("80")
    )
    register(employee, rek, "9")  # other leaf: does not count for Bem
    _reg, warnings = register(employee, bem, "7")
    assert warnings == []
    _reg, warnings = register(employee, bem, "1")
    assert [(w.rule, w.project) for w in warnings] == [("time_control", "BS.HR.Bem")]
    assert "8.00 of 10.00" in warnings[0].message


def test_time_control_on_a_parent_is_inherited_and_sums_all_children(company, employee):
    main, _sub, bem, rek = make_tree(company, budget_hours=Decimal("10"))
    ProjectControl.objects.create(
        project=main, kind="time", action="stop", threshold_percent=Decimal("100")
    )
    register(employee, bem, "10")  # 10 of 20: fine
    register(employee, rek, "9")  # 19 of 20: fine
    with pytest.raises(TimeRegistrationRejected) as excinfo:
        register(employee, rek, "1")  # 20 of 20: stop on the main project
    assert rejected(excinfo) == [("time_control", "BS.HR.Rek")]
    assert "Project BS:" in excinfo.value.errors[0].message
    assert TimeRegistration.objects.count() == 2


def test_billable_control_counts_reviewed_time_in_sek(company, employee):
    leaf = make_project(company, "A", billing=Project.Billing.ALWAYS, hourly_price=Decimal("1000"))
    ProjectControl.objects.create(
        project=leaf, kind="billable", action="warning", threshold_amount=Decimal("10000")
    )
    first, warnings = register(employee, leaf, "8")
    assert warnings == [] and first.billable and first.billing_price == Decimal("1000")
    _second, warnings = register(employee, leaf, "8")  # not reviewed: not counted
    assert warnings == []
    approve(first)
    _third, warnings = register(employee, leaf, "2", reviewed=True)
    assert [w.rule for w in warnings] == ["billable_control"]
    assert "10000.00 SEK" in warnings[0].message


def test_billing_price_override_for_another_dimension_value(company, employee):
    customers = dimension(company, 20, code="kund", name="Kund", used_for_billing_price=True)
    m3 = DimensionValueFactory(company=company, dimension=customers, code="M3")
    m4 = DimensionValueFactory(company=company, dimension=customers, code="M4")
    leaf = make_project(company, "A", billing=Project.Billing.ALWAYS, hourly_price=Decimal("2500"))
    ProjectPrice.objects.create(project=leaf, value=m3, hourly_price=Decimal("2200"))
    with_m3, _w = register(employee, leaf, dimension_values=[m3])
    with_m4, _w = register(employee, leaf, dimension_values=[m4])
    plain, _w = register(employee, leaf)
    assert with_m3.billing_price == Decimal("2200")
    assert with_m4.billing_price == Decimal("2500")
    assert plain.billing_price == Decimal("2500")
    assert list(with_m3.dimension_values.all()) == [m3]


def test_billing_modes(company, employee):
    never = make_project(company, "N", billing=Project.Billing.NEVER)
    may_no = make_project(company, "MN", billing=Project.Billing.MAY_NO)
    may_yes = make_project(company, "MY", billing=Project.Billing.MAY_YES)
    with pytest.raises(TimeRegistrationRejected, match="never billed"):
        register(employee, never, billable=True)
    assert register(employee, never)[0].billable is False
    assert register(employee, may_no)[0].billable is False
    assert register(employee, may_no, billable=True)[0].billable is True
    assert register(employee, may_yes)[0].billable is True


def test_fixed_price_time_is_released_only_when_closed(company, employee):
    leaf = make_project(
        company,
        "F",
        billing=Project.Billing.ALWAYS,
        billing_model=Project.BillingModel.FIXED_PRICE,
        fixed_price=Decimal("50000"),
    )
    use_billing(company)
    registration, _w = register(employee, leaf)
    approve(registration)
    with pytest.raises(TimeRegistrationRejected, match="fixed price"):
        time_registrations_release(registrations=TimeRegistration.objects.all())
    project_set_status(project=leaf, status=Project.Status.CLOSED)
    registration.refresh_from_db()
    assert registration.released_for_billing is True


def test_running_time_is_released_at_any_time(company, employee):
    leaf = make_project(company, "T", billing=Project.Billing.ALWAYS)
    use_billing(company)
    registration, _w = register(employee, leaf)
    assert time_registrations_release(registrations=TimeRegistration.objects.all()) == 0
    approve(registration)
    assert time_registrations_release(registrations=TimeRegistration.objects.all()) == 1
    assert TimeRegistration.objects.get().released_for_billing


def test_only_participants_may_register(company, employee):
    AccountingDimension.objects.filter(company=company, sie_number=SIE_PROJECT).update(
        only_participants_may_register=True
    )
    main = make_project(company, "M", registrable=False)
    leaf = make_project(company, "L", parent=main, inherit_participants=True)
    with pytest.raises(TimeRegistrationRejected) as excinfo:
        register(employee, leaf)
    assert rejected(excinfo) == [("participants", "M.L")]
    ProjectParticipant.objects.create(project=main, employee=employee)  # inherited down
    assert register(employee, leaf)[1] == []
    stranger = EmployeeFactory(company=company)
    leaf = project_update(project=leaf, all_employees_participate=True)
    assert register(stranger, leaf)[1] == []


def _cost_centre_rule_setup(company):
    kst = dimension(company, 1)
    cc1 = DimensionValueFactory(company=company, dimension=kst, code="10")
    cc2 = DimensionValueFactory(company=company, dimension=kst, code="20")
    return kst, cc1, cc2


def test_rule_priority_project_then_code_then_dimension(company, employee):
    kst, cc1, _cc2 = _cost_centre_rule_setup(company)
    kst.rule = AccountingRule.MUST
    kst.save()
    leaf = make_project(company, "A")
    code = TimeCodeFactory(company=company)
    # Dimension's general rule: must.
    with pytest.raises(TimeRegistrationRejected, match="general rule"):
        register(employee, leaf, time_code=code)
    # The code's rule beats the dimension's.
    code_rule = TimeCodeDimensionRule.objects.create(time_code=code, dimension=kst, rule="may")
    assert register(employee, leaf, time_code=code)[1] == []
    # The project's rule beats the code's.
    default = ProjectAccountingDefault.objects.create(project=leaf, dimension=kst, rule="must")
    with pytest.raises(TimeRegistrationRejected, match="the project's rule"):
        register(employee, leaf, time_code=code)
    # "Inherit" on the project falls back to the code.
    default.rule = AccountingRule.INHERIT
    default.save()
    assert register(employee, leaf, time_code=code)[1] == []
    code_rule.rule = AccountingRule.INHERIT
    code_rule.save()
    assert register(employee, leaf, time_code=code, cost_center=cc1)[1] == []


def test_project_accounting_is_laid_out_and_locked(company, employee):
    kst, cc1, cc2 = _cost_centre_rule_setup(company)
    kst.lay_out_from_project_time = True
    kst.save()
    leaf = make_project(company, "A")
    ProjectAccountingDefault.objects.create(project=leaf, dimension=kst, value=cc1, rule="locked")
    registration, _w = register(employee, leaf)
    assert registration.cost_center == cc1
    with pytest.raises(TimeRegistrationRejected, match="locked"):
        register(employee, leaf, cost_center=cc2)


def test_project_rule_applies_even_without_lay_out(company, employee):
    kst, _cc1, cc2 = _cost_centre_rule_setup(company)
    leaf = make_project(company, "A")
    ProjectAccountingDefault.objects.create(project=leaf, dimension=kst, rule="locked")
    with pytest.raises(TimeRegistrationRejected, match="locked"):
        register(employee, leaf, cost_center=cc2)


def test_leave_blank_beats_home_accounting(company, employee):
    kst, cc1, _cc2 = _cost_centre_rule_setup(company)
    kst.lay_out_from_project_time = True
    kst.save()
    home_accounting_set(employee=employee, valid_from=datetime.date(2025, 1, 1), cost_center=cc1)
    plain = make_project(company, "P")
    blank = make_project(company, "B")
    ProjectAccountingDefault.objects.create(project=blank, dimension=kst, leave_blank=True)
    assert register(employee, plain)[0].cost_center == cc1
    assert register(employee, blank)[0].cost_center is None


def test_home_accounting_is_dated(company, employee):
    _kst, cc1, cc2 = _cost_centre_rule_setup(company)
    project = make_project(company, "H")
    home_accounting_set(employee=employee, valid_from=datetime.date(2025, 1, 1), cost_center=cc1)
    home_accounting_set(
        employee=employee, valid_from=datetime.date(2025, 6, 1), cost_center=cc2, project=project
    )
    march, _w = register(employee, None, day=datetime.date(2025, 3, 3))
    june, _w = register(employee, None, day=datetime.date(2025, 6, 2))
    assert (march.cost_center, march.project) == (cc1, None)
    assert (june.cost_center, june.project) == (cc2, project)


def test_value_outside_its_validity_is_refused(company, employee):
    kst = dimension(company, 1)
    old = DimensionValueFactory(
        company=company, dimension=kst, valid_to=datetime.date(2024, 12, 31)
    )
    with pytest.raises(TimeRegistrationRejected, match="not valid on 2025-03-03"):
        register(employee, make_project(company, "A"), cost_center=old)


def test_deviating_time_code_replaces_a_replaceable_code(company, employee):
    AccountingDimension.objects.filter(company=company, sie_number=SIE_PROJECT).update(
        use_deviating_time_codes=True
    )
    travel = TimeCodeFactory(company=company, code="XRES", name="Restid")
    worked = TimeCodeFactory(company=company, code="XARB", replaceable_by_accounting=True)
    fixed = TimeCodeFactory(company=company, code="XOB", replaceable_by_accounting=False)
    leaf = make_project(company, "A", time_code=travel)
    registration, warnings = register(employee, leaf, time_code=worked)
    assert registration.time_code == travel
    assert [w.rule for w in warnings] == ["deviating_time_code"]
    assert register(employee, leaf, time_code=fixed)[0].time_code == fixed


def test_deviating_time_code_needs_the_dimension_setting(company):
    from django.core.exceptions import ValidationError

    code = TimeCodeFactory(company=company, code="XRES")
    with pytest.raises(ValidationError, match="Deviating time codes"):
        make_project(company, "A", time_code=code)
