"""One streaming writer for PAXml 2.0 files, on lxml's incremental ``etree.xmlfile``.

    with PaxmlWriter(out, encoding="iso-8859-1", profile=codes.FORTNOX) as writer:
        writer.header(Header(format="LÖNIN", foretagnamn="Acme AB", ...))
        with writer.section("tidtransaktioner"):
            for record in records:
                writer.write(record)

Each post is built as a small element and written at once, so memory stays flat whatever
the number of posts. The writer takes the same record classes the reader yields. It
enforces what the schema requires of the document (``header`` first and once, each
section at most once, posts only in their own section); the posts' contents are typed,
so what it writes validates against the XSD (the tests check every file they write).

Encoding: ISO-8859-1 by default (the official one) or UTF-8. Characters ISO-8859-1
cannot hold are written as character references by lxml, which every XML parser reads.
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime, time
from decimal import Decimal
from typing import BinaryIO

from lxml import etree

from flexbridge.errors import DomainError

from . import codes
from .codes import Profile
from .reader import SECTION_OF_POST, SECTIONS
from .records import (
    Balance,
    CodeName,
    DatedValue,
    Dimension,
    Header,
    Marker,
    Person,
    Record,
    ResultUnit,
    ResultUnits,
    SalaryTransaction,
    ScheduleDay,
    TimeTransaction,
    TravelTransaction,
)

XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = "http://www.paxml.se/2.0/paxml.xsd"
ENCODINGS = {"iso-8859-1": "ISO-8859-1", "utf-8": "UTF-8"}


def fmt(value) -> str:
    """A value as PAXml writes it: decimal point, ISO dates, no time zone."""
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.replace(tzinfo=None).isoformat(timespec="seconds")
    return str(value)


def _sub(parent, tag: str, value) -> None:
    if value is None or value == "":
        return
    etree.SubElement(parent, tag).text = fmt(value)


def _units(parent, units: ResultUnits) -> None:
    if units:
        holder = etree.SubElement(parent, "resenheter")
        for dim, unit_id in units:
            etree.SubElement(holder, "resenhet", dim=str(dim), id=unit_id)


def _ref_attrs(record) -> dict[str, str]:
    attrs = {}
    postid = getattr(record, "postid", None)
    if postid is not None:
        attrs["postid"] = str(postid)
    if record.anstid:
        attrs["anstid"] = record.anstid
    if record.persnr:
        attrs["persnr"] = record.persnr
    return attrs


class PaxmlWriterError(DomainError):
    """The writer was asked for something a PAXml file cannot hold (a caller's bug)."""

    code = "paxml_writer_error"
    http_status = 500


class PaxmlWriter:
    """See the module docstring."""

    def __init__(
        self,
        out: BinaryIO | str,
        *,
        encoding: str = "iso-8859-1",
        profile: Profile = codes.STANDARD,
    ) -> None:
        try:
            self.encoding = ENCODINGS[encoding.lower()]
        except KeyError:
            raise PaxmlWriterError(
                f"Unsupported encoding {encoding!r}; use iso-8859-1 or utf-8."
            ) from None
        self.out = out
        self.profile = profile
        self.counts: dict[str, int] = {}
        self.deviating_codes: set[str] = set()
        self._stack = contextlib.ExitStack()
        self._xf = None
        self._sections: set[str] = set()
        self._current: str | None = None
        self._header_written = False

    def __enter__(self) -> PaxmlWriter:
        self._xf = self._stack.enter_context(etree.xmlfile(self.out, encoding=self.encoding))
        self._xf.write_declaration()
        self._stack.enter_context(
            self._xf.element(
                "paxml",
                {f"{{{XSI}}}noNamespaceSchemaLocation": SCHEMA_LOCATION},
                nsmap={"xsi": XSI},
            )
        )
        self._xf.write("\n")
        return self

    def __exit__(self, *exc_info) -> None:
        if exc_info[0] is None and not self._header_written:
            self._stack.close()
            raise PaxmlWriterError("A PAXml file needs a header.")
        self._stack.__exit__(*exc_info)

    # structure ---------------------------------------------------------------------------
    def header(self, header: Header) -> None:
        if self._header_written:
            raise PaxmlWriterError("The header is written once.")
        el = etree.Element("header")
        _sub(el, "format", header.format)
        _sub(el, "version", "2.0")
        _sub(el, "datum", header.datum)
        if header.nyexport is not None:
            attrs = {"datum": fmt(header.nyexport.datum)}
            if header.nyexport.datumfrom:
                attrs["datumfrom"] = fmt(header.nyexport.datumfrom)
            if header.nyexport.datumtom:
                attrs["datumtom"] = fmt(header.nyexport.datumtom)
            etree.SubElement(el, "nyexport", attrs)
        _sub(el, "foretagid", header.foretagid)
        _sub(el, "foretagorgnr", header.foretagorgnr[:12])
        _sub(el, "foretagnamn", header.foretagnamn)
        for tag, value in header.extra.items():
            _sub(el, tag, value)
        _sub(el, "programnamn", header.programnamn)
        _sub(el, "programlicens", header.programlicens)
        self._xf.write(el, pretty_print=True)
        self._header_written = True

    @contextlib.contextmanager
    def section(self, name: str):
        if name not in SECTIONS or name == "header":
            raise PaxmlWriterError(f"<{name}> is not a PAXml section.")
        if not self._header_written:
            raise PaxmlWriterError("Write the header first.")
        if name in self._sections or self._current is not None:
            raise PaxmlWriterError(f"Section <{name}> is written once, and not nested.")
        self._sections.add(name)
        self._current = name
        with self._xf.element(name):
            self._xf.write("\n")
            yield self
        self._xf.write("\n")
        self._current = None

    # posts -------------------------------------------------------------------------------
    def write(self, record: Record) -> None:
        builder = _BUILDERS.get(type(record))
        if builder is None:
            raise PaxmlWriterError(f"Cannot write {type(record).__name__} records.")
        el = builder(self, record)
        section = SECTION_OF_POST[el.tag]
        if self._current != section:
            raise PaxmlWriterError(f"<{el.tag}> belongs in <{section}>, not <{self._current}>.")
        self._xf.write(el, pretty_print=True)
        self.counts[el.tag] = self.counts.get(el.tag, 0) + 1

    def time_rows(self):
        """A function ``(anstid, postid, tidkod, datum, timmar, resenheter)`` that writes one
        ``tidtrans`` with just these fields — the export's time rows, the bulk of a large
        file. It writes the same bytes as ``write(TimeTransaction(...))`` with the same
        values, but reuses one element per shape (the result units' dimensions) and only
        sets its attributes and texts: building a fresh element per row cost more than
        serialising it. A row with an empty field goes through ``write``."""
        if self._current != "tidtransaktioner":
            raise PaxmlWriterError(
                f"<tidtrans> belongs in <tidtransaktioner>, not <{self._current}>."
            )
        write, counts, profile = self._xf.write, self.counts, self.profile
        shapes: dict = {}  # resenheter's dims -> (element, its children's setters)
        exported: dict[str, str] = {}  # stored code -> the code written

        def shape(dims: tuple):
            el = etree.Element("tidtrans", postid="", anstid="")
            parts = [etree.SubElement(el, tag) for tag in ("tidkod", "datum", "timmar")]
            if dims:
                holder = etree.SubElement(el, "resenheter")
                parts += [etree.SubElement(holder, "resenhet", dim=str(dim), id="") for dim in dims]
            shapes[dims] = (el, parts)
            return shapes[dims]

        def write_row(anstid, postid, tidkod, datum, timmar, resenheter) -> None:
            if not (anstid and tidkod and postid is not None and datum is not None) or (
                timmar is None
            ):
                self.write(
                    TimeTransaction(
                        anstid=anstid,
                        postid=postid,
                        tidkod=tidkod,
                        datum=datum,
                        timmar=timmar,
                        resenheter=resenheter,
                    )
                )
                return
            code = exported.get(tidkod)
            if code is None:
                code = exported[tidkod] = profile.export_time_code(tidkod)
                if code in profile.extra_time_codes:
                    self.deviating_codes.add(code)
            dims = tuple(dim for dim, _id in resenheter)
            el, parts = shapes.get(dims) or shape(dims)
            el.set("postid", str(postid))
            el.set("anstid", anstid)
            parts[0].text = code
            parts[1].text = datum.isoformat() if type(datum) is date else fmt(datum)
            parts[2].text = format(timmar, "f") if type(timmar) is Decimal else fmt(timmar)
            for part, (_dim, unit_id) in zip(parts[3:], resenheter, strict=True):
                part.set("id", unit_id)
            write(el, pretty_print=True)
            counts["tidtrans"] = counts.get("tidtrans", 0) + 1

        return write_row

    def write_schedule(self, *, anstid: str = "", persnr: str = "", days) -> None:
        """One ``schema`` with its days (``ScheduleDay`` records, or (date, hours) pairs)."""
        el = etree.Element("schema", _ref_attrs(_Ref(anstid, persnr)))
        for day in days:
            if isinstance(day, ScheduleDay):
                attrs = {"datum": fmt(day.datum)}
                if day.starttid is not None:
                    attrs["starttid"] = fmt(day.starttid)
                if day.sluttid is not None:
                    attrs["sluttid"] = fmt(day.sluttid)
                if day.timmar is not None:
                    attrs["timmar"] = fmt(day.timmar)
            else:
                attrs = {"datum": fmt(day[0]), "timmar": fmt(day[1])}
            etree.SubElement(el, "dag", attrs)
        if len(el) == 0:
            return
        if self._current != "schematransaktioner":
            raise PaxmlWriterError("<schema> belongs in <schematransaktioner>.")
        self._xf.write(el, pretty_print=True)
        self.counts["schema"] = self.counts.get("schema", 0) + 1
        self.counts["dag"] = self.counts.get("dag", 0) + len(el)

    def write_profile_codes(self) -> None:
        """``<koder>`` naming the codes whose meaning the profile changes (Fortnox)."""
        if not self.profile.code_names:
            return
        with self.section("koder"):
            for code, name in self.profile.code_names.items():
                self.write(CodeName(id=code, namn=name))

    # builders ----------------------------------------------------------------------------
    def _time(self, t: TimeTransaction):
        el = etree.Element("tidtrans", _ref_attrs(t))
        code = self.profile.export_time_code(t.tidkod)
        if code in self.profile.extra_time_codes:
            self.deviating_codes.add(code)
        _sub(el, "tidkod", code)
        _sub(el, "datum", t.datum)
        _sub(el, "datumfrom", t.datumfrom)
        _sub(el, "datumtom", t.datumtom)
        _sub(el, "starttid", t.starttid)
        _sub(el, "sluttid", t.sluttid)
        _sub(el, "timmar", t.timmar)
        _sub(el, "omfattning", t.omfattning)
        _sub(el, "barn", t.barn)
        _sub(el, "samlingsid", t.samlingsid)
        _sub(el, "semgrund", t.semgrund)
        _sub(el, "kontonr", t.kontonr)
        _sub(el, "kundnr", t.kundnr)
        _units(el, t.resenheter)
        _sub(el, "info", t.info)
        return el

    def _salary(self, s: SalaryTransaction):
        el = etree.Element("lonetrans", _ref_attrs(s))
        for tag in ("lonkod", "lonart", "benamning", "kommentar", "datum", "datumfrom"):
            _sub(el, tag, getattr(s, tag))
        for tag in ("datumtom", "antal", "apris", "belopp", "varugrupp", "moms"):
            _sub(el, tag, getattr(s, tag))
        for tag in ("samlingsid", "kontonr", "kundnr"):
            _sub(el, tag, getattr(s, tag))
        _units(el, s.resenheter)
        _sub(el, "info", s.info)
        return el

    def _person(self, p: Person):
        attrs = _ref_attrs(p)
        if p.delete:
            attrs["delete"] = "true"
        el = etree.Element("person", attrs)
        for tag, value in p.values.items():
            if isinstance(value, DatedValue):
                child = etree.SubElement(el, tag)
                child.text = fmt(value.value)
                if value.datum is not None:
                    child.set("datum", fmt(value.datum))
            elif isinstance(value, dict):
                etree.SubElement(el, tag, {k: fmt(v) for k, v in value.items()})
            elif value == "":
                etree.SubElement(el, tag)  # present and empty: clears the field
            else:
                _sub(el, tag, value)
        if p.personbelopp:
            holder = etree.SubElement(el, "personbelopp")
            for amount_id, amount, when in p.personbelopp:
                child = etree.SubElement(holder, "belopp", id=amount_id)
                child.text = fmt(amount)
                if when is not None:
                    child.set("datum", fmt(when))
        if p.persontexter:
            holder = etree.SubElement(el, "persontexter")
            for text_id, text in p.persontexter:
                etree.SubElement(holder, "text", id=text_id).text = text
        _units(el, p.resenheter)
        return el

    def _dimension(self, d: Dimension):
        attrs = {"dim": str(d.dim), "namn": d.namn}
        if d.info:
            attrs["info"] = d.info
        return etree.Element("dimension", attrs)

    def _result_unit(self, u: ResultUnit):
        attrs = {"dim": str(u.dim), "id": u.id, "namn": u.namn}
        if u.info:
            attrs["info"] = u.info
        if u.delete:
            attrs["delete"] = "true"
        return etree.Element("resultatenhet", attrs)

    def _code(self, c: CodeName):
        attrs = {"id": c.id, "namn": c.namn}
        if c.info:
            attrs["info"] = c.info
        return etree.Element("kod", attrs)

    def _marker(self, m: Marker):
        attrs = _ref_attrs(m)
        for name in ("datum", "datumfrom", "datumtom"):
            if getattr(m, name) is not None:
                attrs[name] = fmt(getattr(m, name))
        return etree.Element(m.kind, attrs)

    def _travel(self, r: TravelTransaction):
        el = etree.Element("resetrans", _ref_attrs(r))
        _sub(el, "tidpunkt", r.tidpunkt)
        _sub(el, "resekod", r.resekod)
        for tag, value in r.fields.items():
            _sub(el, tag, value)
        _units(el, r.resenheter)
        return el

    def _balance(self, b: Balance):
        el = etree.Element("saldo", {k: v for k, v in _ref_attrs(b).items() if k != "postid"})
        _sub(el, "datum", b.datum)
        for tag, value in b.values.items():
            _sub(el, tag, value)
        _sub(el, "info", b.info)
        return el


class _Ref:
    def __init__(self, anstid: str, persnr: str) -> None:
        self.anstid, self.persnr = anstid, persnr


_BUILDERS = {
    TimeTransaction: PaxmlWriter._time,
    SalaryTransaction: PaxmlWriter._salary,
    Person: PaxmlWriter._person,
    Dimension: PaxmlWriter._dimension,
    ResultUnit: PaxmlWriter._result_unit,
    CodeName: PaxmlWriter._code,
    Marker: PaxmlWriter._marker,
    TravelTransaction: PaxmlWriter._travel,
    Balance: PaxmlWriter._balance,
}
