"""Shared REST API pieces: pagination, the one error shape, conditional requests."""

from __future__ import annotations

import hashlib
import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from .errors import DomainError

logger = logging.getLogger(__name__)


class Pagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than the limit."
    default_code = "payload_too_large"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The resource has changed since you read it (If-Match does not match)."
    default_code = "precondition_failed"


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_detail = "This update needs an If-Match header with the ETag you read."
    default_code = "precondition_required"


_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    428: "precondition_required",
    429: "throttled",
    500: "server_error",
}


def _flatten(detail) -> dict | list | str:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        flat = [_flatten(item) for item in detail]
        return flat if any(isinstance(item, dict | list) for item in flat) else " ".join(flat)
    return str(detail)


def error_body(*, code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def exception_handler(exc, context):
    """Every error answers ``{"error": {"code", "message", "fields"}}``."""
    if isinstance(exc, DomainError):  # a service's refusal: its own code, status and fields
        set_rollback()
        return Response(
            error_body(code=exc.code, message=exc.message, fields=exc.fields),
            status=exc.http_status,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, ProtectedError | RestrictedError):
        exc = Conflict(_still_referred(exc))
    elif isinstance(exc, IntegrityError):
        exc = _integrity_error(exc)
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(str(exc) or None)

    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled error in API view", exc_info=exc)
        return Response(
            error_body(code="server_error", message="An unexpected error occurred."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    fields: dict = {}
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, dict):
            fields = {key: _flatten(value) for key, value in detail.items()}
            non_field = fields.pop("non_field_errors", None)
            first = non_field or next(iter(fields.values()), "")
            message = _first_message(first) if first else "Invalid input."
            if non_field:
                fields["non_field_errors"] = non_field
        else:
            message = _first_message(_flatten(detail)) or "Invalid input."
        code = "invalid"
    else:
        detail = getattr(exc, "detail", "")
        message = str(detail) if not isinstance(detail, dict | list) else str(_flatten(detail))
        codes = exc.get_codes() if hasattr(exc, "get_codes") else None
        code = codes if isinstance(codes, str) else _CODES.get(response.status_code, "error")
    response.data = error_body(code=code, message=message, fields=fields)
    return response


def _still_referred(exc: ProtectedError | RestrictedError) -> str:
    """ "... is still referred to by 3 time registrations (#4, #9, #12)" for a delete that
    the database's protected foreign keys refuse."""
    related = getattr(exc, "protected_objects", None) or getattr(exc, "restricted_objects", ())
    by_model: dict[str, list[str]] = {}
    for obj in related:
        by_model.setdefault(str(obj._meta.verbose_name_plural), []).append(f"#{obj.pk}")
    parts = [
        f"{len(ids)} {name} ({', '.join(ids[:5])}{', ...' if len(ids) > 5 else ''})"
        for name, ids in sorted(by_model.items())
    ]
    return "This cannot be deleted: it is still referred to by " + "; ".join(parts) + "."


def _integrity_error(exc: IntegrityError) -> exceptions.APIException:
    """A uniqueness conflict the serializer did not catch is bad input (400, as a POST
    answers); any other constraint the write broke is a conflict (409). Never a 500."""
    text = str(exc)
    cause = getattr(exc, "__cause__", None)
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if sqlstate == "23505" or "unique" in text.lower():
        return exceptions.ValidationError(
            {"non_field_errors": ["A row with these values already exists."]}
        )
    return Conflict("The change conflicts with other data and was not saved.")


def api_not_found(request, *args, **kwargs):
    """Any path under ``/api/v1/`` that matches no route: JSON in the error shape (also
    when DEBUG is on, instead of Django's page listing the URL patterns)."""
    return JsonResponse(
        error_body(code="not_found", message="No API endpoint at this path."), status=404
    )


def _first_message(value) -> str:
    if isinstance(value, dict):
        return _first_message(next(iter(value.values()), ""))
    if isinstance(value, list):
        return _first_message(value[0]) if value else ""
    return str(value)


def etag_for(*parts) -> str:
    """A strong ETag from the parts that identify a version of a resource."""
    digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()[:32]
    return f'"{digest}"'


def check_if_match(request, current_etag: str, *, required: bool = False) -> None:
    """Raise 412 when ``If-Match`` names another version (428 when required and missing)."""
    header = request.headers.get("If-Match")
    if not header:
        if required:
            raise PreconditionRequired()
        return
    candidates = {tag.strip() for tag in header.split(",")}
    if "*" in candidates:
        return
    weak_stripped = {tag.removeprefix("W/") for tag in candidates}
    if current_etag not in weak_stripped:
        raise PreconditionFailed()


class ETagViewSetMixin:
    """``ETag`` on retrieve and update; ``If-Match`` on update answers 412 when stale.

    For viewsets over models with an ``updated_at``: the version is checked under a row
    lock, so two writers holding the same ETag cannot both win.
    """

    @staticmethod
    def etag(obj) -> str:
        return etag_for(obj._meta.label, obj.pk, obj.updated_at.isoformat())

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        serializer = self.get_serializer(instance)
        return Response(serializer.data, headers={"ETag": self.etag(instance)})

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        with transaction.atomic():
            instance = self.get_object()
            current = (
                type(instance)
                .objects.select_for_update()
                .only("pk", "updated_at")
                .get(pk=instance.pk)
            )
            check_if_match(request, self.etag(current))
            serializer = self.get_serializer(instance, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            self.perform_update(serializer)
        return Response(serializer.data, headers={"ETag": self.etag(serializer.instance)})
