"""Starting the PAXml jobs from the API, the admin and the pages."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.utils import translation
from django.utils.translation import gettext as _

from companies.models import Company
from jobs.models import Job
from jobs.services import job_start, job_start_check

from .. import codes


def _licensed(company: Company) -> None:
    if not getattr(getattr(company, "license", None), "paxml", False):
        raise PermissionDenied(_("PAXml is not licensed for %(c)s.") % {"c": company.name})


def paxml_import_start(
    *,
    user,
    company: Company,
    upload,
    dry_run: bool = False,
    profile: str = "standard",
    create_missing: bool = False,
    confirm_organisation_number: bool = False,
    source_name: str = "",
) -> Job:
    """Store the uploaded file and start a ``paxml_import`` job on it (the options as in
    ``paxml_import_run``; the job reports in the language active now)."""
    _licensed(company)
    codes.profile_get(profile)
    # Permission first: a refused upload is never stored.
    job_start_check(user=user, company=company, kind="paxml_import")
    limit = settings.PAXML_MAX_FILE_BYTES
    if upload.size > limit:
        raise ValidationError({"file": _("The file is larger than %(n)s bytes.") % {"n": limit}})
    path = default_storage.save(f"paxml/uploads/{uuid.uuid4().hex}.pax", upload)
    try:
        return job_start(
            user=user,
            company=company,
            kind="paxml_import",
            parameters={
                "path": path,
                "name": (upload.name or "")[:255],
                "dry_run": bool(dry_run),
                "profile": profile,
                "create_missing": bool(create_missing),
                "confirm_organisation_number": bool(confirm_organisation_number),
                "source_name": (source_name or "").strip()[:200],
                "language": translation.get_language() or settings.LANGUAGE_CODE,
            },
        )
    except BaseException:
        default_storage.delete(path)
        raise


def paxml_export_start(
    *,
    user,
    company: Company,
    date_from: dt.date,
    date_to: dt.date,
    employees: list[str] | None = None,
    profile: str = "standard",
    encoding: str = "iso-8859-1",
    personnel: bool = False,
) -> Job:
    """Start a ``paxml_export`` job; its file is the job's result file (with
    ``personnel``, the employees' register too)."""
    _licensed(company)
    codes.profile_get(profile)
    if date_to < date_from:
        raise ValidationError({"date_to": _("The end of the period is before its start.")})
    return job_start(
        user=user,
        company=company,
        kind="paxml_export",
        parameters={
            "date_from": date_from.isoformat(),
            "date_to": date_to.isoformat(),
            "employees": list(employees or []),
            "profile": profile,
            "encoding": encoding,
            "personnel": bool(personnel),
            "language": translation.get_language() or settings.LANGUAGE_CODE,
        },
    )
