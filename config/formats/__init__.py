"""Date formats of the panels, tables and PDFs, as the settings define them (FORMAT_MODULE_PATH).

Django reads a locale's own formats before the settings' (en: "Dec. 5, 2026", "12/05/2026"), so
without this package the settings' DATE_FORMAT and friends would never be used: `en/formats.py`
gives the locale the settings' formats back. Input formats are the locale's (ISO first)."""
