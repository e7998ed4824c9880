"""What the ledger refuses: its exceptions. (Writes only provider staff may make are guarded by
resellers.tenancy.require_provider_staff.)"""

from __future__ import annotations

from resellers.exceptions import ApplicationError


class InvalidTransition(ApplicationError):
    pass


class InsufficientCredit(ApplicationError):
    pass
