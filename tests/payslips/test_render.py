"""The "Render payslip PDFs" job: chunks of payslips rendered by any worker, each stored once."""

import hashlib

from jobs.models import Job
from jobs.runner import job_execute
from jobs.services import job_create
from payslips import services
from payslips.models import Payslip
from tests.employees.factories import EmployeeFactory
from tests.payslips.factories import make_run


def test_render_job_renders_and_stores_each_pdf_once_in_chunks(company):
    employees = [EmployeeFactory(company=company) for _ in range(5)]
    run = make_run(company, employees)
    other = make_run(company, employees[:1], external_id="other")
    first = Payslip.objects.get(payroll_run=run, employee=employees[0])
    kept = services.payslip_render_pdf(payslip=first)  # rendered earlier: kept as it is
    job = job_create(
        company=company, kind="payslip_render", parameters={"payroll_run": run.pk, "chunk_size": 2}
    )
    job = job_execute(job_id=job.pk)
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.chunks.count() == 4
    assert job.summary == {"rendered": 4, "already_rendered": 1}
    assert (job.progress_done, job.progress_total) == (5, 5)
    for payslip in Payslip.objects.filter(payroll_run=run):
        assert bytes(payslip.pdf).startswith(b"%PDF")
        assert payslip.pdf_sha256 == hashlib.sha256(bytes(payslip.pdf)).hexdigest()
    assert bytes(Payslip.objects.get(pk=first.pk).pdf) == kept
    assert not Payslip.objects.get(payroll_run=other).pdf_sha256  # not in the selection
    again = job_execute(
        job_id=job_create(
            company=company, kind="payslip_render", parameters={"payroll_run": run.pk}
        ).pk
    )
    assert again.summary == {"rendered": 0, "already_rendered": 5}


def test_render_job_only_sees_its_company(company, other_company):
    run = make_run(other_company, [EmployeeFactory(company=other_company)])
    job = job_execute(
        job_id=job_create(
            company=company, kind="payslip_render", parameters={"payroll_run": run.pk}
        ).pk
    )
    assert job.progress_total == 0
    assert not Payslip.objects.get(payroll_run=run).pdf_sha256
