"""REST API `orders/`: place (with an Idempotency-Key), list, approve and cancel orders."""

from __future__ import annotations

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
from orders.api.common import _conflict_on_transition, _viewer, correction_results
from orders.models import Order, OrderStatus
from orders.selectors import (
    catalogue_products,
    order_get,
    orders_visible,
    with_charged_totals,
)
from orders.serializers import (
    CorrectionCreateSerializer,
    CorrectionResultSerializer,
    OrderCancelSerializer,
    OrderCreateSerializer,
    OrderSerializer,
)
from orders.services import (
    CorrectionLine,
    ItemSpec,
    order_approve,
    order_cancel,
    order_correct,
    order_place,
    order_submit,
)
from resellers.api import NOT_FOUND, IdFilter
from resellers.exceptions import PermissionDenied
from resellers.models import Account, User
from resellers.selectors import can_see_financials, customers_visible, resellers_visible
from resellers.tenancy import is_provider_staff

CREATE_ENDPOINT = "POST orders/"


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
        # Items annotated with the period their first charge covers: the totals as charged.
        return with_charged_totals(orders_visible(user=self.request.user))

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
        request=CorrectionCreateSerializer,
        parameters=[KEY_PARAMETER],
        responses={
            201: OpenApiResponse(
                CorrectionResultSerializer,
                description="The correcting order (`order_type: correction`, `corrects`, each "
                "item's `corrects_item`) with the documents it issued and, per detail and side, "
                "what was done.",
            ),
            200: OpenApiResponse(CorrectionResultSerializer, description="A replayed key."),
            400: OpenApiResponse(
                description="`lines` (a detail of another order, a quantity below 1, a negative "
                "price, charges that cannot be found), `outcome`, `reason`; nothing written."
            ),
            402: OpenApiResponse(description="The gateway declined the refund: nothing written."),
            403: OpenApiResponse(description="Provider staff only."),
            404: NOT_FOUND,
            409: ORDER_CONFLICT,
            503: OpenApiResponse(
                description="The gateway or a tax engine failed: nothing written."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def corrections(self, request, pk=None):
        """Correct a completed order (seed 001 §4), detail by detail: a corrected unit price
        (the customer's) or unit cost (the reseller's), quantity, or cancel. Each side's charge
        is computed again by the rule that made it; a charge not yet invoiced is corrected in
        place, an invoiced one by a debit memo, or for less by a credit memo or (`refund`) a
        refund to the card that paid. The original order and its invoice never change."""
        order = self.get_object()
        serializer = CorrectionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        def work(record):
            correction, results = order_correct(
                order=order,
                lines=[
                    CorrectionLine(
                        item_id=line["item"],
                        unit_price=line.get("unit_price"),
                        unit_cost=line.get("unit_cost"),
                        quantity=line.get("quantity"),
                        period_start=line.get("period_start"),
                        period_end=line.get("period_end"),
                        cancel=line["cancel"],
                    )
                    for line in data["lines"]
                ],
                outcome=data["outcome"],
                reason=data["reason"],
                acting_user=request.user,
                today=timezone.localdate(),
            )
            body = {"order": self._body(correction), **correction_results(results)}
            return status.HTTP_201_CREATED, idempotency.json_ready(body)

        with _conflict_on_transition():  # a declined refund: 402, a failure: 503 (config.api)
            outcome = idempotency.run_request(
                user=request.user,
                header=request.headers.get(idempotency.KEY_HEADER),
                data=request.data,
                endpoint=f"POST orders/{order.pk}/corrections/",
                work=work,
            )
        return Response(outcome.body, status=outcome.status, headers=outcome.headers)

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
