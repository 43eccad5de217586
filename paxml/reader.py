"""One streaming reader for PAXml 2.0 files.

``PaxmlReader(source)`` is an iterator of typed records (``paxml.records``), one per post,
built from ``lxml.etree.iterparse``: each post is converted, checked and then removed
from the tree, so memory stays flat whatever the file size (a ``schema`` is held with its
days until it ends, a ``lonebesked`` with its rows).

Safety: no DTD (a file with a ``<!DOCTYPE`` is rejected before any post is read), no
entity expansion, no network, no huge-tree mode, and a byte limit on the input
(``settings.PAXML_MAX_FILE_BYTES`` unless given). Billion-laughs and external-entity files
are therefore rejected, never expanded.

Encodings: what the declaration says (ISO-8859-1 is the official one; UTF-8 and
windows-1252 occur), a UTF-8 BOM wins; a file without declaration that is not UTF-8 is read
as windows-1252 (a superset of ISO-8859-1 for printable text).

With ``validate=True`` (the default) each post is validated against the XSD and the spec's
rules (``paxml.validation``); invalid posts are reported in ``problems`` and not yielded.
Problems that end the reading (not well-formed, hostile, too large) raise
:class:`PaxmlFatalError` after being added to ``problems``.
"""

from __future__ import annotations

import codecs
import io
import os
import re
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.utils.translation import gettext_noop
from lxml import etree

from flexbridge.errors import DomainError
from flexbridge.masking import mask_personal_identity_number

from . import codes
from .codes import Profile
from .messages import Text
from .records import (
    Balance,
    CodeName,
    DatedValue,
    Dimension,
    Header,
    Marker,
    Nyexport,
    Payslip,
    Person,
    Record,
    ResultUnit,
    ResultUnits,
    SalaryTransaction,
    ScheduleDay,
    TimeTransaction,
    TravelTransaction,
)
from .validation import Problem, RuleChecker, post_schema, xsd_problems

DEFAULT_MAX_BYTES = 1024 * 1024 * 1024

# section -> the posts it may hold
SECTIONS: dict[str, tuple[str, ...]] = {
    "header": (),
    "dimensioner": ("dimension",),
    "resultatenheter": ("resultatenhet",),
    "koder": ("kod",),
    "resetransaktioner": ("resetrans",),
    "tidtransaktioner": ("klar", "attesterat", "tidtrans"),
    "lonetransaktioner": ("lonetrans",),
    "schematransaktioner": ("schema",),
    "personal": ("person",),
    "loneutbetalning": ("lonebesked",),
    "saldon": ("saldo",),
}
SECTION_OF_POST = {post: section for section, posts in SECTIONS.items() for post in posts}
# Sections this app imports; the others are read and reported as "read, not imported".
IMPORTED_SECTIONS = frozenset(
    {
        "header",
        "dimensioner",
        "resultatenheter",
        "koder",
        "tidtransaktioner",
        "lonetransaktioner",
        "schematransaktioner",
        "personal",
    }
)


_DTD_REJECTED = gettext_noop(
    "rejected: the file declares a DTD (<!DOCTYPE>), which PAXml files never need; "
    "entities are not expanded"
)


class PaxmlFatalError(DomainError):
    """The file cannot be read any further (not XML, hostile, too large)."""

    code = "unreadable_file"

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class PaxmlTooLarge(DomainError):
    """The file is larger than ``PAXML_MAX_FILE_BYTES``."""

    code = "file_too_large"
    http_status = 413


# --- encodings ----------------------------------------------------------------------------

_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


def detect_encoding(head: bytes) -> tuple[str, str | None]:
    """(encoding for reports, encoding to force on the parser or None) from a file's head."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", None
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", None
    match = _DECLARATION.match(head)
    if match:
        declared = match.group(1).decode("ascii").lower()
        try:
            return codecs.lookup(declared).name, None
        except LookupError:
            return declared, None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the head
            return "cp1252", "windows-1252"
    return "utf-8", None


class _LimitedStream(io.RawIOBase):
    """Replays the sniffed head, then reads on; raises once more than ``limit`` bytes."""

    def __init__(self, raw: BinaryIO, head: bytes, limit: int) -> None:
        self._raw, self._head, self._limit, self.read_bytes = raw, head, limit, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._head:
            chunk = self._head if size < 0 else self._head[:size]
            self._head = self._head[len(chunk) :]
        else:
            chunk = self._raw.read(size if size and size > 0 else 1 << 16)
        self.read_bytes += len(chunk)
        if self.read_bytes > self._limit:
            raise PaxmlTooLarge
        return chunk


# --- value conversion ---------------------------------------------------------------------


def _text(el) -> str:
    return (el.text or "").strip()


def _decimal(value: str) -> Decimal:
    try:
        return Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(
            Text(gettext_noop("expected a decimal number, got %(v)s"), v=repr(value))
        ) from None


def _date(value: str) -> date:
    return date.fromisoformat(value.strip()[:10])


def _datetime(value: str) -> datetime:
    return datetime.fromisoformat(value.strip())


def _time(value: str) -> time:
    value = value.strip()
    return time.fromisoformat(value[:8] if len(value) >= 8 else value)


def _bool(value: str) -> bool:
    return value.strip() in ("true", "1")


def _int(value: str) -> int:
    return int(value.strip())


def _opt(el, name: str, convert=None):
    value = el.get(name)
    if value is None:
        return None
    return convert(value) if convert else value.strip()


def _units(el) -> ResultUnits:
    return tuple((int(u.get("dim")), (u.get("id") or "").strip()) for u in el)


def _date_el(el) -> date:
    return date.fromisoformat((el.text or "").strip()[:10])


def _datetime_el(el) -> datetime:
    return datetime.fromisoformat((el.text or "").strip())


def _decimal_el(el) -> Decimal:
    return _decimal(el.text or "")


def _bool_el(el) -> bool:
    return (el.text or "").strip() in ("true", "1")


_TIME_FIELDS = {
    "tidkod": _text,
    "datum": _date_el,
    "datumfrom": _date_el,
    "datumtom": _date_el,
    "starttid": _datetime_el,
    "sluttid": _datetime_el,
    "timmar": _decimal_el,
    "omfattning": _decimal_el,
    "barn": _text,
    "samlingsid": _text,
    "semgrund": _bool_el,
    "kontonr": _text,
    "kundnr": _text,
    "resenheter": _units,
    "info": _text,
}
_SALARY_FIELDS = {
    "lonkod": _text,
    "lonart": _text,
    "benamning": _text,
    "kommentar": _text,
    "datum": _date_el,
    "datumfrom": _datetime_el,
    "datumtom": _datetime_el,
    "antal": _decimal_el,
    "apris": _decimal_el,
    "belopp": _decimal_el,
    "varugrupp": _text,
    "moms": _decimal_el,
    "samlingsid": _text,
    "kontonr": _text,
    "kundnr": _text,
    "resenheter": _units,
    "info": _text,
}
_PERSON_DATES = {"anstdatum", "avgdatum"}
_PERSON_DECIMALS = {"semesterdagar", "skattetabell"}
_PERSON_DATED = {"manlon", "timlon", "sysgrad"}
_PERSON_BOOLS = {"innevarande"}
_PERSON_INTS = {"skattekolumn"}


def _ref(el) -> dict:
    return {
        "anstid": (el.get("anstid") or "").strip(),
        "persnr": (el.get("persnr") or "").strip(),
        "line": el.sourceline or 0,
    }


def _transaction(el, cls, table: dict):
    """A time or salary post: the hot path of a large file, one loop over the children."""
    values = {}
    get = table.get
    for child in el:
        tag = child.tag
        convert = get(tag)
        if convert is not None:
            values[tag] = convert(child)
    attrib = el.attrib
    postid = attrib.get("postid")
    return cls(
        anstid=(attrib.get("anstid") or "").strip(),
        persnr=(attrib.get("persnr") or "").strip(),
        line=el.sourceline or 0,
        postid=None if postid is None else int(postid),
        **values,
    )


def _time_transaction(el) -> TimeTransaction:
    return _transaction(el, TimeTransaction, _TIME_FIELDS)


def _salary_transaction(el) -> SalaryTransaction:
    return _transaction(el, SalaryTransaction, _SALARY_FIELDS)


def _person(el) -> Person:
    person = Person(**_ref(el), delete=_bool(el.get("delete") or "false"))
    values = person.values
    for child in el:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        if tag in _PERSON_DATED:
            values[tag] = DatedValue(_decimal(child.text or ""), _opt(child, "datum", _date))
        elif tag in _PERSON_DATES:
            values[tag] = _date(child.text or "")
        elif tag in _PERSON_DECIMALS:
            values[tag] = _decimal(child.text or "")
        elif tag in _PERSON_INTS:
            values[tag] = _int(child.text or "")
        elif tag in _PERSON_BOOLS:
            values[tag] = _bool(child.text or "")
        elif tag == "personbelopp":
            person.personbelopp = [
                (b.get("id"), _decimal(b.text or ""), _opt(b, "datum", _date)) for b in child
            ]
        elif tag == "persontexter":
            person.persontexter = [(t.get("id"), _text(t)) for t in child]
        elif tag == "resenheter":
            person.resenheter = _units(child)
        elif tag in ("skattejamkning", "loneutmatning"):
            values[tag] = {k: _decimal(v) for k, v in child.attrib.items()}
        else:
            values[tag] = _text(child)
    return person


_HEADER_TEXT = frozenset(
    (
        "version",
        "format",
        "foretagid",
        "foretagorgnr",
        "foretagnamn",
        "programnamn",
        "programlicens",
    )
)


def _header(el) -> Header:
    header = Header(line=el.sourceline or 0)
    for child in el:
        tag = child.tag
        if tag == "datum":
            header.datum = _datetime(child.text or "")
        elif tag == "nyexport":
            header.nyexport = Nyexport(
                datum=_date(child.get("datum") or ""),
                datumfrom=_opt(child, "datumfrom", _date),
                datumtom=_opt(child, "datumtom", _date),
            )
        elif tag in _HEADER_TEXT:
            setattr(header, tag, _text(child))
        elif isinstance(tag, str):
            header.extra[tag] = _text(child)
    return header


def _travel(el) -> TravelTransaction:
    record = TravelTransaction(**_ref(el), postid=_opt(el, "postid", _int))
    for child in el:
        if child.tag == "tidpunkt":
            record.tidpunkt = _datetime(child.text or "")
        elif child.tag == "resekod":
            record.resekod = _text(child)
        elif child.tag == "resenheter":
            record.resenheter = _units(child)
        elif isinstance(child.tag, str):
            record.fields[child.tag] = _text(child)
    return record


def _marker(el) -> Marker:
    return Marker(
        **_ref(el),
        kind=el.tag,
        postid=_opt(el, "postid", _int),
        datum=_opt(el, "datum", _date),
        datumfrom=_opt(el, "datumfrom", _date),
        datumtom=_opt(el, "datumtom", _date),
    )


def _schedule_days(el) -> list[ScheduleDay]:
    ref = _ref(el)
    return [
        ScheduleDay(
            anstid=ref["anstid"],
            persnr=ref["persnr"],
            line=day.sourceline or 0,
            datum=_date(day.get("datum") or ""),
            starttid=_opt(day, "starttid", _time),
            sluttid=_opt(day, "sluttid", _time),
            timmar=_opt(day, "timmar", _decimal),
        )
        for day in el
        if day.tag == "dag"
    ]


def _payslip(el) -> Payslip:
    record = Payslip(**_ref(el))
    for child in el:
        if child.tag == "lonerader":
            record.rows = [
                {"radnr": row.get("radnr") or "", **{c.tag: _text(c) for c in row}} for row in child
            ]
        elif child.tag == "kontering":
            continue
        elif isinstance(child.tag, str):
            record.fields[child.tag] = _text(child)
    return record


def _balance(el) -> Balance:
    record = Balance(**_ref(el))
    for child in el:
        if child.tag == "datum":
            record.datum = _date(child.text or "")
        elif child.tag == "info":
            record.info = _text(child)
        elif isinstance(child.tag, str):
            record.values[child.tag] = _decimal(child.text or "")
    return record


_CONVERTERS = {
    "header": _header,
    "dimension": lambda el: Dimension(
        dim=_int(el.get("dim")),
        namn=el.get("namn") or "",
        info=el.get("info") or "",
        line=el.sourceline or 0,
    ),
    "resultatenhet": lambda el: ResultUnit(
        dim=_int(el.get("dim")),
        id=(el.get("id") or "").strip(),
        namn=el.get("namn") or "",
        info=el.get("info") or "",
        delete=_bool(el.get("delete") or "false"),
        line=el.sourceline or 0,
    ),
    "kod": lambda el: CodeName(
        id=(el.get("id") or "").strip(),
        namn=el.get("namn") or "",
        info=el.get("info") or "",
        line=el.sourceline or 0,
    ),
    "resetrans": _travel,
    "klar": _marker,
    "attesterat": _marker,
    "tidtrans": _time_transaction,
    "lonetrans": _salary_transaction,
    "person": _person,
    "lonebesked": _payslip,
    "saldo": _balance,
}


# --- the reader ---------------------------------------------------------------------------


class PaxmlReader:
    """Iterate over the records of one PAXml file. See the module docstring."""

    def __init__(
        self,
        source: str | os.PathLike | BinaryIO | bytes,
        *,
        validate: bool = True,
        profile: Profile = codes.STANDARD,
        max_bytes: int | None = None,
        max_problems: int = 200,
    ) -> None:
        if max_bytes is None:
            max_bytes = getattr(settings, "PAXML_MAX_FILE_BYTES", DEFAULT_MAX_BYTES)
        self.source = source
        self.validate = validate
        self.profile = profile
        self.max_bytes = max_bytes
        self.max_problems = max_problems
        self.problems: list[Problem] = []
        self.problem_count = 0
        self.encoding = ""
        self.header: Header | None = None
        self.sections: list[str] = []
        self.counts: dict[str, int] = {}
        self._rules = RuleChecker(profile=profile)
        self._schema = post_schema(profile.name) if validate else None
        self._consumed = False

    # problems ----------------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add_problem(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < self.max_problems:
            self.problems.append(problem)

    def _fatal(self, line: int, message: str | Text, element: str = "") -> PaxmlFatalError:
        problem = Problem(line=line, message=message, element=element)
        self.add_problem(problem)
        return PaxmlFatalError(problem)

    @property
    def not_imported_sections(self) -> list[str]:
        return [s for s in self.sections if s not in IMPORTED_SECTIONS]

    # input -------------------------------------------------------------------------------
    def _open(self) -> tuple[BinaryIO, bool]:
        source = self.source
        if isinstance(source, bytes):
            return io.BytesIO(source), True
        if isinstance(source, str | os.PathLike):
            path = Path(source)
            if path.stat().st_size > self.max_bytes:
                raise self._fatal(0, _too_large(self.max_bytes))
            return path.open("rb"), True
        return source, False

    # iteration ---------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Record]:
        if self._consumed:
            raise RuntimeError("A PaxmlReader can be iterated once.")
        self._consumed = True
        raw, owned = self._open()
        try:
            head = raw.read(4096)
            self.encoding, forced = detect_encoding(head)
            if b"<!DOCTYPE" in head or "<!DOCTYPE".encode("utf-16-le") in head:
                raise self._fatal(1, Text(_DTD_REJECTED))
            stream = _LimitedStream(raw, head, self.max_bytes)
            yield from self._parse(stream, forced)
        finally:
            if owned:
                raw.close()

    def _parse(self, stream, forced_encoding: str | None) -> Iterator[Record]:
        tags = ["paxml", *SECTIONS, *SECTION_OF_POST]
        events = etree.iterparse(
            stream,
            events=("end",),
            tag=tags,
            encoding=forced_encoding,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        first = True
        try:
            for _event, el in events:
                if first:
                    first = False
                    self._check_prolog(el)
                tag = el.tag
                if tag in SECTION_OF_POST:
                    records = self._post(el)
                    if records:
                        yield from records
                elif tag == "header":
                    yield from self._header_section(el)
                elif tag in SECTIONS:
                    self._section_end(el)
                else:  # the root
                    self._root_end(el)
        except PaxmlTooLarge:
            raise self._fatal(0, _too_large(self.max_bytes)) from None
        except etree.XMLSyntaxError as exc:
            message = exc.msg or str(exc)
            if "entit" in message.lower() or "DOCTYPE" in message:
                message = Text(gettext_noop("rejected: %(m)s"), m=message)
            raise self._fatal(
                exc.lineno or 0, Text(gettext_noop("not well-formed XML: %(m)s"), m=message)
            ) from None
        if first:
            raise self._fatal(0, Text(gettext_noop("the file holds no <paxml> document")))

    def _check_prolog(self, el) -> None:
        tree = el.getroottree()
        docinfo = tree.docinfo
        if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
            raise self._fatal(1, Text(_DTD_REJECTED))
        root = tree.getroot()
        if root.tag != "paxml":
            raise self._fatal(root.sourceline or 1, f"expected root <paxml>, got <{root.tag}>")

    def _count(self, tag: str, n: int = 1) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + n

    def _release(self, el, parent) -> None:
        el.clear(keep_tail=False)
        parent.remove(el)

    def _post(self, el) -> list[Record]:
        """The records of one post, checked; [] when it is misplaced or has problems.
        The hot path of a large file: one call per post, no generator."""
        tag = el.tag
        parent = el.getparent()
        if parent is None or parent.tag != SECTION_OF_POST[tag] or parent.getparent() is None:
            # misplaced: reported by the XSD check of the enclosing post or section
            return []
        counts = self.counts
        counts[tag] = counts.get(tag, 0) + 1
        validate = self.validate
        if validate and not self._schema.validate(el):
            for problem in xsd_problems(el, profile=self.profile, employee=_employee_label(el)):
                self.add_problem(problem)
            self._release(el, parent)
            return []
        try:
            if tag == "schema":
                records: list[Record] = _schedule_days(el)
                self._count("dag", len(records))
            else:
                records = [_CONVERTERS[tag](el)]
        except (ValueError, TypeError) as exc:
            why = exc.args[0] if exc.args and isinstance(exc.args[0], Text) else str(exc)
            self.add_problem(Problem(line=el.sourceline or 0, element=tag, message=why))
            self._release(el, parent)
            return []
        self._release(el, parent)
        if not validate:
            return records
        checked = []
        for record in records:
            problems = self._rules.check(record)
            if problems:
                for problem in problems:
                    self.add_problem(problem)
            else:
                checked.append(record)
        return checked

    def _header_section(self, el) -> Iterator[Record]:
        if el.getparent() is None or el.getparent().tag != "paxml":
            return
        self._note_section(el)
        if self.validate:
            problems = xsd_problems(el, profile=self.profile)
            if problems:
                for problem in problems:
                    self.add_problem(problem)
                return
        self.header = _header(el)
        el.clear(keep_tail=False)
        yield self.header

    def _note_section(self, el) -> None:
        if el.tag in self.sections:
            self.add_problem(
                Problem(
                    line=el.sourceline or 0,
                    element=el.tag,
                    message=Text(gettext_noop("section <%(s)s> may appear only once"), s=el.tag),
                )
            )
        else:
            self.sections.append(el.tag)

    def _section_end(self, el) -> None:
        parent = el.getparent()
        if parent is None or parent.tag != "paxml":
            self.add_problem(
                Problem(
                    line=el.sourceline or 0,
                    element=el.tag,
                    message=Text(
                        gettext_noop("<%(s)s> is a section and belongs directly under <paxml>"),
                        s=el.tag,
                    ),
                )
            )
            return
        self._note_section(el)
        allowed = SECTIONS[el.tag]
        for child in el:
            if isinstance(child.tag, str):
                expected = ", ".join(f"<{a}>" for a in allowed)
                self.add_problem(
                    Problem(
                        line=child.sourceline or 0,
                        element=child.tag,
                        message=Text(
                            gettext_noop("<%(c)s> is not expected in <%(s)s>; expected %(e)s"),
                            c=child.tag,
                            s=el.tag,
                            e=expected,
                        ),
                    )
                )
        el.clear(keep_tail=False)

    def _root_end(self, el) -> None:
        for child in el:
            if isinstance(child.tag, str) and child.tag not in SECTIONS:
                self.add_problem(
                    Problem(
                        line=child.sourceline or 0,
                        element=child.tag,
                        message=Text(
                            gettext_noop(
                                "<%(c)s> is not a PAXml 2.0 section; expected one of %(e)s"
                            ),
                            c=child.tag,
                            e=", ".join(SECTIONS),
                        ),
                    )
                )
        if "header" not in self.sections:
            self.add_problem(
                Problem(
                    line=el.sourceline or 0,
                    element="header",
                    message=Text(gettext_noop("<header> is required")),
                )
            )
        el.clear(keep_tail=False)


def _too_large(limit: int) -> Text:
    return Text(gettext_noop("the file is larger than the limit of %(n)s bytes"), n=limit)


def _employee_label(el) -> str:
    return (el.get("anstid") or "").strip() or mask_personal_identity_number(el.get("persnr"))


def read_records(source, **kwargs) -> tuple[list[Record], PaxmlReader]:
    """Read a whole (small) file into a list — for tests and previews."""
    reader = PaxmlReader(source, **kwargs)
    try:
        records = list(reader)
    except PaxmlFatalError:
        records = []
    return records, reader
