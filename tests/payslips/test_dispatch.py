"""Dispatches to the Kivra sandbox over real HTTP: every payslip delivered exactly once."""

import collections
import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from employees.models import Employee
from integrations.sandboxes.kivra import KivraSandbox
from jobs.models import Job
from jobs.runner import job_execute
from jobs.services import job_create, job_start
from payslips import services
from payslips.models import PayslipDelivery
from tests.employees.factories import EmployeeFactory
from tests.payslips.factories import KivraLinkFactory, make_run

PAYDAY = datetime.date(2026, 1, 25)


@pytest.fixture(autouse=True)
def fast_retries(settings):
    settings.KIVRA_RETRY_BACKOFF = 0.005
    settings.KIVRA_RETRY_BACKOFF_CAP = 0.02
    settings.KIVRA_RETRY_ATTEMPTS = 6
    settings.KIVRA_TIMEOUT = 3.0
    settings.KIVRA_DISPATCH_CONCURRENCY = 4


@pytest.fixture
def employees(company):
    return [EmployeeFactory(company=company, kivra_send_payslips=True) for _ in range(6)]


@pytest.fixture
def users(employees):
    return [e.personal_identity_number for e in employees[:4]]


@pytest.fixture
def sandbox(users):
    return KivraSandbox(users=users)


@pytest.fixture
def link(company, sandbox):
    with sandbox.serving() as url:
        yield KivraLinkFactory(company=company, base_url=url)


@pytest.fixture
def production_like(link, sandbox, settings):
    """A link that relies on Kivra's production duplicate control, against a sandbox that has
    it switched on (off by default, as in Kivra's test environment)."""
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = True  # the sandbox listens on 127.0.0.1
    sandbox.options["duplicate_control"] = True
    link.is_sandbox = False
    link.save()
    return link


def dispatch(company, **parameters) -> Job:
    params = {"payment_date": PAYDAY.isoformat(), "status": "final", **parameters}
    job = job_create(company=company, kind="kivra_dispatch", parameters=params)
    return job_execute(job_id=job.pk)


def assert_no_duplicates(sandbox):
    per_recipient = collections.Counter(r["ssn"] for r in sandbox.received)
    assert all(count == 1 for count in per_recipient.values()), per_recipient


def statuses():
    return collections.Counter(PayslipDelivery.objects.values_list("status", flat=True))


def test_users_get_it_non_users_have_it_retained(company, employees, sandbox, link):
    make_run(company, employees)
    job = dispatch(company)
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.summary == {"sent": 4, "retained": 2}
    assert len(sandbox.received) == 6
    retained = [r for r in sandbox.received if r["retained"]]
    assert {r["ssn"] for r in retained} == {e.personal_identity_number for e in employees[4:]}
    assert all(r["retention_time"] == "390" for r in retained)
    assert statuses() == {"sent": 4, "retained": 2}
    delivery = PayslipDelivery.objects.filter(status="sent").first()
    assert delivery.kivra_objkey and delivery.correlation_id
    assert delivery.payslip.pdf_sha256 in sandbox.received[0]["pdf_sha256"] or any(
        delivery.payslip.pdf_sha256 in r["pdf_sha256"] for r in sandbox.received
    )
    assert job.log_lines.filter(message__contains="Sent to Kivra").count() == 4


@pytest.mark.django_db
def test_a_large_selection_is_read_and_matched_a_batch_at_a_time(
    company, employees, sandbox, link, monkeypatch
):
    """The selection streams: payslips read and matched in Kivra LOAD_BATCH at a time while
    the first are already being sent; every one is still delivered once."""
    monkeypatch.setattr(services.dispatch, "LOAD_BATCH", 2)
    make_run(company, employees)
    job = dispatch(company)
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.summary == {"sent": 4, "retained": 2}
    matches = [r for r in sandbox.requests if r["path"].endswith("/usermatch/ssn")]
    assert len(matches) == 3
    assert_no_duplicates(sandbox)
    assert len(sandbox.received) == 6


@pytest.mark.django_db
def test_only_employees_with_the_flag_and_the_selection(company, employees, sandbox, link):
    Employee.objects.filter(pk=employees[0].pk).update(kivra_send_payslips=False)
    make_run(company, employees)
    job = dispatch(company, employees=[e.pk for e in employees[:3]])
    assert job.summary == {"skipped": 1, "sent": 2}
    assert len(sandbox.received) == 2


def test_status_selection(company, employees, sandbox, link):
    make_run(company, employees[:2], status="preliminary")
    make_run(company, employees[2:4], status="final")
    assert dispatch(company).summary == {"sent": 2}
    assert dispatch(company, status="preliminary").summary == {"sent": 2}
    assert dispatch(company, status="any").summary == {"already_sent": 4}
    assert len(sandbox.received) == 4


def test_print_handling_for_non_users_goes_to_kivras_print_add_on(
    company, employees, sandbox, link
):
    """With Kivra's print add-on on the link and allowed for the employee, a non-user's
    payslip goes to Kivra marked for print (Kivra posts it): its own state, no local batch."""
    link.print_handling = True
    link.save()
    sandbox.options["print_integration"] = True
    Employee.objects.filter(pk=employees[4].pk).update(kivra_allow_print=True)
    make_run(company, employees)
    job = dispatch(company)
    assert job.summary == {"sent": 4, "retained": 1, "kivra_printing": 1}
    assert not job.result_file
    printed = PayslipDelivery.objects.get(channel="kivra_print")
    assert printed.status == "kivra_printing" and printed.payslip.employee == employees[4]
    [entry] = [r for r in sandbox.received if r["print_marked"]]
    assert entry["ssn"] == employees[4].personal_identity_number and entry["printed"]
    assert "Sent to Kivra for printing" in " ".join(job.log_lines.values_list("message", flat=True))
    # Again: nothing is sent twice.
    requests = sandbox.content_requests
    again = dispatch(company)
    assert again.summary == {"already_sent": 6}
    assert sandbox.content_requests == requests


@pytest.mark.parametrize("add_on", [False, True])
def test_retained_content_refused_by_kivra_goes_to_print_handling_once(
    company, employees, sandbox, link, add_on
):
    """Kivra refuses retained content (42221): the Kivra delivery ends RETAIN_REFUSED, the
    payslip goes to print handling per the link, and no later dispatch rebuilds or resends
    it to Kivra."""
    sandbox.options.update(retain_refused=True, print_integration=add_on)
    link.print_handling = add_on
    link.save()
    # employees[4] allows Kivra's print handling, employees[5] does not.
    Employee.objects.filter(pk=employees[4].pk).update(kivra_allow_print=True)
    make_run(company, employees)
    job = dispatch(company)
    refused = PayslipDelivery.objects.filter(channel="kivra", status="retain_refused")
    messages = " ".join(job.log_lines.values_list("message", flat=True))
    assert "refused to keep it as retained content" in messages
    if add_on:
        # With the add-on, the allowed one goes to Kivra's print handling at once (never
        # retained); the other one is retained, refused, and has no print route.
        assert refused.count() == 1
        assert job.summary == {"sent": 4, "kivra_printing": 1, "failed": 1}
        assert [r["ssn"] for r in sandbox.received if r["printed"]] == [
            employees[4].personal_identity_number
        ]
        assert "does not allow Kivra's print handling" in messages
    else:
        assert refused.count() == 2
        assert job.summary == {"sent": 4, "printed": 2}
        assert job.result_file.open("rb").read().startswith(b"%PDF")
        assert "print batch for posting" in messages
    assert set(refused.values_list("error_code", flat=True)) == {"42221"}
    requests = sandbox.content_requests
    again = dispatch(company)
    assert sandbox.content_requests == requests  # nothing rebuilt or resent to Kivra
    if add_on:
        assert again.summary == {"already_sent": 5, "failed": 1}
    else:
        assert again.summary == {"already_sent": 6}


def test_generated_at_is_when_the_content_was_generated(company, employees, sandbox, link):
    before = timezone.now().replace(microsecond=0)
    make_run(company, employees[:1])
    dispatch(company)
    [entry] = sandbox.received
    generated = datetime.datetime.fromisoformat(entry["generated_at"])
    assert generated.tzinfo is not None and generated >= before
    assert entry["generated_at"][:10] != PAYDAY.isoformat()


def test_recipient_unavailable_between_match_and_send(company, employees, users, link):
    sandbox_users = set(users)
    with KivraSandbox(users=sandbox_users, unavailable=[users[0]]).serving() as url:
        link.base_url = url
        link.save()
        make_run(company, employees)
        job = dispatch(company)
        delivery = PayslipDelivery.objects.get(payslip__employee__personal_identity_number=users[0])
    assert job.summary == {"sent": 3, "retained": 3}
    assert delivery.status == "retained" and delivery.retain
    assert job.log_lines.filter(message__contains="40105").exists()


def test_unavailable_with_print_goes_to_print(company, employees, users, link):
    link.print_handling = True
    link.save()
    Employee.objects.filter(pk=employees[0].pk).update(kivra_allow_print=True)
    sandbox = KivraSandbox(users=users, unavailable=[users[0]], print_integration=True)
    with sandbox.serving() as url:
        link.base_url = url
        link.save()
        make_run(company, employees)
        job = dispatch(company)
    assert job.summary == {"sent": 3, "retained": 2, "kivra_printing": 1}
    [entry] = [r for r in sandbox.received if r["ssn"] == users[0]]
    assert entry["printed"]


def test_missing_and_invalid_personal_identity_numbers(company, employees, sandbox, link):
    make_run(company, employees)
    Employee.objects.filter(pk=employees[0].pk).update(personal_identity_number="")
    bad = employees[1].personal_identity_number
    bad = bad[:-1] + str((int(bad[-1]) + 1) % 10)
    Employee.objects.filter(pk=employees[1].pk).update(personal_identity_number=bad)
    job = dispatch(company)
    assert job.status == Job.Status.PARTLY_FAILED
    assert job.summary == {"failed": 2, "sent": 2, "retained": 2}
    errors = list(job.log_lines.filter(level="error").values_list("item", "message"))
    assert any("no personal identity number" in m for _i, m in errors)
    assert any("not valid" in m for _i, m in errors)
    assert all(
        employees[0].employee_number in i or employees[1].employee_number in i for i, _m in errors
    )


@pytest.mark.parametrize("code", ["40009", "40000", "42221", "40019", "41300", "40300"])
def test_kivra_refusals_are_logged_with_code_and_correlation_id(
    company, employees, users, link, code
):
    sandbox = KivraSandbox(users=users, reject={users[0]: code})
    with sandbox.serving() as url:
        link.base_url = url
        link.save()
        make_run(company, employees)
        job = dispatch(company)
        delivery = PayslipDelivery.objects.get(payslip__employee__personal_identity_number=users[0])
        assert delivery.status == "failed" and delivery.error_code == code
        assert delivery.correlation_id.startswith("sbx-")
        line = job.log_lines.get(level="error")
        assert f"code {code}" in line.message and "correlation id" in line.message
        assert job.summary == {"failed": 1, "sent": 3, "retained": 2}
        # Refused means not delivered: the next dispatch tries it again (and only it).
        sandbox.reject.clear()
        again = dispatch(company)
    assert again.summary == {"sent": 1, "already_sent": 5}
    assert_no_duplicates(sandbox)


def test_bad_credentials_fail_the_job_and_send_nothing(company, employees, sandbox, link):
    link.client_secret = "wrong"
    link.save()
    make_run(company, employees)
    job = dispatch(company)
    assert job.status == Job.Status.FAILED
    assert "40104" in job.message
    assert sandbox.received == []


def test_429_storm(company, employees, sandbox, link, settings):
    settings.KIVRA_RETRY_ATTEMPTS = 16  # more than the storm: no content can run out
    make_run(company, employees)
    sandbox.options["rate_limit_content_next"] = 15  # with 4 threads: many 429s per content
    job = dispatch(company)
    assert job.status == Job.Status.SUCCEEDED
    assert len(sandbox.received) == 6
    assert_no_duplicates(sandbox)


def test_injected_5xx(company, employees, sandbox, production_like):
    """Random 503s: a payslip whose retries all fail is left for the next dispatch, which
    finishes it; whatever the draw, every payslip arrives exactly once."""
    make_run(company, employees)
    sandbox.faults.fail_rate = 0.3
    job = dispatch(company)
    for _ in range(5):
        if job.status == Job.Status.SUCCEEDED:
            break
        assert job.status == Job.Status.PARTLY_FAILED, job.message
        job = dispatch(company)
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert statuses() == {"sent": 4, "retained": 2}
    assert len(sandbox.received) == 6
    assert_no_duplicates(sandbox)


def test_persistent_5xx_leaves_rows_to_resend_with_the_same_bytes(
    company, employees, sandbox, production_like
):
    make_run(company, employees)
    sandbox.options["fail_content_next"] = 10_000
    job = dispatch(company)
    assert job.status == Job.Status.FAILED
    assert job.summary == {"failed": 6}
    assert statuses() == {"sending": 6}
    before = dict(PayslipDelivery.objects.values_list("pk", "request_sha256"))
    sandbox.options["fail_content_next"] = 0
    again = dispatch(company)
    assert again.summary == {"sent": 4, "retained": 2}
    assert dict(PayslipDelivery.objects.values_list("pk", "request_sha256")) == before
    assert_no_duplicates(sandbox)


def test_dropped_answer_resends_same_bytes_delivered_once(
    company, employees, sandbox, production_like
):
    make_run(company, employees)
    sandbox.options["drop_content_next"] = 2
    job = dispatch(company)
    assert job.status == Job.Status.SUCCEEDED
    assert len(sandbox.received) == 6
    assert sandbox.duplicates == 2  # the two resends were recognised, not delivered
    assert_no_duplicates(sandbox)


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: nothing after it runs, no except-Exception catches it."""


def test_worker_killed_mid_run_then_restarted(
    company, employees, sandbox, production_like, monkeypatch
):
    make_run(company, employees)
    real_finish = services.payslip_delivery_finish
    calls = {"n": 0}

    def dying_finish(**kwargs):
        calls["n"] += 1
        if calls["n"] > 2:
            raise WorkerKilled
        return real_finish(**kwargs)

    real_batch = services.payslip_deliveries_finish

    def dying_batch(*, results):
        calls["n"] += len(results)
        if calls["n"] > 2:  # the worker dies once two answers were recorded
            raise WorkerKilled
        return real_batch(results=results)

    monkeypatch.setattr(services.deliveries, "payslip_delivery_finish", dying_finish)
    monkeypatch.setattr(services.deliveries, "payslip_deliveries_finish", dying_batch)
    job = job_create(
        company=company, kind="kivra_dispatch", parameters={"payment_date": "2026-01-25"}
    )
    with pytest.raises(WorkerKilled):
        job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING
    assert statuses()["sending"] >= 1  # sent (maybe accepted) but never recorded
    delivered_before = len(sandbox.received)
    assert delivered_before >= 3

    monkeypatch.setattr(services.deliveries, "payslip_delivery_finish", real_finish)
    monkeypatch.setattr(services.deliveries, "payslip_deliveries_finish", real_batch)
    job = job_execute(job_id=job.pk)  # the redelivered task
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.attempts == 2
    assert job.summary == {"sent": 4, "retained": 2}
    assert len(sandbox.received) == 6
    assert sandbox.duplicates >= 1  # resent bytes of the unrecorded sends
    assert_no_duplicates(sandbox)


def test_second_start_sends_nothing_even_without_kivras_duplicate_control(
    company, employees, users, link
):
    sandbox = KivraSandbox(users=users, duplicate_control=False)
    with sandbox.serving() as url:
        link.base_url = url
        link.save()
        make_run(company, employees)
        first = dispatch(company)
        requests_after_first = sandbox.content_requests
        second = dispatch(company)
    assert first.summary == {"sent": 4, "retained": 2}
    assert second.summary == {"already_sent": 6}
    assert second.status == Job.Status.SUCCEEDED
    assert sandbox.content_requests == requests_after_first
    assert_no_duplicates(sandbox)


def test_a_row_claimed_by_another_running_job_is_left_alone(company, employees, sandbox, link):
    make_run(company, employees[:1])
    other = job_create(
        company=company, kind="kivra_dispatch", parameters={"payment_date": "2026-01-25"}
    )
    Job.objects.filter(pk=other.pk).update(status=Job.Status.RUNNING)
    payslip = employees[0].payslips.get()
    delivery = services.payslip_delivery_create(
        payslip=payslip, channel="kivra", body=b"{}", job=other
    )
    assert services.payslip_delivery_claim(delivery_id=delivery.pk, job=other) == b"{}"
    job = dispatch(company)
    assert job.summary == {"already_sent": 1}
    assert sandbox.content_requests == 0


def test_per_recipient_limit_spreads_sends(company, employees, sandbox, link, settings):
    settings.KIVRA_RECIPIENT_LIMIT = 2
    settings.KIVRA_RECIPIENT_WINDOW = 0.3
    for n in range(5):  # five runs on the same payment date for the same person
        make_run(company, employees[:1], external_id=f"extra-{n}")
    job = dispatch(company)
    assert job.summary == {"sent": 5}
    assert len(sandbox.received) == 5


def test_permission_license_and_link_are_checked(company, employees, make_user, link):
    make_run(company, employees)
    hr = make_user(company, role="hr_admin")
    with pytest.raises(PermissionDenied):
        job_start(user=hr, company=company, kind="kivra_dispatch", parameters={})
    payroll = make_user(company, role="payroll")
    job = services.kivra_dispatch_start(user=payroll, company=company, payment_date=PAYDAY)
    assert job.parameters == {"payment_date": "2026-01-25", "status": "final"}
    link.send_payslips = False
    link.save()
    with pytest.raises(ValidationError, match="Send payslips"):
        services.kivra_dispatch_start(user=payroll, company=company, payment_date=PAYDAY)
    company.license.kivra_payslips = False
    company.license.save()
    with pytest.raises(ValidationError, match="license"):
        services.kivra_dispatch_start(user=payroll, company=company, payment_date=PAYDAY)


def test_rate_limiter_unit():
    limiter = services.RecipientRateLimiter(limit=2, window=60)
    assert limiter.reserve("a", 0) == 0 and limiter.reserve("a", 1) == 0
    assert limiter.reserve("a", 2) == pytest.approx(58)
    assert limiter.reserve("b", 2) == 0
    assert limiter.reserve("a", 60.5) == 0


@pytest.mark.parametrize(
    "fault",
    [
        {"fail_content_after_accept_next": 2, "fail_content_after_accept_status": 504},
        {"fail_content_after_accept_next": 2, "fail_content_after_accept_status": 502},
        {"drop_content_next": 2},
    ],
    ids=["created-504", "created-502", "created-dropped"],
)
def test_without_duplicate_control_uncertain_sends_are_never_repeated(
    company, employees, sandbox, link, fault
):
    """Kivra's test environment (and the sandbox by default) has no duplicate control: a
    content whose answer was a 5xx or lost is not sent again, by the client or by the next
    dispatch — one payslip per person at the sandbox."""
    assert not link.relies_on_duplicate_control
    make_run(company, employees)
    sandbox.options.update(fault)
    job = dispatch(company)
    assert job.status == Job.Status.PARTLY_FAILED
    assert job.summary["failed"] == 2 and sum(job.summary.values()) == 6
    assert len(sandbox.received) == 6 and sandbox.content_requests == 6
    assert statuses()["sending"] == 2
    again = dispatch(company)
    assert again.summary == {"already_sent": 4, "unconfirmed": 2}
    assert "not sent again: check the recipient's mailbox in Kivra" in " ".join(
        again.log_lines.values_list("message", flat=True)
    )
    assert sandbox.content_requests == 6
    assert_no_duplicates(sandbox)


def test_without_duplicate_control_a_killed_worker_sends_nothing_twice(
    company, employees, sandbox, link, monkeypatch
):
    make_run(company, employees)
    real_batch = services.payslip_deliveries_finish

    def dying_batch(*, results):
        raise WorkerKilled

    monkeypatch.setattr(services.deliveries, "payslip_deliveries_finish", dying_batch)
    job = job_create(
        company=company, kind="kivra_dispatch", parameters={"payment_date": "2026-01-25"}
    )
    with pytest.raises(WorkerKilled):
        job_execute(job_id=job.pk)
    delivered = len(sandbox.received)
    assert delivered >= 1
    monkeypatch.setattr(services.deliveries, "payslip_deliveries_finish", real_batch)
    job = job_execute(job_id=job.pk)  # the redelivered task
    assert job.summary.get("unconfirmed", 0) >= 1
    assert len(sandbox.received) == sandbox.content_requests <= 6
    assert_no_duplicates(sandbox)


def test_a_dispatch_in_chunks_is_one_job_with_one_print_batch(company, employees, sandbox, link):
    """Without Kivra's print add-on, the payslips Kivra will not keep as retained content go
    to one local print batch for the whole job, whichever chunks they were sent in."""
    sandbox.options["retain_refused"] = True
    make_run(company, employees)
    job = dispatch(company, chunk_size=2)
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.chunks.count() == 4  # three of two payslips, and the job's own
    assert job.summary == {"sent": 4, "printed": 2}
    assert (job.progress_done, job.progress_total) == (6, 6)
    assert job.result_file.open("rb").read().startswith(b"%PDF")
    assert statuses() == {"sent": 4, "retain_refused": 2, "printed": 2}
    assert_no_duplicates(sandbox)
    assert len(sandbox.received) == 4


def test_a_chunk_whose_worker_died_is_finished_by_another_worker(
    company, employees, sandbox, production_like, monkeypatch, settings
):
    """Worker A dies in the middle of a chunk (answers sent, not recorded); worker B takes
    the chunk over once A's heartbeat is stale and finishes it: every payslip delivered
    once, the job one job."""
    from django.utils import timezone

    from jobs.models import JobChunk
    from jobs.runner import _chunk_claim, job_chunks_drain

    settings.JOB_CHUNK_POLL_SECONDS = 0.01
    make_run(company, employees)
    real_batch = services.payslip_deliveries_finish
    calls = {"n": 0}

    def dying_batch(*, results):
        calls["n"] += len(results)
        if calls["n"] > 3:
            raise WorkerKilled
        return real_batch(results=results)

    monkeypatch.setattr(services.deliveries, "payslip_deliveries_finish", dying_batch)
    job = job_create(
        company=company,
        kind="kivra_dispatch",
        parameters={"payment_date": "2026-01-25", "chunk_size": 3},
    )
    with pytest.raises(WorkerKilled):
        job_execute(job_id=job.pk)
    monkeypatch.setattr(services.deliveries, "payslip_deliveries_finish", real_batch)
    dead = JobChunk.objects.get(job=job, status="running")
    assert statuses()["sending"] >= 1  # sent (maybe accepted) but never recorded
    # A was another machine: its chunk is taken over only once its heartbeat is old.
    JobChunk.objects.filter(pk=dead.pk).update(worker="worker-a:1")
    claimed = _chunk_claim(job=job, worker="worker-b:1")
    assert claimed is None or claimed.pk != dead.pk
    if claimed is not None:  # the other chunk, never started: give it back
        JobChunk.objects.filter(pk=claimed.pk).update(status="queued", attempts=0)
    JobChunk.objects.filter(pk=dead.pk).update(
        heartbeat_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    job = job_chunks_drain(job_id=job.pk)
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.summary == {"sent": 4, "retained": 2}
    assert statuses() == {"sent": 4, "retained": 2}
    assert_no_duplicates(sandbox)
    assert len(sandbox.received) == 6
    assert job.log_lines.filter(message__contains="taken over").count() == 1


def test_an_unconfirmed_payslip_is_resolved_by_someone_who_looked_in_kivra(
    company, employees, sandbox, link, user
):
    make_run(company, employees[:2])
    sandbox.options["fail_content_next"] = 2  # refused before Kivra did anything
    first = dispatch(company)
    assert first.summary == {"failed": 2} and sandbox.received == []
    found, missing = PayslipDelivery.objects.order_by("pk")
    services.payslip_delivery_resolve_unconfirmed(delivery=found, user=user, delivered=True)
    services.payslip_delivery_resolve_unconfirmed(delivery=missing, user=user, delivered=False)
    found.refresh_from_db()
    assert found.status == "sent" and str(user) in found.error_message
    again = dispatch(company)
    assert again.summary == {"already_sent": 1, "sent": 1}
    assert [r["ssn"] for r in sandbox.received] == [
        missing.payslip.employee.personal_identity_number
    ]
    with pytest.raises(ValidationError):
        services.payslip_delivery_resolve_unconfirmed(delivery=found, user=user, delivered=False)


def test_resolving_needs_the_dispatch_permission(company, employees, sandbox, link, make_user):
    make_run(company, employees[:1])
    sandbox.options["fail_content_next"] = 1
    dispatch(company)
    delivery = PayslipDelivery.objects.get()
    with pytest.raises(PermissionDenied):
        services.payslip_delivery_resolve_unconfirmed(
            delivery=delivery, user=make_user(company, role="viewer"), delivered=True
        )
