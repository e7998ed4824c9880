"""What the ledger refuses: its exceptions, and the guard on writes only provider staff may make."""

from __future__ import annotations

from resellers.exceptions import ApplicationError, PermissionDenied
from resellers.models import User


class InvalidTransition(ApplicationError):
    pass


class InsufficientCredit(ApplicationError):
    pass


def _require_provider_staff(user: User | None, what: str) -> None:
    if user is not None and not user.is_provider_staff:
        raise PermissionDenied(f"Only provider staff can {what}.")
