"""The last line behind "no 500 from a form": a service's refusal that a page did not catch
is shown as a page error in the reader's language (400), never as a server error."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.shortcuts import render

logger = logging.getLogger(__name__)


class ServiceRefusalMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ValidationError) or request.path.startswith("/api/"):
            return None
        logger.warning("Refused on %s: %s", request.path, exception.messages)
        back = request.META.get("HTTP_REFERER", "")
        if not back.startswith(("/", f"{request.scheme}://{request.get_host()}/")):
            back = ""
        return render(
            request, "refused.html", {"reasons": exception.messages, "back": back}, status=400
        )
