"""Texts of third-party apps that ship no Swedish translation (django-simple-history's
change history pages), listed here so ``makemessages`` keeps them in our catalogue and the
history pages read in one language. Never imported for its values; only extracted."""

from django.utils.translation import gettext_noop, ngettext_lazy

SIMPLE_HISTORY = [
    gettext_noop("History"),
    gettext_noop("Change History"),
    gettext_noop("Change reason"),
    gettext_noop("Changed by"),
    gettext_noop("Changes"),
    gettext_noop("Comment"),
    gettext_noop("Date/time"),
    gettext_noop("Object"),
    gettext_noop("Revert"),
    gettext_noop("Close"),
    gettext_noop("None"),
    gettext_noop("This object doesn't have a change history."),
    gettext_noop("View %(verbose_name)s"),
    gettext_noop("Revert %(verbose_name)s"),
    gettext_noop("Press the 'Revert' button below to revert to this version of the object."),
    gettext_noop("Press the 'Change History' button below to edit the history."),
    gettext_noop(
        "Choose a date from the list below to revert to a previous version of this object."
    ),
    gettext_noop("Change history: %s"),
    gettext_noop("View history: %s"),
    gettext_noop("View %s"),
    gettext_noop("Revert %s"),
    gettext_noop("Created"),
    gettext_noop("Changed"),
    gettext_noop("Deleted"),
    gettext_noop("Deleted %(type_name)s"),
    gettext_noop("You may edit it again below"),
]
ENTRIES = ngettext_lazy("entry", "entries", "count")
