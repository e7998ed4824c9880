"""Reads composed for the panels: one call per view.

Every queryset here comes through `resellers.tenancy.scope()`, directly or through the apps'
selectors. Anything outside the user's scope raises `DoesNotExist`, which the views answer with 404.
Whether the user may see an account's figures and documents is `can_see_financials` (a referral
reseller sees its customers' details only).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet

from billing.card_payments import open_payable_documents
from billing.models import CREDIT_TYPES, Application, Document, DocumentLine, DocumentStatus
from billing.money import line_total
from billing.selectors import (
    Financials,
    account_financials,
    account_transaction_keys,
    application_counterparts,
    document_applications,
    document_bill_to,
    unpaid_documents,
)
from billing.selectors import documents_received as _documents_received
from billing.taxes.selectors import tax_rates_visible, tax_rules_visible
from orders.models import Order, OrderItem, OrderStatus, Product, Subscription
from orders.selectors import (
    ChargedTotals,
    HeldPrepayment,
    catalogue_products,
    items_with_charged_period,
    order_charged_totals,
    order_items_charged,
    order_parties,
    order_prepayment,
    orders_for_distributor,
    orders_pending_approval,
    orders_pending_payment,
    orders_unexecuted,
    orders_visible,
    prepayments_held,
    price_quote,
    sees_credit_side,
    subscriptions_visible,
    unexecuted_advice,
    with_charged_totals,
)
from resellers.models import Account, Contact, PaymentMethod, User
from resellers.selectors import (
    account_visible,
    approving_reseller,
    can_see_financials,
    contact_first,
    contacts_visible,
    customers_visible,
    order_approval_locked,
    payment_methods_visible,
    resellers_visible,
)
from resellers.tenancy import is_provider_staff, scope


class HeldCredit:
    """What a page with `financials` and `held` (orders.selectors.prepayments_held) shows of the
    credit balance: the part held for prepaid orders, and the free rest that can pay documents."""

    financials: Financials | None
    held: list[HeldPrepayment] | None

    @property
    def held_total(self) -> Decimal:
        return sum((h.amount for h in self.held or ()), Decimal(0))

    @property
    def credit_free(self) -> Decimal:
        """The credit balance that can pay documents now: what is not held for prepaid orders
        (billing.ledger.credit_balance_apply uses unallocated credit only)."""
        if self.financials is None:
            return Decimal(0)
        return max(self.financials.credit_balance - self.held_total, Decimal(0))


@dataclass(frozen=True)
class AccountPage(HeldCredit):
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
    orders: QuerySet[Order] | None = None
    subscriptions: QuerySet[Subscription] | None = None
    approval: ApprovalToggle | None = None
    # The part of the credit balance held for prepaid orders until their daily invoice
    # (orders.selectors.prepayments_held); None where the financials are not shown.
    held: list[HeldPrepayment] | None = None

    @property
    def can_pay_with_credit(self) -> bool:
        """Both free credit balance and unpaid documents: seed 002's "pay with credit balance".
        Money held for a prepaid order pays that order's invoice only, so it offers nothing."""
        return self.credit_free > 0 and self.unpaid is not None and self.unpaid.exists()


@dataclass(frozen=True)
class WalletPage(HeldCredit):
    """An account's wallet (seed 003's "Wallet and Transactions"): its figures towards its
    issuer, its open invoices and debit memos oldest due first (what a wallet payment pays, and
    what its credit balance may be applied to: `unpaid`), and its transactions as keys
    (billing.selectors.account_transaction_keys, paged by the table). `cards`: its active cards,
    the ones a wallet payment may charge."""

    account: Account
    financials: Financials
    unpaid: QuerySet[Document]
    transactions: QuerySet
    cards: QuerySet[PaymentMethod]
    held: list[HeldPrepayment]

    @property
    def can_pay_with_credit(self) -> bool:
        return self.credit_free > 0 and self.unpaid.exists()


@dataclass(frozen=True)
class DocumentPage:
    """A document with its lines, its recipient's bill-to contact (if any) and its applications,
    active and unlinked. `counterparts`: the documents provider staff may link it to (None for
    anyone else)."""

    document: Document
    lines: QuerySet[DocumentLine]
    applications: QuerySet[Application]
    counterparts: QuerySet[Document] | None
    bill_to: Contact | None = None


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
    orders_waiting: int = 0  # submitted to the distributor, or unexecuted for lack of credit


def _account_page(*, user: User, account: Account) -> AccountPage:
    show = can_see_financials(user=user, account=account)
    buys = show and not account.is_referral_reseller  # referral resellers never order (seed 003)
    customers = None
    if account.is_reseller:
        customers = customers_visible(user=user).filter(parent_id=account.pk)
    return AccountPage(
        account=account,
        show_financials=show,
        financials=account_financials(account=account) if show else None,
        documents=scope(_documents_received(account=account), user) if show else None,
        unpaid=(
            scope(unpaid_documents(account=account), user).select_related("issuer")
            if show
            else None
        ),
        payment_methods=(
            payment_methods_visible(user=user).filter(account_id=account.pk, is_active=True)
            if show
            else None
        ),
        contacts=contacts_visible(user=user).filter(account_id=account.pk),
        customers=customers,
        orders=account_orders(user=user, account=account) if buys else None,
        subscriptions=account_subscriptions(user=user, account=account) if buys else None,
        approval=order_approval_state(customer=account) if show and account.is_customer else None,
        held=prepayments_held(account=account) if show else None,
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
    account = account_visible(user=user, pk=user.account_id)
    return _account_page(user=user, account=account)


def wallet_page(*, user: User, account: Account) -> WalletPage:
    """`account`'s wallet as `user` may see it. Raises Account.DoesNotExist when `user` may not
    see its figures (a referral reseller's customers, another tenant)."""
    if not can_see_financials(user=user, account=account):
        raise Account.DoesNotExist("Not this user's to see.")
    return WalletPage(
        account=account,
        financials=account_financials(account=account),
        unpaid=scope(open_payable_documents(account=account), user).select_related("issuer"),
        transactions=account_transaction_keys(account=account),
        cards=payment_methods_visible(user=user).filter(
            account_id=account.pk, is_active=True, kind=PaymentMethod.Kind.CARD
        ),
        held=prepayments_held(account=account),
    )


def wallet_account(*, user: User, pk: int, kind: str) -> Account:
    """A reseller (`kind="reseller"`) or customer visible to `user` whose wallet it opens, other
    than its own account (that is /account/wallet/). Raises Account.DoesNotExist out of scope."""
    visible = resellers_visible if kind == Account.Kind.RESELLER else customers_visible
    return visible(user=user).exclude(pk=user.account_id).select_related("issuer").get(pk=pk)


def reseller_for_edit(*, user: User, pk: int) -> Account:
    """The reseller whose financial information the provider edits (404 out of scope first;
    the view then refuses anyone but provider staff)."""
    return resellers_visible(user=user).get(pk=pk)


def payment_methods_of(*, user: User, account: Account) -> QuerySet[PaymentMethod]:
    """The account's own active payment methods (an offline payment's, a refund's)."""
    return payment_methods_visible(user=user).filter(account_id=account.pk, is_active=True)


def top_up_cards_of(*, user: User, account: Account) -> QuerySet[PaymentMethod]:
    """The account's own active cards: the choices for its automatic top-up (only a card is
    charged online)."""
    return payment_methods_of(user=user, account=account).filter(kind=PaymentMethod.Kind.CARD)


def own_customers(*, user: User, search: str = "") -> QuerySet[Account]:
    """A reseller user's customers (empty for anyone else)."""
    if user.account_id is None or not user.account.is_reseller:
        return Account.objects.none()
    return customers_visible(user=user, search=search).filter(parent_id=user.account_id)


def document_page(*, user: User, pk: int) -> DocumentPage:
    """A document the user may see at the financial level. Raises Document.DoesNotExist.

    Drafts, as in the API (`billing.selectors.documents_visible`): provider staff see them;
    everyone else sees issued documents only."""
    documents = scope(Document.objects.all(), user)
    if not is_provider_staff(user):
        documents = documents.exclude(status="draft")
    document = documents.select_related("issuer", "recipient", "payment_method", "billing_run").get(
        pk=pk
    )
    return DocumentPage(
        document=document,
        lines=document.lines.all(),
        bill_to=document_bill_to(document=document),
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
        open_documents=scope(unpaid_documents(account=account), user).select_related("issuer"),
    )


def memo_recipient(*, user: User, pk: int, kind: str) -> Account:
    """A reseller (`kind="reseller"`) or customer visible to `user`, to issue a memo to. Raises
    Account.DoesNotExist out of scope; the view then refuses anyone but provider staff."""
    visible = resellers_visible if kind == Account.Kind.RESELLER else customers_visible
    return visible(user=user).select_related("issuer").get(pk=pk)


def memo_tax_categories(*, user: User, issuer: Account) -> list[str]:
    """The tax categories a memo line may take: "standard", the products' categories, and those
    the issuer's own taxation rules and rates name (not "*", which is no category)."""
    found = {"standard"}
    found.update(Product.objects.values_list("tax_category", flat=True).distinct())
    for rows in (tax_rules_visible(user=user), tax_rates_visible(user=user)):
        found.update(rows.filter(owner=issuer).values_list("tax_category", flat=True).distinct())
    found.discard("*")
    found.discard("")
    return sorted(found, key=lambda category: (category != "standard", category))


def document_refundable(*, user: User, document: Document) -> bool:
    """Whether `user` may refund `document` now: provider staff, an issued payment or credit
    memo with an unapplied (open) amount. `billing.ledger.credit_refund` checks the rest."""
    return (
        is_provider_staff(user)
        and document.doc_type in CREDIT_TYPES
        and document.status == DocumentStatus.ISSUED
        and document.open_amount > 0
    )


def billing_overview(*, user: User) -> BillingOverview:
    if not is_provider_staff(user):
        return BillingOverview(resellers=0, customers=0)
    return BillingOverview(
        resellers=resellers_visible(user=user).count(),
        customers=customers_visible(user=user).count(),
        orders_waiting=distributor_orders(user=user).count(),
    )


# --- ordering ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderingParty:
    """Who a user orders for: its customer account, or its resale reseller for itself
    (`customer` None). `account` is the one whose catalogue, prices and contacts apply."""

    account: Account
    customer: Account | None
    reseller: Account | None
    credit_account: Account


def ordering_party(*, user: User) -> OrderingParty | None:
    """None when the user does not buy in the portal: provider staff (they sell), referral
    resellers (their customers buy directly from the provider, seed 003), and users without an
    account."""
    if is_provider_staff(user) or user.account_id is None:
        return None
    account = account_visible(user=user, pk=user.account_id)
    if account.is_customer:
        return OrderingParty(
            account=account,
            customer=account,
            reseller=None,
            credit_account=order_parties(customer=account, reseller=None),
        )
    if account.is_reseller and not account.is_referral_reseller:
        return OrderingParty(
            account=account, customer=None, reseller=account, credit_account=account
        )
    return None


@dataclass(frozen=True)
class CatalogueRow:
    """A product the party may order, at its price (the customer's amount; a reseller's own
    order pays its cost)."""

    product: Product
    unit_price: Decimal
    currency: str


def _quote(party: OrderingParty, product: Product) -> CatalogueRow:
    quote = price_quote(
        product=product, customer=party.customer, credit_account=party.credit_account
    )
    return CatalogueRow(product=product, unit_price=quote.unit_price, currency=quote.currency)


def catalogue_rows(*, party: OrderingParty) -> list[CatalogueRow]:
    """The party's catalogue (its own only: `catalogue_products`), each product at its price."""
    return [_quote(party, product) for product in catalogue_products(account=party.account)]


def catalogue_products_of(*, party: OrderingParty) -> QuerySet[Product]:
    """The products the party may put in its basket: the choices of the Add form."""
    return catalogue_products(account=party.account)


@dataclass(frozen=True)
class BasketLine:
    product: Product
    quantity: int
    unit_price: Decimal
    total: Decimal


@dataclass(frozen=True)
class Basket:
    """The session's basket priced for the party. `gone`: product ids in the session that are no
    longer in the party's catalogue (the view drops them and says so)."""

    lines: list[BasketLine]
    total: Decimal
    currency: str
    gone: list[int]


def basket_priced(*, party: OrderingParty, quantities: dict[int, int]) -> Basket:
    """`quantities` (product id -> quantity, from the session) priced as order_create would
    price them. The total is a preview; the order stores its own at creation."""
    currency = party.credit_account.currency
    chosen = catalogue_products(account=party.account).filter(pk__in=list(quantities))
    products = {product.pk: product for product in chosen}
    lines = []
    for pk, quantity in quantities.items():
        product = products.get(pk)
        if product is None:
            continue
        row = _quote(party, product)
        total = line_total(quantity=Decimal(quantity), unit_price=row.unit_price, currency=currency)
        lines.append(BasketLine(product, quantity, row.unit_price, total))
    lines.sort(key=lambda line: (line.product.name, line.product.pk))
    return Basket(
        lines=lines,
        total=sum((line.total for line in lines), Decimal(0)),
        currency=currency,
        gone=[pk for pk in quantities if pk not in products],
    )


def billing_contact(*, user: User, account: Account) -> Contact | None:
    """Whom the order's billing information names by default: the bill-to contact, else the
    primary one, else the oldest (the same priority as seed 004's confirmation email)."""
    return contact_first(contacts_visible(user=user).filter(account_id=account.pk))


# --- orders ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderPage:
    """An order as its detail page shows it. `items`: its own items, or, for an order split into
    sub-orders, theirs (execution moved them there)."""

    order: Order
    items: QuerySet[OrderItem]
    sub_orders: QuerySet[Order]
    show_costs: bool
    # As charged (orders.selectors.order_charged_totals), the order's and each item's by id.
    totals: ChargedTotals | None = None
    item_totals: dict[int, ChargedTotals] | None = None
    # The credit side only: the money held for it until its daily invoice, and, for an order
    # unexecuted for lack of credit, the rule and what would work.
    prepayment: HeldPrepayment | None = None
    credit_advice: str = ""

    @property
    def item_rows(self) -> list[tuple[OrderItem, ChargedTotals]]:
        """Each item with what it was charged (its stored totals until executed)."""
        charged = self.item_totals or {}
        return [
            (item, charged.get(item.pk) or ChargedTotals(item.total_cost, item.total_amount))
            for item in self.items
        ]

    @property
    def sub_order_rows(self) -> list[tuple[Order, ChargedTotals]]:
        return [(sub, order_charged_totals(sub)) for sub in self.sub_orders]

    @property
    def co_termed(self) -> bool:
        """Whether an item was charged part of a period (its first charge co-termed)."""
        return any(
            charged.amount != item.total_amount or charged.cost != item.total_cost
            for item, charged in self.item_rows
        )


def order_page(*, user: User, pk: int) -> OrderPage:
    """An order the user may see. Raises Order.DoesNotExist out of scope (404)."""
    order = with_charged_totals(
        orders_visible(user=user).select_related("parent", "placed_by")
    ).get(pk=pk)
    sub_orders = with_charged_totals(orders_visible(user=user).filter(parent_id=order.pk))
    items = items_with_charged_period(
        OrderItem.objects.filter(Q(order_id=order.pk) | Q(order__parent_id=order.pk))
    ).select_related("order")
    credit_side = sees_credit_side(user, order)
    advice = ""
    if credit_side and order.status == OrderStatus.UNEXECUTED_CREDIT:
        advice = unexecuted_advice(order=order, own=user.account_id == order.credit_account_id)
    return OrderPage(
        order=order,
        items=items.order_by("order_id", "id"),
        sub_orders=sub_orders.order_by("id"),
        show_costs=credit_side,
        totals=order_charged_totals(order),
        item_totals=order_items_charged(order),
        prepayment=order_prepayment(order=order) if credit_side else None,
        credit_advice=advice,
    )


def order_for_action(*, user: User, pk: int) -> Order:
    """The order an action (accept, cancel, execute) names, if the user may see it; raises
    Order.DoesNotExist otherwise (404). Whether the user may act is the view's next check."""
    return orders_visible(user=user).get(pk=pk)


def order_list(*, user: User) -> QuerySet[Order]:
    """The user's orders, sub-orders aside: a customer's own; a resale reseller's own and its
    customers'; nothing of a referral reseller's customers (scope)."""
    return with_charged_totals(orders_visible(user=user).filter(parent__isnull=True))


@dataclass(frozen=True)
class OrderWidgets:
    """Seed 004's two order widgets of the reseller dashboard, and the orders waiting for a
    payment (*Pending*: no usable card token, or a card the gateway refused)."""

    pending_approval: QuerySet[Order]
    unexecuted: QuerySet[Order]
    pending_payment: QuerySet[Order] | None = None


def has_reseller_dashboard(user: User) -> bool:
    """Seed 004's Reseller Dashboard is a resale reseller's home page; provider staff see a
    reseller's figures on its page in the provider panel, referral resellers and customers have
    their account page."""
    if user.account_id is None or is_provider_staff(user):
        return False
    account = user.account
    return account.is_reseller and not account.is_referral_reseller


def reseller_order_widgets(*, user: User) -> OrderWidgets | None:
    """For a resale reseller's user: its *Submitted Orders Pending Approval* and *Unexecuted
    Orders Due to Insufficient Credit*. None for anyone else."""
    if not has_reseller_dashboard(user):
        return None
    account = user.account
    return OrderWidgets(
        pending_approval=scope(orders_pending_approval(reseller=account), user),
        unexecuted=scope(orders_unexecuted(reseller=account), user),
        pending_payment=scope(orders_pending_payment(reseller=account), user),
    )


def distributor_orders(*, user: User) -> QuerySet[Order]:
    """Provider staff: orders submitted to the distributor and orders unexecuted for lack of
    credit. Empty for anyone else."""
    if not is_provider_staff(user):
        return Order.objects.none()
    return with_charged_totals(scope(orders_for_distributor(), user).select_related("parent"))


def account_orders(*, user: User, account: Account) -> QuerySet[Order]:
    """The orders shown on an account's page: a customer's orders; a reseller's own purchases
    (its customers' orders are on their pages and in its order list)."""
    visible = order_list(user=user)
    if account.is_customer:
        return visible.filter(customer_id=account.pk)
    return visible.filter(credit_account_id=account.pk, customer__isnull=True)


def account_subscriptions(*, user: User, account: Account) -> QuerySet[Subscription]:
    """The subscriptions the account holds, as far as the user may see them."""
    return subscriptions_visible(user=user).filter(account_id=account.pk)


@dataclass(frozen=True)
class ApprovalToggle:
    """Seed 004: `stored` is the toggle's own state; `locked` while the reseller pays by card,
    when every order needs approval whatever is stored."""

    stored: bool
    locked: bool

    @property
    def required(self) -> bool:
        return self.stored or self.locked


def order_approval_state(*, customer: Account) -> ApprovalToggle | None:
    """The customer's Order Approval toggle as its reseller's page shows it, or None when the
    customer has no resale reseller (referral and direct customers: no approval)."""
    reseller = approving_reseller(customer=customer)
    if reseller is None:
        return None
    return ApprovalToggle(
        stored=customer.order_approval_required,
        locked=order_approval_locked(reseller=reseller),
    )


def subscription_for_action(*, user, pk: int):
    """A subscription `user` may see (and so act on), or Subscription.DoesNotExist (404)."""
    return subscriptions_visible(user=user).get(pk=pk)


def statistics_account(*, user: User, account_id: int | None) -> Account | None:
    """Whose General Statistics `user` asks for: `account_id`'s when it may see that account's
    figures, else Account.DoesNotExist (404); without one, its own account, or for provider
    staff None (provider-wide)."""
    if account_id is None:
        if is_provider_staff(user):
            return None
        if user.account_id is None:
            raise Account.DoesNotExist("No account.")
        account_id = user.account_id
    account = account_visible(user=user, pk=account_id)
    if not can_see_financials(user=user, account=account):
        raise Account.DoesNotExist("Not this account's figures.")
    return account


def provider_account(*, user: User) -> Account:
    """The provider's own account (its company details: the letterhead of the documents it
    issues). Account.DoesNotExist when there is none or `user` may not see it (only provider
    staff do)."""
    return scope(Account.objects.filter(kind=Account.Kind.PROVIDER), user).earliest("pk")


def account_for_details(*, user: User, pk: int, kind: str) -> Account:
    """The reseller or customer (`kind`) whose billing details the provider edits:
    Account.DoesNotExist out of `user`'s scope or of another kind (404 first; the view then
    refuses anyone but provider staff)."""
    return scope(Account.objects.filter(kind=kind), user).get(pk=pk)
