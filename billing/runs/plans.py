"""What a chunk of a run plans before it writes anything: the charges (new ones it rates and
waiting ones it found), the invoices that carry them, and the subscription and cycle updates.
A dry run shows the plan; a real run applies it (billing.runs.writing)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from billing.models import ResellerTransaction
from billing.money import ZERO
from orders.models import SubscriptionStatus
from resellers.models import Account

BILLABLE = (
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.PENDING_CANCELLATION,
    SubscriptionStatus.SUSPENDED,
    SubscriptionStatus.TRIAL,
)
UNINVOICED = ResellerTransaction.Status.UNINVOICED
INVOICED = ResellerTransaction.Status.INVOICED

# A charge's columns, read into a Charge and written from one (ResellerTransaction).
CHARGE_COLUMNS = (
    "account_id",
    "kind",
    "description",
    "amount",
    "currency",
    "charge_date",
    "subscription_id",
    "quantity",
    "unit_price",
    "period_start_date",
    "period_end_date",
    "tax_category",
    "reference",
)


@dataclass
class Charge:
    """A charge an invoice carries: an existing row (`pk`) or one this chunk rates (`pk` None)."""

    account_id: int
    kind: str
    description: str
    amount: Decimal
    currency: str
    charge_date: datetime.date | None
    pk: int | None = None
    subscription_id: int | None = None
    holder_id: int | None = None  # the subscription's holder, for "its own" charges
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    period_start: datetime.date | None = None
    period_end: datetime.date | None = None
    tax_category: str = ""
    reference: str = ""
    # its subscription is suspended now: whether it is invoiced is its recipient's class's call
    suspended: bool = False

    def column_values(self) -> tuple:
        """Its values in CHARGE_COLUMNS order, as a new ResellerTransaction row stores them."""
        return (
            self.account_id,
            self.kind,
            self.description,
            self.amount,
            self.currency,
            self.charge_date,
            self.subscription_id,
            self.quantity,
            self.unit_price,
            self.period_start,
            self.period_end,
            self.tax_category,
            self.reference,
        )

    @property
    def own(self) -> bool:
        return self.holder_id == self.account_id

    def line(self) -> tuple:
        """What a dry run and the issued line must agree on."""
        return (
            self.account_id,
            self.description,
            self.period_start,
            self.period_end,
            self.amount,
        )


@dataclass
class PlannedInvoice:
    account_id: int
    account_name: str
    issuer_id: int
    currency: str
    issue_date: datetime.date
    due_date: datetime.date
    charges: list[Charge]
    prepaid: bool
    tax: list[Decimal] = field(default_factory=list)  # per charge, filled by the tax step
    tax_rates: list[Decimal] = field(default_factory=list)
    document_id: int | None = None

    @property
    def subtotal(self) -> Decimal:
        return sum((c.amount for c in self.charges), ZERO)

    @property
    def tax_total(self) -> Decimal:
        return sum(self.tax, ZERO)

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax_total


@dataclass
class ChunkPlan:
    run_date: datetime.date
    key: str
    account_ids: list[int]
    new_charges: list[Charge] = field(default_factory=list)
    # (pk, billed_through, next_billing_date, status, quantity)
    subscription_updates: list[tuple] = field(default_factory=list)
    invoices: list[PlannedInvoice] = field(default_factory=list)
    cycle_updates: list[tuple[int, datetime.date]] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)

    def lines(self) -> list[tuple]:
        return [c.line() for inv in self.invoices for c in inv.charges]

    @property
    def subscriptions_invoiced(self) -> int:
        """The subscriptions with a line on this chunk's invoices, each once: the charges this
        chunk rated and those that waited for it (a first period charged when its order was
        executed, a customer's consumption on its reseller's billing order)."""
        return len(
            {c.subscription_id for inv in self.invoices for c in inv.charges if c.subscription_id}
        )


def planned_invoice(account: dict, charges: list[Charge], run_date) -> PlannedInvoice:
    """An invoice of `charges` to `account` (a row of _account_rows) dated `run_date`: due after
    its payment terms, on the day for a prepaid account."""
    prepaid = account["credit_terms"] == Account.CreditTerms.PREPAID
    terms = 0 if prepaid else account["payment_terms_days"]
    return PlannedInvoice(
        account_id=account["pk"],
        account_name=account["name"],
        issuer_id=account["issuer_id"],
        currency=account["currency"],
        issue_date=run_date,
        due_date=run_date + datetime.timedelta(days=terms),
        charges=charges,
        prepaid=prepaid,
    )
