"""Places (geofences) and their import from a CSV file."""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import Place

CSV_COLUMNS = ("name", "address", "latitude", "longitude", "radius_m")
MAX_IMPORT_BYTES = 2 * 1024 * 1024


def _decimal(text: str, low: int, high: int, label: str, errors: list, line: int):
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        errors.append(
            _("Line %(line)s: %(field)s %(value)r is not a number.")
            % {"line": line, "field": label, "value": text}
        )
        return None
    if not value.is_finite() or not low <= value <= high:
        errors.append(
            _("Line %(line)s: %(field)s must be between %(low)s and %(high)s.")
            % {"line": line, "field": label, "low": low, "high": high}
        )
        return None
    return value.quantize(Decimal("0.000001"))


def _places_reader(content: bytes) -> csv.DictReader:
    """The file as rows keyed by the lower-cased header, or a :class:`ValidationError`
    for a file that is too large, not UTF-8 or lacks a column."""
    if len(content) > MAX_IMPORT_BYTES:
        raise ValidationError(_("The file is larger than 2 MB."))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(_("The file is not UTF-8 text.")) from exc
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=";,")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise ValidationError(
            _("Line 1: the header lacks %(columns)s.") % {"columns": ", ".join(missing)}
        )
    reader.fieldnames = header
    return reader


def _place_name(name: str, *, line: int, seen: dict[str, int], errors: list) -> None:
    if not name:
        errors.append(_("Line %(line)s: the name is missing.") % {"line": line})
    elif len(name) > 200:
        errors.append(_("Line %(line)s: the name is longer than 200.") % {"line": line})
    elif name.lower() in seen:
        errors.append(
            _("Line %(line)s: %(name)s is also on line %(other)s.")
            % {"line": line, "name": name, "other": seen[name.lower()]}
        )
    else:
        seen[name.lower()] = line


def _place_radius(text: str, *, line: int, errors: list) -> int | None:
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        errors.append(
            _("Line %(line)s: the radius must be a whole number of metres from 1.") % {"line": line}
        )
        return None
    return int(text)


def places_import(*, company, content: bytes) -> list[Place]:
    """Create the places of a CSV file: a header with ``name, address, latitude,
    longitude, radius_m`` (``;`` or ``,`` separated, UTF-8), one place per line; an empty
    radius means the company default. Every error is collected with its line number and
    nothing is saved when there is one (:class:`ValidationError` with the list). A place
    whose name already exists in the company is updated, so re-importing a file does not
    duplicate it."""
    reader = _places_reader(content)
    errors: list[str] = []
    rows: list[dict] = []
    seen: dict[str, int] = {}
    for line, raw in enumerate(reader, start=2):
        row = {k: (v or "").strip() for k, v in raw.items() if k}
        if not any(row.values()):
            continue
        name = row.get("name", "")
        _place_name(name, line=line, seen=seen, errors=errors)
        rows.append(
            {
                "name": name,
                "address": row.get("address", "")[:255],
                "latitude": _decimal(row.get("latitude", ""), -90, 90, "latitude", errors, line),
                "longitude": _decimal(
                    row.get("longitude", ""), -180, 180, "longitude", errors, line
                ),
                "radius_m": _place_radius(row.get("radius_m", ""), line=line, errors=errors),
            }
        )
    if errors:
        raise ValidationError(errors)
    if not rows:
        raise ValidationError(_("The file has no places."))
    with transaction.atomic():
        existing = {p.name.lower(): p for p in Place.objects.filter(company=company)}
        saved = []
        for row in rows:
            place = existing.get(row["name"].lower()) or Place(company=company)
            for key, value in row.items():
                setattr(place, key, value)
            place.full_clean()
            place.save()
            saved.append(place)
    return saved
