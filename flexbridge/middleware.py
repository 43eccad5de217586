"""Error pages made for people.

* The last line behind "no 500 from a form": a service's refusal that a page did not catch
  is shown as a page error in the reader's language (400), never as a server error.
* With ``DEBUG`` on (the embedded first run) a page that is not found still answers with
  the site's own 404 page, not Django's debug page (``NOT_FOUND_DEBUG_PAGE`` brings the
  debug page back for a developer).
* An upload over ``UPLOAD_MAX_BYTES`` on a page answers 413 with the limit in the reader's
  language, not Django's bare (or, with ``DEBUG``, technical) 400 page.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotFound
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

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


class UploadTooLargePageMiddleware:
    """Pages: an upload the limit refused (``flexbridge.uploads``) is a 413 page that says
    the limit; the API keeps its own 413 in the error shape."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        limit = getattr(request, "upload_too_large", None)
        if limit is None or request.path.startswith("/api/"):
            return response
        reason = _("The file is larger than the upload limit of %(mb)s MB.") % {
            "mb": max(1, round(limit / (1024 * 1024)))
        }
        return render(request, "refused.html", {"reasons": [reason], "back": ""}, status=413)
