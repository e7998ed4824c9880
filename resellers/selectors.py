"""Reads on accounts. Every list served to a user goes through resellers.tenancy.scope()."""

from __future__ import annotations

from django.db.models import Q, QuerySet, Subquery

from resellers.models import Account, AuditEvent, Contact, PaymentMethod, User
from resellers.prepared import PreparedQuery
from resellers.tenancy import FINANCIAL, account_ids, is_provider_staff, scope


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


# Seed 004's priority among an account's contacts, for its Order Confirmation and for the billing
# information an order names by default: the bill-to contact, else the primary one, else the
# oldest. An account has at most one of each flag, so this ordering's first row is the answer.
CONTACT_PRIORITY = ("-is_bill_to", "-is_primary", "created_at", "id")


def contact_first(contacts: QuerySet[Contact]) -> Contact | None:
    """The first of `contacts` (already narrowed to one account) by CONTACT_PRIORITY."""
    return contacts.order_by(*CONTACT_PRIORITY).first()


def billing_email(*, account_id: int) -> str:
    """Where the account's billing mail goes (a receipt, a declined automatic top-up): the email
    of its bill-to contact, else its primary one, else its oldest, among the contacts that have
    an email; "" when none has."""
    contact = contact_first(Contact.objects.filter(account_id=account_id).exclude(email=""))
    return contact.email if contact is not None else ""


_CONTACT_EMAILS = PreparedQuery(
    lambda accounts: (
        Contact.objects.filter(account_id__in=accounts)
        .order_by("account_id", *CONTACT_PRIORITY)
        .values("account_id", "email")
    ),
    "accounts",
)


def contact_emails(*, account_ids) -> dict[int, str]:
    """Each account's first contact email by CONTACT_PRIORITY, for several accounts in one query;
    an account without a contact (or whose first contact has no email) is left out."""
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    found: dict[int, str] = {}
    for row in _CONTACT_EMAILS.rows(accounts=ids):
        found.setdefault(row["account_id"], row["email"])
    return {account_id: email for account_id, email in found.items() if email}


def payment_methods_visible(*, user: User) -> QuerySet[PaymentMethod]:
    return scope(PaymentMethod.objects.select_related("account"), user)


def can_see_financials(*, user: User, account: Account) -> bool:
    """Whether `user` may see `account`'s documents, payment methods and prices (a referral
    reseller sees only its customers' details)."""
    ids = account_ids(user, level=FINANCIAL)
    return ids is None or ids.filter(pk=account.pk).exists()


_DEFAULT_METHOD = PreparedQuery(
    lambda account: (
        PaymentMethod.objects.filter(account_id=account, is_default=True)
        .order_by("pk")
        .values(*PreparedQuery.fields(PaymentMethod))
    ),
    "account",
)


_WITH_PARENT = PreparedQuery(
    lambda account: Account.objects.filter(
        Q(pk=account) | Q(pk=Subquery(Account.objects.filter(pk=account).values("parent_id")))
    ).values(*PreparedQuery.fields(Account)),
    "account",
)


def account_with_parent(*, pk: int, using: str = "default") -> Account:
    """The account as stored now, with its parent loaded (`account.parent` costs no query): one
    query, compiled once (resellers.prepared), for the order placement that reads both."""
    found = {a.pk: a for a in _WITH_PARENT.instances(Account, using=using, account=pk)}
    account = found[pk] if pk in found else Account.objects.get(pk=pk)  # DoesNotExist
    account.parent = found.get(account.parent_id)
    return account


def default_payment_method(*, account: Account) -> PaymentMethod | None:
    """The account's default method, active or not: a deactivated default card still means the
    account pays by card (and its token is then inactive). Every order reads it: compiled once
    (resellers.prepared)."""
    found = _DEFAULT_METHOD.instances(
        PaymentMethod, using=account._state.db or "default", account=account.pk
    )
    return found[0] if found else None


def approving_reseller(*, customer: Account) -> Account | None:
    """The reseller whose approval the customer's orders may need: its resale reseller."""
    parent = customer.parent
    if (
        customer.kind == Account.Kind.CUSTOMER
        and parent is not None
        and parent.kind == Account.Kind.RESELLER
        and parent.reseller_model == Account.ResellerModel.RESALE
    ):
        return parent
    return None


_LOOK_UP = object()


def order_approval_locked(*, reseller: Account, method=_LOOK_UP) -> bool:
    """Seed 004: while the reseller pays by credit card every toggle is locked (on). `method`:
    the reseller's default payment method when the caller has it already."""
    if method is _LOOK_UP:
        method = default_payment_method(account=reseller)
    return method is not None and method.kind == PaymentMethod.Kind.CARD


def order_approval_required(*, customer: Account | None, reseller_method=_LOOK_UP) -> bool:
    """Whether an order by `customer` waits for its reseller's approval.

    On by default. A reseller paying by cash, deposit or bank transfer may switch it per
    customer. A reseller paying by card requires approval for every order, whatever the stored
    toggle says: switching from cash or deposit to card keeps each toggle in its previous state,
    locked, and approval required regardless.
    """
    if customer is None:
        return False  # a reseller's own order
    reseller = approving_reseller(customer=customer)
    if reseller is None:
        return False  # referral and direct customers: no reseller approval
    return customer.order_approval_required or order_approval_locked(
        reseller=reseller, method=reseller_method
    )


def audit_events_visible(*, user: User) -> QuerySet[AuditEvent]:
    """Audit events (who did what, to which object, when): provider staff see every account's;
    nobody else any (an account's activity is the provider's record, issue 11). Newest first."""
    if not is_provider_staff(user):
        return AuditEvent.objects.none()
    return AuditEvent.objects.select_related("actor", "account").order_by("-created_at", "-id")
