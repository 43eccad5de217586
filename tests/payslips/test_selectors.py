"""What the Kivra dispatch reads of its payslips: everything the content and the PDF need,
in one pass, and in the order asked for."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from payslips.content import payslip_salaryslip
from payslips.models import Payslip
from payslips.pdf import payslip_pdf_render
from payslips.selectors import payslips_for_dispatch
from tests.employees.factories import EmployeeFactory
from tests.payslips.factories import KivraLinkFactory, make_run


def test_dispatch_payslips_carry_what_content_and_pdf_read_without_another_query(company):
    employees = [EmployeeFactory(company=company) for _ in range(3)]
    run = make_run(company, employees)
    link = KivraLinkFactory(company=company)
    ids = list(Payslip.objects.filter(payroll_run=run).order_by("-pk").values_list("pk", flat=True))
    payslips = payslips_for_dispatch(company=company, ids=ids)
    assert [p.pk for p in payslips] == ids
    with CaptureQueriesContext(connection) as queries:
        for payslip in payslips:
            slip = payslip_salaryslip(payslip=payslip, link=link, created=payslip.created_at)
            pdf = payslip_pdf_render(payslip)
            assert pdf.startswith(b"%PDF")
            assert slip["pay_period"]["basic_contractual_salary"]["monetary_amount"] == "32000.00"
            assert [line.line_number for line in payslip.salary_lines()] == [1, 2, 3]
    # the lines' accounting columns are left out, and nothing is read again for them
    assert [q["sql"] for q in queries.captured_queries] == []
