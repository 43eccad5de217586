"""``paxml.messages.Text``: a message kept as msgid and parameters, rendered in any
language, nested texts included."""

import datetime as dt
import json
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext_noop

from paxml.messages import Text, map_strings, render


def test_a_text_renders_in_the_active_language_and_again_from_its_data():
    text = Text(gettext_noop("unknown code %(c)s: not in the time-code register"), c="XYZ")
    with translation.override("sv"):
        swedish = str(text)
    data = json.loads(json.dumps(text.as_data()))  # what a job log stores
    with translation.override("en"):
        assert render(data) == "unknown code XYZ: not in the time-code register"
    assert swedish != render(data) and "XYZ" in swedish


def test_nested_texts_plurals_and_brace_templates():
    kind = Text(gettext_noop("project"))
    more = Text(gettext_noop("%(lines)s and %(n)s more"), lines="5, 6", n=3)
    created = Text(
        gettext_noop("Created %(kind)s %(value)s (line %(line)s)."), kind=kind, value="P", line=8
    )
    plural = Text(
        gettext_noop("%(reason)s: %(n)s row not exported (employee, day: %(rows)s)"),
        plural="%(reason)s: %(n)s rows not exported (employee, day: %(rows)s)",
        count="n",
        reason=Text(gettext_noop("hours out of bounds")),
        n=2,
        rows=more,
    )
    example = Text(gettext_noop("expected {t}, got '{v}'"), brace=True, t="xs:int", v="x")
    with translation.override("en"):
        assert str(created) == "Created project P (line 8)."
        assert (
            str(plural)
            == "hours out of bounds: 2 rows not exported (employee, day: 5, 6 and 3 more)"
        )
        assert str(example) == "expected xs:int, got 'x'"
    with translation.override("sv"):
        assert str(created) == "Skapade projekt P (rad 8)."
        assert str(more) == "5, 6 och 3 till"


def test_dates_and_decimals_are_stored_as_text_and_strings_can_be_masked():
    text = Text(gettext_noop("%(value)s hours on one day: more than 24"), value=Decimal("25.50"))
    assert text.as_data()["args"] == {"value": "25.50"}
    day = Text(
        gettext_noop("no schedule for %(day)s: give timmar, or schedule days for the employee"),
        day=dt.date(2024, 3, 9),
    )
    assert day.as_data()["args"]["day"] == "2024-03-09"
    masked = map_strings(
        Text(gettext_noop("a new employee needs %(f)s"), f="secret").as_data(), str.upper
    )
    assert masked["msgid"] == "a new employee needs %(f)s" and masked["args"]["f"] == "SECRET"
