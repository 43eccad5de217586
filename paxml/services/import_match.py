"""Idempotency: a batch of posts matched against the earlier rows of the same source
(by postid, else by content), and a ``nyexport``'s removals. See ``importing``."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q

from projects.models import (
    TimeRegistration,
)

from ..models import ImportedTimeRegistration, ScheduleDay
from ..models import SalaryTransaction as SalaryRow
from .bounds import (
    SELF_SOURCE,
)
from .import_registers import Importer


def raw_delete(queryset) -> int:
    """One ``DELETE`` for the queryset, without the ORM's collector (which loads every row
    and its cascade into memory). Only for models nothing else points at."""
    return queryset._raw_delete(queryset.db) or 0


def delete_time_registrations(links, *, scope=None) -> int:
    """Delete the time registrations behind ``links`` (an ``ImportedTimeRegistration``
    queryset), set-based: their "other accounting" rows, the registrations, then the links
    left without a registration among ``scope`` (``links`` unless it filters on the
    registration itself).

    The links' foreign key is checked at commit (Django declares it deferrable), so the
    registrations can go while the subquery still reads the links."""
    ids = links.values("time_registration_id")
    through = TimeRegistration.dimension_values.through
    raw_delete(through.objects.filter(timeregistration_id__in=ids))
    deleted = raw_delete(TimeRegistration.objects.filter(pk__in=ids))
    if deleted:
        orphans = (links if scope is None else scope).filter(
            ~Exists(TimeRegistration.objects.filter(pk=OuterRef("pk")))
        )
        raw_delete(orphans)
    return deleted


_TIME_FIELDS = (
    "employee_id",
    "date",
    "time_code_id",
    "hours",
    "project_id",
    "cost_center_id",
    "internal_comment",
)


_SALARY_FIELDS = (
    "employee_id",
    "salary_code",
    "salary_type",
    "name",
    "comment",
    "date",
    "date_from",
    "date_to",
    "quantity",
    "unit_price",
    "amount",
    "vat",
    "product_group",
    "account",
    "customer",
    "cost_center_id",
    "project_id",
)


def _norm_value(value):
    if isinstance(value, Decimal):
        return value.normalize() if value else Decimal(0)
    if value is None:
        return ""
    return value


def _content(values) -> tuple:
    return tuple(_norm_value(v) for v in values)


def _pair_by_content(
    importer: Importer, plain: list[int], keys: list, pool: dict, *, relink: list, insert: list
) -> None:
    """Posts without a postid: one earlier row of the same source with the same content is
    kept (relinked, counted unchanged) per post; the others are added."""
    for i in plain:
        same = pool.get(keys[i])
        if same:
            relink.append(same.pop())
            importer.count("unchanged")
        else:
            importer.count("added")
            insert.append(i)


def _pair(importer: Importer, new_by_pid: dict, old_by_pid: dict, keys: list) -> tuple:
    """Per postid: the same rows again → unchanged (the old rows are kept), else the old
    rows go and the new ones come. Returns (indexes to insert, old ids to keep, to delete)."""
    insert, keep, delete = [], [], []
    for pid, new in new_by_pid.items():
        old = old_by_pid.get(pid, [])
        if old and Counter(keys[i] for i in new) == Counter(key for _pk, key in old):
            importer.count("unchanged", len(new))
            keep.extend(pk for pk, _key in old)
            continue
        delete.extend(pk for pk, _key in old)
        paired = min(len(old), len(new))
        importer.count("replaced", paired)
        importer.count("added", len(new) - paired)
        importer.count("removed", len(old) - paired)
        insert.extend(new)
    return insert, keep, delete


def match_time(importer: Importer, file, rows: list, links: list) -> tuple[list, list]:
    """Match a batch of time rows against the rows of the file's source; returns the rows
    (and their postids) still to insert. Kept rows are linked to this file (so a
    ``nyexport`` keeps them and a later batch does not match them again); replaced rows
    are deleted."""
    keys = [(*_content(row[:6]), row[6] or "") for row in rows]
    new_by_pid: dict[int, list[int]] = defaultdict(list)
    plain: list[int] = []
    for i, pid in enumerate(links):
        (plain if pid is None else new_by_pid[pid]).append(i)
    old_by_pid: dict[int, list] = defaultdict(list)
    relink: list[int] = []
    if new_by_pid:
        pids = list(new_by_pid)
        if importer.own:
            # postids of our own export are row ids; rows it replaced before carry the
            # postid in their link
            found = (
                TimeRegistration.objects.filter(company=importer.company)
                .filter(
                    Q(pk__in=pids)
                    | Q(
                        paxml_source__source_file__source=SELF_SOURCE,
                        paxml_source__source_file__company=importer.company,
                        paxml_source__postid__in=pids,
                    )
                )
                .exclude(paxml_source__source_file=file)
                .values_list("pk", *_TIME_FIELDS, "paxml_source__postid")
            )
            for pk, *values, link_pid in found:
                pid = pk if pk in new_by_pid else link_pid
                old_by_pid[pid].append((pk, (*_content(values[:6]), values[6] or "")))
        else:
            found = (
                ImportedTimeRegistration.objects.filter(
                    source_file__company=importer.company,
                    source_file__source=importer.source,
                    postid__in=pids,
                )
                .exclude(source_file=file)
                .values_list(
                    "postid",
                    "time_registration_id",
                    *(f"time_registration__{name}" for name in _TIME_FIELDS),
                )
            )
            for pid, pk, *values in found:
                old_by_pid[pid].append((pk, (*_content(values[:6]), values[6] or "")))
    insert, keep, delete = _pair(importer, new_by_pid, old_by_pid, keys)
    relink.extend(keep)
    if plain:
        found = (
            ImportedTimeRegistration.objects.filter(
                source_file__company=importer.company,
                source_file__source=importer.source,
                postid=None,
                time_registration__employee_id__in={rows[i][0] for i in plain},
                time_registration__date__in={rows[i][1] for i in plain},
            )
            .exclude(source_file=file)
            .values_list(
                "time_registration_id", *(f"time_registration__{name}" for name in _TIME_FIELDS)
            )
        )
        pool: dict[tuple, list[int]] = defaultdict(list)
        for pk, *values in found:
            pool[(*_content(values[:6]), values[6] or "")].append(pk)
        _pair_by_content(importer, plain, keys, pool, relink=relink, insert=insert)
    if delete:
        delete_time_ids(delete)
    if relink:
        ImportedTimeRegistration.objects.filter(
            time_registration_id__in=relink, source_file__source=importer.source
        ).update(source_file=file)
    insert.sort()
    return [rows[i] for i in insert], [links[i] for i in insert]


def match_salary(importer: Importer, file, rows: list) -> list:
    """As :func:`match_time`, for salary transactions (postid on the row itself)."""
    keys = [_content(getattr(row, name) for name in _SALARY_FIELDS) for row in rows]
    new_by_pid: dict[int, list[int]] = defaultdict(list)
    plain: list[int] = []
    for i, row in enumerate(rows):
        (plain if row.postid is None else new_by_pid[row.postid]).append(i)
    earlier = SalaryRow.objects.filter(company=importer.company).exclude(source_file=file)
    old_by_pid: dict[int, list] = defaultdict(list)
    if new_by_pid:
        pids = list(new_by_pid)
        if importer.own:
            found = earlier.filter(
                Q(pk__in=pids) | Q(source_file__source=SELF_SOURCE, postid__in=pids)
            ).values_list("pk", "postid", *_SALARY_FIELDS)
            for pk, postid, *values in found:
                pid = pk if pk in new_by_pid else postid
                old_by_pid[pid].append((pk, _content(values)))
        else:
            found = earlier.filter(
                source_file__source=importer.source, postid__in=pids
            ).values_list("pk", "postid", *_SALARY_FIELDS)
            for pk, postid, *values in found:
                old_by_pid[postid].append((pk, _content(values)))
    insert, relink, delete = _pair(importer, new_by_pid, old_by_pid, keys)
    if plain:
        found = earlier.filter(
            source_file__source=importer.source,
            postid=None,
            employee_id__in={rows[i].employee_id for i in plain},
            period_date__in={rows[i].period_date for i in plain},
        ).values_list("pk", *_SALARY_FIELDS)
        pool: dict[tuple, list[int]] = defaultdict(list)
        for pk, *values in found:
            pool[_content(values)].append(pk)
        _pair_by_content(importer, plain, keys, pool, relink=relink, insert=insert)
    if delete:
        raw_delete(SalaryRow.objects.filter(pk__in=delete))
    if relink:
        SalaryRow.objects.filter(pk__in=relink, source_file__source=importer.source).update(
            source_file=file
        )
    insert.sort()
    return [rows[i] for i in insert]


def nyexport_remove(importer: Importer, file, start: dt.date, end: dt.date) -> None:
    """``nyexport``: the source's rows in the period that this file no longer has go."""
    company = importer.company
    scope = ImportedTimeRegistration.objects.filter(
        source_file__company=company, source_file__source=importer.source
    ).exclude(source_file=file)
    links = scope.filter(time_registration__date__gte=start, time_registration__date__lte=end)
    removed = delete_time_registrations(links, scope=scope)
    removed += raw_delete(
        SalaryRow.objects.filter(
            company=company,
            source_file__source=importer.source,
            period_date__gte=start,
            period_date__lte=end,
        ).exclude(source_file=file)
    )
    importer.count("removed", removed)
    days = raw_delete(
        ScheduleDay.objects.filter(
            company=company,
            source_file__source=importer.source,
            date__gte=start,
            date__lte=end,
        ).exclude(source_file=file)
    )
    if days:
        importer.count("schedule_days_removed", days)


def delete_time_ids(ids: list[int]) -> None:
    through = TimeRegistration.dimension_values.through
    raw_delete(through.objects.filter(timeregistration_id__in=ids))
    raw_delete(ImportedTimeRegistration.objects.filter(time_registration_id__in=ids))
    raw_delete(TimeRegistration.objects.filter(pk__in=ids))
