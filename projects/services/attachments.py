"""Project attachments, stored through Django's storage API. Allowed file types and the
size limit are settings (``PROJECT_ATTACHMENT_ALLOWED_EXTENSIONS``,
``PROJECT_ATTACHMENT_MAX_BYTES``)."""

from __future__ import annotations

from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import Project, ProjectAttachment


def attachment_check_file(*, file) -> None:
    allowed = [e.lower() for e in settings.PROJECT_ATTACHMENT_ALLOWED_EXTENSIONS]
    extension = PurePath(file.name).suffix.lower().lstrip(".")
    if extension not in allowed:
        raise ValidationError(
            {
                "file": _("Files of type .%(ext)s are not allowed; allowed: %(allowed)s.")
                % {"ext": extension or "?", "allowed": ", ".join(allowed)}
            }
        )
    if file.size > settings.PROJECT_ATTACHMENT_MAX_BYTES:
        raise ValidationError(
            {
                "file": _("The file is %(size)s bytes; the limit is %(limit)s bytes.")
                % {"size": file.size, "limit": settings.PROJECT_ATTACHMENT_MAX_BYTES}
            }
        )


@transaction.atomic
def project_attachment_create(
    *, project: Project, file, description: str = "", show_at_registration: bool = False
) -> ProjectAttachment:
    attachment_check_file(file=file)
    attachment = ProjectAttachment(
        project=project,
        original_name=PurePath(file.name).name[:255],
        size=file.size,
        description=description,
        show_at_registration=show_at_registration,
    )
    attachment.file.save(attachment.original_name, file, save=False)
    attachment.save()
    return attachment


@transaction.atomic
def project_attachment_update(
    *,
    attachment: ProjectAttachment,
    description: str | None = None,
    show_at_registration: bool | None = None,
) -> ProjectAttachment:
    if description is not None:
        attachment.description = description
    if show_at_registration is not None:
        attachment.show_at_registration = show_at_registration
    attachment.save(update_fields=["description", "show_at_registration"])
    return attachment


def project_attachment_delete(*, attachment: ProjectAttachment) -> None:
    """Delete the row, and the stored file once the deletion is committed."""
    storage, name = attachment.file.storage, attachment.file.name
    with transaction.atomic():
        attachment.delete()
        transaction.on_commit(lambda: storage.delete(name))
