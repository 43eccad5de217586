"""Pass 2 of an import (``importing``): result units, persons, then every post checked
and written in batches (PostgreSQL: ``COPY``), schedule days summed per date."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_noop

from projects.models import (
    AccountingDimension,
    AccountingDimensionValue,
    TimeRegistration,
)

from .. import codes
from ..messages import Text
from ..models import ImportedTimeRegistration, PaxmlFile, ScheduleDay
from ..models import SalaryTransaction as SalaryRow
from ..reader import PaxmlReader
from ..records import (
    COST_CENTRE_DIM,
    CodeName,
    Header,
    ResultUnit,
    SalaryTransaction,
    TimeTransaction,
)
from ..records import ScheduleDay as ScheduleRecord
from .bounds import (
    EVENT_POSTID_BASE,
    HOURS_MAX,
    HUNDREDTH,
    SALARY_BOUNDS,
)
from .import_base import Emp
from .import_match import match_salary, match_time, nyexport_remove
from .import_registers import Importer

BATCH = 2000


def _batched_insert_time(rows: list, links: list, file: PaxmlFile) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            _copy_time(rows, links, file, cursor.cursor)
        return
    company_id = file.company_id
    created = TimeRegistration.objects.bulk_create(
        [
            TimeRegistration(
                company_id=company_id,
                employee_id=emp,
                date=day,
                time_code_id=code,
                hours=hours,
                project_id=project,
                cost_center_id=cost_centre,
                internal_comment=info,
            )
            for emp, day, code, hours, project, cost_centre, info in rows
        ],
        batch_size=BATCH,
    )
    ImportedTimeRegistration.objects.bulk_create(
        [
            ImportedTimeRegistration(time_registration_id=row.pk, source_file=file, postid=postid)
            for row, postid in zip(created, links, strict=True)
        ],
        batch_size=BATCH,
    )


_TIME_COLUMNS = (
    "id",
    "company_id",
    "employee_id",
    "date",
    "time_code_id",
    "hours",
    "project_id",
    "cost_center_id",
    "internal_comment",
    "external_comment",
    "billable",
    "reviewed",
    "released_for_billing",
    "review_status",
    "created_at",
)


def _copy_time(rows: list, links: list, file: PaxmlFile, raw) -> None:
    """PostgreSQL: ids from the sequence in one query, then ``COPY`` of both tables —
    the ORM's per-object INSERT building dominates a large import otherwise. The rows go
    as COPY's text format, one string per batch (``_copy_text``). ``raw``: a psycopg
    cursor on the import's connection."""
    table = TimeRegistration._meta.db_table
    link_table = ImportedTimeRegistration._meta.db_table
    raw.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        [table, len(rows)],
    )
    ids = [row[0] for row in raw.fetchall()]
    with raw.copy(f"COPY {table} ({', '.join(_TIME_COLUMNS)}) FROM STDIN") as copy:
        copy.write(_copy_text_time(ids, rows, file.company_id))
    with raw.copy(
        f"COPY {link_table} (time_registration_id, source_file_id, postid) FROM STDIN"
    ) as copy:
        file_id = file.pk
        copy.write(
            "".join(
                f"{pk}\t{file_id}\t{NULL if postid is None else postid}\n"
                for pk, postid in zip(ids, links, strict=True)
            )
        )


NULL = "\\N"


class _CopyBehind:
    """The time rows' ``COPY`` of one batch in a second thread, on the import's own
    psycopg connection (so in its transaction), while pass 2 reads the next batch: the
    server inserts the rows and maintains the indexes on the machine's other core while
    Python parses, instead of Python waiting for each batch. One batch in flight; psycopg
    serialises the connection's use (a query of the main thread waits for the COPY), and
    whatever must see the rows written waits for them (``wait``). Only for an import
    that matches nothing against earlier rows (no history): matching reads them."""

    def __init__(self) -> None:
        connection.ensure_connection()
        self._raw = connection.connection
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paxml-copy")
        self._pending: Future | None = None

    def copy(self, rows: list, links: list, file: PaxmlFile) -> None:
        self.wait()
        self._pending = self._executor.submit(self._copy, rows, links, file)

    def _copy(self, rows: list, links: list, file: PaxmlFile) -> None:
        with self._raw.cursor() as cursor:
            _copy_time(rows, links, file, cursor)

    def wait(self) -> None:
        """Until the batch in flight is written; its error raised here, as Django's."""
        pending, self._pending = self._pending, None
        if pending is not None:
            with connection.wrap_database_errors:
                pending.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._executor.shutdown(wait=True)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text_time(ids: list[int], rows: list, company_id: int) -> str:
    """The time rows as COPY text (columns ``_TIME_COLUMNS``): ids and foreign keys are
    ints (or None), the date ISO, hours a quantized Decimal, the comment escaped."""
    # the columns after internal_comment: external_comment, billable, reviewed,
    # released_for_billing, review_status (not reviewed), created_at
    pending = TimeRegistration._meta.get_field("review_status").default
    tail = f"\t\tf\tf\tf\t{pending}\t{timezone.now().isoformat()}\n"
    return "".join(
        f"{pk}\t{company_id}\t{emp}\t{day.isoformat()}\t{code}\t{hours}\t"
        f"{NULL if project is None else project}\t"
        f"{NULL if cost_centre is None else cost_centre}\t"
        f"{info.translate(_COPY_ESCAPES)}{tail}"
        for pk, (emp, day, code, hours, project, cost_centre, info) in zip(ids, rows, strict=True)
    )


def day_hours(record: ScheduleRecord) -> Decimal | None:
    """A schedule day's hours: ``timmar``, else from its start and end."""
    if record.timmar is not None:
        return record.timmar
    if record.starttid is not None and record.sluttid is not None:
        start = dt.datetime.combine(dt.date.min, record.starttid)
        end = dt.datetime.combine(dt.date.min, record.sluttid)
        seconds = (end - start).total_seconds()
        if seconds < 0:
            seconds += 24 * 3600  # a night shift over midnight
        return (Decimal(seconds) / Decimal(3600)).quantize(HUNDREDTH)
    return None


def write_file(*, importer: Importer, file, header, persons, units, source, profile) -> None:
    """Pass 2: result units, registers, persons, then the posts in batches."""
    _write_units(importer, units)
    importer.load_registers()
    for person in persons:
        importer.apply_person(person)
        if importer.progress is not None:
            importer.progress.advance()
    if importer.problems.count:
        return  # transactions would only repeat "unknown employee" for these persons
    behind = None
    if connection.vendor == "postgresql" and not importer.history:
        behind = _CopyBehind()
    batch = _Batch(importer=importer, file=file, header=header, profile=profile, behind=behind)
    reader = PaxmlReader(
        io.BytesIO(source) if isinstance(source, bytes) else source,
        validate=False,
        profile=profile,
    )
    try:
        for record in reader:
            add = _ADD_POST.get(type(record))
            if add is not None:
                add(batch, record)
                if len(batch.time_rows) + len(batch.salary_rows) + len(batch.days) >= BATCH:
                    batch.flush()
        for (emp_id, day), parts in batch.held.items():
            merged = _merge_days(importer, importer.company, file, emp_id, day, parts)
            if merged is not None:
                batch.days[(emp_id, day)] = merged
        batch.flush()
    finally:
        if behind is not None:
            behind.close()
    if header is not None and header.nyexport is not None and importer.history:
        nyexport_remove(importer, file, *header.nyexport.period)


def _write_units(importer: Importer, units: list[ResultUnit]) -> None:
    """Result units: cost centres the file declares are created/renamed; projects are
    created only with the option to create missing entries, when a post uses them."""
    company = importer.company
    cost_dimension = AccountingDimension.objects.filter(
        company=company, sie_number=COST_CENTRE_DIM
    ).first()
    if cost_dimension is None:
        return
    for unit in units:
        if unit.dim != COST_CENTRE_DIM or unit.delete:
            continue
        value, created = AccountingDimensionValue.objects.get_or_create(
            company=company,
            dimension=cost_dimension,
            code=unit.id,
            defaults={"name": unit.namn[:200]},
        )
        if not created and value.name != unit.namn:
            value.name = unit.namn[:200]
            value.save(update_fields=["name"])
        importer.count("cost_centres_created" if created else "cost_centres_seen")
        if created:
            importer.note("cost_centre", unit.id, unit.line)


@dataclass
class _Batch:
    """The rows of pass 2 waiting to be written, and how to write them."""

    importer: Importer
    file: PaxmlFile
    header: Header | None
    profile: codes.Profile
    time_rows: list = field(default_factory=list)
    time_links: list = field(default_factory=list)
    salary_rows: list = field(default_factory=list)
    days: dict = field(default_factory=dict)  # (employee id, date) -> ScheduleDay
    # days the file gives more than once: summed, written at the end
    held: dict = field(default_factory=dict)
    behind: _CopyBehind | None = None

    def flush(self) -> None:
        importer = self.importer
        if importer.problems.count:
            self.time_rows, self.time_links, self.salary_rows = [], [], []
            self.days.clear()
            return
        time_rows, time_links, salary_rows = self.time_rows, self.time_links, self.salary_rows
        done = len(time_rows) + len(salary_rows)
        if importer.history:
            time_rows, time_links = match_time(importer, self.file, time_rows, time_links)
            salary_rows = match_salary(importer, self.file, salary_rows)
        else:
            importer.count("added", len(time_rows) + len(salary_rows))
        if time_rows:
            if self.behind is not None:
                self.behind.copy(time_rows, time_links, self.file)
            else:
                _batched_insert_time(time_rows, time_links, self.file)
            importer.count("time_registrations", len(time_rows))
        if salary_rows:
            SalaryRow.objects.bulk_create(salary_rows, batch_size=BATCH)
            importer.count("salary_transactions", len(salary_rows))
        if self.days:
            _upsert_days(self.days.values())
            importer.count("schedule_days", len(self.days))
        if importer.progress is not None:
            importer.progress.advance(done)
            importer.progress.check_cancelled()
        self.time_rows, self.time_links, self.salary_rows = [], [], []
        self.days.clear()


def _add_time(batch: _Batch, record: TimeTransaction) -> None:
    """A time post → one row per day it stands for, each checked against the employment
    period and the bounds."""
    importer = batch.importer
    emp = importer.employee_for(record, "tidtrans")
    if emp is None:
        return
    code_id = importer.time_codes.get(batch.profile.import_time_code(record.tidkod))
    if code_id is None:
        importer.problems.add_for(
            record,
            field="tidkod",
            element="tidtrans",
            message=Text(
                gettext_noop("unknown code %(c)s: not in the time-code register"), c=record.tidkod
            ),
        )
        return
    if record.resenheter:
        cost_centre, project, ok = importer.units(record, "tidtrans")
        if not ok:
            return
    else:
        cost_centre = project = None
    if record.datum is not None and record.timmar is not None:
        expanded = [(record.datum, record.timmar)]  # nearly every post: a day with hours
    else:
        expanded = _expand_time(importer, record, emp)
    for day, hours in expanded:
        if not importer.within_employment(emp, record, day, "tidtrans", "datum"):
            break
        if not (-HOURS_MAX <= hours <= HOURS_MAX):
            importer.problems.add_for(
                record,
                field="timmar",
                element="tidtrans",
                message=Text(gettext_noop("%(value)s hours on one day: more than 24"), value=hours),
            )
            break
        batch.time_rows.append(
            (
                emp.id,
                day,
                code_id,
                hours.quantize(HUNDREDTH, rounding=ROUND_HALF_UP),
                project,
                cost_centre,
                record.info,
            )
        )
        batch.time_links.append(record.postid)


def _expand_time(importer: Importer, record: TimeTransaction, emp: Emp) -> list:
    """The (day, hours) rows of a post given as a range, omfattning or start and end; a
    post that stands for no row at all is a problem (no row lost without a word)."""
    before = importer.problems.count
    expanded = importer.time_rows(record, emp)
    if not expanded and importer.problems.count == before:
        importer.problems.add_for(
            record,
            field="omfattning",
            element="tidtrans",
            message=Text(
                gettext_noop(
                    "no scheduled hours from %(first)s to %(last)s: nothing to register; "
                    "give timmar"
                ),
                first=record.first_date,
                last=record.last_date,
            ),
        )
    return expanded


def _add_salary(batch: _Batch, record: SalaryTransaction) -> None:
    """A salary post → one ``SalaryTransaction`` row, checked against the registers, the
    bounds and the employment period."""
    importer = batch.importer
    if importer.own and record.postid is not None and record.postid >= EVENT_POSTID_BASE:
        # an event line of our own export: computed from the time registrations
        importer.count("own_event_lines_skipped")
        return
    emp = importer.employee_for(record, "lonetrans")
    if emp is None:
        return
    if record.lonkod and not record.lonart and record.lonkod not in importer.salary_codes:
        importer.problems.add_for(
            record,
            field="lonkod",
            element="lonetrans",
            message=Text(
                gettext_noop("unknown code %(c)s: not in the salary-code register"), c=record.lonkod
            ),
        )
        return
    if not _salary_within_bounds(importer, record):
        return
    day = record.first_date
    if day is not None and not importer.within_employment(emp, record, day, "lonetrans", "datum"):
        return
    cost_centre, project, ok = importer.units(record, "lonetrans")
    if not ok:
        return
    header = batch.header
    batch.salary_rows.append(
        SalaryRow(
            company_id=importer.company.pk,
            employee_id=emp.id,
            salary_code=record.lonkod,
            salary_type=record.lonart,
            name=record.benamning[:200],
            comment=record.kommentar[:255],
            date=record.datum,
            date_from=_aware(record.datumfrom),
            date_to=_aware(record.datumtom),
            period_date=day
            or (header.datum.date() if header and header.datum else dt.date.today()),
            quantity=record.antal,
            unit_price=record.apris,
            amount=record.belopp,
            vat=record.moms,
            product_group=record.varugrupp[:40],
            account=record.kontonr[:20],
            customer=record.kundnr[:40],
            cost_center_id=cost_centre,
            project_id=project,
            source_file=batch.file,
            postid=record.postid,
        )
    )


def _add_day(batch: _Batch, record: ScheduleRecord) -> None:
    """A schedule day → one ``ScheduleDay`` per employee and date; a date the file gives
    more than once is held and summed at the end (``_merge_days``)."""
    importer = batch.importer
    emp = importer.employee_for(record, "schema")
    if emp is None:
        return
    hours = day_hours(record)
    if hours is not None and not (0 <= hours <= HOURS_MAX):
        importer.problems.add_for(
            record,
            field="timmar",
            element="dag",
            message=Text(
                gettext_noop("%(value)s scheduled hours on one day: outside 0 – 24"), value=hours
            ),
        )
        return
    file_key = (record.anstid or f"pnr:{record.persnr}", record.datum)
    if file_key in importer.duplicate_days:
        batch.held.setdefault((emp.id, record.datum), []).append((record, hours))
        return
    batch.days[(emp.id, record.datum)] = ScheduleDay(
        company_id=importer.company.pk,
        employee_id=emp.id,
        date=record.datum,
        hours=record.timmar.quantize(HUNDREDTH, rounding=ROUND_HALF_UP)
        if record.timmar is not None
        else None,
        start_time=record.starttid,
        end_time=record.sluttid,
        source_file=batch.file,
    )


def _add_code_name(batch: _Batch, record: CodeName) -> None:
    batch.importer.count("code_names_read")


_ADD_POST: dict[type, Callable] = {
    TimeTransaction: _add_time,
    SalaryTransaction: _add_salary,
    ScheduleRecord: _add_day,
    CodeName: _add_code_name,
}


def _merge_days(importer, company, file, emp_id, day, parts) -> ScheduleDay | None:
    """Two or more schedule days for one employee on one date (a split shift): one row
    with the summed hours, from the earliest start to the latest end, and a log line."""
    hours = sum((h for _r, h in parts if h is not None), Decimal(0))
    first = parts[0][0]
    lines = ", ".join(str(r.line) for r, _h in parts)
    if hours > HOURS_MAX:
        importer.problems.add_for(
            first,
            field="timmar",
            element="dag",
            message=Text(
                gettext_noop("%(n)s schedule days on %(day)s (lines %(lines)s) sum to %(h)s hours"),
                n=len(parts),
                day=day,
                lines=lines,
                h=hours,
            ),
        )
        return None
    starts = [r.starttid for r, _h in parts if r.starttid is not None]
    ends = [r.sluttid for r, _h in parts if r.sluttid is not None]
    importer.count("schedule_days_merged", len(parts) - 1)
    importer.notes.append(
        Text(
            gettext_noop(
                "Employee %(e)s, %(day)s: %(n)s schedule days on one date (lines %(lines)s) "
                "summed to %(h)s hours."
            ),
            e=first.employee,
            day=day,
            n=len(parts),
            lines=lines,
            h=hours,
        )
    )
    return ScheduleDay(
        company_id=company.pk,
        employee_id=emp_id,
        date=day,
        hours=hours.quantize(HUNDREDTH, rounding=ROUND_HALF_UP),
        start_time=min(starts) if len(starts) == len(parts) else None,
        end_time=max(ends) if len(ends) == len(parts) else None,
        source_file=file,
    )


def _upsert_days(days) -> None:
    # one upsert per batch on (employee, date): the schedule of a day is one truth
    ScheduleDay.objects.bulk_create(
        list(days),
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["employee", "date"],
        update_fields=["hours", "start_time", "end_time", "source_file"],
    )


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or not settings.USE_TZ or timezone.is_aware(value):
        return value
    return timezone.make_aware(value)


def _salary_within_bounds(importer: Importer, record: SalaryTransaction) -> bool:
    ok = True
    for name, (limit, places) in SALARY_BOUNDS.items():
        value = getattr(record, name)
        if value is None:
            continue
        if abs(value) > limit:
            message = Text(
                gettext_noop("%(value)s is larger than %(max)s, more than a payroll holds"),
                value=value,
                max=limit,
            )
        elif value != value.quantize(Decimal(1).scaleb(-places)):
            message = Text(
                gettext_noop("%(value)s has more than %(n)s decimals"), value=value, n=places
            )
        else:
            continue
        importer.problems.add_for(
            record,
            field=name,
            element="lonetrans",
            message=message,
        )
        ok = False
    return ok
