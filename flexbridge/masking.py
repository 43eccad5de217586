"""Masking of personal identity numbers wherever they leave the fields that need them.

A personnummer is shown as its date part and four stars (``19800101-****``). The regex
catches the usual written forms (10 or 12 digits, with or without ``-``/``+``) so that log
lines and messages can be scrubbed too.
"""

import re

# The separator may be URL-encoded (``%2D``, ``%2B``) in query strings of access logs.
_PIN_RE = re.compile(r"(?<!\d)((?:19|20)?\d{6})(?:[-+]|%2[DdBb])?(\d{4})(?!\d)")


def mask_personal_identity_number(value: str | None) -> str:
    """``198001011234`` → ``19800101-****``; empty stays empty."""
    if not value:
        return ""
    digits = re.sub(r"\D", "", value)
    if len(digits) == 12:
        return f"{digits[:8]}-****"
    if len(digits) == 10:
        return f"{digits[:6]}-****"
    return "*" * len(value)


def mask_bank_account(value: str | None) -> str:
    """``12345678901`` → ``****8901`` (the last four digits); empty stays empty."""
    return f"****{value[-4:]}" if value else ""


def _is_organisation_number(digits: str) -> bool:
    if int(digits[2:4]) < 20:
        return False
    total = 0
    for i, ch in enumerate(digits):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def mask_text(text: str) -> str:
    """Replace every personal identity number in free text by its masked form.

    A valid organisation number (ten digits, Luhn check digit, month part 20 or more: the
    third digit of an organisation number is at least 2, and no personnummer or
    samordningsnummer has such a month) is not personal data and stays readable."""

    def masked(match: re.Match) -> str:
        date_part = match.group(1)
        if len(date_part) == 6 and _is_organisation_number(date_part + match.group(2)):
            return match.group(0)
        return f"{date_part}-****"

    return _PIN_RE.sub(masked, text)
