import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation
from stdnum import luhn

from paxml import codes
from paxml.messages import render
from paxml.reader import read_records
from paxml.records import TimeTransaction
from paxml.validation import (
    RuleChecker,
    _explain,
    _time_extent,
    _time_form,
    persnr_valid,
    xsd_validate_document,
)
from tests.paxml.helpers import doc, tidtrans


def _problems(data: bytes, **kwargs):
    _records, reader = read_records(data, **kwargs)
    return reader.problems


def test_official_example_is_valid(samples):
    path = samples / "official-example-2.0.pax"
    assert _problems(path) == []
    assert xsd_validate_document(str(path)) == []


def test_invalid_persnr_sample_names_line_and_field(samples):
    problems = _problems(samples / "invalid-persnr-10-digits.xml")
    assert [(p.line, p.element, p.field) for p in problems] == [
        (7, "lonetrans", "@persnr"),
        (14, "person", "@persnr"),
    ]
    text = str(problems[0])
    assert text.startswith("line 7, lonetrans, field @persnr, employee 1:")
    assert "expected at least 12 characters, got 10" in text
    assert "1122334455" not in text  # masked


def test_invalid_tidpunkt_sample_names_line_and_field(samples):
    problems = _problems(samples / "invalid-tidpunkt-with-zone.xml")
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.line, problem.element, problem.field) == (19, "resetrans/tidpunkt", "tidpunkt")
    assert "expected xs:dateTime" in problem.message
    assert "2012-04-01T08:00+02:00[Europe/Stockholm]" in problem.message
    # the whole-document check agrees
    assert [
        p.line for p in xsd_validate_document(str(samples / "invalid-tidpunkt-with-zone.xml"))
    ] == [19]


@pytest.mark.parametrize(
    ("inner", "attrs", "field", "message"),
    [
        ("<tidkod>SJK</tidkod><datum>2024-01-02</datum>", "", "@anstid", "anstid or persnr"),
        (
            "<tidkod>SJK</tidkod><datumfrom>2024-01-02</datumfrom><datumtom>2024-01-03</datumtom>"
            "<timmar>8</timmar><omfattning>50</omfattning>",
            'anstid="1"',
            "timmar",
            "timmar only with a single datum",
        ),
        (
            "<tidkod>SJK</tidkod><datumfrom>2024-01-02</datumfrom><datumtom>2024-01-03</datumtom>",
            'anstid="1"',
            "omfattning",
            "a date range only with omfattning",
        ),
        (
            "<tidkod>ARB</tidkod><datum>2024-01-02</datum><omfattning>50</omfattning>",
            'anstid="1"',
            "tidkod",
            "attendance (ARB) is always given in hours",
        ),
        (
            "<tidkod>ARB</tidkod><datum>2024-01-02</datum>",
            'anstid="1"',
            "timmar",
            "needs timmar",
        ),
        (
            "<tidkod>SJK</tidkod><datum>2024-01-02</datum>",
            'anstid="1" persnr="198210101238"',
            "@persnr",
            "valid check digit",
        ),
        (
            "<tidkod>SJK</tidkod>",
            'anstid="1"',
            "datum",
            "expected datum, datumfrom+datumtom or starttid+sluttid",
        ),
        (
            "<tidkod>OB1</tidkod><starttid>2024-01-02T18:00:00</starttid>"
            "<sluttid>2024-01-02T17:00:00</sluttid>",
            'anstid="1"',
            "sluttid",
            "after starttid",
        ),
    ],
)
def test_spec_rules(inner, attrs, field, message):
    problems = _problems(doc(tidtrans(inner, attrs)))
    assert len(problems) >= 1
    assert problems[0].line == 5
    assert problems[0].field == field
    assert message in problems[0].message


@pytest.mark.parametrize("value", ["0", "100.5", "-5"])
def test_omfattning_range_is_enforced(value):
    inner = f"<tidkod>SJK</tidkod><datum>2024-01-02</datum><omfattning>{value}</omfattning>"
    problems = _problems(doc(tidtrans(inner)))
    assert problems and problems[0].line == 5
    assert "omfattning" in problems[0].field


def test_valid_time_forms_pass():
    body = (
        "<tidtransaktioner>\n"
        '<tidtrans anstid="1"><tidkod>SJK</tidkod><datum>2024-01-02</datum></tidtrans>\n'
        '<tidtrans anstid="1"><tidkod>ARB</tidkod><datum>2024-01-02</datum><timmar>8</timmar>'
        "</tidtrans>\n"
        '<tidtrans anstid="1"><tidkod>OB1</tidkod><starttid>2024-01-02T18:00:00</starttid>'
        "<sluttid>2024-01-02T21:00:00</sluttid></tidtrans>\n"
        '<tidtrans persnr="198210101237"><tidkod>VAB</tidkod><datumfrom>2024-01-02</datumfrom>'
        "<datumtom>2024-01-04</datumtom><omfattning>50</omfattning></tidtrans>\n"
        "</tidtransaktioner>\n"
    )
    records, reader = read_records(doc(body))
    assert reader.ok, reader.problems
    assert len(records) == 5


def test_persnr_must_match_anstid_across_the_file():
    body = (
        "<personal>\n"
        '<person anstid="1" persnr="198210101237"><fornamn>A</fornamn></person>\n'
        "</personal>\n"
        "<lonetransaktioner>\n"
        '<lonetrans anstid="1" persnr="198001011231"><lonkod>BONUS</lonkod></lonetrans>\n'
        "</lonetransaktioner>\n"
    )
    problems = _problems(doc(body))
    assert len(problems) == 1
    assert problems[0].line == 8 and problems[0].field == "@persnr"
    assert "does not match anstid 1: line 5" in problems[0].message


def test_salary_needs_lonkod_or_lonart():
    problems = _problems(
        doc(
            '<lonetransaktioner><lonetrans anstid="1"><antal>1</antal></lonetrans>'
            "</lonetransaktioner>"
        )
    )
    assert [(p.field, p.message) for p in problems] == [("lonkod", "lonkod or lonart is required")]


def test_unknown_code_and_unknown_element_are_schema_errors():
    problems = _problems(
        doc(tidtrans("<tidkod>XYZ</tidkod><datum>2024-01-02</datum><farg>blå</farg>"))
    )
    messages = " | ".join(str(p) for p in problems)
    assert "got 'XYZ'" in messages
    assert "farg" in messages
    assert all(p.line == 5 for p in problems)


def _in(language: str, problem) -> str:
    with translation.override(language):
        return render(problem.text.as_data())


def test_schema_errors_are_told_by_kind_in_our_words_in_either_language():
    """libxml2's error kinds (not its English text) choose our message; the value is a
    parameter, the place is the problem's own."""
    problems = _problems(
        doc(tidtrans("<tidkod>XYZ</tidkod><datum>2024-01-02</datum><farg>blå</farg>"))
    )
    by_element = {p.element: p for p in problems}
    code, unknown = by_element["tidtrans/tidkod"], by_element["tidtrans/farg"]
    assert _in("en", code) == (
        "not valid against the PAXml 2.0 schema: expected one of the codes of the PAXml 2.0 "
        "code list, got 'XYZ'"
    )
    assert _in("sv", code) == (
        "inte giltig enligt PAXml 2.0-schemat: förväntade en av koderna i PAXml "
        "2.0-kodlistan, fick 'XYZ'"
    )
    assert _in("en", unknown) == (
        "not valid against the PAXml 2.0 schema: the element is not expected here"
    )
    assert _in("sv", unknown) == "inte giltig enligt PAXml 2.0-schemat: elementet väntas inte här"


def test_a_missing_child_and_a_disallowed_attribute_are_named():
    problems = _problems(doc(tidtrans("<datum>2024-01-02</datum>", attrs='anstid="1" farg="x"')))
    texts = {_in("en", p) for p in problems}
    assert "not valid against the PAXml 2.0 schema: the attribute farg is not allowed here" in texts
    [missing] = [t for t in texts if "missing" in t]
    assert missing.startswith(
        "not valid against the PAXml 2.0 schema: a child element is missing; expected: tidkod"
    )
    swedish = {_in("sv", p) for p in problems}
    assert "inte giltig enligt PAXml 2.0-schemat: attributet farg är inte tillåtet här" in swedish


def test_a_schema_error_of_a_kind_we_do_not_know_quotes_libxml2_in_our_frame():
    element, field, text = _explain(
        "SCHEMAV_CVC_IDC", "Element 'tidtrans': Duplicate key-sequence ['1'] in unique."
    )
    assert (element, field) == ("tidtrans", "tidtrans")
    with translation.override("en"):
        assert str(text) == (
            "the file does not follow the PAXml schema (“Duplicate key-sequence ['1'] in unique”)"
        )
    with translation.override("sv"):
        assert str(text) == (
            "filen följer inte PAXml-schemat (”Duplicate key-sequence ['1'] in unique”)"
        )


def test_a_known_kind_whose_text_we_cannot_read_falls_back_to_the_frame():
    _element, _field, text = _explain(
        "SCHEMAV_CVC_ENUMERATION_VALID", "Element 'tidkod': something libxml2 never said."
    )
    with translation.override("en"):
        assert str(text) == (
            "the file does not follow the PAXml schema (“something libxml2 never said”)"
        )


def test_facets_of_length_and_range_are_our_words():
    cases = {
        "SCHEMAV_CVC_MAXLENGTH_VALID": (
            "Element 'x': [facet 'maxLength'] The value 'ABCD' has a length of '4'; this "
            "exceeds the allowed maximum length of '3'.",
            "expected at most 3 characters, got 4 ('ABCD')",
        ),
        "SCHEMAV_CVC_LENGTH_VALID": (
            "Element 'x': [facet 'length'] The value 'AB' has a length of '2'; this differs "
            "from the allowed length of '3'.",
            "expected exactly 3 characters, got 2 ('AB')",
        ),
        "SCHEMAV_CVC_PATTERN_VALID": (
            "Element 'x': [facet 'pattern'] The value 'a1' is not accepted by the pattern "
            "'[0-9]+'.",
            "got 'a1', which does not have the form the schema requires ([0-9]+)",
        ),
        "SCHEMAV_CVC_MAXINCLUSIVE_VALID": (
            "Element 'x': [facet 'maxInclusive'] The value '150' is greater than the maximum "
            "value allowed ('100').",
            "expected at most 100, got '150'",
        ),
    }
    for kind, (message, expected) in cases.items():
        _element, _field, text = _explain(kind, message)
        with translation.override("en"):
            assert str(text) == f"not valid against the PAXml 2.0 schema: {expected}", kind


def test_fortnox_codes_need_the_fortnox_profile():
    data = doc(tidtrans("<tidkod>ÖB1</tidkod><datum>2024-01-02</datum><timmar>2</timmar>"))
    assert _problems(data)  # not in the XSD enumeration
    assert _problems(data, profile=codes.FORTNOX) == []


def test_problem_cap_counts_everything():
    body = (
        "<tidtransaktioner>\n"
        + ('<tidtrans anstid="1"><tidkod>SJK</tidkod></tidtrans>\n' * 30)
        + "</tidtransaktioner>\n"
    )
    _records, reader = read_records(doc(body), max_problems=10)
    assert len(reader.problems) == 10 and reader.problem_count == 30


def test_persnr_valid():
    assert persnr_valid("198210101237")
    assert persnr_valid("198210701234")  # samordningsnummer
    assert not persnr_valid("1122334455")
    assert not persnr_valid("198213101237")


def test_persnr_valid_refuses_a_date_that_does_not_exist():
    """The register's validator decides: 31 February (or a samordningsnummer's 91 February)
    is refused even with a correct check digit, 29 February only in a leap year."""
    for date in ("820231", "820291", "830229", "000229"):
        body = date + "123"
        number = "19" + body + luhn.calc_check_digit(body)
        assert luhn.is_valid(number[2:])
        assert not persnr_valid(number), number
    body = "840229123"
    assert persnr_valid("19" + body + luhn.calc_check_digit(body))


# --- the time post's rules, step by step (RuleChecker._check_time) ---------------------


def _time_problems(**fields):
    post = TimeTransaction(anstid="1", line=3, tidkod=fields.pop("tidkod", "SJK"), **fields)
    return [(p.field, p.message) for p in RuleChecker().check(post)]


def test_time_rules_a_day_with_hours_passes_at_once():
    assert _time_problems(datum=dt.date(2024, 3, 4), timmar=Decimal(8)) == []
    assert _time_problems(tidkod="ARB", datum=dt.date(2024, 3, 4), timmar=Decimal(8)) == []


def test_time_rules_form_extent_and_attendance_steps():

    found = []

    def add(field, message):
        found.append((field, str(message)))

    _time_form(_record(datumfrom=dt.date(2024, 3, 5), datumtom=dt.date(2024, 3, 4)), add)
    assert found == [("datumtom", "datumtom is before datumfrom")]
    found.clear()
    _time_extent(_record(datum=dt.date(2024, 3, 4), timmar=Decimal(8), omfattning=Decimal(0)), add)
    assert found == [
        ("omfattning", "expected 0 < omfattning ≤ 100, got 0"),
        ("omfattning", "give timmar or omfattning, not both"),
    ]
    assert _time_problems(
        tidkod="ARB", datumfrom=dt.date(2024, 3, 4), datumtom=dt.date(2024, 3, 5),
        omfattning=Decimal(50),
    ) == [("tidkod", "attendance (ARB) is always given in hours, not omfattning")]  # fmt: skip
    assert _time_problems(tidkod="ARB", datum=dt.date(2024, 3, 4)) == [
        ("timmar", "attendance (ARB) needs timmar or starttid/sluttid")
    ]


def _record(**fields):
    return TimeTransaction(anstid="1", line=3, tidkod="SJK", **fields)
