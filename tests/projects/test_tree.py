"""The tree: codes, paths, registrable leaves, copy, budgets (both roll-up directions)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from projects.models import Project, ProjectControl
from projects.selectors import project_budget, project_rollups, project_tree
from projects.services import project_copy, project_create, project_update
from tests.projects.factories import make_project, make_tree, register

pytestmark = pytest.mark.django_db


def test_codes_are_joined_and_paths_levels_follow_the_tree(company):
    main, sub, bem, rek = make_tree(company)
    assert [p.code for p in (main, sub, bem, rek)] == ["BS", "BS.HR", "BS.HR.Bem", "BS.HR.Rek"]
    assert [p.level for p in (main, sub, bem)] == [0, 1, 2]
    assert bem.path.startswith(sub.path) and sub.path.startswith(main.path)
    assert bem.ancestor_paths == [main.path, sub.path]
    assert not main.registrable and bem.registrable


def test_a_sub_project_under_a_registrable_leaf_turns_it_into_a_sub_level(company):
    leaf = make_project(company, "LO")
    child = make_project(company, "101", parent=leaf)
    leaf.refresh_from_db()
    assert child.code == "LO.101"
    assert not leaf.registrable


def test_a_leaf_with_registrations_gets_no_children(company, employee):
    leaf = make_project(company, "LO")
    register(employee, leaf)
    with pytest.raises(ValidationError, match="registrations"):
        make_project(company, "101", parent=leaf)


def test_a_flat_list_of_registrable_projects_works(company):
    a, b = make_project(company, "A"), make_project(company, "B")
    assert a.registrable and b.registrable and a.level == b.level == 0
    assert [n.project.code for n in project_tree(company=company)] == ["A", "B"]


def test_main_project_code_cannot_contain_a_dot(company):
    with pytest.raises(ValidationError):
        make_project(company, "A.B")


def test_never_transfer_only_on_sub_projects(company):
    with pytest.raises(ValidationError, match="sub projects"):
        make_project(company, "A", never_transfer=True)
    main = make_project(company, "A", registrable=False)
    assert make_project(company, "B", parent=main, never_transfer=True).never_transfer


def test_budget_set_on_children_parent_shows_sum_and_cannot_be_set(company):
    main, sub, bem, rek = make_tree(company)
    project_update(project=bem, budget_hours=Decimal("100"), budget_amount=Decimal("5000"))
    project_update(project=rek, budget_hours=Decimal("50"))
    assert project_budget(project=sub) == (Decimal("150.00"), Decimal("5000.00"), True)
    assert project_budget(project=main)[0] == Decimal("150.00")
    with pytest.raises(ValidationError, match="sum"):
        project_update(project=main, budget_hours=Decimal("10"))
    with pytest.raises(ValidationError):
        project_update(project=sub, budget_amount=Decimal("10"))


def test_budget_set_on_parent_children_cannot_be_set(company):
    main, sub, bem, _rek = make_tree(company)
    main = project_update(project=main, budget_hours=Decimal("200"))
    with pytest.raises(ValidationError, match="BS already has a budget"):
        project_update(project=bem, budget_hours=Decimal("10"))
    with pytest.raises(ValidationError, match="BS already has a budget"):
        make_project(company, "New", parent=sub, budget_hours=Decimal("1"))
    assert project_budget(project=main) == (Decimal("200.00"), None, False)


def test_worked_hours_roll_up_over_all_descendants(
    company, employee, django_assert_max_num_queries
):
    main, sub, bem, rek = make_tree(company)
    other = make_project(company, "X")
    register(employee, bem, "8")
    register(employee, rek, "2.5")
    register(employee, other, "1")
    with django_assert_max_num_queries(2):
        rollups = project_rollups(company=company)
    assert rollups[main.path].worked_hours == Decimal("10.50")
    assert rollups[sub.path].worked_hours == Decimal("10.50")
    assert rollups[bem.path].worked_hours == Decimal("8.00")
    assert rollups[other.path].worked_hours == Decimal("1.00")


def test_tree_queries_do_not_grow_with_the_tree(company, django_assert_max_num_queries):
    main = make_project(company, "M", registrable=False)
    for i in range(30):
        make_project(company, f"S{i}", parent=main)
    with django_assert_max_num_queries(3):
        roots = project_tree(company=company)
    assert len(roots[0].children) == 30


def test_rename_renames_the_branch(company):
    _main, sub, bem, _rek = make_tree(company)
    project_update(project=sub, code="HRX")
    bem.refresh_from_db()
    assert bem.code == "BS.HRX.Bem"


def test_copy_with_and_without_children(company):
    _main, sub, _bem, _rek = make_tree(company)
    ProjectControl.objects.create(
        project=sub, kind="time", action="warning", threshold_percent=Decimal("80")
    )
    alone = project_copy(project=sub, code="HR2")
    assert alone.code == "BS.HR2" and alone.registrable is False and not alone.children.exists()
    assert alone.controls.get().threshold_percent == Decimal("80")
    branch = project_copy(project=sub, code="HR3", with_children=True)
    codes = sorted(
        Project.objects.filter(path__startswith=branch.path).values_list("code", flat=True)
    )
    assert codes == ["BS.HR3", "BS.HR3.Bem", "BS.HR3.Rek"]
    copied_leaf = Project.objects.get(code="BS.HR3.Bem")
    assert copied_leaf.parent == branch and copied_leaf.level == 2
    assert copied_leaf.path.startswith(branch.path)


def test_codes_are_unique_per_company(company, other_company):
    make_project(company, "A")
    make_project(other_company, "A")
    with pytest.raises(ValidationError):
        make_project(company, "A")


def test_project_create_rejects_a_parent_of_another_company(company, other_company):
    parent = make_project(other_company, "P", registrable=False)
    with pytest.raises(ValidationError):
        project_create(company=company, code="C", name="C", parent=parent)
