"""Who may open a panel page: the provider control panel's pages are for provider staff."""

from django.core.exceptions import PermissionDenied

from resellers.tenancy import is_provider_staff


def require_provider_panel(user) -> None:
    """403 on a provider control panel page for anyone but provider staff."""
    if not is_provider_staff(user):
        raise PermissionDenied("The provider control panel is for provider staff.")
