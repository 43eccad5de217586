"""The checks of an export before and while it writes (``exporting``): nothing outside the
employment period and a PAXml code on every exported time code (any error: no file); rows
that cannot be written — a value beyond the import bounds, a cost-centre or project code
longer than ``resenhet/@id`` holds — are left out and named, the rest is written."""

from __future__ import annotations

from django.db.models import Count, F, Q
from django.utils.translation import gettext_noop, ngettext_lazy

from projects.selectors import PAXML_UNIT_ID_MAX as UNIT_ID_MAX

from ..messages import Text
from ..records import COST_CENTRE_DIM, PROJECT_DIM
from ..validation import Problem
from .bounds import AMOUNT_MAX, HOURS_MAX, QUANTITY_MAX, UNIT_PRICE_MAX


def export_problems(regs, salaries) -> list[Problem]:
    """What refuses the whole export: rows outside the employment period (the first 200
    of each kind) and time codes without a PAXml code."""
    problems = _outside(regs, "date", "tidtrans") + _outside(salaries, "period_date", "lonetrans")
    for code, name in (
        regs.filter(time_code__paxml_code="")
        .values_list("time_code__code", "time_code__name")
        .distinct()
    ):
        problems.append(
            Problem(
                line=0,
                element="tidtrans",
                field="tidkod",
                message=Text(
                    gettext_noop("time code %(c)s (%(n)s) has no PAXml code"), c=code, n=name
                ),
            )
        )
    return problems


def _outside(model_rows, date_field: str, label: str) -> list[Problem]:
    bad = model_rows.filter(
        Q(**{f"{date_field}__lt": F("employee__employment_start_date")})
        | Q(**{f"{date_field}__gt": F("employee__employment_end_date")})
    )
    # Counted first, unordered: one hash join over the period's rows. The first 200 in
    # the model's order (a limit over a sort) make the planner walk the rows by date and
    # look up each one's employee, five times slower when — as nearly always — none is bad.
    if not bad.order_by().aggregate(n=Count("pk"))["n"]:
        return []
    bad = bad.values_list("employee__employee_number", date_field)
    return [
        Problem(
            line=0,
            employee=number,
            element=label,
            field=date_field,
            message=Text(gettext_noop("registration outside the employment period: %(d)s"), d=day),
        )
        for number, day in bad[:200]
    ]


def leave_out_out_of_bounds(left_out: LeftOut, regs, salaries) -> tuple:
    """(regs, salaries) without the rows whose values are beyond the import bounds, each
    named in ``left_out``."""
    bad_time = set(
        regs.filter(Q(hours__gt=HOURS_MAX) | Q(hours__lt=-HOURS_MAX)).values_list("pk", flat=True)[
            :10_000
        ]
    )
    for number, day in regs.filter(pk__in=bad_time).values_list(
        "employee__employee_number", "date"
    ):
        left_out.add("timmar", Text(gettext_noop("hours out of bounds")), number, day, "tidtrans")
    bad_salary: set[int] = set()
    for name, limit in (
        ("amount", AMOUNT_MAX),
        ("vat", AMOUNT_MAX),
        ("quantity", QUANTITY_MAX),
        ("unit_price", UNIT_PRICE_MAX),
    ):
        for pk, number, day in salaries.filter(
            Q(**{f"{name}__gt": limit}) | Q(**{f"{name}__lt": -limit})
        ).values_list("pk", "employee__employee_number", "period_date")[:10_000]:
            bad_salary.add(pk)
            left_out.add(name, Text(gettext_noop("value out of bounds")), number, day, "lonetrans")
    if bad_time:
        regs = regs.exclude(pk__in=bad_time)
    if bad_salary:
        salaries = salaries.exclude(pk__in=bad_salary)
    return regs, salaries


class LeftOut:
    """Rows left out of the file, grouped by reason: one problem per code (or field)
    naming the rows (employee and day, the first ten)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        self.count = 0
        # (field, reason's text, element) -> (reason, rows)
        self.groups: dict[tuple[str, str, str], tuple[Text, list]] = {}

    def add(self, field: str, reason: Text, number: str, day, element: str) -> None:
        self.count += 1
        _reason, rows = self.groups.setdefault((field, str(reason), element), (reason, []))
        rows.append(f"{number} {day}")

    def finish(self) -> None:
        for (name, _text, element), (reason, rows) in self.groups.items():
            shown: str | Text = ", ".join(rows[:10])
            if len(rows) > 10:
                shown = Text(
                    gettext_noop("%(lines)s and %(n)s more"), lines=shown, n=len(rows) - 10
                )
            self.problems.append(
                Problem(
                    line=0,
                    element=element,
                    field=name,
                    message=Text.of(
                        _ROWS_NOT_EXPORTED, {"reason": reason, "n": len(rows), "rows": shown}
                    ),
                )
            )


# ngettext_lazy so that makemessages keeps the plural; Text.of keeps both msgids.
_ROWS_NOT_EXPORTED = ngettext_lazy(
    "%(reason)s: %(n)s row not exported (employee, day: %(rows)s)",
    "%(reason)s: %(n)s rows not exported (employee, day: %(rows)s)",
    "n",
)


def result_units(left_out: LeftOut, cc: str | None, project: str | None, number, day, element):
    """The ``resenheter`` of a row, or None (and the row named) when a code is longer than
    ``resenhet/@id`` holds."""
    units = []
    for dim, code in ((COST_CENTRE_DIM, cc), (PROJECT_DIM, project)):
        if not code:
            continue
        if len(code) > UNIT_ID_MAX:
            left_out.add(
                f"resenhet dim {dim}",
                Text(
                    gettext_noop("code %(c)s is longer than the 10 characters PAXml allows"), c=code
                ),
                number,
                day,
                element,
            )
            return None
        units.append((dim, code))
    return tuple(units)
