"""``{{ record.history_change_reason|history_reason }}``: a stored reason in the reader's
language (:mod:`employees.history_reasons`)."""

from django import template

from employees.history_reasons import history_reason_text

register = template.Library()


@register.filter(name="history_reason")
def history_reason_filter(stored: str | None) -> str:
    return history_reason_text(stored)
