import codecs
import resource
from datetime import date, datetime
from decimal import Decimal

import pytest

from paxml.reader import PaxmlFatalError, PaxmlReader, detect_encoding, read_records
from paxml.records import (
    Dimension,
    Header,
    Person,
    ResultUnit,
    SalaryTransaction,
    ScheduleDay,
    TimeTransaction,
    TravelTransaction,
)
from tests.paxml.helpers import doc, tidtrans


def test_official_example_reads_every_section(samples):
    records, reader = read_records(samples / "official-example-2.0.pax")
    assert reader.ok, reader.problems
    assert reader.encoding == "iso8859-1"
    assert reader.sections == [
        "header",
        "dimensioner",
        "resultatenheter",
        "resetransaktioner",
        "tidtransaktioner",
        "lonetransaktioner",
        "schematransaktioner",
        "personal",
    ]
    assert reader.not_imported_sections == ["resetransaktioner"]
    kinds = [type(r) for r in records]
    assert kinds.count(Dimension) == 2 and kinds.count(ResultUnit) == 3
    header = records[0]
    assert isinstance(header, Header) and header.format == "LÖNIN" and header.version == "2.0"
    travel = next(r for r in records if isinstance(r, TravelTransaction))
    assert travel.tidpunkt == datetime(2012, 4, 1, 8, 0) and travel.resekod == "START"
    sick = next(r for r in records if isinstance(r, TimeTransaction))
    assert (sick.anstid, sick.tidkod, sick.datumfrom, sick.datumtom, sick.omfattning) == (
        "101",
        "SJK",
        date(2012, 6, 2),
        date(2012, 6, 5),
        Decimal("100"),
    )
    assert sick.line == 32
    salary = next(r for r in records if isinstance(r, SalaryTransaction))
    assert salary.persnr == "198210101237" and salary.lonart == "145"
    assert salary.antal == Decimal("8.4") and salary.resenheter == ((1, "12"), (6, "100"))
    days = [r for r in records if isinstance(r, ScheduleDay)]
    assert [(d.datum.day, d.timmar) for d in days] == [
        (2, Decimal("8")),
        (3, Decimal("4.5")),
        (4, Decimal("0")),
    ]
    assert {d.anstid for d in days} == {"101"}
    person = next(r for r in records if isinstance(r, Person))
    assert person.values["ort"] == "Vårgårda"
    assert person.values["extraadress"] == ""  # present and empty
    assert "efternamn" in person.values and "bankkonto" not in person.values
    assert person.values["manlon"].value == Decimal("25000")
    assert person.values["manlon"].datum == date(2010, 1, 1)
    assert person.personbelopp == [("P01", Decimal("125"), None)]


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("iso-8859-1", b""), ("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("windows-1252", b"")],
)
def test_encodings(encoding, prefix):
    body = (
        '<personal><person anstid="7"><fornamn>Åsa</fornamn>'
        "<efternamn>Öberg–Ärlig</efternamn></person></personal>\n"
    )
    if encoding == "iso-8859-1":
        body = body.replace("–", "-")
    data = prefix + doc(body, encoding=encoding)
    records, reader = read_records(data)
    assert reader.ok, reader.problems
    person = records[-1]
    assert person.values["fornamn"] == "Åsa"
    assert person.values["efternamn"].startswith("Öberg")
    assert records[0].format == "LÖNIN"


def test_file_without_declaration_in_windows_1252_is_read():
    data = doc('<personal><person anstid="7"><ort>Vårgårda</ort></person></personal>')
    data = data.split(b"\n", 1)[1].decode("utf-8").encode("cp1252")
    assert detect_encoding(data) == ("cp1252", "windows-1252")
    records, reader = read_records(data)
    assert reader.ok, reader.problems
    assert records[-1].values["ort"] == "Vårgårda"


def test_detect_encoding():
    assert detect_encoding(codecs.BOM_UTF8 + b"<?xml version='1.0'?>")[0] == "utf-8-sig"
    assert detect_encoding(b'<?xml version="1.0" encoding="ISO-8859-1"?>')[0] == "iso8859-1"
    assert detect_encoding(b'<?xml version="1.0" encoding="windows-1252"?>')[0] == "cp1252"
    assert detect_encoding(b"<paxml/>") == ("utf-8", None)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE paxml [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<paxml><header><version>2.0</version><info>&lol9;</info></header></paxml>
"""


def test_billion_laughs_is_rejected_not_expanded():
    reader = PaxmlReader(BILLION_LAUGHS)
    with pytest.raises(PaxmlFatalError) as caught:
        list(reader)
    assert "DTD" in str(caught.value)
    assert reader.header is None


def test_external_entity_is_rejected(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    data = (
        f'<?xml version="1.0"?>\n<!DOCTYPE paxml [<!ENTITY x SYSTEM "file://{secret}">]>\n'
        "<paxml><header><version>2.0</version><info>&x;</info></header></paxml>"
    ).encode()
    reader = PaxmlReader(data)
    with pytest.raises(PaxmlFatalError, match="DTD"):
        list(reader)
    assert all("TOP-SECRET" not in str(p) for p in reader.problems)


def test_external_dtd_is_rejected():
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE paxml SYSTEM "http://example.invalid/x.dtd">\n'
        b"<paxml><header><version>2.0</version></header></paxml>"
    )
    with pytest.raises(PaxmlFatalError, match="DTD"):
        list(PaxmlReader(data))


def test_size_limit(tmp_path):
    data = doc(tidtrans("<tidkod>ARB</tidkod><datum>2024-01-02</datum><timmar>8</timmar>") * 50)
    with pytest.raises(PaxmlFatalError, match="larger than the limit"):
        list(PaxmlReader(data, max_bytes=1000))
    path = tmp_path / "f.pax"
    path.write_bytes(data)
    with pytest.raises(PaxmlFatalError, match="larger than the limit"):
        list(PaxmlReader(path, max_bytes=1000))
    assert len(list(PaxmlReader(path, max_bytes=len(data)))) == 1 + 50


def test_not_well_formed_reports_the_line():
    data = doc("<tidtransaktioner>\n<tidtrans anstid='1'>\n</tidtransaktioner>")
    reader = PaxmlReader(data)
    with pytest.raises(PaxmlFatalError):
        list(reader)
    assert reader.problems[0].line == 6
    assert "not well-formed" in reader.problems[0].message


def test_wrong_root_and_unknown_section():
    reader = PaxmlReader(b"<lonefil><header/></lonefil>")
    with pytest.raises(PaxmlFatalError, match="expected root <paxml>"):
        list(reader)
    _records, reader = read_records(doc("<tider/>\n<personal/>\n<personal/>\n"))
    messages = [str(p) for p in reader.problems]
    assert any("<tider> is not a PAXml 2.0 section" in m for m in messages)
    assert any("line 6" in m and "only once" in m for m in messages)


def test_header_is_required():
    _records, reader = read_records(doc("<personal/>", header=""))
    assert [p.message for p in reader.problems] == ["<header> is required"]


def test_memory_stays_flat_on_a_large_file(tmp_path):
    path = tmp_path / "big.pax"
    post = (
        '<tidtrans anstid="{n}"><tidkod>ARB</tidkod><datum>2024-03-01</datum>'
        '<timmar>8.00</timmar><resenheter><resenhet dim="1" id="100"/></resenheter>'
        "</tidtrans>\n"
    )
    with path.open("wb") as out:
        out.write(doc("<tidtransaktioner>\n").rsplit(b"</paxml>", 1)[0])
        for n in range(250_000):
            out.write(post.format(n=n % 500).encode())
        out.write(b"</tidtransaktioner>\n</paxml>\n")
    assert path.stat().st_size > 35_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    reader = PaxmlReader(path)
    count = sum(1 for r in reader if isinstance(r, TimeTransaction))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert count == 250_000 and reader.ok
    assert grown_mb < 40, f"peak memory grew by {grown_mb:.0f} MB"
