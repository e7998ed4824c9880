"""English formats, from the settings (config.formats)."""
