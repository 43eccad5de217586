"""SIE 4 (utgåva 4B) — the Swedish standard accounting file: a writer for type 4I and a
reader for any SIE 4 file.

The writer produces what a payroll system hands to the bookkeeping: ``#FLAGGA 0``,
``#PROGRAM``, ``#FORMAT PC8``, ``#GEN``, ``#SIETYP 4``, ``#FNAMN``, ``#ORGNR``, ``#KONTO``
for every account used, ``#DIM``/``#OBJEKT`` for the objects used, and one ``#VER`` per
voucher whose ``#TRANS`` amounts sum to exactly zero. The file is IBM code page 437.

The reader parses real files (``contracts/sie/samples/``): quoted fields with ``\\"``,
object lists ``{1 "100" 6 "P1"}``, amounts without decimals, optional trailing fields, and
labels it does not know (kept in ``unknown`` and otherwise ignored, as the format asks).
Exports are checked by reading them back.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from flexbridge.errors import DomainError

ENCODING = "cp437"
CENT = Decimal("0.01")

# The SIE dimension numbers flexbridge writes (SIE reserves 1 and 6; 7 = employee).
DIM_COST_CENTER = 1
DIM_PROJECT = 6
DIM_EMPLOYEE = 7
DIMENSION_NAMES = {
    DIM_COST_CENTER: "Kostnadsställe",
    DIM_PROJECT: "Projekt",
    DIM_EMPLOYEE: "Anställd",
}


class SieError(DomainError, ValueError):
    """A file that is not valid SIE 4, with the line it stumbled on."""

    code = "invalid_sie"

    def __init__(self, message: str, *, line: int | None = None) -> None:
        self.line = line
        super().__init__(
            f"line {line}: {message}" if line else message,
            fields={"line": line} if line else None,
        )


@dataclass(frozen=True)
class SieTransaction:
    account: str
    amount: Decimal
    objects: tuple[tuple[int, str], ...] = ()
    date: datetime.date | None = None
    text: str = ""
    quantity: Decimal | None = None


@dataclass
class SieVoucher:
    date: datetime.date
    text: str = ""
    series: str = ""
    number: str = ""
    registered: datetime.date | None = None
    transactions: list[SieTransaction] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((t.amount for t in self.transactions), Decimal("0"))

    @property
    def balanced(self) -> bool:
        return self.total == 0


@dataclass
class SieDocument:
    company_name: str
    organisation_number: str = ""
    program: str = "flexbridge"
    program_version: str = "1"
    generated: datetime.date | None = None
    sie_type: str = "4"
    format: str = "PC8"
    flag: int = 0
    accounts: dict[str, str] = field(default_factory=dict)
    dimensions: dict[int, str] = field(default_factory=dict)
    objects: dict[tuple[int, str], str] = field(default_factory=dict)
    vouchers: list[SieVoucher] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


# --- writing ----------------------------------------------------------------------------------


# Characters CP437 cannot hold, written as their nearest ASCII instead of '?'. Anything else
# it cannot hold is refused (SieTextError), never written lossy.
TRANSLITERATION = str.maketrans(
    {
        "\u2013": "-",  # – en dash (the product's own voucher texts)
        "\u2014": "-",  # — em dash
        "\u2212": "-",  # − minus sign
        "\u2010": "-",  # ‐ hyphen
        "\u2011": "-",  # ‑ non-breaking hyphen
        "\u201c": '"',  # “
        "\u201d": '"',  # ”
        "\u201e": '"',  # „
        "\u2018": "'",  # ‘
        "\u2019": "'",  # ’
        "\u201a": "'",  # ‚
        "\u2026": "...",  # …
        "\u00a0": " ",  # no-break space
        "\u202f": " ",  # narrow no-break space
        "\u2009": " ",  # thin space
        "\u20ac": "EUR",  # €
    }
)


class SieTextError(SieError):
    """A text holds a character CP437 cannot hold and that has no transliteration."""


def sie_text(value: str) -> str:
    """``value`` as CP437 can hold it: transliterated where the rule says so; refused
    otherwise."""
    text = value.translate(TRANSLITERATION)
    try:
        text.encode(ENCODING)
    except UnicodeEncodeError:
        pass
    else:
        return text
    for char in text:
        try:
            char.encode(ENCODING)
        except UnicodeEncodeError:
            raise SieTextError(
                f"{value!r}: the character {char!r} (U+{ord(char):04X}) cannot be written in "
                "SIE's code page 437"
            ) from None
    return text


def _quote(value: str) -> str:
    """Always quoted: names and texts hold spaces, Å/Ä/Ö and sometimes quotes."""
    cleaned = sie_text(value).replace("\r", " ").replace("\n", " ").replace("\\", "/")
    return '"' + cleaned.replace('"', '\\"') + '"'


def _amount(value: Decimal) -> str:
    if value != value.quantize(CENT):
        raise SieError(f"amount {value} has more than two decimals")
    return f"{value.quantize(CENT):f}"


def _quantity(value: Decimal) -> str:
    if value == value.quantize(CENT):
        return f"{value.quantize(CENT):f}"
    return f"{value.normalize():f}"


def _date(value: datetime.date) -> str:
    return value.strftime("%Y%m%d")


def _objects(objects: tuple[tuple[int, str], ...]) -> str:
    return "{" + " ".join(f"{dim} {_quote(code)}" for dim, code in objects) + "}"


def sie_write(document: SieDocument) -> bytes:
    """The document as SIE 4I bytes (CP437, CRLF). Refuses a voucher that does not balance."""
    lines = [
        f"#FLAGGA {document.flag}",
        f"#PROGRAM {_quote(document.program)} {_quote(document.program_version)}",
        "#FORMAT PC8",
        f"#GEN {_date(document.generated or datetime.date.today())}",
        f"#SIETYP {document.sie_type}",
        f"#FNAMN {_quote(document.company_name)}",
    ]
    if document.organisation_number:
        lines.append(f"#ORGNR {document.organisation_number}")
    used_accounts = sorted({t.account for v in document.vouchers for t in v.transactions})
    for number in used_accounts:
        lines.append(f"#KONTO {number} {_quote(document.accounts.get(number, ''))}")
    used_objects = sorted({o for v in document.vouchers for t in v.transactions for o in t.objects})
    for dim in sorted({dim for dim, _code in used_objects}):
        name = document.dimensions.get(dim) or DIMENSION_NAMES.get(dim, f"Dimension {dim}")
        lines.append(f"#DIM {dim} {_quote(name)}")
    for dim, code in used_objects:
        lines.append(
            f"#OBJEKT {dim} {_quote(code)} {_quote(document.objects.get((dim, code), ''))}"
        )
    for voucher in document.vouchers:
        if not voucher.balanced:
            raise SieError(f"voucher {voucher.text!r} does not balance: {voucher.total}")
        head = (
            f"#VER {_quote(voucher.series)} {_quote(voucher.number)} {_date(voucher.date)} "
            f"{_quote(voucher.text)}"
        )
        if voucher.registered:
            head += f" {_date(voucher.registered)}"
        lines += [head, "{"]
        for trans in voucher.transactions:
            row = f"   #TRANS {trans.account} {_objects(trans.objects)} {_amount(trans.amount)}"
            if trans.date or trans.text or trans.quantity is not None:
                date_field = _date(trans.date) if trans.date else '""'
                row += f" {date_field} {_quote(trans.text)}"
            if trans.quantity is not None:
                row += f" {_quantity(trans.quantity)}"
            lines.append(row)
        lines.append("}")
    # Every text went through sie_text (in _quote): strict encoding, never a '?'.
    return ("\r\n".join(lines) + "\r\n").encode(ENCODING)


# --- reading ----------------------------------------------------------------------------------


def _tokens(text: str, line_no: int) -> list:
    """Split a record into fields; an object list becomes a list of its fields."""
    out: list = []
    stack: list[list] = [out]
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in " \t":
            i += 1
        elif char == "{":
            inner: list = []
            stack[-1].append(inner)
            stack.append(inner)
            i += 1
        elif char == "}":
            if len(stack) == 1:
                raise SieError("unbalanced '}'", line=line_no)
            stack.pop()
            i += 1
        elif char == '"':
            i += 1
            buf = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n and text[i + 1] == '"':
                    i += 1
                buf.append(text[i])
                i += 1
            if i >= n:
                raise SieError("unterminated quoted field", line=line_no)
            i += 1
            stack[-1].append("".join(buf))
        else:
            start = i
            while i < n and text[i] not in ' \t{}"':
                i += 1
            stack[-1].append(text[start:i])
    if len(stack) != 1:
        raise SieError("unterminated object list", line=line_no)
    return out


def _parse_date(value: str, line_no: int) -> datetime.date:
    value = value.strip()
    try:
        if len(value) != 8 or not value.isdigit():
            raise ValueError
        return datetime.datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        raise SieError(f"invalid date {value!r}", line=line_no) from None


def _parse_decimal(value: str, line_no: int, what: str) -> Decimal:
    try:
        return Decimal(value.strip().replace(",", "."))
    except InvalidOperation:
        raise SieError(f"invalid {what} {value!r}", line=line_no) from None


def _field(tokens: list, index: int) -> str:
    value = tokens[index] if len(tokens) > index else ""
    return value if isinstance(value, str) else ""


def _object_list(value, line_no: int) -> tuple[tuple[int, str], ...]:
    if value in ("", None):
        return ()
    if not isinstance(value, list) or len(value) % 2:
        raise SieError("object list must hold pairs of dimension and object", line=line_no)
    pairs = []
    for dim, code in zip(value[0::2], value[1::2], strict=True):
        try:
            pairs.append((int(dim), code))
        except (TypeError, ValueError):
            raise SieError(f"invalid dimension {dim!r}", line=line_no) from None
    return tuple(pairs)


def sie_read(data: bytes | str) -> SieDocument:
    """Parse an SIE 4 file (bytes in CP437, or text)."""
    text = data.decode(ENCODING) if isinstance(data, bytes) else data
    reader = _SieReader()
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line:
            reader.read_line(line, line_no)
    if reader.voucher is not None or reader.in_block:
        raise SieError("file ends inside a #VER")
    return reader.document


def _sie_head_setters() -> dict:
    """How each label outside a voucher sets the document: ``set(document, tokens, line)``."""

    def program(d, t, _n):
        d.program, d.program_version = _field(t, 0), _field(t, 1)

    return {
        "#FLAGGA": lambda d, t, _n: setattr(d, "flag", int(_field(t, 0) or 0)),
        "#PROGRAM": program,
        "#FORMAT": lambda d, t, _n: setattr(d, "format", _field(t, 0)),
        "#GEN": lambda d, t, n: setattr(d, "generated", _parse_date(_field(t, 0), n)),
        "#SIETYP": lambda d, t, _n: setattr(d, "sie_type", _field(t, 0)),
        "#FNAMN": lambda d, t, _n: setattr(d, "company_name", _field(t, 0)),
        "#ORGNR": lambda d, t, _n: setattr(d, "organisation_number", _field(t, 0).strip()),
        "#KONTO": lambda d, t, _n: d.accounts.__setitem__(_field(t, 0), _field(t, 1)),
        "#DIM": lambda d, t, _n: d.dimensions.__setitem__(int(_field(t, 0)), _field(t, 1)),
        "#OBJEKT": lambda d, t, _n: d.objects.__setitem__(
            (int(_field(t, 0)), _field(t, 1)), _field(t, 2)
        ),
    }


_SIE_HEAD = _sie_head_setters()


class _SieReader:
    """The reader's state, line by line: the document, the voucher being read and whether
    its ``{ … }`` block is open."""

    def __init__(self) -> None:
        self.document = SieDocument(company_name="", program="", program_version="")
        self.voucher: SieVoucher | None = None
        self.in_block = False

    def read_line(self, line: str, line_no: int) -> None:
        if line in ("{", "}"):
            self._brace(line, line_no)
            return
        if not line.startswith("#"):
            raise SieError(f"unexpected text {line[:30]!r}", line=line_no)
        label, _sep, rest = line.partition(" ")
        label = label.upper()
        tokens = _tokens(rest, line_no)
        if self.in_block:
            self._in_voucher(label, tokens, line, line_no)
        else:
            self._outside_voucher(label, tokens, line, line_no)

    def _brace(self, line: str, line_no: int) -> None:
        if line == "{":
            if self.voucher is None or self.in_block:
                raise SieError("'{' without a #VER", line=line_no)
            self.in_block = True
            return
        if not self.in_block or self.voucher is None:
            raise SieError("'}' without '{'", line=line_no)
        self.document.vouchers.append(self.voucher)
        self.voucher, self.in_block = None, False

    def _in_voucher(self, label: str, tokens: list, line: str, line_no: int) -> None:
        if label == "#TRANS":
            self.voucher.transactions.append(_sie_transaction(tokens, line_no))
        # #RTRANS is followed by the same row as #TRANS (for older readers) and #BTRANS
        # marks a removed row: reading only #TRANS gives the voucher as it stands.
        elif label not in ("#RTRANS", "#BTRANS"):
            self.document.unknown.append(line)

    def _outside_voucher(self, label: str, tokens: list, line: str, line_no: int) -> None:
        if self.voucher is not None:
            raise SieError("#VER without '{'", line=line_no)
        if label == "#VER":
            registered = _field(tokens, 4)
            self.voucher = SieVoucher(
                series=_field(tokens, 0),
                number=_field(tokens, 1),
                date=_parse_date(_field(tokens, 2), line_no),
                text=_field(tokens, 3),
                registered=_parse_date(registered, line_no) if registered else None,
            )
        elif label in _SIE_HEAD:
            _SIE_HEAD[label](self.document, tokens, line_no)
        else:
            self.document.unknown.append(line)


def _sie_transaction(tokens: list, line_no: int) -> SieTransaction:
    if len(tokens) < 3:
        raise SieError("#TRANS needs account, object list and amount", line=line_no)
    date_text = _field(tokens, 3)
    quantity_text = _field(tokens, 5)
    return SieTransaction(
        account=str(tokens[0]),
        objects=_object_list(tokens[1], line_no),
        amount=_parse_decimal(str(tokens[2]), line_no, "amount"),
        date=_parse_date(date_text, line_no) if date_text else None,
        text=_field(tokens, 4),
        quantity=(_parse_decimal(quantity_text, line_no, "quantity") if quantity_text else None),
    )
