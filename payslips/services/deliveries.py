"""The outbox of payslip deliveries: the status machine, under the row lock.

READY → SENDING (claimed by a job) → SENT / RETAINED / KIVRA_PRINTING / RETAIN_REFUSED /
PRINTED / FAILED; a status moves only here, under ``select_for_update``.
"""

from __future__ import annotations

import datetime
import hashlib

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.selectors import user_has_company_perm
from flexbridge.bulk import bulk_insert
from integrations.clients.base import OutsideSystemError
from jobs.models import Job

from ..models import Payslip, PayslipDelivery

Status = PayslipDelivery.Status
Channel = PayslipDelivery.Channel
# Channels whose deliveries are sent to Kivra (READY → SENDING → final).
SENT_CHANNELS = (Channel.KIVRA, Channel.KIVRA_PRINT)
# A SENDING row claimed by another job that has not moved for this long is taken over.
STALE_CLAIM = datetime.timedelta(minutes=10)


def payslip_delivery_create(
    *, payslip: Payslip, channel: str, body: bytes, retain: bool = False, job: Job | None = None
) -> PayslipDelivery:
    """The READY outbox row with the exact bytes to send; the existing row if there is one."""
    with transaction.atomic():
        delivery, _created = PayslipDelivery.objects.get_or_create(
            payslip=payslip,
            channel=channel,
            defaults={
                "company_id": payslip.company_id,
                "request_body": body,
                "request_sha256": hashlib.sha256(body).hexdigest(),
                "retain": retain,
                "job": job,
            },
        )
    return delivery


def payslip_deliveries_create(
    *, rows: list[tuple[Payslip, bytes, bool]], job: Job | None = None
) -> dict[int, PayslipDelivery]:
    """:func:`payslip_delivery_create` on the Kivra channel for a batch of ``(payslip,
    body, retain)``: one INSERT that leaves alone the rows that exist already (the unique
    key; e.g. another job was first: its row and bytes are the ones used) and one SELECT.
    Returns ``{payslip_id: delivery}`` (``request_body`` deferred)."""
    if not rows:
        return {}
    with transaction.atomic():
        bulk_insert(
            [
                PayslipDelivery(
                    company_id=payslip.company_id,
                    payslip=payslip,
                    channel=Channel.KIVRA,
                    request_body=body,
                    request_sha256=hashlib.sha256(body).hexdigest(),
                    retain=retain,
                    job=job,
                )
                for payslip, body, retain in rows
            ],
            ignore_conflicts=True,
        )
        return {
            d.payslip_id: d
            for d in PayslipDelivery.objects.filter(
                payslip_id__in=[payslip.pk for payslip, _body, _retain in rows],
                channel=Channel.KIVRA,
            ).defer("request_body")
        }


def payslip_delivery_rebuild(
    *, delivery: PayslipDelivery, body: bytes, retain: bool
) -> PayslipDelivery | None:
    """New bytes for a delivery Kivra definitely refused (FAILED): back to READY."""
    with transaction.atomic():
        locked = PayslipDelivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.status != Status.FAILED:
            return None
        locked.request_body = body
        locked.request_sha256 = hashlib.sha256(body).hexdigest()
        locked.retain = retain
        locked.status = Status.READY
        locked.save(
            update_fields=["request_body", "request_sha256", "retain", "status", "updated_at"]
        )
    return locked


def payslip_delivery_claim(*, delivery_id: int, job: Job) -> bytes | None:
    """READY/SENDING → SENDING for ``job``; the bytes to send, or None if it must not be sent
    (finished, or being sent right now by another live job)."""
    with transaction.atomic():
        delivery = PayslipDelivery.objects.select_for_update().get(pk=delivery_id)
        if delivery.status not in (Status.READY, Status.SENDING):
            return None
        if (
            delivery.status == Status.SENDING
            and delivery.job_id not in (None, job.pk)
            and delivery.updated_at > timezone.now() - STALE_CLAIM
            and Job.objects.filter(pk=delivery.job_id, status=Job.Status.RUNNING).exists()
        ):
            return None
        delivery.mark_sending(job=job)
        return bytes(delivery.request_body)


def payslip_delivery_finish(
    *,
    delivery_id: int,
    status: str,
    objkey: str = "",
    correlation_id: str = "",
    error_code: str = "",
    error_message: str = "",
) -> bool:
    """SENDING/READY → a final status. False if the row had already moved on."""
    with transaction.atomic():
        delivery = PayslipDelivery.objects.select_for_update().get(pk=delivery_id)
        # Kivra: READY → SENDING → final. Print: READY → PRINTED/FAILED (no call to make).
        allowed = Status.SENDING if delivery.channel in SENT_CHANNELS else Status.READY
        if delivery.status != allowed:
            return False
        delivery.status = status
        delivery.kivra_objkey = objkey
        delivery.correlation_id = correlation_id
        delivery.error_code = error_code
        delivery.error_message = error_message
        delivery.finished_at = timezone.now()
        delivery.save(update_fields=list(FINISH_FIELDS))
    return True


def payslip_delivery_note_unconfirmed(*, delivery_id: int, error: OutsideSystemError) -> None:
    """Kivra never confirmed the send: it stays SENDING so the next run resends its bytes."""
    PayslipDelivery.objects.filter(pk=delivery_id, status=Status.SENDING).update(
        error_code=error.code or "",
        error_message=str(error)[:2000],
        correlation_id=error.correlation_id or "",
        updated_at=timezone.now(),
    )


def payslip_delivery_resolve_unconfirmed(
    *, delivery: PayslipDelivery, user, delivered: bool
) -> PayslipDelivery:
    """An unconfirmed Kivra delivery (sent, no answer, no duplicate control to resend on)
    after someone looked in Kivra: ``delivered`` → SENT; not there → READY, so the next
    dispatch sends the stored bytes once more. Who decided is kept in the error text."""
    if not user_has_company_perm(
        user=user, perm="companies.run_kivra_dispatch", company=delivery.company
    ):
        raise PermissionDenied(_("You may not send payslips to Kivra."))
    with transaction.atomic():
        locked = PayslipDelivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.channel not in SENT_CHANNELS or locked.status != Status.SENDING:
            raise ValidationError(
                _("Only a Kivra delivery that was not confirmed can be resolved.")
            )
        note = (
            _("Confirmed delivered in Kivra by %(user)s.")
            if delivered
            else _("Not found in Kivra by %(user)s: sent again by the next dispatch.")
        ) % {"user": user}
        locked.status = Status.SENT if delivered else Status.READY
        locked.error_message = note
        locked.finished_at = timezone.now() if delivered else None
        locked.save(update_fields=["status", "error_message", "finished_at", "updated_at"])
    return locked


def payslip_deliveries_claim(*, delivery_ids: list[int], job: Job) -> dict[int, bytes]:
    """:func:`payslip_delivery_claim` for a chunk in one transaction: the rows locked
    together, the claims written with one bulk update. Returns ``{id: bytes to send}`` for
    the rows claimed; the others must not be sent now."""
    if not delivery_ids:
        return {}
    now = timezone.now()
    ids = sorted(set(delivery_ids))
    meta = PayslipDelivery._meta
    quote = connection.ops.quote_name
    column = {
        name: quote(meta.get_field(name).column)
        for name in ("status", "job", "updated_at", "request_body", "attempts")
    }
    pk, table = quote(meta.pk.column), quote(meta.db_table)
    marks = ", ".join(["%s"] * len(ids))
    lock = (
        " " + connection.ops.for_update_sql() if connection.features.has_select_for_update else ""
    )
    updated_at = meta.get_field("updated_at")
    # select_for_update and a plain UPDATE, as plain SQL (run once per chunk; the ORM's
    # query compilation was most of its CPU).
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {pk}, {column['status']}, {column['job']}, {column['updated_at']}, "  # noqa: S608
                f"{column['request_body']} FROM {table} WHERE {pk} IN ({marks}) "
                f"AND {column['status']} IN (%s, %s) ORDER BY {pk}{lock}",
                [*ids, Status.READY, Status.SENDING],
            )
            rows = [
                (row_pk, status, job_id, _aware(stamp), body)
                for row_pk, status, job_id, stamp, body in cursor.fetchall()
            ]
        others = {
            job_id
            for _pk, status, job_id, stamp, _body in rows
            if status == Status.SENDING
            and job_id not in (None, job.pk)
            and stamp > now - STALE_CLAIM
        }
        live = (
            set(
                Job.objects.filter(pk__in=others, status=Job.Status.RUNNING).values_list(
                    "pk", flat=True
                )
            )
            if others
            else set()
        )
        claimed = [
            (row_pk, body)
            for row_pk, status, job_id, stamp, body in rows
            if not (status == Status.SENDING and job_id in live and stamp > now - STALE_CLAIM)
        ]
        if claimed:
            # Every claimed row gets the same values: one plain UPDATE (under the row lock).
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET {column['status']} = %s, "  # noqa: S608
                    f"{column['attempts']} = {column['attempts']} + 1, {column['job']} = %s, "
                    f"{column['updated_at']} = %s WHERE {pk} IN "
                    f"({', '.join(['%s'] * len(claimed))})",
                    [
                        Status.SENDING,
                        job.pk,
                        updated_at.get_db_prep_save(now, connection),
                        *(row_pk for row_pk, _body in claimed),
                    ],
                )
    return {row_pk: bytes(body) for row_pk, body in claimed}


def _aware(stamp):
    """A timestamp read by plain SQL as the ORM would return it (SQLite gives strings)."""
    if isinstance(stamp, str):
        stamp = datetime.datetime.fromisoformat(stamp)
    if settings.USE_TZ and timezone.is_naive(stamp):
        stamp = timezone.make_aware(stamp, datetime.UTC)
    return stamp


def payslip_deliveries_finish(*, results: list[dict]) -> set[int]:
    """:func:`payslip_delivery_finish` for a chunk (dicts of its keyword arguments) in one
    transaction, under one row lock, with one bulk update. Returns the ids that moved."""
    if not results:
        return set()
    now = timezone.now()
    by_id = {r["delivery_id"]: r for r in results}
    ids = sorted(by_id)
    meta = PayslipDelivery._meta
    quote = connection.ops.quote_name
    # The row lock as select_for_update takes it (ids in order), written as plain SQL: this
    # runs once per handful of answers, and the ORM's query compilation cost more CPU than
    # the statement. No savepoint: an error propagates and the caller's transaction (or
    # this one) rolls back.
    lock = (
        " " + connection.ops.for_update_sql() if connection.features.has_select_for_update else ""
    )
    sql = "SELECT {pk}, {channel}, {status} FROM {table} WHERE {pk} IN ({ids}) ORDER BY {pk}{lock}".format(  # noqa: S608,E501 - names from _meta, ids as parameters
        pk=quote(meta.pk.column),
        channel=quote(meta.get_field("channel").column),
        status=quote(meta.get_field("status").column),
        table=quote(meta.db_table),
        ids=", ".join(["%s"] * len(ids)),
        lock=lock,
    )
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute(sql, ids)
            locked = cursor.fetchall()
        moved = []
        for pk, channel, status in locked:
            allowed = Status.SENDING if channel in SENT_CHANNELS else Status.READY
            if status != allowed:
                continue
            result = by_id[pk]
            moved.append(
                (
                    result["status"],
                    result.get("objkey", ""),
                    result.get("correlation_id", ""),
                    result.get("error_code", ""),
                    result.get("error_message", ""),
                    pk,
                )
            )
        _update_finished(moved, now)
    return {row[-1] for row in moved}


# The fields a finished delivery has written (one at a time, or many in one UPDATE).
FINISH_FIELDS = (
    "status",
    "kivra_objkey",
    "correlation_id",
    "error_code",
    "error_message",
    "finished_at",
    "updated_at",
)


def _update_finished(rows: list[tuple], now) -> None:
    """Write the finish of ``rows`` (``(status, objkey, correlation_id, error_code,
    error_message, pk)``) with one parametrised ``UPDATE ... WHERE id = %s`` run by
    ``executemany``: what ``bulk_update`` does, without building a ``CASE`` per field
    (which cost more than the round trip for the few rows a finish writes)."""
    if not rows:
        return
    meta = PayslipDelivery._meta
    quote = connection.ops.quote_name
    sql = "UPDATE {} SET {} WHERE {} = %s".format(  # noqa: S608 - names from _meta
        quote(meta.db_table),
        ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in FINISH_FIELDS),
        quote(meta.pk.column),
    )
    stamp = meta.get_field("finished_at").get_db_prep_save(now, connection)
    params = [(*row[:5], stamp, stamp, row[5]) for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
