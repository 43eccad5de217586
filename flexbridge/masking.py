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


def mask_text(text: str) -> str:
    """Replace every personal identity number in free text by its masked form."""
    return _PIN_RE.sub(lambda m: f"{m.group(1)}-****", text)
