"""Error pages made for people.

* The last line behind "no 500 from a form": a service's refusal that a page did not catch
  is shown as a page error in the reader's language (400), never as a server error.
* With ``DEBUG`` on (the embedded first run) a page that is not found still answers with
  the site's own 404 page, not Django's debug page (``NOT_FOUND_DEBUG_PAGE`` brings the
  debug page back for a developer).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotFound
from django.shortcuts import render
from django.template.loader import render_to_string

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


class NotFoundPageMiddleware:
    """Django shows its debug 404 while ``DEBUG`` is on; people see the site's 404 page."""

    PASS_THROUGH = ("/api/", "/static/", "/media/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 404
            and settings.DEBUG
            and not getattr(settings, "NOT_FOUND_DEBUG_PAGE", False)
            and not request.path.startswith(self.PASS_THROUGH)
            and response.get("Content-Type", "").startswith("text/html")
        ):
            return HttpResponseNotFound(render_to_string("404.html", {}, request))
        return response
