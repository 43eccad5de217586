"""The columns the database keeps on payslips and their lines for the ledger's one pass:
amount in öre, cost centre and project from ``dimensions``, the ledger grouping key and the
payslip's employer contribution rate in billionths."""

import pytest

from payslips.models import KIND_CODES, Payslip, PayslipLine, ledger_key_unpack
from tests.ledger.factories import make_payslip, make_run


def test_kind_codes_follow_the_kinds():
    assert list(KIND_CODES) == list(PayslipLine.Kind.values)
    assert ledger_key_unpack(None) == (None, "gross")
    assert ledger_key_unpack(42 * 4 + 2) == (42, "benefit")


@pytest.mark.django_db
def test_line_columns_are_kept_by_the_database(company):
    slip = make_payslip(
        run=make_run(company=company),
        lines=[
            ("MÅNLÖN", "30000.55", None, {"1": "100", "6": "P1"}),
            ("ÖT1", "-12.07", None, {"1": 200}),  # a number as the object id
            ("TIMLÖN", "1.00", None, {"1": "", "6": "P2"}),
            ("AVDRAG", "-500.00", None, {"1": "100", "6": "P1"}, "net"),
            ("FÖRMBIL", "3000.00", None, {"1": "100", "6": "P1"}, "benefit"),
        ],
    )
    rows = list(
        PayslipLine.objects.filter(payslip=slip)
        .order_by("line_number")
        .values_list("amount_ore", "cost_center_code", "project_code", "ledger_key")
    )
    key = slip.pk * 4
    assert rows == [
        (3000055, "100", "P1", None),  # plain gross pay: summed over payslips
        (-1207, "200", "", key),  # no project: per payslip
        (100, "", "P2", key),  # no cost centre: per payslip
        (-50000, "100", "P1", key + 1),  # after tax
        (300000, "100", "P1", key + 2),  # benefit
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("gross", "contributions", "rate"),
    [
        ("30000.00", "9426.00", 314_200_000),
        ("1000.00", "102.13", 102_130_000),
        ("-2000.00", "-628.40", 314_200_000),  # a correction payslip
        ("3.00", "1.00", 333_333_333),  # rounded to the billionth
        ("0.00", "314.20", None),  # no gross pay to follow
        ("0.10", "100.01", None),  # more than 1 000 times the gross pay
        ("0.10", "100.00", 1_000_000_000_000),
    ],
)
def test_contributions_rate_in_billionths(company, gross, contributions, rate):
    slip = make_payslip(
        run=make_run(company=company),
        lines=[],
        gross_pay=gross,
        net_pay=gross,
        contributions=contributions,
    )
    assert Payslip.objects.values_list("contributions_rate_ppb", flat=True).get(pk=slip.pk) == rate
