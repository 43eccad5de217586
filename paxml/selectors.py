"""Reads other apps ask of PAXml."""

from __future__ import annotations

from django.utils.translation import gettext as _

# resenhet/@id: what PAXml carries of a cost-centre or project code
UNIT_ID_MAX = 10


def paxml_code_fit_warning(*, company, code: str, kind: str) -> str:
    """A warning when the company uses PAXml and ``code`` (a project or cost-centre code)
    is longer than a PAXml file carries; empty when it fits or PAXml is not in use. The
    export leaves out (and names) the rows that use such a code."""
    if not getattr(getattr(company, "license", None), "paxml", False):
        return ""
    if len(code or "") <= UNIT_ID_MAX:
        return ""
    return _(
        "The %(kind)s code %(code)s is %(n)s characters; PAXml carries at most %(max)s, so "
        "PAXml exports will leave out the rows that use it."
    ) % {"kind": kind, "code": code, "n": len(code), "max": UNIT_ID_MAX}
