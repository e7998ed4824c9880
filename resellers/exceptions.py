"""The one base class for domain errors. Views map it to a form error, a 400 or an exit code."""


class ApplicationError(Exception):
    """A business rule refused the operation. `field` names the offending input, if any."""

    def __init__(self, message: str, *, field: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}


class PermissionDenied(ApplicationError):
    """The acting user may see the object but may not do this to it (403)."""
