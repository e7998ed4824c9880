"""REST API on ordering: products, orders (place, approve, cancel) and subscriptions.

Views are thin: querysets come from `orders.selectors` (orders and subscriptions through
`resellers.tenancy.scope`, so another tenant's id answers 404), writes go through
`orders.services`, and `config.api.exception_handler` turns domain errors into 400/403. An order in
the wrong state for an action answers 409 Conflict (InvalidOrderTransition).

What each user is shown of prices:
- products: provider staff see the catalogue price (`list_price`); a resale reseller its cost
  (`unit_cost`, from the provider's price list to it, never another reseller's); an end customer
  its price (`unit_price`). A referral reseller buys nothing and sees no prices.
- orders and subscriptions: costs to provider staff and resellers, amounts to everyone; an end
  customer's view has the cost fields null (`orders.serializers`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import django_filters
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing import idempotency
from billing.models import IdempotencyKey
from billing.runs import subscription_reactivate
from orders.models import Order, OrderStatus, Product, Subscription
from orders.selectors import (
    catalogue_products,
    order_get,
    order_parties,
    orders_visible,
    price_quote,
    products_visible,
    subscriptions_visible,
    usage_records_visible,
)
from orders.serializers import (
    OrderCancelSerializer,
    OrderCreateSerializer,
    OrderSerializer,
    PriceView,
    ProductPrices,
    ProductSerializer,
    SubscriptionCancelSerializer,
    SubscriptionQuantitySerializer,
    SubscriptionSerializer,
    SubscriptionSuspendSerializer,
    UsageRecordInputSerializer,
    UsageRecordSerializer,
    Viewer,
)
from orders.services import (
    InvalidOrderTransition,
    ItemSpec,
    order_approve,
    order_cancel,
    order_place,
    order_submit,
    subscription_cancel,
    subscription_change_quantity,
    subscription_suspend,
)
from orders.usage import UsageReferenceConflict, usage_record
from resellers.api import NOT_FOUND, IdFilter
from resellers.exceptions import PermissionDenied
from resellers.models import Account, User
from resellers.selectors import can_see_financials, customers_visible, resellers_visible
from resellers.tenancy import is_provider_staff

CREATE_ENDPOINT = "POST orders/"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the object's current state."
    default_code = "conflict"


@contextmanager
def _conflict_on_transition() -> Iterator[None]:
    """InvalidOrderTransition (approving twice, cancelling a completed order) -> 409."""
    try:
        yield
    except InvalidOrderTransition as exc:
        raise Conflict(exc.message) from exc


def _viewer(user: User) -> Viewer:
    """Provider staff and resellers see costs; end customers amounts only."""
    account = user.account if user.account_id else None
    sees_cost = is_provider_staff(user) or (account is not None and account.is_reseller)
    return Viewer(sees_cost=sees_cost, account_id=user.account_id, user=user)


def _product_prices(user: User) -> ProductPrices:
    """The one price `user` deals in, per product (remembered for the request)."""
    account = user.account if user.account_id else None
    if is_provider_staff(user):
        return lambda product: PriceView(list_price=product.list_price)
    if account is not None and account.is_customer:
        credit_account = order_parties(customer=account, reseller=None)

        def quote(product: Product) -> PriceView:
            return PriceView(
                unit_price=price_quote(
                    product=product, customer=account, credit_account=credit_account
                ).unit_price
            )
    elif account is not None and account.is_reseller and not account.is_referral_reseller:

        def quote(product: Product) -> PriceView:
            return PriceView(
                unit_cost=price_quote(
                    product=product, customer=None, credit_account=account
                ).unit_cost
            )
    else:
        return lambda product: PriceView()

    seen: dict[int, PriceView] = {}

    def remembered(product: Product) -> PriceView:
        if product.pk not in seen:
            seen[product.pk] = quote(product)
        return seen[product.pk]

    return remembered


# --- products ----------------------------------------------------------------------------------


class ProductFilter(django_filters.FilterSet):
    class Meta:
        model = Product
        fields = ["product_type", "billing_type"]


@extend_schema_view(
    list=extend_schema(tags=["products"]), retrieve=extend_schema(tags=["products"])
)
class ProductViewSet(viewsets.ReadOnlyModelViewSet):
    """The products you may order: your account's catalogue (provider staff: every product), each
    with the price you deal in."""

    queryset = Product.objects.none()  # the model, for the schema; rows come from the selector
    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    search_fields = ["name", "sku"]
    ordering_fields = ["name", "sku", "id"]

    def get_queryset(self):
        return products_visible(user=self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "prices": _product_prices(self.request.user)}


# --- orders ------------------------------------------------------------------------------------


class OrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices)
    customer = IdFilter(field_name="customer_id")
    top_level = django_filters.BooleanFilter(
        field_name="parent",
        lookup_expr="isnull",
        help_text="true: orders as placed; false: the sub-orders of split orders.",
    )

    class Meta:
        model = Order
        fields = ["status", "customer", "top_level"]


KEY_PARAMETER = OpenApiParameter(
    name=idempotency.KEY_HEADER,
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=f"1 to {idempotency.MAX_KEY_LENGTH} printable characters, new for each new order, "
    "scoped to you (your user). A retry with the same key and body returns the first response's "
    "body with 200 and the header `Idempotent-Replayed: true`, and creates nothing; while the "
    "first is still running, a retry waits for it (409 after 30 s: retry later). The same key "
    "with another body answers 422. A refused or failed request keeps nothing: its key may be "
    "sent again.",
)
ORDER_CONFLICT = OpenApiResponse(
    description="The order's status does not allow this (e.g. approving twice, cancelling a "
    "completed order)."
)


@extend_schema_view(
    list=extend_schema(tags=["orders"]),
    retrieve=extend_schema(tags=["orders"], responses={200: OrderSerializer, 404: NOT_FOUND}),
)
class OrderViewSet(viewsets.ReadOnlyModelViewSet):
    """Orders of the accounts whose finances you may see: a resale reseller its own and its
    customers', an end customer its own; a referral reseller none of its customers'."""

    queryset = Order.objects.none()
    serializer_class = OrderSerializer
    filterset_class = OrderFilter
    search_fields = ["customer__name"]
    ordering_fields = ["submitted_at", "created_at", "total_amount", "id"]

    def get_serializer_class(self):
        """The input's shape for the browsable API's forms; answers are always orders."""
        if self.action == "create":
            return OrderCreateSerializer
        if self.action == "cancel":
            return OrderCancelSerializer
        return OrderSerializer

    def get_queryset(self):
        return orders_visible(user=self.request.user).prefetch_related(
            "items__product", "sub_orders__items__product"
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "viewer": _viewer(self.request.user)}

    def _body(self, order: Order) -> dict:
        """The order as the requesting user sees it, as plain JSON (what is stored to replay)."""
        fresh = order_get(user=self.request.user, pk=order.pk)
        data = OrderSerializer(fresh, context=self.get_serializer_context()).data
        return idempotency.json_ready(data)

    @extend_schema(
        tags=["orders"],
        request=OrderCreateSerializer,
        parameters=[KEY_PARAMETER],
        responses={
            201: OpenApiResponse(
                OrderSerializer,
                description="Created and submitted, in the status the validation chain left it: "
                "pending_approval, completed, unexecuted_credit, submitted_to_distributor, "
                "pending (card token or gateway; see status_message) or submitted (split).",
            ),
            200: OpenApiResponse(
                OrderSerializer,
                description="A replay of an Idempotency-Key already answered: the first "
                "response's body, nothing created (header `Idempotent-Replayed: true`).",
            ),
            400: OpenApiResponse(
                description="Bad input, naming the field: a product outside the catalogue or a "
                "quantity below 1 (`items`), a customer you may not order for (`customer`)."
            ),
            403: OpenApiResponse(description="You may not order for that account."),
            409: OpenApiResponse(
                description="A request with this Idempotency-Key is still in progress (waited "
                "30 s for it): retry later with the same key and body."
            ),
            422: OpenApiResponse(
                description="This Idempotency-Key was already used with a different request "
                "(another body, or another endpoint)."
            ),
        },
    )
    def create(self, request):
        """Place an order and submit it: it waits for the reseller's approval where the customer's
        toggle says so, else runs seed 004's validation chain at once.

        Who it is for: an end customer orders for itself; a reseller for one of its customers
        (`customer`) or for itself (no customer); provider staff for a customer, or for a
        reseller's own purchase (`reseller`). A customer you may not see answers 400 naming
        `customer`, exactly like an id that does not exist.

        Idempotency-Key (optional header; Stripe's semantics, one mechanism with top-ups:
        `billing.idempotency`): the first response is stored under (you, key) and a retry with
        the same key and body gets its body back with 200 and `Idempotent-Replayed: true`,
        creating nothing. The same key with another body answers 422. Requests racing with one
        key place one order: one answers 201, the others wait for it and replay its response
        (409 if they waited 30 s in vain: retry). A request refused (400/403) stores nothing, so
        the key may be retried with a corrected body; a request that died midway is continued by
        a retry, with the order it had created.
        """
        serializer = OrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        outcome = idempotency.run_request(
            user=request.user,
            header=request.headers.get(idempotency.KEY_HEADER),
            data=request.data,
            endpoint=CREATE_ENDPOINT,
            work=lambda record: (status.HTTP_201_CREATED, self._body(self._place(data, record))),
        )
        return Response(outcome.body, status=outcome.status, headers=outcome.headers)

    def _place(self, data: dict, record: IdempotencyKey | None = None) -> Order:
        """order_place with today's date (create and submit, one transaction where the chain
        allows), linking the idempotency key to the order inside the creating transaction. With
        a key whose earlier attempt created the order and died, continue with that order."""
        user = self.request.user
        today = timezone.localdate()
        if record is not None and record.order_id is not None:
            order = Order.objects.get(pk=record.order_id)
            if order.status == OrderStatus.DRAFT:
                order = order_submit(order=order, acting_user=user, today=today)
            return order
        customer, reseller = _parties(user, data)
        return order_place(
            placed_by=user,
            items=_item_specs(customer or reseller, data["items"]),
            today=today,
            customer=customer,
            reseller=reseller,
            billing_contact_name=data["billing_contact_name"],
            billing_contact_email=data["billing_contact_email"],
            notes=data["notes"],
            on_created=(
                None
                if record is None
                else lambda order: idempotency.key_link_order(record=record, order=order)
            ),
        )

    @extend_schema(
        tags=["orders"],
        request=None,
        responses={
            200: OrderSerializer,
            403: OpenApiResponse(description="Only the reseller (or provider staff) approves."),
            404: NOT_FOUND,
            409: ORDER_CONFLICT,
        },
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Seed 004's *Accept order*: for an order pending approval, one left unexecuted for lack
        of credit (after paying off debt or topping up), or one pending for its card token. The
        validation chain runs at once; the answer is the order in its new status."""
        order = self.get_object()
        with _conflict_on_transition():
            order = order_approve(order=order, acting_user=request.user, today=timezone.localdate())
        return Response(self._body(order))

    @extend_schema(
        tags=["orders"],
        request=OrderCancelSerializer,
        responses={
            200: OrderSerializer,
            400: OpenApiResponse(description="A reason over 300 characters."),
            403: OpenApiResponse(
                description="You may not cancel it (an end customer cancels its own orders only "
                "while they wait for approval)."
            ),
            404: NOT_FOUND,
            409: ORDER_CONFLICT,
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel an order that has not executed; its credit reservation is released. A completed
        order is corrected by a correcting order, never cancelled (409)."""
        order = self.get_object()
        serializer = OrderCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with _conflict_on_transition():
            order = order_cancel(
                order=order, acting_user=request.user, reason=serializer.validated_data["reason"]
            )
        return Response(self._body(order))


NO_SUCH_CUSTOMER = "No such customer among the accounts you may order for."


def _parties(user: User, data: dict) -> tuple[Account | None, Account | None]:
    """(customer, reseller) of a new order, looked up through the user's scope: an id the user
    may not see reads exactly like one that does not exist."""
    customer_id, reseller_id = data.get("customer"), data.get("reseller")
    if customer_id is not None and reseller_id is not None:
        raise exceptions.ValidationError(
            {"reseller": ["Give a customer, or a reseller for its own purchase; not both."]}
        )
    if customer_id is not None:
        customer = customers_visible(user=user).filter(pk=customer_id).first()
        if customer is None:
            raise exceptions.ValidationError({"customer": [NO_SUCH_CUSTOMER]})
        if not can_see_financials(user=user, account=customer):
            raise PermissionDenied(
                "A referral reseller does not order for its customers; they order directly."
            )
        return customer, None
    if reseller_id is not None:
        reseller = resellers_visible(user=user).filter(pk=reseller_id).first()
        if reseller is None:
            raise exceptions.ValidationError({"reseller": ["No such reseller."]})
        return None, reseller
    account = user.account if user.account_id else None
    if account is None or is_provider_staff(user):
        raise exceptions.ValidationError(
            {"customer": ["Say whom the order is for: a customer, or a reseller (`reseller`)."]}
        )
    if account.is_customer:
        return account, None
    return None, account


def _item_specs(orderer: Account, items: list[dict]) -> list[ItemSpec]:
    """The items' products, looked up in the ordering account's catalogue: a product outside it
    answers 400 naming the item's `product`, whether or not it exists elsewhere."""
    products = catalogue_products(account=orderer).in_bulk([item["product"] for item in items])
    errors = {
        index: {"product": [f"Product {item['product']} is not in {orderer.name}'s catalogue."]}
        for index, item in enumerate(items)
        if item["product"] not in products
    }
    if errors:  # keyed by the item's index, as DRF reports the items' own field errors
        raise exceptions.ValidationError({"items": errors})
    return [ItemSpec(product=products[i["product"]], quantity=i["quantity"]) for i in items]


# --- subscriptions -----------------------------------------------------------------------------


class SubscriptionFilter(django_filters.FilterSet):
    account = IdFilter(field_name="account_id")
    product = IdFilter(field_name="product_id")

    class Meta:
        model = Subscription
        fields = ["account", "product", "status", "billing_period"]


@extend_schema_view(
    list=extend_schema(tags=["subscriptions"]), retrieve=extend_schema(tags=["subscriptions"])
)
class SubscriptionViewSet(viewsets.ReadOnlyModelViewSet):
    """Subscriptions of the accounts whose finances you may see: product, quantity, status,
    billing period, start, trial end and next billing date. End customers see their price, never
    the cost (`unit_cost` null)."""

    queryset = Subscription.objects.none()
    serializer_class = SubscriptionSerializer
    filterset_class = SubscriptionFilter
    ordering_fields = ["next_billing_date", "start_date", "created_at", "id"]

    def get_queryset(self):
        return subscriptions_visible(user=self.request.user)

    def get_serializer_class(self):
        """The input's shape for the browsable API's forms; answers are subscriptions (usage
        records for usage/)."""
        if self.action == "suspend":
            return SubscriptionSuspendSerializer
        if self.action == "cancel":
            return SubscriptionCancelSerializer
        if self.action == "change_quantity":
            return SubscriptionQuantitySerializer
        if self.action == "usage":
            return UsageRecordInputSerializer
        return SubscriptionSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "viewer": _viewer(self.request.user)}

    def _body(self, subscription: Subscription) -> dict:
        subscription.refresh_from_db()
        return SubscriptionSerializer(subscription, context=self.get_serializer_context()).data

    @extend_schema(
        tags=["subscriptions"],
        request=SubscriptionCancelSerializer,
        responses={
            200: SubscriptionSerializer,
            403: OpenApiResponse(
                description="Neither its holder, its reseller nor staff; or `immediately` by "
                "anyone but provider staff."
            ),
            404: NOT_FOUND,
            409: OpenApiResponse(description="Already cancelled, or cancellation pending."),
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel through a cancellation order: a paid subscription runs to the end of the period
        already billed (*pending cancellation*); a trial or a suspended one ends at once. With
        `immediately` (provider staff), a paid one ends today and the unused days already billed
        are credited back, prorated by days (credit memos)."""
        subscription = self.get_object()
        serializer = SubscriptionCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with _conflict_on_transition():
            subscription_cancel(
                subscription=subscription,
                acting_user=request.user,
                today=timezone.localdate(),
                immediately=serializer.validated_data["immediately"],
            )
        return Response(self._body(subscription))

    @extend_schema(
        tags=["subscriptions"],
        request=SubscriptionSuspendSerializer,
        responses={
            200: SubscriptionSerializer,
            400: OpenApiResponse(description="A reason over 300 characters."),
            403: OpenApiResponse(description="Only provider staff suspend subscriptions."),
            404: NOT_FOUND,
            409: OpenApiResponse(description="Already suspended, or cancelled."),
        },
    )
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        """Suspend a subscription (credit hold, seed 001 §3): provider staff only. While it is
        suspended, its holder's customer class decides whether it is still billed on its billing
        dates (*Bill for Subscriptions on Hold*) or caught up once it is resumed."""
        subscription = self.get_object()
        serializer = SubscriptionSuspendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with _conflict_on_transition():
            subscription_suspend(
                subscription=subscription,
                acting_user=request.user,
                reason=serializer.validated_data["reason"],
            )
        return Response(self._body(subscription))

    @extend_schema(
        tags=["subscriptions"],
        request=None,
        responses={
            200: SubscriptionSerializer,
            403: OpenApiResponse(
                description="A suspended subscription is resumed by provider staff only; a "
                "pending cancellation is withdrawn by its holder, its reseller or staff."
            ),
            404: NOT_FOUND,
            409: OpenApiResponse(description="Already active, or cancelled."),
        },
    )
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Reactivate a suspended subscription (provider staff), or withdraw a pending
        cancellation. Periods a suspended subscription missed while its holder's class does not
        bill subscriptions on hold are billed as one catch-up invoice once it is active again."""
        subscription = self.get_object()
        with _conflict_on_transition():
            subscription_reactivate(
                subscription=subscription, acting_user=request.user, today=timezone.localdate()
            )
        return Response(self._body(subscription))

    @extend_schema(
        tags=["subscriptions"],
        request=SubscriptionQuantitySerializer,
        responses={
            200: SubscriptionSerializer,
            400: OpenApiResponse(
                description="A quantity under 1 or unchanged, or not enough available credit "
                "for an increase (field `quantity`)."
            ),
            403: OpenApiResponse(description="Not the holder, its reseller or provider staff."),
            404: NOT_FOUND,
            409: OpenApiResponse(description="Suspended, pending cancellation or cancelled."),
        },
    )
    @action(detail=True, methods=["post"], url_path="change-quantity")
    def change_quantity(self, request, pk=None):
        """Change the quantity through a change order: an increase is charged at once for the
        rest of the period already billed, prorated by days, and needs the reseller's available
        credit; a decrease takes effect on the next billing date (`renewal_quantity`)."""
        subscription = self.get_object()
        serializer = SubscriptionQuantitySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with _conflict_on_transition():
            subscription_change_quantity(
                subscription=subscription,
                quantity=serializer.validated_data["quantity"],
                acting_user=request.user,
                today=timezone.localdate(),
            )
        return Response(self._body(subscription))

    @extend_schema(
        methods=["GET"],
        tags=["subscriptions"],
        request=None,
        responses={200: UsageRecordSerializer(many=True), 404: NOT_FOUND},
    )
    @extend_schema(
        methods=["POST"],
        tags=["subscriptions"],
        request=UsageRecordInputSerializer,
        responses={
            200: OpenApiResponse(
                UsageRecordSerializer,
                description="This reference was reported before with the same body: the stored "
                "record; nothing changed.",
            ),
            201: OpenApiResponse(UsageRecordSerializer, description="Recorded."),
            400: OpenApiResponse(
                description="Bad input, naming the field: both or neither of `quantity` and "
                "`amount`, a `cost` without an amount, a negative value, more than 2 decimals "
                "in money; a `usage_date` before the start, in the future, in the trial or "
                "already billed; a `subscription` that is not billed by usage or is cancelled."
            ),
            403: OpenApiResponse(description="Only provider staff report usage."),
            404: NOT_FOUND,
            409: OpenApiResponse(
                description="This reference was reported before with a different body."
            ),
        },
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def usage(self, request, pk=None):
        """GET: the usage reported for the subscription, by day. POST: report one day's usage of
        a usage-billed subscription (provider staff, standing for the platform or application
        that measures it), as a `quantity` rated at the subscription's prices or directly as
        money (`amount`, optional `cost`: seed 001 §4), billed in arrears by the billing run.
        `reference` is your id for the record: retrying with it is safe."""
        subscription = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            records = usage_records_visible(user=request.user, subscription=subscription)
            page = self.paginate_queryset(records)
            data = UsageRecordSerializer(page, many=True, context=context).data
            return self.get_paginated_response(data)
        serializer = UsageRecordInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            record, created = usage_record(
                subscription=subscription,
                acting_user=request.user,
                today=timezone.localdate(),
                **serializer.validated_data,
            )
        except UsageReferenceConflict as exc:
            raise Conflict(exc.message) from exc
        return Response(
            UsageRecordSerializer(record, context=context).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
