"""Reads on the ledger. Definitions follow DESIGN.md "Available credit and prepaid orders":

- open debt = open amounts of the account's live invoices, debit memos and refunds;
- credit balance = open amounts of its live payments and credit memos (seed 002);
- balance = credit balance - open debt (negative when it owes);
- available credit = credit limit - open debt - uninvoiced reseller transactions - reservations;
- available funds = available credit + the credit balance not held for prepaid orders (what
  automatic top-up watches: `funds_available`).

"The account's balance" is its balance as recipient towards its one upstream issuer.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    DecimalField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate

from billing.models import (
    CREDIT_TYPES,
    DEBIT_TYPES,
    LIVE_STATUSES,
    READS_CLOSED,
    Application,
    Balance,
    CreditReservation,
    Document,
    DocumentStatus,
    DocumentType,
    PaymentAllocation,
    ResellerTransaction,
)
from billing.money import ZERO
from resellers.models import Account, Contact, User
from resellers.prepared import PreparedQuery
from resellers.selectors import can_see_financials
from resellers.tenancy import is_provider_staff, scope


@dataclass(frozen=True)
class Financials:
    currency: str
    open_debt: Decimal
    credit_balance: Decimal
    balance: Decimal
    credit_limit: Decimal
    uninvoiced: Decimal
    reserved: Decimal
    available_credit: Decimal


def _sum(model_or_queryset, **filters):
    rows = getattr(model_or_queryset, "objects", model_or_queryset)
    return Coalesce(
        Subquery(
            rows.filter(account_id=OuterRef("pk"), **filters)
            .values("account_id")
            .annotate(s=Sum("amount"))
            .values("s")
        ),
        ZERO,
        output_field=DecimalField(max_digits=19, decimal_places=2),
    )


def financial_figures() -> dict:
    """Annotations giving an Account queryset its figures towards its upstream issuer."""
    pair = Balance.objects.filter(issuer_id=OuterRef("issuer_id"), recipient_id=OuterRef("pk"))
    return {
        "fig_open_debt": Coalesce(Subquery(pair.values("open_debt")), ZERO),
        "fig_credit_balance": Coalesce(Subquery(pair.values("credit_balance")), ZERO),
        # A prepaid order's charge consumes no credit: its payment is set aside for it.
        "fig_uninvoiced": _sum(
            ResellerTransaction.objects.exclude(prepaid_by__status="active"),
            status=ResellerTransaction.Status.UNINVOICED,
        ),
        "fig_reserved": _sum(CreditReservation, status=CreditReservation.Status.ACTIVE),
    }


def issuer_credit_totals(*, issuer: Account) -> Financials:
    """The figures of every account `issuer` bills in its currency, summed: their balances,
    and the credit limits and available credit of those on net terms (a prepaid account has
    neither). Four aggregates, whatever the number of accounts."""
    billed = Account.objects.filter(issuer_id=issuer.pk, currency=issuer.currency)
    net = billed.filter(credit_terms=Account.CreditTerms.NET_TERMS)
    on_net = Q(recipient__credit_terms=Account.CreditTerms.NET_TERMS)
    pairs = Balance.objects.filter(issuer_id=issuer.pk, recipient__currency=issuer.currency)
    debt = pairs.aggregate(
        open=Coalesce(Sum("open_debt"), ZERO),
        credit=Coalesce(Sum("credit_balance"), ZERO),
        net_open=Coalesce(Sum("open_debt", filter=on_net), ZERO),
    )
    limit = net.aggregate(s=Coalesce(Sum("credit_limit"), ZERO))["s"]
    uninvoiced = (
        ResellerTransaction.objects.filter(
            account__in=net, status=ResellerTransaction.Status.UNINVOICED
        )
        .exclude(prepaid_by__status="active")
        .aggregate(s=Coalesce(Sum("amount"), ZERO))["s"]
    )
    reserved = CreditReservation.objects.filter(
        account__in=net, status=CreditReservation.Status.ACTIVE
    ).aggregate(s=Coalesce(Sum("amount"), ZERO))["s"]
    return Financials(
        currency=issuer.currency,
        open_debt=debt["open"],
        credit_balance=debt["credit"],
        balance=debt["credit"] - debt["open"],
        credit_limit=limit,
        uninvoiced=uninvoiced,
        reserved=reserved,
        available_credit=limit - debt["net_open"] - uninvoiced - reserved,
    )


def financials_from(row: dict, *, currency: str) -> Financials:
    """Financials from a row with `financial_figures()`, `credit_limit` and `credit_terms`."""
    open_debt, credit_balance = row["fig_open_debt"], row["fig_credit_balance"]
    uninvoiced, reserved = row["fig_uninvoiced"], row["fig_reserved"]
    net_terms = row["credit_terms"] == Account.CreditTerms.NET_TERMS
    limit = row["credit_limit"] if net_terms else ZERO
    return Financials(
        currency=currency,
        open_debt=open_debt,
        credit_balance=credit_balance,
        balance=credit_balance - open_debt,
        credit_limit=limit,
        uninvoiced=uninvoiced,
        reserved=reserved,
        available_credit=limit - open_debt - uninvoiced - reserved,
    )


FIGURE_FIELDS = ("credit_limit", "credit_terms", *financial_figures())


# Compiled once per process (resellers.prepared): every order reads it under its credit check.
_FIGURES = PreparedQuery(
    lambda pk: Account.objects.filter(pk=pk).annotate(**financial_figures()).values(*FIGURE_FIELDS),
    "pk",
)


def account_financials(*, account: Account) -> Financials:
    """The account's figures towards its upstream issuer, from the cached balance, in one query."""
    row = _FIGURES.first(using=account._state.db or "default", pk=account.pk)
    if row is None:
        raise Account.DoesNotExist(f"Account {account.pk} does not exist.")
    return financials_from(row, currency=account.currency)


def funds_figures() -> dict:
    """`financial_figures()` and `fig_held`: the part of the credit balance set aside for prepaid
    orders until their daily invoice (active payment allocations)."""
    return {
        **financial_figures(),
        "fig_held": _sum(PaymentAllocation, status=PaymentAllocation.Status.ACTIVE),
    }


def funds_available(financials: Financials, *, held: Decimal) -> Decimal:
    """What the account can still spend, on credit or prepaid: its available credit plus the
    part of its credit balance no prepaid order holds (`held`), i.e. credit limit + balance -
    uninvoiced - reservations - held. The figure automatic top-up watches (seed 001 §2: "when
    the balance is insufficient", a credit limit counting for those who have one).

    Why not available credit alone: it leaves the credit balance out on purpose (seed 002: it
    raises available credit only once applied to open debt), so a net-terms account's top-up,
    which stays unapplied, would never raise it, and a prepaid account's (no limit) is never
    above zero. For a prepaid account this is its balance, less what is held or reserved."""
    return financials.available_credit + financials.credit_balance - held


def account_funds(*, account: Account) -> tuple[Financials, Decimal]:
    """The account's figures (`account_financials`) and its available funds (`funds_available`).
    Read after the account's lock, these are two fresh statements (see credit_available_locked)."""
    financials = account_financials(account=account)
    held = PaymentAllocation.objects.filter(
        account_id=account.pk, status=PaymentAllocation.Status.ACTIVE
    ).aggregate(s=Coalesce(Sum("amount"), ZERO))["s"]
    return financials, funds_available(financials, held=held)


def documents_received(*, account: Account):
    """Documents the account received from its issuer, newest first (drafts excluded)."""
    return (
        Document.objects.filter(recipient_id=account.pk)
        .exclude(status="draft")
        .select_related("issuer", "recipient")
    )


def documents_issued(*, account: Account):
    return (
        Document.objects.filter(issuer_id=account.pk)
        .exclude(status="draft")
        .select_related("issuer", "recipient")
    )


def unpaid_documents(*, account: Account):
    return Document.objects.filter(recipient_id=account.pk).unpaid().order_by("due_date", "pk")


def overdue_documents(*, account: Account, as_of: datetime.date):
    return Document.objects.filter(recipient_id=account.pk).overdue(as_of=as_of)


def overdue_amount(*, account: Account, as_of: datetime.date) -> Decimal:
    return (
        overdue_documents(account=account, as_of=as_of).aggregate(s=Sum("open_amount"))["s"] or ZERO
    )


def receivable_from_customers(*, reseller: Account) -> Decimal:
    """What a resale reseller is owed by its customers: minus the sum of their balances."""
    agg = Balance.objects.filter(issuer_id=reseller.pk).aggregate(
        debt=Sum("open_debt"), credit=Sum("credit_balance")
    )
    return (agg["debt"] or ZERO) - (agg["credit"] or ZERO)


def active_applications(*, document: Document):
    side = "credit_document" if document.doc_type in CREDIT_TYPES else "debit_document"
    return Application.objects.filter(**{side: document}, unapplied_at__isnull=True).select_related(
        "credit_document", "debit_document", "applied_by"
    )


def document_applications(*, document: Document) -> QuerySet[Application]:
    """Every application on the document's side, active and unlinked, oldest first, with both
    documents and who linked and unlinked it: the document's history."""
    side = "credit_document" if document.doc_type in CREDIT_TYPES else "debit_document"
    return (
        Application.objects.filter(**{side: document})
        .select_related("credit_document", "debit_document", "applied_by", "unapplied_by")
        .order_by("applied_at", "pk")
    )


def application_counterparts(*, document: Document) -> QuerySet[Document]:
    """The documents `document` could be linked to: open documents of the same issuer, recipient
    and currency on the other side (credit <-> debit), oldest due first, then oldest issued.
    Empty when `document` itself has nothing open."""
    if document.status not in LIVE_STATUSES or document.open_amount <= 0:
        return Document.objects.none()
    pair = Document.objects.filter(
        issuer_id=document.issuer_id,
        recipient_id=document.recipient_id,
        currency=document.currency,
    ).open()
    other = pair.credits() if document.doc_type in DEBIT_TYPES else pair.debits()
    return other.order_by(F("due_date").asc(nulls_last=True), "issue_date", "pk")


# --- an account's transactions (the wallet) ----------------------------------------------------

# The documents a wallet lists as its transactions, beside the applications (DESIGN.md: money in
# as payments and credit memos, money paid back out as refunds).
TRANSACTION_TYPES = (DocumentType.PAYMENT, DocumentType.CREDIT_MEMO, DocumentType.REFUND)
APPLICATION = "application"


@dataclass(frozen=True)
class AccountTransaction:
    """One of an account's transactions: a payment, credit memo or refund it received
    (`document`), or an application of a credit document to one of its debit documents
    (`application`, unlinked ones included: they are history too)."""

    on_date: datetime.date
    document: Document | None = None
    application: Application | None = None

    @property
    def kind(self) -> str:
        """The document's type (`payment`, `credit_memo`, `refund`) or `application`."""
        return APPLICATION if self.application is not None else self.document.doc_type

    @property
    def amount(self) -> Decimal:
        """An application's amount, a document's total."""
        return self.application.amount if self.application is not None else self.document.total

    @property
    def currency(self) -> str:
        return (self.application or self.document).currency

    @property
    def key(self) -> str:
        """`payment-12`, `application-5`: unique among an account's transactions."""
        return f"{self.kind}-{(self.application or self.document).pk}"


def account_transaction_keys(*, account: Account) -> QuerySet:
    """The account's transactions as keys, newest first: one row (`row_kind`, `row_id`,
    `on_date`, `at`) per live payment, credit memo or refund it received, and per application to
    one of its debit documents. One UNION query, so a page of it is counted and sliced in SQL;
    `account_transactions` turns a page of keys into rows. A document's date is its issue date
    (a payment's: when it was received), an application's the day it was applied."""
    documents = (
        Document.objects.filter(
            recipient_id=account.pk, doc_type__in=TRANSACTION_TYPES, status__in=LIVE_STATUSES
        )
        .order_by()
        .values(
            row_kind=F("doc_type"),
            row_id=F("pk"),
            on_date=F("issue_date"),
            at=Coalesce("issued_at", "created_at"),
        )
    )
    applications = (
        Application.objects.filter(debit_document__recipient_id=account.pk)
        .order_by()
        .values(
            row_kind=Value(APPLICATION, output_field=CharField()),
            row_id=F("pk"),
            on_date=TruncDate("applied_at"),
            at=F("applied_at"),
        )
    )
    return documents.union(applications, all=True).order_by("-on_date", "-at", "-row_id")


def account_transactions(keys) -> list[AccountTransaction]:
    """The rows of `keys` (a page of `account_transaction_keys`), in their order: two queries."""
    keys = list(keys)
    document_ids = [k["row_id"] for k in keys if k["row_kind"] != APPLICATION]
    application_ids = [k["row_id"] for k in keys if k["row_kind"] == APPLICATION]
    documents = Document.objects.select_related("payment_method").in_bulk(document_ids)
    applications = Application.objects.select_related("credit_document", "debit_document").in_bulk(
        application_ids
    )
    return [
        AccountTransaction(on_date=k["on_date"], application=applications[k["row_id"]])
        if k["row_kind"] == APPLICATION
        else AccountTransaction(on_date=k["on_date"], document=documents[k["row_id"]])
        for k in keys
    ]


@dataclass(frozen=True)
class Mismatch:
    account_id: int
    account_name: str
    what: str
    cached: Decimal
    actual: Decimal

    def __str__(self) -> str:
        return (
            f"account {self.account_id} ({self.account_name}): {self.what} is {self.cached} "
            f"cached, {self.actual} from documents"
        )


def balance_mismatches() -> list[Mismatch]:
    """Every cached figure that disagrees with the documents, recomputed set-wise.

    Checks, per (issuer, recipient): open debt and credit balance against the documents' open
    amounts; and per document: open amount against total minus active applications.
    """
    problems: list[Mismatch] = []
    names = dict(Account.objects.values_list("pk", "name"))

    # 1. Each live document's open amount = total - active applications on its side.
    applied_credit = dict(
        Application.objects.filter(unapplied_at__isnull=True)
        .values("credit_document")
        .annotate(s=Sum("amount"))
        .values_list("credit_document", "s")
    )
    applied_debit = dict(
        Application.objects.filter(unapplied_at__isnull=True)
        .values("debit_document")
        .annotate(s=Sum("amount"))
        .values_list("debit_document", "s")
    )
    live = Document.objects.filter(status__in=LIVE_STATUSES).values_list(
        "pk", "recipient_id", "doc_type", "total", "open_amount", "number"
    )
    for pk, recipient_id, doc_type, total, open_amount, number in live.iterator():
        applied = (applied_credit if doc_type in CREDIT_TYPES else applied_debit).get(pk, ZERO)
        if total - applied != open_amount:
            problems.append(
                Mismatch(
                    recipient_id,
                    names[recipient_id],
                    f"open amount of {doc_type} #{number}",
                    open_amount,
                    total - applied,
                )
            )

    # 2. Cached pair balances against the sums of open amounts.
    actual: dict[tuple[int, int], dict[str, Decimal]] = defaultdict(
        lambda: {"open_debt": ZERO, "credit_balance": ZERO}
    )
    sums = (
        Document.objects.filter(status__in=LIVE_STATUSES)
        .values("issuer_id", "recipient_id")
        .annotate(
            debt=Sum("open_amount", filter=Q(doc_type__in=DEBIT_TYPES)),
            credit=Sum("open_amount", filter=Q(doc_type__in=CREDIT_TYPES)),
        )
    )
    for row in sums:
        key = (row["issuer_id"], row["recipient_id"])
        actual[key]["open_debt"] = row["debt"] or ZERO
        actual[key]["credit_balance"] = row["credit"] or ZERO
    cached = {
        (b["issuer_id"], b["recipient_id"]): b
        for b in Balance.objects.values("issuer_id", "recipient_id", "open_debt", "credit_balance")
    }
    for key in sorted(set(actual) | set(cached)):
        have = cached.get(key, {"open_debt": ZERO, "credit_balance": ZERO})
        want = actual[key]
        for field in ("open_debt", "credit_balance"):
            if have[field] != want[field]:
                problems.append(
                    Mismatch(
                        key[1], names[key[1]], field.replace("_", " "), have[field], want[field]
                    )
                )
    return problems


def account_financials_visible(*, user: User, account: Account) -> Financials | None:
    """`account_financials` when `user` may see `account`'s figures, else None (a referral
    reseller sees its customers' details, never their figures)."""
    if not can_see_financials(user=user, account=account):
        return None
    return account_financials(account=account)


def documents_visible(*, user: User) -> QuerySet[Document]:
    """The documents `user` may see (resellers.tenancy.scope), with their lines.

    Each row carries `shown_status` and `shown_open_amount`: what this user is shown. Provider
    staff see the real values, drafts included. Everyone else sees issued documents only, and a
    credit memo that is not cancelled is always closed with nothing open: its value lives in the
    credit balance (seed 002, "A credit memo is always closed for a reseller"). Filter on the
    shown values, so what a list answers matches what it shows.
    """
    qs = scope(Document.objects.all(), user).select_related("issuer", "recipient")
    qs = qs.prefetch_related("lines")
    if is_provider_staff(user):
        return qs.annotate(shown_status=F("status"), shown_open_amount=F("open_amount"))
    always_closed = READS_CLOSED
    return qs.exclude(status=DocumentStatus.DRAFT).annotate(
        shown_status=Case(
            When(always_closed, then=Value(DocumentStatus.CLOSED.value)), default=F("status")
        ),
        shown_open_amount=Case(When(always_closed, then=Value(ZERO)), default=F("open_amount")),
    )


def document_bill_to(*, document: Document) -> Contact | None:
    """The contact an invoice is addressed to: the recipient's bill-to contact, if it has one.
    Whoever may see the document may see its recipient's details."""
    return Contact.objects.filter(account_id=document.recipient_id, is_bill_to=True).first()


def reseller_transactions_visible(*, user: User) -> QuerySet[ResellerTransaction]:
    """Reseller transactions: provider staff see every account's; anyone else its own account's
    only (read-only). Newest first."""
    qs = ResellerTransaction.objects.select_related("account", "invoice").order_by(
        "-charge_date", "-id"
    )
    if is_provider_staff(user):
        return qs
    if not (user and user.is_authenticated and user.account_id):
        return qs.none()
    return qs.filter(account_id=user.account_id)


def transactions_overlapping(qs, *, start=None, end=None):
    """Transactions whose period overlaps [start, end); one without a period counts on its
    charge date."""
    if start is not None:
        qs = qs.filter(
            Q(period_end_date__gt=start) | Q(period_end_date__isnull=True, charge_date__gte=start)
        )
    if end is not None:
        qs = qs.filter(
            Q(period_start_date__lt=end) | Q(period_start_date__isnull=True, charge_date__lt=end)
        )
    return qs
