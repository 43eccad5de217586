"""PAXml's messages as message ids with parameters, renderable in any language.

A problem, a note or a summary is read later by someone else, maybe in another language
(the job page, the CSV log, the API). So PAXml builds its messages as :class:`Text`: the
msgid (the English source text, translated by the catalogue) and its parameters, some of
which are texts themselves (a register's kind, "and 3 more", an XSD type's example).
``str(text)`` renders it in the active language; ``text.as_data()`` is the JSON form a job
log stores, and :func:`render` renders that form again in the reader's language.

Mark msgids with ``gettext_noop`` so that ``makemessages`` keeps finding them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from jobs.messages import is_text_data, render_text, text_data

__all__ = ["Text", "is_text_data", "map_strings", "render"]


class Text:
    """A translatable message and its parameters (see the module docstring).

    ``plural``: the plural msgid, chosen by the parameter ``count``. ``brace``: the msgid
    uses ``str.format`` placeholders (``{v}``) instead of ``%(v)s``."""

    __slots__ = ("brace", "count", "msgid", "params", "plural")

    def __init__(
        self,
        msgid: str,
        /,
        *,
        plural: str = "",
        count: str = "",
        brace: bool = False,
        **params: Any,
    ) -> None:
        self.msgid = msgid
        self.plural = plural
        self.count = count
        self.brace = brace
        self.params = params

    @classmethod
    def of(cls, message, params=None) -> Text:
        """A (lazy) translatable message with its parameters — e.g. a Django
        ``ValidationError``'s ``message`` and ``params`` — kept by its msgid."""
        data = text_data(message, params)
        return cls(
            data["msgid"],
            plural=data.get("plural", ""),
            count=data.get("count", ""),
            **data["args"],
        )

    def as_data(self) -> dict:
        """The JSON form: ``{"msgid", "args", ["plural", "count"], ["brace"]}``."""
        data: dict[str, Any] = {
            "msgid": self.msgid,
            "args": {key: _data(value) for key, value in self.params.items()},
        }
        if self.plural:
            data["plural"], data["count"] = self.plural, self.count
        if self.brace:
            data["brace"] = True
        return data

    def __str__(self) -> str:
        return render(self.as_data())

    def __repr__(self) -> str:
        return f"Text({self.msgid!r}, **{self.params!r})"


def _data(value: Any) -> Any:
    if isinstance(value, Text):
        return value.as_data()
    if isinstance(value, dt.date | Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_data(item) for item in value]
    return value


# The stored form and its rendering are the jobs app's (``jobs.messages.text_data``).
render = render_text


def map_strings(data: Any, func) -> Any:
    """``data`` with ``func`` applied to every string parameter (e.g. masking), msgids
    left as they are."""
    if is_text_data(data):
        return {**data, "args": {k: map_strings(v, func) for k, v in data["args"].items()}}
    if isinstance(data, str):
        return func(data)
    if isinstance(data, list):
        return [map_strings(item, func) for item in data]
    return data
