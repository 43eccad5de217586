"""The vendors' official OpenAPI documents as request validators for the sandboxes.

The documents are copied unchanged from the public contracts into ``contracts/`` beside
this file (``contracts/visma/*.openapi.yml``: Visma.Net's journal-transaction v2 and
ledger documents; ``contracts/kivra/openapi.yml`` with the content path and the salary
slip schema it references). A sandbox checks every request against them before its own
business rules, so it refuses what the real API refuses by contract, independently of the
client's own checks (a sandbox never imports a client).

Two validators, both well-kept libraries:

* **openapi-core** (its request-parameters validator) checks the operation: the path and
  method exist, path, query and header parameters have the documented types and formats;
* **openapi-schema-validator** (``OAS31Validator`` with its format checker) checks the body:
  the content type must be one the operation lists, a required body must be there, and the
  raw JSON must match the operation's schema. (openapi-core's own body check casts strings
  to numbers before validating, python-openapi/openapi-core#706, which would let
  ``"12.50"`` pass for a ``number``; it also unmarshals the whole body, 20 ms a payslip.)
  Formats are checked (``date-time`` needs an offset, RFC 3339).

  A body is first checked by **jsonschema-rs** (Draft 2020-12, compiled once per
  operation), which answers "conforms" in a tenth of the time; only a body it refuses is
  run through ``OAS31Validator``, whose errors are the answer. Both read the schema the
  same way: every format the documents name is checked by the same function
  (:data:`FORMAT_CHECKER`'s, or none where it has none), and patterns are read as Python's
  ``re`` reads them (``{,n}`` is ``{0,n}``). So a body passes exactly when
  ``OAS31Validator`` would pass it (``tests/integrations/test_contract.py`` checks both
  agree on every way a payslip can break the document).

Loading notes, kept here in one place:

* Visma's documents declare ``openapi: 3.2.0``; they use nothing beyond 3.1, which is the
  newest version openapi-core reads, so they are read as 3.1.0.
* Kivra's document references partials by relative path (``./_partials/…``). Those
  published with it are inlined (the content path, the salary slip schema); the content
  *response* schema (``schema-v2-tenantkey-content-response.yml``) is not public and is
  read as "any object"; the introduction text is dropped.
* Kivra's document is not itself valid OpenAPI in every detail (no ``info.version``, no
  ``scopes`` in its client-credentials flow), so openapi-core's check *of the document* is
  off; the checks of *requests* against it are all on.
* Operations the documents do not describe (Visma Connect's token endpoint, Visma's
  ``/v1/financialPeriod``, Kivra's ``/v1/auth``) are checked by the sandboxes' own code.
"""

from __future__ import annotations

import datetime
import json
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema_rs
import yaml
from jsonschema import FormatChecker
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.validation.request.validators import V31RequestParametersValidator
from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.datastructures import Headers, ImmutableMultiDict

CONTRACTS = Path(__file__).with_name("contracts")
_URI = "urn:flexbridge:contract"
# Parameter verdicts remembered per contract (distinct paths, queries and header values).
PARAMETER_VERDICTS_KEPT = 4096

# partial file name in the vendor's tree → file copied here (or None: not published)
KIVRA_PARTIALS: dict[str, str | None] = {
    "path-v2-tenantkey-content.yml": "path-v2-tenantkey-content.yml",
    "schema-salary-slip.json": "schema-salaryslip.json",
    "schema-v2-tenantkey-content-response.yml": None,
    "api-introduction.yml": None,
}


def _string_keys(node: Any) -> Any:
    """YAML reads ``201:`` as an int; OpenAPI keys are strings."""
    if isinstance(node, dict):
        return {str(key): _string_keys(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_string_keys(value) for value in node]
    return node


def _load(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return _string_keys(json.loads(text) if path.suffix == ".json" else yaml.safe_load(text))


def _inline_partials(node: Any, folder: Path, partials: dict[str, str | None]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("./_partials/"):
            name = ref.removeprefix("./_partials/").split("#", 1)[0]
            copied = partials.get(name)
            rest = {k: v for k, v in node.items() if k != "$ref"}
            if copied is None:
                return {**rest, "type": "object"} if "schema" in name else ""
            loaded = _inline_partials(_load(folder / copied), folder, partials)
            if isinstance(loaded, dict):
                loaded = {k: v for k, v in loaded.items() if k not in ("$schema", "$id")}
                return {**loaded, **{k: v for k, v in rest.items() if k != "description"}}
            return loaded
        return {key: _inline_partials(value, folder, partials) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline_partials(value, folder, partials) for value in node]
    return node


def _is_date_or_date_time(value: str) -> bool:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            datetime.date.fromisoformat(value)
        except ValueError:
            return False
        return True
    return OAS31Validator.FORMAT_CHECKER.conforms(value, "date-time")


# Formats the vendors' documents use beyond JSON Schema's own, read as the documents
# describe them; openapi-core and the body check use the same rules.
EXTRA_FORMATS: dict[str, Any] = {
    "hexadecimal": lambda value: bool(re.fullmatch(r"[0-9a-fA-F]+", value)),
    "ISO8601": _is_date_or_date_time,
    "amount": lambda value: bool(re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value)),
    "currency-code": lambda value: bool(re.fullmatch(r"[A-Z]{3}", value)),
}


def _format_checker() -> FormatChecker:
    checker = FormatChecker()
    checker.checkers = dict(OAS31Validator.FORMAT_CHECKER.checkers)
    for name, check in EXTRA_FORMATS.items():
        checker.checks(name)(lambda value, check=check: not isinstance(value, str) or check(value))
    return checker


FORMAT_CHECKER = _format_checker()
# openapi-core's parameter checks: every format FORMAT_CHECKER knows, by the same function.
PARAMETER_FORMATS: dict[str, Any] = {
    name: (lambda value, name=name: FORMAT_CHECKER.conforms(value, name))
    for name in FORMAT_CHECKER.checkers
}


@dataclass
class _Request:
    """A request as openapi-core reads it."""

    host_url: str
    path: str
    method: str
    parameters: RequestParameters
    content_type: str
    body: bytes | None

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path


def _describe(error: Exception) -> list[str]:
    """openapi-core's error and its causes as short readable lines."""
    lines = []
    cause = error.__cause__
    schema_errors = getattr(cause, "schema_errors", None)
    if schema_errors:
        parameter = getattr(error, "name", None)
        for schema_error in schema_errors:
            message = _schema_message(schema_error)
            if parameter:
                message = f"{error}: {message.removeprefix('(body): ')}"
            lines.append(message)
    elif cause is not None:
        lines.append(f"{error}: {cause}")
    else:
        lines.append(str(error) or error.__class__.__name__)
    return lines


def _schema_message(error) -> str:
    while error.context:  # oneOf/anyOf: the alternative that got furthest says most
        error = max(error.context, key=lambda sub: len(sub.absolute_path))
    where = "/".join(str(p) for p in error.absolute_path) or "(body)"
    return f"{where}: {error.message}"


class Contract:
    """One vendor's official OpenAPI document(s), merged, as a request validator."""

    def __init__(self, document: dict) -> None:
        document = dict(document)
        document["openapi"] = "3.1.0"
        self.document = document
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.api = OpenAPI.from_dict(
                document,
                config=Config(
                    spec_validator_cls=None,
                    extra_format_validators=dict(EXTRA_FORMATS),
                    extra_format_unmarshallers=dict.fromkeys(EXTRA_FORMATS, str),
                ),
            )
        self.server = document.get("servers", [{}])[0].get("url", "https://api.example.com")
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(_URI, resource)
        self._parameters: dict[str, V31RequestParametersValidator] = {}
        self._validators: dict[tuple[str, str, str], OAS31Validator] = {}
        self._fast: dict[tuple[str, str, str], Any] = {}
        self._parameter_verdicts: dict[tuple, tuple[str, ...]] = {}
        self._header_names: dict[tuple[str, str], frozenset[str]] = {}
        self._operations: list[tuple[re.Pattern, str]] = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"), template)
            for template in document.get("paths", {})
        ]

    @classmethod
    def from_files(cls, *paths: Path, partials: dict[str, str | None] | None = None):
        merged: dict = {}
        for path in paths:
            document = _inline_partials(_load(path), path.parent, partials or {})
            if not merged:
                merged = document
                merged.setdefault("paths", {})
                merged.setdefault("components", {}).setdefault("schemas", {})
                continue
            merged["paths"].update(document.get("paths", {}))
            for kind, items in document.get("components", {}).items():
                merged["components"].setdefault(kind, {}).update(items)
        return cls(merged)

    def template_for(self, method: str, path: str) -> str | None:
        """The document's path template for a request, if it describes the operation."""
        for regex, template in self._operations:
            if regex.match(path) and method.lower() in self.document["paths"][template]:
                return template
        return None

    def covers(self, method: str, path: str) -> bool:
        return self.template_for(method, path) is not None

    def check_request(
        self,
        *,
        method: str,
        path: str,
        query: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> list[str]:
        """Every way the request breaks the document (empty: it conforms). A request for an
        operation the document does not describe is one error."""
        template = self.template_for(method, path)
        if template is None:
            return [f"{method} {path} is not an operation of the document"]
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        content_type = headers.get("content-type", "")
        errors = list(self._parameter_errors(template, method, path, query or {}, headers))
        errors.extend(self._body_errors(method, template, content_type, body))
        return list(dict.fromkeys(errors))

    def _parameter_errors(
        self,
        template: str,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
    ) -> tuple[str, ...]:
        """openapi-core's verdict on the request's parameters, remembered per distinct
        input. Its parameter validation reads only the path, the query and the header
        parameters the operation declares, so the memo is keyed on exactly those: a request
        that repeats them (every payslip of a dispatch) gets the same verdict without the
        walk through the document (a third of the sandbox's CPU per request)."""
        declared = self._declared_headers(template, method)
        key = (
            template,
            method.lower(),
            path,
            tuple(sorted((name, tuple(values)) for name, values in query.items())),
            tuple(sorted((name, value) for name, value in headers.items() if name in declared)),
        )
        found = self._parameter_verdicts.get(key)
        if found is not None:
            return found
        request = _Request(
            host_url=self.server,
            path=path,
            method=method.lower(),
            parameters=RequestParameters(
                query=ImmutableMultiDict([(k, v) for k, values in query.items() for v in values]),
                header=Headers(list(headers.items())),
                cookie=ImmutableMultiDict(),
            ),
            content_type=headers.get("content-type", ""),
            body=None,
        )
        errors: list[str] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for error in self._parameters_validator(template).iter_errors(request):
                errors.extend(_describe(error))
        if len(self._parameter_verdicts) >= PARAMETER_VERDICTS_KEPT:
            self._parameter_verdicts.clear()
        self._parameter_verdicts[key] = found = tuple(errors)
        return found

    def _declared_headers(self, template: str, method: str) -> frozenset[str]:
        """The names (lower case) of the header parameters of the operation and its path."""
        key = (template, method.lower())
        if key not in self._header_names:
            item = self.document["paths"][template]
            parameters = [
                *item.get("parameters", []),
                *item.get(method.lower(), {}).get("parameters", []),
            ]
            names = set()
            for parameter in parameters:
                if "$ref" in parameter:  # "#/components/parameters/Name"
                    parameter = self.document["components"]["parameters"][
                        parameter["$ref"].rsplit("/", 1)[1]
                    ]
                if parameter.get("in") == "header":
                    names.add(parameter["name"].lower())
            self._header_names[key] = frozenset(names)
        return self._header_names[key]

    def _body_errors(self, method: str, template: str, content_type: str, body: bytes):
        operation = self.document["paths"][template][method.lower()]
        request_body = operation.get("requestBody") or {}
        if not request_body:
            return []
        if not body:
            return ["the request body is required"] if request_body.get("required") else []
        mime = content_type.split(";", 1)[0].strip().lower()
        media = request_body.get("content", {}).get(mime)
        if media is None:
            listed = ", ".join(request_body.get("content", {}))
            return [f"content type {mime or '(none)'} is not one the operation takes ({listed})"]
        if "schema" not in media or not mime.endswith("json"):
            return []
        try:
            value = json.loads(body)
        except ValueError as exc:
            return [f"the body is not valid JSON: {exc}"]
        if self._fast_validator(template, method.lower(), mime).is_valid(value):
            return []
        validator = self._validator(template, method.lower(), mime)
        return [_schema_message(error) for error in validator.iter_errors(value)]

    def _parameters_validator(self, template: str) -> V31RequestParametersValidator:
        """openapi-core's parameter validator over a document holding only this path (the
        path was already matched): finding the path among all of Kivra's would cost more
        than the validation."""
        if template not in self._parameters:
            single = {**self.document, "paths": {template: self.document["paths"][template]}}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                spec = OpenAPI.from_dict(single, config=Config(spec_validator_cls=None)).spec
            self._parameters[template] = V31RequestParametersValidator(
                spec,
                base_url=self.server,
                spec_validator_cls=None,
                # the same checks as its default (OAS 3.1's format checker) plus ours, given
                # as functions: without them it deep-copies its checker for every parameter
                format_validators=PARAMETER_FORMATS,
                extra_format_validators=dict(EXTRA_FORMATS),
            )
        return self._parameters[template]

    def _validator(self, template: str, method: str, mime: str) -> OAS31Validator:
        key = (template, method, mime)
        if key not in self._validators:
            pointer = "/".join(
                part.replace("~", "~0").replace("/", "~1")
                for part in ("paths", template, method, "requestBody", "content", mime)
            )
            self._validators[key] = OAS31Validator(
                {"$ref": f"{_URI}#/{pointer}/schema"},
                registry=self.registry,
                format_checker=FORMAT_CHECKER,
            )
        return self._validators[key]

    def _fast_validator(self, template: str, method: str, mime: str):
        """jsonschema-rs over the same schema, read the same way (module docstring)."""
        key = (template, method, mime)
        if key not in self._fast:
            pointer = "/".join(
                part.replace("~", "~0").replace("/", "~1")
                for part in ("paths", template, method, "requestBody", "content", mime)
            )
            # JSON values only (YAML reads some examples as dates; no keyword is affected)
            document = _python_patterns(json.loads(json.dumps(self.document, default=str)))
            self._fast[key] = jsonschema_rs.Draft202012Validator(
                {**document, "$ref": f"#/{quote(pointer, safe='/~')}/schema"},
                formats={name: _format_function(name) for name in _formats_in(document)},
                validate_formats=True,
            )
        return self._fast[key]


def _formats_in(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["format"]} if isinstance(node.get("format"), str) else set()
        return found.union(*(_formats_in(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_formats_in(value) for value in node))
    return set()


def _format_function(name: str):
    """The format check :data:`FORMAT_CHECKER` applies (none: any value conforms)."""
    if name not in FORMAT_CHECKER.checkers:
        return lambda _value: True
    return lambda value: FORMAT_CHECKER.conforms(value, name)


def _python_patterns(node: Any) -> Any:
    """The document with its ``pattern`` regexes in the syntax jsonschema-rs reads, meaning
    what Python's ``re`` (jsonschema's engine) makes of them: ``{,n}`` is ``{0,n}``."""
    if isinstance(node, dict):
        return {
            key: re.sub(r"\{,(\d+)\}", r"{0,\1}", value)
            if key == "pattern" and isinstance(value, str)
            else _python_patterns(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_python_patterns(value) for value in node]
    return node


@lru_cache(maxsize=1)
def visma_contract() -> Contract:
    folder = CONTRACTS / "visma"
    return Contract.from_files(
        folder / "journaltransaction-v2.openapi.yml", folder / "ledger.openapi.yml"
    )


@lru_cache(maxsize=1)
def kivra_contract() -> Contract:
    return Contract.from_files(CONTRACTS / "kivra" / "openapi.yml", partials=KIVRA_PARTIALS)
