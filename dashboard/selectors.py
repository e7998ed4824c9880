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
from billing.selectors import (
    Financials,
    account_financials,
    application_counterparts,
    document_applications,
    unpaid_documents,
)
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
    """What an account page shows. `financials`, `documents`, `unpaid` and `payment_methods`
    are None when the user may see the account's details only. `unpaid`: its unpaid documents,
    oldest due first."""

    account: Account
    show_financials: bool
    financials: Financials | None
    documents: QuerySet[Document] | None
    unpaid: QuerySet[Document] | None
    payment_methods: QuerySet[PaymentMethod] | None
    contacts: QuerySet[Contact]
    customers: QuerySet[Account] | None

    @property
    def can_pay_with_credit(self) -> bool:
        """Both a credit balance and unpaid documents: seed 002's "pay with credit balance"."""
        return (
            self.financials is not None
            and self.financials.credit_balance > 0
            and self.unpaid is not None
            and self.unpaid.exists()
        )


@dataclass(frozen=True)
class DocumentPage:
    """A document with its lines and its applications, active and unlinked. `counterparts`:
    the documents provider staff may link it to (None for anyone else)."""

    document: Document
    lines: QuerySet[DocumentLine]
    applications: QuerySet[Application]
    counterparts: QuerySet[Document] | None


@dataclass(frozen=True)
class PaymentTarget:
    """The account a provider records an offline payment for: who receives the money (its
    issuer), its payment methods and the documents the payment may be applied to. A prepaid
    account's credit balance is applied automatically (oldest due first), so it gets no choice."""

    account: Account
    financials: Financials
    payment_methods: QuerySet[PaymentMethod]
    open_documents: QuerySet[Document]

    @property
    def applies_automatically(self) -> bool:
        return not self.account.is_net_terms


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
        unpaid=scope(unpaid_documents(account=account), user) if show else None,
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
        applications=document_applications(document=document),
        counterparts=(
            application_counterparts(document=document) if is_provider_staff(user) else None
        ),
    )


def payment_target(*, user: User, pk: int, kind: str) -> PaymentTarget:
    """A reseller (`kind="reseller"`) or customer visible to `user`, for recording a payment.
    Raises Account.DoesNotExist out of scope; the view then refuses anyone but provider staff."""
    visible = resellers_visible if kind == Account.Kind.RESELLER else customers_visible
    account = visible(user=user).select_related("issuer").get(pk=pk)
    return PaymentTarget(
        account=account,
        financials=account_financials(account=account),
        payment_methods=payment_methods_of(user=user, account=account),
        open_documents=scope(unpaid_documents(account=account), user),
    )


def billing_overview(*, user: User) -> BillingOverview:
    if not is_provider_staff(user):
        return BillingOverview(resellers=0, customers=0)
    return BillingOverview(
        resellers=resellers_visible(user=user).count(),
        customers=customers_visible(user=user).count(),
    )
