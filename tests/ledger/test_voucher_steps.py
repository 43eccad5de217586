"""The steps of voucher_build, each on its own: load, home accounting, fold the lines, the
rounding proof, the settlements, the rounding problems and the assembly of one voucher."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from ledger import services
from ledger.vouchers import VoucherError, voucher_key
from projects.models import HomeAccounting
from projects.services.accounting import cost_center_create
from tests.employees.factories import EmployeeFactory

from .factories import make_payslip, make_run

pytestmark = pytest.mark.django_db
D = Decimal


def load(company, run):
    return services._voucher_load(company=company, payroll_run_id=run.pk, payment_date=None)


def through(step, company, run):
    """The build after every step up to and including ``step``."""
    build = load(company, run)
    for each in (
        services._voucher_home_accounting,
        services._voucher_fold_lines,
        services._voucher_prove_rounding,
        services._voucher_post_settlements,
        services._voucher_name_rounding_problems,
    ):
        each(build)
        if each is step:
            break
    return build


def amount(build, run, account, objects=()):
    return build.sums[run.pk][(account, objects)][0]


def test_load_refuses_a_selection_without_runs(company):
    with pytest.raises(VoucherError, match="No payroll run matches"):
        services._voucher_load(company=company, payroll_run_id=None, payment_date=None)


def test_load_reads_the_runs_totals_and_names_a_run_without_payslips(company):
    run = make_run(company=company)
    make_payslip(run=run, lines=[("MÅNLÖN", "30000.00", "1", {"1": "100"})], tax="9000.00")
    empty = make_run(company=company, payment_date=run.payment_date)
    build = services._voucher_load(
        company=company, payroll_run_id=None, payment_date=run.payment_date
    )
    assert build.run_ids == sorted([run.pk, empty.pk])
    assert build.totals[run.pk].gross_pay == D("30000.00")
    assert [str(p) for p in build.problems] == [
        f"Payroll run {empty.pk} ({empty.payment_date}) has no payslips."
    ]


def test_home_accounting_is_read_only_for_lines_that_need_it(company):
    centre = cost_center_create(company=company, code="700", name="Home")
    at_home, elsewhere = EmployeeFactory(company=company), EmployeeFactory(company=company)
    for employee in (at_home, elsewhere):
        HomeAccounting.objects.create(
            employee=employee, valid_from=datetime.date(2025, 1, 1), cost_center=centre
        )
    run = make_run(company=company)
    # No gross pay to follow: the contributions need the home accounting.
    make_payslip(run=run, employee=at_home, lines=[], contributions="100.00")
    make_payslip(
        run=run, employee=elsewhere, lines=[("MÅNLÖN", "100.00", "1", {"1": "100", "6": "P1"})]
    )
    build = through(services._voucher_home_accounting, company, run)
    assert set(build.home[run.pk]) == {at_home.pk}
    assert build.home[run.pk][at_home.pk][0] == "700"


def test_fold_debits_per_account_and_names_an_unmapped_salary_type(company):
    run = make_run(company=company)
    make_payslip(
        run=run,
        lines=[("MÅNLÖN", "30000.00", "1", {"1": "100"}), ("OKÄND", "200.00", "1", {})],
        tax="9000.00",
    )
    build = through(services._voucher_fold_lines, company, run)
    assert amount(build, run, "7210", ((1, "100"),)) == D("30000.00")
    assert build.line_counts[run.pk] == 2
    assert build.gross_lines[run.pk] == D("30200.00")
    assert [str(p) for p in build.problems] == [
        f"Payroll run {run.pk}: salary type “OKÄND” has no accounting (1 line)."
    ]


def test_rounding_proof_from_the_runs_totals_when_the_lines_add_up(company):
    run = make_run(company=company)
    make_payslip(run=run, lines=[("MÅNLÖN", "30000.00", "1", {})], tax="9000.33")
    build = through(services._voucher_prove_rounding, company, run)
    assert build.paid is None  # no second pass
    assert build.residuals[run.pk] == D("0.00") and build.too_large == []


def test_rounding_proof_from_the_lines_when_the_stored_gross_pay_differs(company):
    run = make_run(company=company)
    make_payslip(
        run=run, lines=[("MÅNLÖN", "30000.00", "1", {})], tax="9000.00", gross_pay="30000.40"
    )
    build = through(services._voucher_prove_rounding, company, run)
    assert build.paid is not None  # the second pass summed each payslip's paid-out lines
    assert build.residuals[run.pk] == D("0.00")


def test_a_payslip_that_leaves_more_than_ore_rounding_is_named_with_its_lines(company):
    run = make_run(company=company)
    employee = EmployeeFactory(company=company, employee_number="4711")
    make_payslip(
        run=run,
        employee=employee,
        lines=[("MÅNLÖN", "30000.00", "1", {})],
        tax="9000.00",
        net_pay="20995.00",
    )
    build = through(services._voucher_prove_rounding, company, run)
    assert len(build.too_large) == 1 and build.problems == []
    services._voucher_post_settlements(build)
    services._voucher_name_rounding_problems(build)
    [problem] = map(str, build.problems)
    assert "employee 4711" in problem and "1 MÅNLÖN 30000.00" in problem
    assert "leave 5.00 SEK" in problem


def test_settlements_credit_tax_net_pay_and_the_contributions(company):
    run = make_run(company=company)
    make_payslip(
        run=run,
        lines=[("MÅNLÖN", "30000.00", "1", {"1": "100"})],
        tax="9000.00",
        contributions="9426.00",
    )
    build = through(services._voucher_post_settlements, company, run)
    settings = build.settings
    assert amount(build, run, settings.tax_account.number) == D("-9000.00")
    assert amount(build, run, settings.net_pay_account.number) == D("-21000.00")
    liability = settings.contributions_liability_account.number
    assert amount(build, run, liability) == D("-9426.00")
    cost = settings.contributions_account.number
    assert amount(build, run, cost, ((1, "100"),)) == D("9426.00")
    assert build.contributions_residuals[run.pk] == D("0.00")


def test_assemble_books_the_rounding_and_refuses_postings_that_do_not_match(company):
    run = make_run(company=company, description="Mars")
    make_payslip(run=run, lines=[("MÅNLÖN", "30000.00", "1", {})], tax="9000.33")
    build = through(services._voucher_name_rounding_problems, company, run)
    voucher = services._voucher_assemble(build, run=run, generations={run.pk: 2})
    assert voucher.text == f"Lönekörning {run.payment_date} – Mars"
    assert voucher.key == voucher_key(
        company_code=company.code, payroll_run_id=run.pk, generation=2
    )
    assert sum(p.amount for p in voucher.postings) == 0
    assert (voucher.lines, voucher.payslips) == (1, 1)
    build.sums[run.pk][("7210", ())][0] += D("0.01")
    with pytest.raises(VoucherError, match="the postings sum to"):
        services._voucher_assemble(build, run=run, generations=None)
