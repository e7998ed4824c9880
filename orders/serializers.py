"""API shapes of the catalogue, orders and subscriptions. Serializers only shape data.

What a user is shown of prices is decided by the view and handed over in the context:
- `prices`: a `ProductPrices` for the products list (the view picks which price the user sees);
- `viewer`: a `Viewer` for orders and subscriptions. Costs (what the credit account pays its
  issuer) are shown to provider staff and resellers, never to end customers, who see amounts only;
  the fields stay in the shape and read null. Without a viewer in the context, costs are hidden.

Money goes out as strings (DRF's DecimalField), never floats.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.fields import AmountField
from orders.models import (
    MONEY,
    RATE,
    DeliveryStatus,
    Order,
    OrderItem,
    OrderStatus,
    Product,
    Subscription,
    UsageRecord,
)
from orders.quantities import MAX_QUANTITY, MAX_QUANTITY_MESSAGE, QUANTITY_MESSAGE
from orders.selectors import order_charged_totals, order_items_charged
from orders.workflow import (
    CHAIN_STATUSES,
    IN_THE_RESELLERS_HANDS,
    PROCESSING,
    order_status_message_shown,
    sees_credit_side,
)
from resellers.models import User
from resellers.serializers import AccountRefSerializer

MAX_ITEMS = 100
QUANTITY_ERRORS = {
    "invalid": QUANTITY_MESSAGE,
    "min_value": QUANTITY_MESSAGE,
    "max_value": MAX_QUANTITY_MESSAGE,
    "max_string_length": MAX_QUANTITY_MESSAGE,
}


@dataclass(frozen=True)
class Viewer:
    """Who is looking: whether it may see costs, and its own account."""

    sees_cost: bool
    account_id: int | None
    user: User | None = None


HIDDEN = Viewer(sees_cost=False, account_id=None)

SHOWN_STATUSES = [*OrderStatus.choices, PROCESSING]


def _credit_side(viewer: Viewer, order: Order) -> bool:
    """orders.workflow.sees_credit_side for the request's user; nobody without one."""
    return viewer.user is not None and sees_credit_side(viewer.user, order)


@dataclass(frozen=True)
class PriceView:
    list_price: Decimal | None = None
    unit_cost: Decimal | None = None
    unit_price: Decimal | None = None


ProductPrices = Callable[[Product], PriceView]


def _rate(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(**RATE, read_only=True, **kwargs)


def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(**MONEY, read_only=True, **kwargs)


class _HidesCost:
    """Nulls `cost_fields` unless the context's viewer may see costs."""

    cost_fields: tuple[str, ...] = ()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("viewer", HIDDEN).sees_cost:
            for name in self.cost_fields:
                data[name] = None
        return data


# --- products ----------------------------------------------------------------------------------


class ProductSerializer(serializers.ModelSerializer):
    """A product with the one price the requesting user deals in."""

    list_price = serializers.SerializerMethodField(
        help_text="The catalogue price. Provider staff only; null to others."
    )
    unit_cost = serializers.SerializerMethodField(
        help_text="What your reseller account pays the provider per unit. Resellers only."
    )
    unit_price = serializers.SerializerMethodField(
        help_text="What your customer account pays per unit. End customers only."
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "description",
            "product_type",
            "billing_type",
            "auto_executed",
            "tax_category",
            "trial_days",
            "currency",
            "is_active",
            "list_price",
            "unit_cost",
            "unit_price",
        ]
        read_only_fields = fields

    def _prices(self, product: Product) -> PriceView:
        prices = self.context.get("prices")
        return prices(product) if prices is not None else PriceView()

    @extend_schema_field(_rate(allow_null=True))
    def get_list_price(self, product: Product) -> str | None:
        return self._format(self._prices(product).list_price)

    @extend_schema_field(_rate(allow_null=True))
    def get_unit_cost(self, product: Product) -> str | None:
        return self._format(self._prices(product).unit_cost)

    @extend_schema_field(_rate(allow_null=True))
    def get_unit_price(self, product: Product) -> str | None:
        return self._format(self._prices(product).unit_price)

    @staticmethod
    def _format(value: Decimal | None) -> str | None:
        return None if value is None else _rate().to_representation(value)


class ProductRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "sku", "name"]
        read_only_fields = fields


# --- orders ------------------------------------------------------------------------------------


class OrderItemSerializer(_HidesCost, serializers.ModelSerializer):
    product = ProductRefSerializer(read_only=True)
    delivery_status = serializers.ChoiceField(choices=DeliveryStatus.choices, read_only=True)
    unit_price = _rate(help_text="The customer's price per unit (the amount).")
    unit_cost = _rate(allow_null=True, help_text="The credit account's cost per unit.")
    discount = _money()
    total = _money(
        source="total_amount",
        help_text="Quantity times unit price, less discount; once executed, what its first charge "
        "was: the prorated part when that charge was co-termed with the holder's billing cycle.",
    )
    total_cost = _money(
        allow_null=True, help_text="Quantity times unit cost; once executed, as charged (`total`)."
    )
    cost_fields = ("unit_cost", "total_cost")

    class Meta:
        model = OrderItem
        fields = [
            "id",
            "product",
            "delivery_status",
            "quantity",
            "unit_price",
            "discount",
            "total",
            "unit_cost",
            "total_cost",
            "corrects_item",
            "corrects_usage",
            "period_start",
            "period_end",
        ]
        read_only_fields = fields


class _OrderSummarySerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="display_number", read_only=True, help_text="SO-000042")
    status = serializers.ChoiceField(
        choices=SHOWN_STATUSES,
        read_only=True,
        help_text="`processing` to a resale reseller's customer while the order is in its "
        "reseller's or the distributor's hands (orders.workflow.order_status_shown), as the "
        "panels show it; the real status to everyone on the order's credit side.",
    )
    status_display = serializers.CharField(
        source="get_status_display", read_only=True, help_text="The status as the panels show it."
    )
    status_message = serializers.SerializerMethodField(
        help_text="Why the order is where it is: seed 004's warning for a missing or expired card "
        "token, the credit shortfall, the gateway's refusal, a cancellation reason. Null to an "
        "end customer when it concerns its reseller's credit or payment method."
    )
    total_cost = _money(
        allow_null=True,
        help_text="What the credit account pays (the reseller's price list): as charged once "
        "executed (a first period co-termed with the holder's billing cycle counts its prorated "
        "part), the whole first period before (what the credit check needs). Null to a resale "
        "reseller's customers.",
    )
    total_amount = _money(
        help_text="What the customer pays, with the reseller's markup; as charged, like "
        "`total_cost`."
    )
    items = OrderItemSerializer(many=True, read_only=True)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_status_message(self, order: Order) -> str | None:
        user = self._viewer.user
        if user is None:  # no viewer: nobody's credit side
            return None if order.status in CHAIN_STATUSES else order.status_message
        return order_status_message_shown(user=user, order=order)

    @property
    def _viewer(self) -> Viewer:
        return self.context.get("viewer", HIDDEN)

    def to_representation(self, order: Order):
        """The credit side (orders.workflow.sees_credit_side) sees the real status and the total
        cost, as on the panels; a resale reseller's customer sees *Processing* and no cost."""
        data = super().to_representation(order)
        # The totals as charged (orders.selectors.order_charged_totals), as the panels show them.
        money_field = self.fields["total_amount"]
        charged = order_charged_totals(order)
        data["total_cost"] = money_field.to_representation(charged.cost)
        data["total_amount"] = money_field.to_representation(charged.amount)
        items = order_items_charged(order)
        for row in data.get("items") or ():
            item = items.get(row["id"])
            if item is not None:
                row["total"] = money_field.to_representation(item.amount)
                if row.get("total_cost") is not None:
                    row["total_cost"] = money_field.to_representation(item.cost)
        if not _credit_side(self._viewer, order):
            data["total_cost"] = None
            if order.status in IN_THE_RESELLERS_HANDS:
                data["status"], data["status_display"] = PROCESSING
        return data


class SubOrderSerializer(_OrderSummarySerializer):
    """A part of a split order: it completes when every part is executed."""

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "status",
            "status_display",
            "status_message",
            "total_cost",
            "total_amount",
            "completed_at",
            "cancelled_at",
            "items",
        ]
        read_only_fields = fields


class _EmailOrNullField(serializers.EmailField):
    """An email address, or null where none is stored (the model keeps "" for none), so that the
    schema's `format: email` holds for every value."""

    def to_representation(self, value):
        return value or None

    def run_validation(self, data=serializers.empty):
        value = super().run_validation(data)
        return "" if value is None else value  # input: null is none, stored as ""


class OrderSerializer(_OrderSummarySerializer):
    """An order as seed 004's detailed view shows it: number, status, dates, total cost (not to end
    customers) and total amount; its items, or, for an order split between auto-executed and
    manual products, its sub-orders with theirs."""

    customer = AccountRefSerializer(
        read_only=True, allow_null=True, help_text="Null when a reseller orders for itself."
    )
    credit_account = AccountRefSerializer(
        read_only=True,
        help_text="Whose credit the order uses: the resale reseller, or a referral or direct "
        "customer itself.",
    )
    order_date = serializers.DateTimeField(
        source="submitted_at", read_only=True, allow_null=True, help_text="When it was submitted."
    )
    parent = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    corrects = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The order a correcting order corrects."
    )
    corrections = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text="The correcting orders of this order, oldest first."
    )
    sub_orders = SubOrderSerializer(many=True, read_only=True)
    billing_contact_email = _EmailOrNullField(
        read_only=True, allow_null=True, help_text="Null when the order names none."
    )

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "order_type",
            "status",
            "status_display",
            "status_message",
            "customer",
            "credit_account",
            "currency",
            "total_cost",
            "total_amount",
            "order_date",
            "created_at",
            "approved_at",
            "completed_at",
            "cancelled_at",
            "billing_contact_name",
            "billing_contact_email",
            "notes",
            "parent",
            "corrects",
            "corrections",
            "items",
            "sub_orders",
        ]
        read_only_fields = fields


class OrderItemInputSerializer(serializers.Serializer):
    product = serializers.IntegerField(help_text="A product id from `products/`.")
    quantity = serializers.IntegerField(
        min_value=1,
        max_value=MAX_QUANTITY,
        error_messages=QUANTITY_ERRORS,
    )


class OrderCreateSerializer(serializers.Serializer):
    """A new order. Who it is for: `customer` (a customer you may order for), or, for a reseller's
    own purchase, nothing (a reseller user) or `reseller` (provider staff ordering for one). An end
    customer's user orders for its own account."""

    customer = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="The customer the order is for. Omit or null: your own account (an end "
        "customer), or your reseller's own purchase (a reseller).",
    )
    reseller = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Provider staff only: the reseller whose own purchase this is (no customer).",
    )
    items = OrderItemInputSerializer(many=True, allow_empty=False, max_length=MAX_ITEMS)
    billing_contact_name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    billing_contact_email = _EmailOrNullField(
        required=False,
        allow_blank=True,
        allow_null=True,
        default="",
        help_text="Null or blank: none.",
    )
    notes = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class OrderCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        default="",
        help_text="Shown as the order's status message.",
    )


# --- subscriptions -----------------------------------------------------------------------------


class SubscriptionSerializer(_HidesCost, serializers.ModelSerializer):
    account = AccountRefSerializer(read_only=True, help_text="The account that uses it.")
    product = ProductRefSerializer(read_only=True)
    unit_price = _rate(help_text="What the account pays per unit and billing period.")
    unit_cost = _rate(
        allow_null=True, help_text="What the credit account pays upstream. Null to end customers."
    )
    cost_fields = ("unit_cost",)

    class Meta:
        model = Subscription
        fields = [
            "id",
            "account",
            "product",
            "order",
            "quantity",
            "status",
            "billing_period",
            "currency",
            "unit_price",
            "unit_cost",
            "start_date",
            "trial_end_date",
            "next_billing_date",
            "billed_through",
            "renewal_quantity",
            "cancelled_at",
            "created_at",
        ]
        read_only_fields = fields


class SubscriptionSuspendSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why it is suspended (kept in the audit log), e.g. a credit hold.",
    )


# --- usage -------------------------------------------------------------------------------------


class UsageRecordInputSerializer(serializers.Serializer):
    """One day's usage: a `quantity`, or money (`amount`, and optionally `cost`). Which of them,
    and whether the day may still be reported, is orders.usage's rule."""

    usage_date = serializers.DateField(help_text="The day used (YYYY-MM-DD).")
    quantity = serializers.DecimalField(
        **RATE,
        min_value=Decimal("0"),
        required=False,
        allow_null=True,
        default=None,
        help_text="Units used, rated at the subscription's prices. Not with `amount`.",
    )
    amount = AmountField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The holder's charge in the subscription's currency, for applications that "
        "rate usage themselves (seed 001 §4). Not with `quantity`.",
    )
    cost = AmountField(
        required=False,
        allow_null=True,
        default=None,
        help_text="With `amount`: what the credit account pays upstream (default: the amount).",
    )
    reference = serializers.CharField(
        max_length=120,
        help_text="Your id for this record. Reporting it again with the same body returns the "
        "stored record (200); with another body it is refused (409).",
    )


class UsageCorrectionCreateSerializer(serializers.Serializer):
    """`POST subscriptions/{id}/usage/{record}/correct/`: a usage record's real value (seed 001
    §4), as it was reported: a `quantity`, or money (`amount`, and optionally `cost`)."""

    quantity = serializers.DecimalField(
        **RATE, required=False, allow_null=True, default=None, help_text="The real quantity."
    )
    amount = AmountField(
        required=False, allow_null=True, default=None, help_text="The real amount of money."
    )
    cost = AmountField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The real cost upstream (default: follows the amount where the record had no "
        "cost of its own).",
    )
    reason = serializers.CharField(max_length=300)
    outcome = serializers.ChoiceField(
        choices=[("credit_memo", "Credit memo"), ("refund", "Refund to the card that paid")],
        default="credit_memo",
        help_text="What a lower charge that was already invoiced gives back.",
    )


class UsageRecordSerializer(_HidesCost, serializers.ModelSerializer):
    """One day's reported usage: a quantity, or money (amount, and the cost upstream). A
    correction (`corrects` set) carries the difference it makes to the record it corrects."""

    quantity = _rate(allow_null=True)
    amount = _money(allow_null=True)
    cost = _money(allow_null=True, help_text="What the credit account pays. Null to end customers.")
    cost_fields = ("cost",)

    class Meta:
        model = UsageRecord
        fields = [
            "id",
            "subscription",
            "usage_date",
            "quantity",
            "amount",
            "cost",
            "reference",
            "corrects",
            "reason",
            "created_at",
        ]
        read_only_fields = fields


class SubscriptionQuantitySerializer(serializers.Serializer):
    quantity = serializers.IntegerField(
        min_value=1,
        max_value=MAX_QUANTITY,
        error_messages=QUANTITY_ERRORS,
        help_text="The new quantity. An increase is charged now for the rest of the billed "
        "period, prorated by days; a decrease takes effect on the next billing date.",
    )


class SubscriptionCancelSerializer(serializers.Serializer):
    immediately = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Provider staff: end it today and credit the unused days already billed, "
        "prorated by days. Otherwise it runs to the end of the period already billed.",
    )


class CorrectionLineSerializer(serializers.Serializer):
    item = serializers.IntegerField(help_text="A detail (item id) of the order or its sub-orders.")
    unit_price = serializers.DecimalField(
        **RATE, min_value=Decimal(0), required=False, help_text="The customer's corrected price."
    )
    unit_cost = serializers.DecimalField(
        **RATE, min_value=Decimal(0), required=False, help_text="The reseller's corrected cost."
    )
    quantity = serializers.IntegerField(min_value=1, required=False)
    period_start = serializers.DateField(
        required=False,
        help_text="The corrected first day of the service the detail's charge covers.",
    )
    period_end = serializers.DateField(
        required=False,
        help_text="The corrected end (exclusive) of that service; both stay within the billing "
        "period the charge fell in.",
    )
    cancel = serializers.BooleanField(default=False)


class CorrectionCreateSerializer(serializers.Serializer):
    """`POST orders/{id}/corrections/`: correct details of a completed order (provider staff)."""

    lines = CorrectionLineSerializer(many=True, allow_empty=False)
    outcome = serializers.ChoiceField(
        choices=[("credit_memo", "Credit memo"), ("refund", "Refund to the card that paid")],
        help_text="What a lower charge that was already invoiced gives back.",
    )
    reason = serializers.CharField(max_length=300)


class CorrectionDocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(help_text="DM-000003, CM-000007, RF-000002...")
    type = serializers.CharField(help_text="debit_memo, credit_memo or refund.")
    recipient = serializers.IntegerField()
    total = serializers.CharField()


class CorrectionSideSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    before = serializers.CharField(help_text="What the side was charged for the detail.")
    after = serializers.CharField(help_text="What it is charged now.")
    how = serializers.CharField(
        help_text="unchanged, corrected in place, debit memo, credit memo or refund."
    )
    note = serializers.CharField(help_text="E.g. a refund that became a credit memo, and why.")


class CorrectionResultSerializer(serializers.Serializer):
    order = OrderSerializer(help_text="The correcting order.")
    documents = CorrectionDocumentSerializer(many=True)
    sides = CorrectionSideSerializer(many=True)


class UsageCorrectionResultSerializer(serializers.Serializer):
    record = UsageRecordSerializer(help_text="The correction record: the difference it makes.")
    before = serializers.DictField(help_text="The day's usage before: quantity, or amount+cost.")
    after = serializers.DictField(help_text="The day's usage now.")
    stage = serializers.CharField(
        help_text="not billed (the run bills the corrected usage), billed (a waiting charge "
        "corrected in place) or invoiced (a correcting order's memo or refund)."
    )
    order = OrderSerializer(allow_null=True, help_text="The correcting order, when one was made.")
    documents = CorrectionDocumentSerializer(many=True)
    sides = CorrectionSideSerializer(many=True)
