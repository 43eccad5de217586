"""The voucher's one pass over the lines: the groups the SQL returns are the groups of the
lines, whatever way the query is split."""

import datetime
from collections import defaultdict
from decimal import Decimal

from ledger import selectors
from payslips.models import KIND_CODES, PayslipLine

from .factories import make_payslip, make_run

DIMS = {"1": "100", "6": "P-1"}


def _expected(run_ids: list[int], payslip_types: list[str]) -> dict:
    """Every line's key as the docstring of ``payslip_line_groups`` states it, summed."""
    groups: dict = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
    for line in PayslipLine.objects.filter(payslip__payroll_run__in=run_ids).select_related(
        "payslip"
    ):
        key = line.ledger_key
        if key is None and line.salary_type in payslip_types:
            key = line.payslip_id * 4
        run_id = line.payslip.payroll_run_id if len(run_ids) > 1 else run_ids[0]
        group = groups[
            (run_id, key, line.salary_type, line.account, line.cost_center_code, line.project_code)
        ]
        group[0] += line.amount
        group[1] += line.quantity or 0
        group[2] += 1
    return {k: (v[0], v[2]) for k, v in groups.items()}


def _got(run_ids: list[int], payslip_types: list[str]) -> dict:
    found = {}
    for g in selectors.payslip_line_groups(run_ids=run_ids, payslip_types=payslip_types):
        payslip_key = None if g.payslip_id is None else g.payslip_id * 4 + _KIND_CODES[g.kind]
        key = (g.payroll_run_id, payslip_key, g.salary_type, g.account, g.cost_center, g.project)
        assert key not in found
        found[key] = (g.amount, g.lines)
    return found


_KIND_CODES = {kind: code for code, kind in enumerate(KIND_CODES)}


def test_groups_are_those_of_the_lines_over_one_run_and_several(company):
    first = make_run(company=company)
    second = make_run(company=company, payment_date=datetime.date(2025, 4, 25))
    for run in (first, second):
        for n in range(3):
            make_payslip(
                run=run,
                lines=[
                    ("1100", f"{30000 + n}.00", None, DIMS),  # summed over the payslips
                    ("1100", "500.00", None, {"1": "100"}),  # a dimension missing
                    ("FÖRMBIL", "1200.00", None, DIMS, "benefit"),
                    ("2100", "800.00", "8", DIMS),  # a payslip type: kept per payslip
                    ("4100", "-300.00", None, DIMS, "net"),
                ],
                tax="9000",
                contributions="9500",
            )
    for run_ids in ([first.pk], [first.pk, second.pk]):
        for types in ([], ["2100"], ["2100", "1100"]):
            assert _got(run_ids, types) == _expected(run_ids, types)
