"""The one scoping helper. Every panel view and API view gets its querysets through `scope()`.

A user sees its own account and the accounts under it; provider staff see everything. Two levels:
- "details": name, contacts, status, sign-up date. A referral reseller sees these of its customers.
- "financial": documents, payment methods, prices, subscriptions. A referral reseller sees only
  its own; a resale reseller sees its own and its customers'.

Each scoped model declares `tenant_paths` (lookups from the model to an Account) and
`tenant_level`. Anything outside the scope is simply absent from the queryset, so a guessed id
answers 404.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from resellers.exceptions import PermissionDenied
from resellers.models import Account

DETAILS = "details"
FINANCIAL = "financial"


def is_provider_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_provider_staff)


def require_provider_staff(user, what: str) -> None:
    """For services: only provider staff, or a job acting for no one (`user` None), may `what`
    ("cancel documents"); anyone else gets PermissionDenied (403)."""
    if user is not None and not user.is_provider_staff:
        raise PermissionDenied(f"Only provider staff can {what}.")


def require_own_or_staff(user, account_id: int, message: str) -> None:
    """For services: only the account's own users, provider staff, or a job acting for no one
    (`user` None) may act on account `account_id`; anyone else gets PermissionDenied(message)."""
    if user is not None and not user.is_provider_staff and user.account_id != account_id:
        raise PermissionDenied(message)


def account_ids(user, *, level: str = DETAILS) -> QuerySet | None:
    """Ids of the accounts `user` may see at `level`; None means "all" (provider staff)."""
    if not (user and user.is_authenticated):
        return Account.objects.none().values("pk")
    if user.is_provider_staff:
        return None
    account = user.account
    if account is None:
        return Account.objects.none().values("pk")
    if account.kind == Account.Kind.RESELLER:
        if level == FINANCIAL and account.reseller_model == Account.ResellerModel.REFERRAL:
            return Account.objects.filter(pk=account.pk).values("pk")
        return Account.objects.filter(Q(pk=account.pk) | Q(parent_id=account.pk)).values("pk")
    return Account.objects.filter(pk=account.pk).values("pk")


def scope(queryset: QuerySet, user) -> QuerySet:
    """`queryset` narrowed to what `user` may see, by the model's `tenant_paths`/`tenant_level`."""
    model = queryset.model
    paths = getattr(model, "tenant_paths", None)
    if paths is None:
        raise TypeError(f"{model.__name__} declares no tenant_paths; it cannot be served scoped")
    ids = account_ids(user, level=getattr(model, "tenant_level", FINANCIAL))
    if ids is None:
        return queryset
    condition = Q()
    for path in paths:
        condition |= Q(**{f"{path}__in": ids})
    return queryset.filter(condition)
