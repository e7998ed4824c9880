"""Catalogue, price lists, orders and subscriptions (seed 004, seed 003 on catalogues).

Prices:
- `Product.list_price` is the catalogue price: what referral and direct customers pay the provider.
- A `PriceList` belongs to a seller (the provider, or a resale reseller) and is assigned to buyers.
  The provider's list assigned to a reseller gives the reseller's *cost*; a reseller's list
  assigned to its customer gives the customer's *amount*. A list may carry a markup percentage
  applied to the buyer's cost where it has no explicit item. Resolution lives in
  orders.selectors.price_quote.

Orders go draft -> submitted -> (pending reseller approval) -> validation -> completed, or
unexecuted (insufficient credit), submitted to distributor (manual execution), pending (no usable
payment token, or the gateway failed), cancelled. An order with sub-orders stays submitted until
every sub-order is executed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

# Idempotency keys moved to the ledger (one mechanism for every API POST: billing.idempotency);
# re-exported for the callers that import it from here.
from billing.models import IdempotencyKey as IdempotencyKey

MONEY = {"max_digits": 19, "decimal_places": 2}
RATE = {"max_digits": 19, "decimal_places": 4}


class Product(models.Model):
    class ProductType(models.TextChoices):
        SOFTWARE_SUBSCRIPTION = "software_subscription", "Software subscription"
        RESERVED_INSTANCE = "reserved_instance", "Reserved instance"
        ESD_LICENCE = "esd_licence", "ESD licence"
        SERVICE = "service", "Service"

    class BillingType(models.TextChoices):
        RECURRING_MONTHLY = "recurring_monthly", "Recurring, monthly"
        RECURRING_ANNUAL = "recurring_annual", "Recurring, annual"
        RECURRING_THREE_YEARS = "recurring_3_years", "Recurring, three years"
        USAGE = "usage", "Usage"
        ONE_TIME = "one_time", "One-time"

    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    product_type = models.CharField(max_length=24, choices=ProductType.choices)
    billing_type = models.CharField(max_length=20, choices=BillingType.choices)
    auto_executed = models.BooleanField(
        default=True, help_text="Provisioned automatically; otherwise the distributor executes it."
    )
    tax_category = models.CharField(max_length=40, default="standard")
    trial_days = models.PositiveSmallIntegerField(null=True, blank=True)
    list_price = models.DecimalField(
        **RATE, help_text="Catalogue price per unit and billing period (or per unit of usage)."
    )
    currency = models.CharField(max_length=3, default="USD")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(list_price__gte=0), name="list_price_gte_0"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_recurring(self) -> bool:
        return self.billing_type in (
            self.BillingType.RECURRING_MONTHLY,
            self.BillingType.RECURRING_ANNUAL,
            self.BillingType.RECURRING_THREE_YEARS,
        )

    @property
    def billing_period(self) -> str:
        """The period its subscriptions are billed by (a BillingPeriod; monthly unless annual or
        three-year)."""
        return {
            self.BillingType.RECURRING_ANNUAL: BillingPeriod.ANNUAL,
            self.BillingType.RECURRING_THREE_YEARS: BillingPeriod.THREE_YEARS,
        }.get(self.billing_type, BillingPeriod.MONTHLY)


class Catalogue(models.Model):
    """A set of products. Each customer is assigned one and sees only its products."""

    name = models.CharField(max_length=100, unique=True)
    products = models.ManyToManyField(Product, related_name="catalogues", blank=True)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_catalogue"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CatalogueAssignment(models.Model):
    account = models.OneToOneField(
        "resellers.Account", on_delete=models.CASCADE, related_name="catalogue_assignment"
    )
    catalogue = models.ForeignKey(Catalogue, on_delete=models.PROTECT, related_name="assignments")

    def __str__(self) -> str:
        return f"{self.account_id} -> {self.catalogue}"


class PriceList(models.Model):
    seller = models.ForeignKey(
        "resellers.Account", on_delete=models.PROTECT, related_name="price_lists"
    )
    name = models.CharField(max_length=100)
    currency = models.CharField(max_length=3)
    markup_percent = models.DecimalField(
        **RATE,
        null=True,
        blank=True,
        help_text="Where a product has no item: the buyer's cost plus this percentage.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["seller", "name"], name="price_list_name_per_seller"),
            models.CheckConstraint(
                condition=Q(markup_percent__isnull=True) | Q(markup_percent__gte=-100),
                name="markup_not_below_minus_100",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PriceListItem(models.Model):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    unit_price = models.DecimalField(**RATE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["price_list", "product"], name="one_price_per_product"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="item_price_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.unit_price}"


class PriceListAssignment(models.Model):
    """The price list a buyer pays from: a reseller's cost list, or a customer's list."""

    buyer = models.OneToOneField(
        "resellers.Account", on_delete=models.CASCADE, related_name="price_list_assignment"
    )
    price_list = models.ForeignKey(PriceList, on_delete=models.PROTECT, related_name="assignments")

    def __str__(self) -> str:
        return f"{self.buyer_id} -> {self.price_list}"


class OrderStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    PENDING_APPROVAL = "pending_approval", "Pending Reseller Approval"
    UNEXECUTED_CREDIT = "unexecuted_credit", "Unexecuted due to Insufficient Credit"
    SUBMITTED_TO_DISTRIBUTOR = "submitted_to_distributor", "Submitted to Distributor"
    PENDING = "pending", "Pending"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class OrderType(models.TextChoices):
    SALES = "sales", "Sales order"
    CHANGE = "change", "Change order"
    RENEWAL = "renewal", "Renewal"
    CANCELLATION = "cancellation", "Cancellation"
    BILLING = "billing", "Billing order"
    CORRECTION = "correction", "Correcting order"


class Order(models.Model):
    """An order by a customer (or by a reseller for itself: `customer` is null).

    `credit_account` is whose credit the order uses: the resale reseller for its own and its
    customers' orders (seed 004); the customer itself for referral and direct customers.
    """

    tenant_paths = ("credit_account", "customer")
    tenant_level = "financial"

    order_type = models.CharField(max_length=14, choices=OrderType.choices, default=OrderType.SALES)
    status = models.CharField(max_length=26, choices=OrderStatus.choices, default=OrderStatus.DRAFT)
    corrects = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
        help_text="The order a correcting order corrects (seed 001 §4).",
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="sub_orders"
    )
    credit_account = models.ForeignKey(
        "resellers.Account", on_delete=models.PROTECT, related_name="orders_on_credit"
    )
    customer = models.ForeignKey(
        "resellers.Account",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        help_text="Blank when a reseller orders for itself.",
    )
    currency = models.CharField(max_length=3)
    total_cost = models.DecimalField(**MONEY, default=0)
    total_amount = models.DecimalField(**MONEY, default=0)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reservation = models.ForeignKey(
        "billing.CreditReservation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    payment = models.ForeignKey(
        "billing.Document",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The card charge (a payment document) that paid for this order.",
    )
    status_message = models.CharField(max_length=300, blank=True)
    billing_contact_name = models.CharField(max_length=200, blank=True)
    billing_contact_email = models.EmailField(blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["credit_account", "status"]),
            models.Index(fields=["customer", "status"]),
            models.Index(fields=["status"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total_cost__gte=0), name="order_cost_gte_0"),
            models.CheckConstraint(condition=Q(total_amount__gte=0), name="order_amount_gte_0"),
        ]

    def __str__(self) -> str:
        return self.display_number

    @property
    def display_number(self) -> str:
        return f"SO-{self.pk:06d}" if self.pk else "SO-new"

    @property
    def was_approved(self) -> bool:
        return self.approved_at is not None


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    unit_cost = models.DecimalField(**RATE)
    unit_price = models.DecimalField(**RATE)
    discount = models.DecimalField(**MONEY, default=0)
    total_cost = models.DecimalField(**MONEY)
    total_amount = models.DecimalField(**MONEY)
    delivery_status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    subscription = models.ForeignKey(
        "Subscription", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    corrects_item = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
        help_text="On a correcting order: the detail it corrects; its values are the detail's "
        "corrected state.",
    )
    # On a correcting order's detail: the service period the corrected detail's first charge
    # covers ([start, end), corrected or as it was), which the next correction starts from.
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True, help_text="Exclusive.")
    corrects_usage = models.ForeignKey(
        "UsageRecord",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="correcting_items",
        help_text="On a correcting order: the usage record it corrects, after that usage was "
        "invoiced; its totals are what each side is now charged for the usage's period.",
    )

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            # A correcting order's detail may bring the quantity to 0 (a cancelled detail).
            models.CheckConstraint(
                condition=Q(quantity__gt=0)
                | Q(corrects_item__isnull=False)
                | Q(corrects_usage__isnull=False),
                name="item_quantity_gt_0",
            ),
            models.CheckConstraint(condition=Q(discount__gte=0), name="item_discount_gte_0"),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True, period_end__isnull=True)
                | Q(period_end__gt=F("period_start")),
                name="item_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_id}"


class SubscriptionStatus(models.TextChoices):
    TRIAL = "trial", "Trial"
    ACTIVE = "active", "Active"
    PENDING_CANCELLATION = "pending_cancellation", "Pending cancellation"
    SUSPENDED = "suspended", "Suspended"
    CANCELLED = "cancelled", "Cancelled"


class BillingPeriod(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    ANNUAL = "annual", "Annual"
    THREE_YEARS = "3_years", "Three years"


class Subscription(models.Model):
    """A service an account holds. `account` uses it; `credit_account` pays for it upstream."""

    tenant_paths = ("account", "credit_account")
    tenant_level = "financial"

    account = models.ForeignKey(
        "resellers.Account", on_delete=models.PROTECT, related_name="subscriptions"
    )
    credit_account = models.ForeignKey(
        "resellers.Account", on_delete=models.PROTECT, related_name="subscriptions_on_credit"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="subscriptions")
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="subscriptions"
    )
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=SubscriptionStatus.choices)
    billing_period = models.CharField(max_length=8, choices=BillingPeriod.choices)
    unit_cost = models.DecimalField(**RATE)
    unit_price = models.DecimalField(**RATE)
    currency = models.CharField(max_length=3)
    start_date = models.DateField()
    trial_end_date = models.DateField(null=True, blank=True)
    next_billing_date = models.DateField(null=True, blank=True, db_index=True)
    renewal_quantity = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="A decrease waits for the next billing date: the quantity billed from then on.",
    )
    billing_anchor = models.DateField(
        null=True,
        blank=True,
        help_text="Its full periods are anchored here (billing.periods): the holder's first "
        "cycle date on or after its start, or its trial's end.",
    )
    billed_through = models.DateField(
        null=True,
        blank=True,
        help_text="Exclusive end of what is billed: recurring fees up to here were charged in "
        "advance; usage, in arrears, up to here.",
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "status"])]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="subscription_quantity_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} x {self.quantity} for {self.account_id}"


class UsageRecord(models.Model):
    """Usage of a usage-billed subscription on one day, billed in arrears by the billing run.

    Reported either as a quantity (charged at the subscription's unit price, and unit cost
    upstream) or directly as money (seed 001 §4: applications with their own billing logic): then
    `amount` is the holder's charge and `cost` the credit account's (the amount when not given).
    `reference` is the reporter's id for the record: reporting it again changes nothing.

    A record is never edited: a correction (orders.services.usage_corrections) is a new record
    that `corrects` the original, dated on its day, carrying the difference (which may be
    negative) and the reason; the day's usage is the original plus its corrections.
    """

    tenant_paths = ("subscription__account", "subscription__credit_account")
    tenant_level = "financial"

    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="usage_records"
    )
    usage_date = models.DateField()
    quantity = models.DecimalField(**RATE, null=True, blank=True)
    amount = models.DecimalField(**MONEY, null=True, blank=True)
    cost = models.DecimalField(**MONEY, null=True, blank=True)
    reference = models.CharField(max_length=120)
    corrects = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
        help_text="A correction: the record it corrects; its values are the difference.",
    )
    reason = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["usage_date", "id"]
        indexes = [models.Index(fields=["subscription", "usage_date"])]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "reference"], name="one_usage_record_per_reference"
            ),
            models.CheckConstraint(
                condition=(
                    Q(quantity__isnull=False) & Q(amount__isnull=True) & Q(cost__isnull=True)
                )
                | (Q(quantity__isnull=True) & Q(amount__isnull=False)),
                name="usage_quantity_or_money",
            ),
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(quantity__gte=0) | Q(corrects__isnull=False),
                name="usage_quantity_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.usage_date}: {self.quantity or self.amount}"
