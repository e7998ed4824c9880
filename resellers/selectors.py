"""Reads on accounts. Every list served to a user goes through resellers.tenancy.scope()."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from resellers.models import Account, Contact, PaymentMethod, User
from resellers.tenancy import FINANCIAL, account_ids, scope


def resellers_visible(*, user: User, search: str = "") -> QuerySet[Account]:
    qs = scope(Account.objects.filter(kind=Account.Kind.RESELLER), user)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(reseller_code__icontains=search))
    return qs.select_related("customer_class")


def customers_visible(*, user: User, search: str = "") -> QuerySet[Account]:
    qs = scope(Account.objects.filter(kind=Account.Kind.CUSTOMER), user)
    if search:
        qs = qs.filter(name__icontains=search)
    return qs.select_related("parent", "customer_class")


def account_visible(*, user: User, pk: int) -> Account:
    """The account, or Account.DoesNotExist when `user` may not see it (answer 404)."""
    return scope(Account.objects.select_related("customer_class", "issuer"), user).get(pk=pk)


def contacts_visible(*, user: User) -> QuerySet[Contact]:
    return scope(Contact.objects.select_related("account"), user)


def payment_methods_visible(*, user: User) -> QuerySet[PaymentMethod]:
    return scope(PaymentMethod.objects.select_related("account"), user)


def can_see_financials(*, user: User, account: Account) -> bool:
    """Whether `user` may see `account`'s documents, payment methods and prices (a referral
    reseller sees only its customers' details)."""
    ids = account_ids(user, level=FINANCIAL)
    return ids is None or ids.filter(pk=account.pk).exists()
