"""Reads composed for the panels: one call per view.

Every queryset here comes through `resellers.tenancy.scope()`, directly or through the apps'
selectors. Anything outside the user's scope raises `DoesNotExist`, which the views answer with 404.
Whether the user may see an account's figures and documents is `can_see_financials` (a referral
reseller sees its customers' details only).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from billing.models import Application, Document, DocumentLine
from billing.selectors import Financials, account_financials, active_applications
from billing.selectors import documents_received as _documents_received
from resellers.models import Account, Contact, PaymentMethod, User
from resellers.selectors import (
    account_visible,
    can_see_financials,
    contacts_visible,
    customers_visible,
    payment_methods_visible,
    resellers_visible,
)
from resellers.tenancy import is_provider_staff, scope


@dataclass(frozen=True)
class AccountPage:
    """What an account page shows. `financials`, `documents` and `payment_methods` are None
    when the user may see the account's details only."""

    account: Account
    show_financials: bool
    financials: Financials | None
    documents: QuerySet[Document] | None
    payment_methods: QuerySet[PaymentMethod] | None
    contacts: QuerySet[Contact]
    customers: QuerySet[Account] | None


@dataclass(frozen=True)
class DocumentPage:
    document: Document
    lines: QuerySet[DocumentLine]
    applications: QuerySet[Application]


@dataclass(frozen=True)
class BillingOverview:
    resellers: int
    customers: int


def _account_page(*, user: User, account: Account) -> AccountPage:
    show = can_see_financials(user=user, account=account)
    customers = None
    if account.is_reseller:
        customers = customers_visible(user=user).filter(parent_id=account.pk)
    return AccountPage(
        account=account,
        show_financials=show,
        financials=account_financials(account=account) if show else None,
        documents=scope(_documents_received(account=account), user) if show else None,
        payment_methods=(
            payment_methods_visible(user=user).filter(account_id=account.pk, is_active=True)
            if show
            else None
        ),
        contacts=contacts_visible(user=user).filter(account_id=account.pk),
        customers=customers,
    )


def reseller_page(*, user: User, pk: int) -> AccountPage:
    """A reseller as the provider panel shows it. Raises Account.DoesNotExist out of scope."""
    return _account_page(user=user, account=resellers_visible(user=user).get(pk=pk))


def customer_page(*, user: User, pk: int) -> AccountPage:
    """An end customer visible to `user`, other than the user's own account (that is the
    account page). Raises Account.DoesNotExist out of scope."""
    account = customers_visible(user=user).exclude(pk=user.account_id).get(pk=pk)
    return _account_page(user=user, account=account)


def own_account_page(*, user: User) -> AccountPage:
    """The account the user acts for."""
    return _account_page(user=user, account=account_visible(user=user, pk=user.account_id))


def reseller_for_edit(*, user: User, pk: int) -> Account:
    """The reseller whose financial information the provider edits (404 out of scope first;
    the view then refuses anyone but provider staff)."""
    return resellers_visible(user=user).get(pk=pk)


def payment_methods_of(*, user: User, account: Account) -> QuerySet[PaymentMethod]:
    """The account's own active payment methods: the choices for its automatic top-up."""
    return payment_methods_visible(user=user).filter(account_id=account.pk, is_active=True)


def own_customers(*, user: User, search: str = "") -> QuerySet[Account]:
    """A reseller user's customers (empty for anyone else)."""
    if user.account_id is None or not user.account.is_reseller:
        return Account.objects.none()
    return customers_visible(user=user, search=search).filter(parent_id=user.account_id)


def document_page(*, user: User, pk: int) -> DocumentPage:
    """A document the user may see at the financial level. Raises Document.DoesNotExist."""
    document = (
        scope(Document.objects.exclude(status="draft"), user)
        .select_related("issuer", "recipient", "payment_method")
        .get(pk=pk)
    )
    return DocumentPage(
        document=document,
        lines=document.lines.all(),
        applications=active_applications(document=document),
    )


def billing_overview(*, user: User) -> BillingOverview:
    if not is_provider_staff(user):
        return BillingOverview(resellers=0, customers=0)
    return BillingOverview(
        resellers=resellers_visible(user=user).count(),
        customers=customers_visible(user=user).count(),
    )
