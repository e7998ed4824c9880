"""The formats Django uses for English: the settings' (config/settings/base.py), so one date
format shows everywhere. Read from the settings each time Django looks one up (it caches them,
and clears its cache when a test overrides a format setting); input formats stay the locale's."""

from django.conf import settings

SETTINGS_FORMATS = ("DATE_FORMAT", "SHORT_DATE_FORMAT", "DATETIME_FORMAT", "SHORT_DATETIME_FORMAT")


def __getattr__(name: str):
    if name in SETTINGS_FORMATS:
        return getattr(settings, name)
    raise AttributeError(name)
