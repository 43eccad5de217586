"""Small PAXml documents for the tests."""

from __future__ import annotations

HEAD = '<?xml version="1.0" encoding="{enc}"?>\n'
ROOT = (
    '<paxml xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:noNamespaceSchemaLocation="http://www.paxml.se/2.0/paxml.xsd">\n'
)


def doc(body: str, *, encoding: str = "utf-8", header: str | None = None) -> bytes:
    """A PAXml document around ``body`` (sections), encoded as declared."""
    if header is None:
        header = "<header><format>LÖNIN</format><version>2.0</version></header>\n"
    text = HEAD.format(enc=encoding) + ROOT + header + body + "</paxml>\n"
    return text.encode(encoding)


def tidtrans(inner: str, attrs: str = 'anstid="101"') -> str:
    return f"<tidtransaktioner>\n<tidtrans {attrs}>{inner}</tidtrans>\n</tidtransaktioner>\n"
