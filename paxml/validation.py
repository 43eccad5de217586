"""The two checks every PAXml file passes before anything is written.

1. **The XSD** (``paxml/schema/paxml-2.0.xsd``, the official 2.0 schema, 2013-12-03).
   The reader streams, so it validates post by post: each ``tidtrans``, ``lonetrans``,
   ``person``, ``schema`` … against its own type from the official schema (global element
   declarations are added for them to a copy of the schema at load time), while the
   reader itself checks what lies above the posts (root, the sections, each at most once,
   ``header`` required). The result is the same as validating the whole document, with a
   line number on every message and flat memory. ``xsd_validate_document`` validates a
   whole document at once; the tests use it on every file the writer produces.
2. **The spec's own rules** the XSD cannot express (technical description 2013-03-13):
   ``anstid`` or ``persnr`` present; a time post has a single ``datum``, a date range or
   ``starttid``+``sluttid``; ``timmar`` only with a single ``datum``; a date range only with
   ``omfattning``; attendance always in hours; ``0 < omfattning ≤ 100``; ``persnr``
   consistent with ``anstid``; a salary post has ``lonkod`` or ``lonart``.

Every violation becomes a :class:`Problem` with line, element, field, employee and a
message that says what was expected.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import lru_cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from lxml import etree

from employees.validators import parse_personal_identity_number
from flexbridge.masking import mask_personal_identity_number, mask_text

from . import codes
from .codes import Profile
from .messages import Text
from .records import (
    EmployeeRef,
    Person,
    SalaryTransaction,
    ScheduleDay,
    TimeTransaction,
)

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "paxml-2.0.xsd"
XS = "http://www.w3.org/2001/XMLSchema"

# post element -> its type in the XSD
POST_TYPES: dict[str, str] = {
    "header": "headerTYPE",
    "dimension": "dimensionTYPE",
    "resultatenhet": "resultatenhetTYPE",
    "kod": "kodTYPE",
    "resetrans": "resetransTYPE",
    "klar": "handelseTYPE",
    "attesterat": "handelseTYPE",
    "tidtrans": "tidtransTYPE",
    "lonetrans": "lonetransTYPE",
    "schema": "schemaTYPE",
    "person": "personTYPE",
    "lonebesked": "lonebeskedTYPE",
    "saldo": "saldoTYPE",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a file, located as precisely as the file allows."""

    line: int
    message: str
    element: str = ""
    field: str = ""
    employee: str = ""
    kind: str = "error"  # "error" (blocks the import) or "warning"
    # the message as msgid and parameters, to be rendered again in a reader's language
    text: Text | None = dataclass_field(default=None, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.message, Text):  # given as a Text: keep it, render it now
            object.__setattr__(self, "text", self.message)
            object.__setattr__(self, "message", str(self.message))

    def __str__(self) -> str:
        where = [_("line %(n)s") % {"n": self.line} if self.line else _("file")]
        if self.element:
            where.append(self.element)
        if self.field and self.field != self.element:
            where.append(_("field %(f)s") % {"f": self.field})
        if self.employee:
            where.append(_("employee %(e)s") % {"e": self.employee})
        return f"{', '.join(where)}: {mask_text(self.message)}"


# --- the schema ---------------------------------------------------------------------------


def _schema_tree(profile: Profile) -> etree._ElementTree:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    tree = etree.parse(str(SCHEMA_PATH), parser)
    if profile.extra_time_codes:
        restriction = tree.find(f"{{{XS}}}simpleType[@name='tidkodTYPE']/{{{XS}}}restriction")
        for code in sorted(profile.extra_time_codes):
            etree.SubElement(restriction, f"{{{XS}}}enumeration", value=code)
    return tree


@lru_cache(maxsize=4)
def document_schema(profile_name: str = "standard") -> etree.XMLSchema:
    """The official schema (for ``fortnox``: with ÖB1–ÖB5 added to ``tidkodTYPE``)."""
    return etree.XMLSchema(_schema_tree(codes.profile_get(profile_name)))


@lru_cache(maxsize=4)
def post_schema(profile_name: str = "standard") -> etree.XMLSchema:
    """The official schema plus a global element per post, to validate posts one by one."""
    tree = copy.deepcopy(_schema_tree(codes.profile_get(profile_name)))
    root = tree.getroot()
    for name, type_name in POST_TYPES.items():
        etree.SubElement(root, f"{{{XS}}}element", name=name, type=type_name)
    return etree.XMLSchema(tree)


# libxml2's error kinds (``error.type_name``) → how to read the value out of its message and
# our own words for it (``str.format`` placeholders; the place — line, element, field — is
# the problem's own). A kind not here, or a message its pattern does not match, is shown in
# a translated frame with libxml2's words only as a quoted detail (``_UNMAPPED``).
_VALUE = r"The value '(?P<v>[^']*)'"
_KINDS: dict[str, list[tuple[re.Pattern, str]]] = {
    "SCHEMAV_CVC_MINLENGTH_VALID": [
        (
            re.compile(
                _VALUE + r" has a length of '(?P<n>\d+)'; this underruns the allowed minimum "
                r"length of '(?P<m>\d+)'"
            ),
            gettext_noop("expected at least {m} characters, got {n} ('{v}')"),
        )
    ],
    "SCHEMAV_CVC_MAXLENGTH_VALID": [
        (
            re.compile(
                _VALUE + r" has a length of '(?P<n>\d+)'; this exceeds the allowed maximum "
                r"length of '(?P<m>\d+)'"
            ),
            gettext_noop("expected at most {m} characters, got {n} ('{v}')"),
        )
    ],
    "SCHEMAV_CVC_LENGTH_VALID": [
        (
            re.compile(
                _VALUE + r" has a length of '(?P<n>\d+)'; this differs from the allowed "
                r"length of '(?P<m>\d+)'"
            ),
            gettext_noop("expected exactly {m} characters, got {n} ('{v}')"),
        )
    ],
    "SCHEMAV_CVC_ENUMERATION_VALID": [
        (
            re.compile(_VALUE + r" is not an element of the set"),
            gettext_noop("expected one of the codes of the PAXml 2.0 code list, got '{v}'"),
        )
    ],
    "SCHEMAV_CVC_PATTERN_VALID": [
        (
            re.compile(_VALUE + r" is not accepted by the pattern '(?P<p>.*)'"),
            gettext_noop("got '{v}', which does not have the form the schema requires ({p})"),
        )
    ],
    "SCHEMAV_CVC_MAXINCLUSIVE_VALID": [
        (
            re.compile(_VALUE + r" is greater than the maximum value allowed \('(?P<m>[^']*)'\)"),
            gettext_noop("expected at most {m}, got '{v}'"),
        )
    ],
    "SCHEMAV_CVC_MININCLUSIVE_VALID": [
        (
            re.compile(_VALUE + r" is less than the minimum value allowed \('(?P<m>[^']*)'\)"),
            gettext_noop("expected at least {m}, got '{v}'"),
        )
    ],
    "SCHEMAV_CVC_FRACTIONDIGITS_VALID": [
        (
            re.compile(_VALUE + r" has more fractional digits than are allowed \('(?P<m>\d+)'\)"),
            gettext_noop("expected at most {m} decimals, got '{v}'"),
        )
    ],
    "SCHEMAV_CVC_TOTALDIGITS_VALID": [
        (
            re.compile(_VALUE + r" has more digits than are allowed \('(?P<m>\d+)'\)"),
            gettext_noop("expected at most {m} digits, got '{v}'"),
        )
    ],
    "SCHEMAV_CVC_DATATYPE_VALID_1_2_1": [
        (
            re.compile(
                r"'(?P<v>[^']*)' is not a valid value of the atomic type '(?:xs:)?(?P<t>\w+)'"
            ),
            gettext_noop("expected {t}, got '{v}'"),
        ),
        (
            re.compile(r"'(?P<v>[^']*)' is not a valid value of the local atomic type"),
            gettext_noop("got '{v}', which is not a valid value here"),
        ),
    ],
    "SCHEMAV_ELEMENT_CONTENT": [
        (
            re.compile(r"^This element is not expected\. Expected is (?:one of )?\( (?P<x>.*) \)"),
            gettext_noop("the element is not expected here; expected: {x}"),
        ),
        (
            re.compile(r"^This element is not expected\."),
            gettext_noop("the element is not expected here"),
        ),
        (
            re.compile(r"^Missing child element\(s\)\. Expected is (?:one of )?\( (?P<x>.*) \)"),
            gettext_noop("a child element is missing; expected: {x}"),
        ),
    ],
    "SCHEMAV_CVC_COMPLEX_TYPE_3_2_1": [
        (
            re.compile(r"The attribute '(?P<a>[^']*)' is not allowed"),
            gettext_noop("the attribute {a} is not allowed here"),
        )
    ],
    "SCHEMAV_CVC_COMPLEX_TYPE_4": [
        (
            re.compile(r"The attribute '(?P<a>[^']*)' is required but missing"),
            gettext_noop("the attribute {a} is required"),
        )
    ],
    "SCHEMAV_CVC_TYPE_3_1_2": [
        (
            re.compile(r"Element content is not allowed"),
            gettext_noop("only a value is allowed here, no elements"),
        )
    ],
}
# libxml2 names a missing child both ways, depending on its version.
_KINDS["SCHEMAV_CVC_COMPLEX_TYPE_2_4"] = _KINDS["SCHEMAV_ELEMENT_CONTENT"]
_UNMAPPED = gettext_noop("the file does not follow the PAXml schema (“%(detail)s”)")
_EXAMPLES = {
    "dateTime": gettext_noop("xs:dateTime without zone, e.g. 2012-04-01T08:00:00"),
    "date": gettext_noop("xs:date, e.g. 2012-06-02"),
    "time": gettext_noop("xs:time, e.g. 08:00:00"),
    "decimal": gettext_noop("a decimal number with a point, e.g. 8.5"),
    "int": gettext_noop("a whole number"),
    "boolean": gettext_noop("true or false"),
}
_OWN_TYPES = {"decimalTYPE": "decimal", "integerTYPE": "int", "booleanTYPE": "boolean"}
_WHERE = re.compile(r"^Element '(?P<el>[^']+)'(?:, attribute '(?P<attr>[^']+)')?: ")
_FACET = re.compile(r"^\[facet '\w+'\] ")


def _explain(type_name: str, message: str) -> tuple[str, str, Text]:
    """libxml2's error → (element, field, our message): the kinds we know in our words with
    the value as a parameter (wrapped in "not valid against the PAXml 2.0 schema"), any
    other in a translated frame that quotes libxml2's words."""
    element = field = ""
    match = _WHERE.match(message)
    if match:
        element, field = match.group("el"), match.group("attr") or ""
        message = message[match.end() :]
    message = message.strip()
    explained: Text | None = None
    for pattern, template in _KINDS.get(type_name, ()):
        found = pattern.search(_FACET.sub("", message))
        if found:
            values: dict = found.groupdict()
            if "t" in values:
                # the schema's own types (decimalTYPE, integerTYPE …) by their base
                name = _OWN_TYPES.get(values["t"], values["t"])
                values["t"] = Text(_EXAMPLES[name]) if name in _EXAMPLES else "xs:" + name
            explained = Text(
                gettext_noop("not valid against the PAXml 2.0 schema: %(m)s"),
                m=Text(template, brace=True, **values),
            )
            break
    if explained is None:
        explained = Text(_UNMAPPED, detail=message.rstrip("."))
    if field:
        field = f"@{field}"
    return element, field or element, explained


def xsd_problems(element: etree._Element, *, profile: Profile, employee: str = "") -> list[Problem]:
    """Validate one post (``tidtrans``, ``person`` …) against its XSD type."""
    schema = post_schema(profile.name)
    if schema.validate(element):
        return []
    problems = []
    for error in schema.error_log:
        el, field, message = _explain(error.type_name, error.message)
        if el and el != element.tag:
            el = f"{element.tag}/{el}"
        problems.append(
            Problem(
                line=error.line or element.sourceline or 0,
                element=el or element.tag,
                field=field,
                employee=employee,
                message=message,
            )
        )
    return problems


def xsd_validate_document(source, *, profile: Profile = codes.STANDARD) -> list[Problem]:
    """Validate a whole (small) document at once — for tests and the writer's self-check."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    if isinstance(source, bytes):
        tree = etree.fromstring(source, parser).getroottree()
    else:
        tree = etree.parse(source, parser)
    schema = document_schema(profile.name)
    if schema.validate(tree):
        return []
    problems = []
    for error in schema.error_log:
        el, field, message = _explain(error.type_name, error.message)
        problems.append(Problem(line=error.line, element=el, field=field, message=message))
    return problems


# --- the spec's rules ---------------------------------------------------------------------


@lru_cache(maxsize=4096)
def persnr_valid(value: str) -> bool:
    """12 digits that the employee register's validator accepts: a real date (31 February is
    not; a samordningsnummer's day is + 60) and a Luhn check digit. One validator for the
    register and the files (``employees.validators``, python-stdnum)."""
    if len(value) != 12 or not value.isdigit():
        return False
    try:
        parse_personal_identity_number(value)
    except ValidationError:
        return False
    return True


class RuleChecker:
    """The spec's rules for one file. Stateful: it remembers which ``persnr`` each
    ``anstid`` came with, so the same employee number with two persons is caught."""

    def __init__(self, *, profile: Profile = codes.STANDARD) -> None:
        self.profile = profile
        self._persnr_of: dict[str, tuple[str, int]] = {}

    def check(self, record) -> list[Problem]:
        problems: list[Problem] = []
        if isinstance(record, EmployeeRef):
            self._check_employee(record, problems)
        check = self._CHECKS.get(type(record))
        if check is not None:
            check(self, record, problems)
        return problems

    def _problem(self, record, element: str, field: str, message: str) -> Problem:
        return Problem(
            line=record.line,
            element=element,
            field=field,
            employee=getattr(record, "employee", ""),
            message=message,
        )

    def _check_employee(self, record: EmployeeRef, problems: list[Problem]) -> None:
        if not record.persnr:
            if not record.anstid:
                tag = _TAG_OF.get(type(record), "post")
                problems.append(
                    self._problem(
                        record, tag, "@anstid", Text(gettext_noop("anstid or persnr must be given"))
                    )
                )
            return
        tag = _TAG_OF.get(type(record), "post")
        if not persnr_valid(record.persnr):
            problems.append(
                self._problem(
                    record,
                    tag,
                    "@persnr",
                    Text(
                        gettext_noop(
                            "expected a personal identity number yyyymmddnnnn with a valid "
                            "check digit, got %(pin)s"
                        ),
                        pin=mask_personal_identity_number(record.persnr),
                    ),
                )
            )
        if record.anstid:
            seen = self._persnr_of.get(record.anstid)
            if seen is None:
                self._persnr_of[record.anstid] = (record.persnr, record.line)
            elif seen[0] != record.persnr:
                problems.append(
                    self._problem(
                        record,
                        tag,
                        "@persnr",
                        Text(
                            gettext_noop(
                                "persnr does not match anstid %(a)s: line %(n)s gives another "
                                "personal identity number for the same employee"
                            ),
                            a=record.anstid,
                            n=seen[1],
                        ),
                    )
                )

    def _check_time(self, t: TimeTransaction, problems: list[Problem]) -> None:
        """A time post: one form of date, hours or omfattning as the spec allows, and
        attendance in hours. Each step appends its problems."""
        if (
            t.timmar is not None
            and t.datum is not None
            and t.datumfrom is None
            and t.datumtom is None
            and t.starttid is None
            and t.sluttid is None
            and t.omfattning is None
        ):
            return  # a day with hours, as nearly every post is: nothing can be wrong

        def add(field: str, message: str) -> None:
            problems.append(self._problem(t, "tidtrans", field, message))

        _time_form(t, add)
        _time_extent(t, add)
        self._time_attendance(t, add)

    def _time_attendance(self, t: TimeTransaction, add) -> None:
        """Attendance codes (närvaro and tillägg) only in hours."""
        code = self.profile.import_time_code(t.tidkod)
        if not (codes.is_attendance_code(code) or code in self.profile.extra_time_codes):
            return
        has_range = t.datumfrom is not None or t.datumtom is not None
        has_clock = t.starttid is not None or t.sluttid is not None
        if t.omfattning is not None or has_range:
            add(
                "tidkod",
                Text(
                    gettext_noop("attendance (%(c)s) is always given in hours, not omfattning"),
                    c=t.tidkod,
                ),
            )
        elif t.timmar is None and not has_clock:
            add(
                "timmar",
                Text(
                    gettext_noop("attendance (%(c)s) needs timmar or starttid/sluttid"), c=t.tidkod
                ),
            )

    def _check_salary(self, s: SalaryTransaction, problems: list[Problem]) -> None:
        if not s.lonkod and not s.lonart:
            problems.append(
                self._problem(
                    s, "lonetrans", "lonkod", Text(gettext_noop("lonkod or lonart is required"))
                )
            )
        if s.datum is not None and (s.datumfrom is not None or s.datumtom is not None):
            problems.append(
                self._problem(
                    s,
                    "lonetrans",
                    "datum",
                    Text(gettext_noop("give datum or a date range, not both")),
                )
            )
        if s.datumfrom and s.datumtom and s.datumfrom > s.datumtom:
            problems.append(
                self._problem(s, "lonetrans", "datumtom", Text(gettext_noop("before datumfrom")))
            )

    def _check_day(self, d: ScheduleDay, problems: list[Problem]) -> None:
        clock = d.starttid is not None and d.sluttid is not None
        if d.timmar is None and not clock:
            problems.append(
                self._problem(
                    d,
                    "dag",
                    "@timmar",
                    Text(gettext_noop("expected timmar or starttid and sluttid")),
                )
            )


def _time_form(t: TimeTransaction, add) -> None:
    """Exactly one of datum, datumfrom+datumtom, starttid+sluttid, each complete and in order."""
    has_day = t.datum is not None
    has_range = t.datumfrom is not None or t.datumtom is not None
    has_clock = t.starttid is not None or t.sluttid is not None
    forms = sum((has_day, has_range, has_clock))
    if forms == 0:
        add("datum", Text(gettext_noop("expected datum, datumfrom+datumtom or starttid+sluttid")))
    elif forms > 1:
        add(
            "datum", Text(gettext_noop("give only one of datum, a date range, or starttid+sluttid"))
        )
    if has_range and (t.datumfrom is None or t.datumtom is None):
        add(
            "datumfrom" if t.datumfrom is None else "datumtom",
            Text(gettext_noop("a date range needs both")),
        )
    if t.datumfrom and t.datumtom and t.datumfrom > t.datumtom:
        add("datumtom", Text(gettext_noop("datumtom is before datumfrom")))
    if has_clock and (t.starttid is None or t.sluttid is None):
        add(
            "starttid" if t.starttid is None else "sluttid",
            Text(gettext_noop("give starttid and sluttid")),
        )
    if t.starttid and t.sluttid and t.sluttid <= t.starttid:
        add("sluttid", Text(gettext_noop("sluttid must be after starttid")))


def _time_extent(t: TimeTransaction, add) -> None:
    """timmar only with a single datum; a range only with omfattning; 0 < omfattning ≤ 100,
    never with timmar or start/end."""
    has_range = t.datumfrom is not None or t.datumtom is not None
    has_clock = t.starttid is not None or t.sluttid is not None
    if t.timmar is not None and t.datum is None:
        add(
            "timmar",
            Text(gettext_noop("timmar only with a single datum (not with a range or start/end)")),
        )
    if has_range and t.omfattning is None:
        add("omfattning", Text(gettext_noop("a date range only with omfattning")))
    if t.omfattning is None:
        return
    if not (0 < t.omfattning <= 100):
        add(
            "omfattning",
            Text(gettext_noop("expected 0 < omfattning ≤ 100, got %(v)s"), v=t.omfattning),
        )
    if t.timmar is not None:
        add("omfattning", Text(gettext_noop("give timmar or omfattning, not both")))
    if has_clock:
        add("omfattning", Text(gettext_noop("no omfattning with starttid/sluttid")))


RuleChecker._CHECKS = {
    TimeTransaction: RuleChecker._check_time,
    SalaryTransaction: RuleChecker._check_salary,
    ScheduleDay: RuleChecker._check_day,
}

_TAG_OF = {
    TimeTransaction: "tidtrans",
    SalaryTransaction: "lonetrans",
    ScheduleDay: "schema",
    Person: "person",
}
