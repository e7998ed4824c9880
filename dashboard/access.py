"""Who may open a panel page: the provider control panel's pages are for provider staff; an
account's own pages (top-up, adding a card) are for its users."""

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404

from resellers.selectors import account_visible
from resellers.tenancy import is_provider_staff


def require_provider_panel(user) -> None:
    """403 on a provider control panel page for anyone but provider staff."""
    if not is_provider_staff(user):
        raise PermissionDenied("The provider control panel is for provider staff.")


def own_account_or_404(user, *, allowed):
    """The user's own account, for a page only its users open; 404 when it has none or
    `allowed(user=, account=)` says no (as if the page did not exist)."""
    try:
        account = account_visible(user=user, pk=user.account_id)
    except ObjectDoesNotExist as exc:
        raise Http404("Not found.") from exc
    if not allowed(user=user, account=account):
        raise Http404("Not found.")
    return account
