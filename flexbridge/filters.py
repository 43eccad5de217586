"""Filter backends of the REST API."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.filters import SearchFilter


class BoundedSearchFilter(SearchFilter):
    """``?search=`` with a bounded input: at most ``API_SEARCH_MAX_CHARS`` characters and
    ``API_SEARCH_MAX_TERMS`` words (each word is one more condition over every search
    field); longer input answers 400 instead of a query the database chokes on."""

    def get_search_terms(self, request):
        raw = request.query_params.get(self.search_param, "")
        max_chars = settings.API_SEARCH_MAX_CHARS
        max_terms = settings.API_SEARCH_MAX_TERMS
        if len(raw) > max_chars:
            raise exceptions.ValidationError(
                {self.search_param: [_("At most %(n)s characters.") % {"n": max_chars}]}
            )
        terms = super().get_search_terms(request)
        if len(terms) > max_terms:
            raise exceptions.ValidationError(
                {self.search_param: [_("At most %(n)s words.") % {"n": max_terms}]}
            )
        return terms
