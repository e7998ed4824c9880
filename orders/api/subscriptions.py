"""REST API `subscriptions/`: list, cancel, suspend, resume (with its catch-up billing), change
quantity and report usage."""

from __future__ import annotations

import django_filters
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing import idempotency
from billing.runs import subscription_reactivate
from orders.api.common import Conflict, _conflict_on_transition, _viewer, correction_results
from orders.api.orders import KEY_PARAMETER
from orders.models import Subscription
from orders.selectors import (
    subscriptions_visible,
    usage_records_visible,
)
from orders.serializers import (
    OrderSerializer,
    SubscriptionCancelSerializer,
    SubscriptionQuantitySerializer,
    SubscriptionSerializer,
    SubscriptionSuspendSerializer,
    UsageCorrectionCreateSerializer,
    UsageCorrectionResultSerializer,
    UsageRecordInputSerializer,
    UsageRecordSerializer,
)
from orders.services import (
    subscription_cancel,
    subscription_change_quantity,
    subscription_suspend,
    usage_correct,
)
from orders.usage import UsageReferenceConflict, usage_record
from resellers.api import NOT_FOUND, IdFilter


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
        `immediately` (provider staff), a paid one ends today; where the paying account's class
        refunds on cancel, the unused days already billed are credited back, prorated by days
        (credit memos). By default (a no-refund policy) nothing is given back."""
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
        tags=["subscriptions"],
        request=UsageCorrectionCreateSerializer,
        parameters=[KEY_PARAMETER],
        responses={
            201: OpenApiResponse(UsageCorrectionResultSerializer, description="Corrected."),
            200: OpenApiResponse(UsageCorrectionResultSerializer, description="A replayed key."),
            400: OpenApiResponse(
                description="`quantity`, `amount` or `cost` (not the kind reported, negative, "
                "unchanged), `record` (a correction itself), `reason`, `outcome`; nothing "
                "written."
            ),
            402: OpenApiResponse(description="The gateway declined the refund: nothing written."),
            403: OpenApiResponse(description="Provider staff only."),
            404: NOT_FOUND,
            503: OpenApiResponse(
                description="The gateway or a tax engine failed: nothing written."
            ),
        },
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"usage/(?P<record_id>[0-9]+)/correct",
        filter_backends=[],
    )
    def usage_correct(self, request, pk=None, record_id=None):
        """Correct a usage record's value (seed 001 §4: an application reported $30.00, the
        real figure was $25.00), provider staff. The record is never edited: a correction record
        carries the difference. Before the day is billed, the billing run bills the corrected
        usage; billed but not invoiced, the waiting charge is corrected in place; invoiced, a
        correcting order issues a debit or credit memo (or, `refund`, a refund to the card that
        paid)."""
        subscription = self.get_object()
        record = get_object_or_404(
            usage_records_visible(user=request.user, subscription=subscription), pk=record_id
        )
        serializer = UsageCorrectionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        context = self.get_serializer_context()

        def work(_record):
            result = usage_correct(
                record=record,
                acting_user=request.user,
                today=timezone.localdate(),
                **serializer.validated_data,
            )
            body = {
                "record": UsageRecordSerializer(result.record, context=context).data,
                "before": {k: str(v) for k, v in result.before.items()},
                "after": {k: str(v) for k, v in result.after.items()},
                "stage": result.stage,
                "order": (
                    OrderSerializer(result.order, context=context).data if result.order else None
                ),
                **correction_results(result.sides),
            }
            return status.HTTP_201_CREATED, idempotency.json_ready(body)

        outcome = idempotency.run_request(
            user=request.user,
            header=request.headers.get(idempotency.KEY_HEADER),
            data=request.data,
            endpoint=f"POST subscriptions/{subscription.pk}/usage/{record.pk}/correct/",
            work=work,
        )  # a declined refund answers 402, a failed one 503 (config.api)
        return Response(outcome.body, status=outcome.status, headers=outcome.headers)

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
