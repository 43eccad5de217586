import io
from datetime import date, datetime
from decimal import Decimal

import pytest

from paxml import codes
from paxml.reader import read_records
from paxml.records import (
    CodeName,
    DatedValue,
    Dimension,
    Header,
    Nyexport,
    Person,
    ResultUnit,
    SalaryTransaction,
    ScheduleDay,
    TimeTransaction,
)
from paxml.validation import xsd_validate_document
from paxml.writer import PaxmlWriter, PaxmlWriterError


def _write(*, encoding="iso-8859-1", profile=codes.STANDARD) -> bytes:
    out = io.BytesIO()
    with PaxmlWriter(out, encoding=encoding, profile=profile) as writer:
        writer.header(
            Header(
                format="LÖNIN",
                datum=datetime(2024, 3, 31, 12, 0),
                nyexport=Nyexport(
                    datum=date(2024, 4, 1), datumfrom=date(2024, 3, 1), datumtom=date(2024, 3, 31)
                ),
                foretagid="acme",
                foretagorgnr="556000-0001",
                foretagnamn="Åkeri & Söner AB",
                programnamn="flexbridge",
            )
        )
        with writer.section("dimensioner"):
            writer.write(Dimension(dim=1, namn="Kostnadsställe"))
            writer.write(Dimension(dim=6, namn="Projekt"))
        with writer.section("resultatenheter"):
            writer.write(ResultUnit(dim=1, id="100", namn="Kontoret"))
        with writer.section("tidtransaktioner"):
            writer.write(
                TimeTransaction(
                    anstid="101",
                    postid=7,
                    tidkod="ÖT1",
                    datum=date(2024, 3, 4),
                    timmar=Decimal("2.50"),
                    resenheter=((1, "100"), (6, "P-1")),
                )
            )
            writer.write(
                TimeTransaction(
                    anstid="101",
                    tidkod="SJK",
                    datumfrom=date(2024, 3, 5),
                    datumtom=date(2024, 3, 6),
                    omfattning=Decimal("100"),
                )
            )
        with writer.section("lonetransaktioner"):
            writer.write(
                SalaryTransaction(
                    persnr="198210101237",
                    lonkod="UTLÄGG",
                    datum=date(2024, 3, 7),
                    belopp=Decimal("249.90"),
                    varugrupp="TAXI",
                    moms=Decimal("14.15"),
                )
            )
        with writer.section("schematransaktioner"):
            writer.write_schedule(
                anstid="101",
                days=[
                    (date(2024, 3, 4), Decimal("8")),
                    ScheduleDay(datum=date(2024, 3, 5), timmar=Decimal("4.5")),
                ],
            )
        with writer.section("personal"):
            writer.write(
                Person(
                    anstid="101",
                    values={
                        "fornamn": "Åsa",
                        "extraadress": "",
                        "anstdatum": date(2020, 1, 1),
                        "manlon": DatedValue(Decimal("32000"), date(2024, 1, 1)),
                        "skattekolumn": 1,
                    },
                )
            )
        writer.write_profile_codes()
    return out.getvalue()


@pytest.mark.parametrize("encoding", ["iso-8859-1", "utf-8"])
def test_written_file_validates_and_reads_back(encoding):
    data = _write(encoding=encoding)
    assert data.startswith(f"<?xml version='1.0' encoding='{encoding.upper()}'?>".encode())
    assert xsd_validate_document(data) == []
    records, reader = read_records(data)
    assert reader.ok, reader.problems
    header = records[0]
    assert (header.format, header.foretagnamn, header.foretagorgnr) == (
        "LÖNIN",
        "Åkeri & Söner AB",
        "556000-0001",
    )
    assert header.nyexport.period == (date(2024, 3, 1), date(2024, 3, 31))
    times = [r for r in records if isinstance(r, TimeTransaction)]
    assert times[0].tidkod == "ÖT1" and times[0].timmar == Decimal("2.50") and times[0].postid == 7
    assert times[0].resenheter == ((1, "100"), (6, "P-1"))
    salary = next(r for r in records if isinstance(r, SalaryTransaction))
    assert (salary.lonkod, salary.belopp, salary.varugrupp) == ("UTLÄGG", Decimal("249.90"), "TAXI")
    person = next(r for r in records if isinstance(r, Person))
    assert person.values["extraadress"] == "" and person.values["manlon"].value == Decimal("32000")
    days = [r for r in records if isinstance(r, ScheduleDay)]
    assert [(d.datum.day, d.timmar) for d in days] == [(4, Decimal("8")), (5, Decimal("4.5"))]


def test_iso_8859_1_bytes():
    data = _write(encoding="iso-8859-1")
    assert "<format>LÖNIN</format>".encode("iso-8859-1") in data
    assert b'xsi:noNamespaceSchemaLocation="http://www.paxml.se/2.0/paxml.xsd"' in data


def test_fortnox_profile_writes_deviating_codes_and_names_them():
    out = io.BytesIO()
    with PaxmlWriter(out, profile=codes.FORTNOX) as writer:
        writer.header(Header(format="LÖNIN"))
        with writer.section("tidtransaktioner"):
            writer.write(
                TimeTransaction(
                    anstid="1", tidkod="ÖT2", datum=date(2024, 3, 4), timmar=Decimal("1")
                )
            )
            writer.write(
                TimeTransaction(
                    anstid="1", tidkod="ÖK2", datum=date(2024, 3, 4), timmar=Decimal("1")
                )
            )
        writer.write_profile_codes()
    data = out.getvalue()
    assert "<tidkod>ÖB2</tidkod>".encode("iso-8859-1") in data
    assert "<tidkod>ÖK2</tidkod>".encode("iso-8859-1") in data
    assert writer.deviating_codes == {"ÖB2"}
    assert '<kod id="NV9" namn="Komptid motsvarande 1.0"/>'.encode("iso-8859-1") in data
    # ÖB2 is outside the official enumeration: valid against the Fortnox schema only
    assert [p.field for p in xsd_validate_document(data)] == ["tidkod"]
    assert xsd_validate_document(data, profile=codes.FORTNOX) == []
    _records, reader = read_records(data, profile=codes.FORTNOX)
    assert reader.ok


def test_fortnox_file_without_paid_overtime_is_standard_valid():
    out = io.BytesIO()
    with PaxmlWriter(out, profile=codes.FORTNOX) as writer:
        writer.header(Header(format="LÖNIN"))
        with writer.section("tidtransaktioner"):
            writer.write(
                TimeTransaction(
                    anstid="1", tidkod="RE1", datum=date(2024, 3, 4), timmar=Decimal("3")
                )
            )
        writer.write_profile_codes()
    assert xsd_validate_document(out.getvalue()) == []


def test_structure_is_enforced():
    writer = PaxmlWriter(io.BytesIO()).__enter__()
    with pytest.raises(PaxmlWriterError, match="header first"):
        writer.section("personal").__enter__()
    writer.header(Header())
    with writer.section("personal"), pytest.raises(PaxmlWriterError, match="belongs in"):
        writer.write(CodeName(id="X", namn="Y"))
    with pytest.raises(PaxmlWriterError, match="encoding"):
        PaxmlWriter(io.BytesIO(), encoding="utf-16")


def test_empty_file_with_header_only_is_valid():
    out = io.BytesIO()
    with PaxmlWriter(out, encoding="utf-8") as writer:
        writer.header(Header(format="LÖNIN", foretagnamn="X"))
    assert xsd_validate_document(out.getvalue()) == []
