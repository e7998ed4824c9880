"""REST API `webhooks/`: the HTTPS endpoints that receive events, and their delivery logs
(issue 13, items 7 and 8). Provider staff only: endpoints are the provider's, not any tenant's,
so everybody else gets 403 on every method, like `billing-runs/`.

- `GET webhooks/`, `GET webhooks/{id}/`: the endpoints (never their secret).
- `POST webhooks/` with `url`, `events` and optionally `description`, `is_active`: registers one
  and answers it with its `secret`, the only answer that carries it unasked.
- `PUT`/`PATCH webhooks/{id}/`: change the URL, events, description, or turn it on or off.
- `DELETE webhooks/{id}/`: deactivates it (204); it stays, with its log.
- `GET webhooks/{id}/secret/`, `POST webhooks/{id}/rotate-secret/`: reveal or replace the secret.
- `GET webhooks/{id}/deliveries/` (`?status=`, `?event=`): its delivery log, newest first, and
  `GET webhooks/{id}/deliveries/{delivery_id}/` with each attempt;
  `POST webhooks/{id}/deliveries/{delivery_id}/resend/` sends a failed one again.

The rules are billing.webhooks' (the panel calls the same services): bad input answers 400
naming the field (`url`: not HTTPS, or loopback without DEBUG; `events`: none or unknown;
`delivery`: not failed, or its endpoint is off). POSTs honour an Idempotency-Key
(`billing.idempotency`). Every change is audited.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from billing import idempotency
from billing.api_payments import key_parameter
from billing.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from billing.webhooks import (
    webhook_attempts,
    webhook_deliveries,
    webhook_delivery_get,
    webhook_delivery_resend,
    webhook_endpoint_create,
    webhook_endpoint_deactivate,
    webhook_endpoint_get,
    webhook_endpoint_update,
    webhook_endpoints_visible,
    webhook_secret_rotate,
)
from resellers.serializers import AccountRefSerializer
from resellers.tenancy import is_provider_staff

FORBIDDEN = OpenApiResponse(description="Webhooks are for provider staff.")
NOT_FOUND = OpenApiResponse(description="No such webhook endpoint.")
KEY_PARAMETER = key_parameter(
    "Scoped to you: a retry with the same key and body answers 200 with the first answer "
    "(`Idempotent-Replayed: true`) and does nothing again."
)


class IsProviderStaff(BasePermission):
    message = "Webhooks are for provider staff."

    def has_permission(self, request, view) -> bool:
        return is_provider_staff(request.user)


def _events_field(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices),
        help_text="The events sent to it: " + ", ".join(f"`{e}`" for e in WebhookEvent.values),
        **kwargs,
    )


class WebhookEndpointSerializer(serializers.ModelSerializer):
    """An endpoint, without its secret, with how many of its deliveries are pending and failed."""

    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    pending_count = serializers.IntegerField(read_only=True, default=0)
    failed_count = serializers.IntegerField(read_only=True, default=0)
    events = _events_field(read_only=True)

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "is_active",
            "created_by",
            "created_at",
            "updated_at",
            "deactivated_at",
            "pending_count",
            "failed_count",
        ]
        read_only_fields = fields


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    """The endpoint just registered, with its signing secret."""

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields
        extra_kwargs = {
            "secret": {
                "help_text": "Keys the HMAC-SHA256 signature of every delivery "
                "(X-Webhook-Signature). Staff may reveal it later (`secret/`)."
            }
        }


class WebhookEndpointWriteSerializer(serializers.Serializer):
    url = serializers.CharField(
        max_length=500,
        help_text="HTTPS only (a loopback address, over HTTP too, only with DEBUG on).",
    )
    events = _events_field(allow_empty=False)
    description = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    is_active = serializers.BooleanField(required=False, default=True)


class WebhookSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(read_only=True)


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = [
            "number",
            "attempted_at",
            "status_code",
            "error",
            "duration_ms",
            "response_excerpt",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "status_code": {"help_text": "Null when no answer came (see `error`)."},
            "response_excerpt": {"help_text": "The start of the answer's body."},
        }


class WebhookDeliverySerializer(serializers.ModelSerializer):
    """One event sent to the endpoint: its status, attempts and the last answer."""

    account = AccountRefSerializer(
        read_only=True, allow_null=True, help_text="The account the event is about, if any."
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event",
            "account",
            "created_at",
            "status",
            "attempts",
            "attempts_allowed",
            "last_attempt_at",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "delivered_at",
        ]
        read_only_fields = fields


class WebhookDeliveryDetailSerializer(WebhookDeliverySerializer):
    """A delivery with what it sends (`data`) and each attempt."""

    attempt_log = serializers.SerializerMethodField()

    class Meta(WebhookDeliverySerializer.Meta):
        fields = [*WebhookDeliverySerializer.Meta.fields, "data", "attempt_log"]
        read_only_fields = fields

    @extend_schema_field(WebhookAttemptSerializer(many=True))
    def get_attempt_log(self, delivery) -> list:
        return WebhookAttemptSerializer(webhook_attempts(delivery=delivery), many=True).data


class DeliveryFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=WebhookDelivery.Status.choices, required=False, allow_blank=True, default=""
    )
    event = serializers.ChoiceField(
        choices=WebhookEvent.choices, required=False, allow_blank=True, default=""
    )


DELIVERY_ID = OpenApiParameter(
    "delivery_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The delivery's id."
)


def _idempotent(request, endpoint: str, work) -> Response:
    """`work()` -> (status, body), once per Idempotency-Key (billing.idempotency)."""
    outcome = idempotency.run_request(
        user=request.user,
        header=request.headers.get(idempotency.KEY_HEADER),
        data=request.data,
        endpoint=endpoint,
        work=lambda record: work(),
    )
    return Response(outcome.body, status=outcome.status, headers=outcome.headers)


# PUT and PATCH answer alike.
UPDATE_SCHEMA = extend_schema(
    tags=["webhooks"],
    request=WebhookEndpointWriteSerializer,
    responses={
        200: WebhookEndpointSerializer,
        400: OpenApiResponse(description="`url`, `events`, as for POST. Nothing written."),
        403: FORBIDDEN,
        404: NOT_FOUND,
    },
)


@extend_schema_view(
    list=extend_schema(
        tags=["webhooks"],
        responses={200: WebhookEndpointSerializer(many=True), 403: FORBIDDEN},
    ),
    retrieve=extend_schema(
        tags=["webhooks"],
        responses={200: WebhookEndpointSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class WebhookEndpointViewSet(viewsets.ModelViewSet):
    """Webhook endpoints: HTTPS URLs that receive the events they subscribe to, each delivery
    signed with the endpoint's secret (provider staff only)."""

    queryset = WebhookEndpoint.objects.none()  # the model, for the schema; rows: the selector
    permission_classes = [IsAuthenticated, IsProviderStaff]
    serializer_class = WebhookEndpointSerializer
    lookup_value_regex = r"\d+"
    filter_backends: list = []
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return webhook_endpoints_visible(user=self.request.user)

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return WebhookEndpointWriteSerializer
        if self.action == "deliveries":
            return WebhookDeliverySerializer
        if self.action == "delivery":
            return WebhookDeliveryDetailSerializer
        if self.action in ("secret", "rotate_secret"):
            return WebhookSecretSerializer
        return WebhookEndpointSerializer

    def get_object(self) -> WebhookEndpoint:
        try:
            endpoint = webhook_endpoint_get(user=self.request.user, pk=int(self.kwargs["pk"]))
        except WebhookEndpoint.DoesNotExist as exc:
            raise Http404("No such webhook endpoint.") from exc
        self.check_object_permissions(self.request, endpoint)
        return endpoint

    def _shown(self, endpoint: WebhookEndpoint) -> dict:
        return WebhookEndpointSerializer(
            webhook_endpoint_get(user=self.request.user, pk=endpoint.pk)
        ).data

    @extend_schema(
        tags=["webhooks"],
        request=WebhookEndpointWriteSerializer,
        parameters=[KEY_PARAMETER],
        responses={
            201: OpenApiResponse(
                WebhookEndpointCreatedSerializer, description="Registered, with its secret."
            ),
            200: OpenApiResponse(
                WebhookEndpointCreatedSerializer, description="A replay of the key."
            ),
            400: OpenApiResponse(
                description="`url` (not HTTPS; loopback without DEBUG; credentials or a fragment "
                "in it), `events` (none, or an unknown name). Nothing written."
            ),
            403: FORBIDDEN,
        },
    )
    def create(self, request):
        """Register an endpoint. The answer carries its signing secret: keep it (staff may
        reveal it again with `secret/`)."""
        serializer = WebhookEndpointWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        def work():
            endpoint = webhook_endpoint_create(
                acting_user=request.user, **serializer.validated_data
            )
            shown = webhook_endpoint_get(user=request.user, pk=endpoint.pk)
            body = WebhookEndpointCreatedSerializer(shown).data
            return status.HTTP_201_CREATED, idempotency.json_ready(body)

        return _idempotent(request, "POST webhooks/", work)

    def _update(self, request, *, partial: bool) -> Response:
        endpoint = self.get_object()
        serializer = WebhookEndpointWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if partial:  # only what was sent (a partial serializer still fills in the defaults)
            data = {k: v for k, v in data.items() if k in request.data}
        endpoint = webhook_endpoint_update(endpoint=endpoint, acting_user=request.user, **data)
        return Response(self._shown(endpoint))

    @UPDATE_SCHEMA
    def update(self, request, pk=None):
        """Replace the endpoint's URL, events, description and whether it is active."""
        return self._update(request, partial=False)

    @UPDATE_SCHEMA
    def partial_update(self, request, pk=None):
        """Change some of them: `{"is_active": true}` turns a deactivated endpoint on again."""
        return self._update(request, partial=True)

    @extend_schema(
        tags=["webhooks"],
        responses={
            204: OpenApiResponse(description="Deactivated: nothing more is sent to it."),
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def destroy(self, request, pk=None):
        """Deactivate the endpoint: no new deliveries, and pending ones fail at their next
        attempt. It stays, with its delivery log (PATCH `is_active` turns it on again)."""
        webhook_endpoint_deactivate(endpoint=self.get_object(), acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=["webhooks"],
        responses={200: WebhookSecretSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"])
    def secret(self, request, pk=None):
        """The endpoint's signing secret."""
        return Response({"secret": self.get_object().secret})

    @extend_schema(
        tags=["webhooks"],
        request=None,
        parameters=[KEY_PARAMETER],
        responses={
            200: OpenApiResponse(
                WebhookSecretSerializer,
                description="The new secret: every attempt from now on is signed with it.",
            ),
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """Replace the signing secret (the old one stops signing at once)."""
        endpoint = self.get_object()

        def work():
            rotated = webhook_secret_rotate(endpoint=endpoint, acting_user=request.user)
            return status.HTTP_200_OK, {"secret": rotated.secret}

        return _idempotent(request, f"POST webhooks/{endpoint.pk}/rotate-secret/", work)

    @extend_schema(
        tags=["webhooks"],
        parameters=[DeliveryFilterSerializer],
        responses={
            200: WebhookDeliverySerializer(many=True),
            400: OpenApiResponse(description="`status` or `event` is not one of its values."),
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        """The endpoint's delivery log, newest first: each event sent to it, its status,
        attempts and last answer. `?status=failed` lists what to send again."""
        endpoint = self.get_object()
        filters = DeliveryFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = webhook_deliveries(endpoint=endpoint, **filters.validated_data)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    def _delivery(self, delivery_id: str) -> WebhookDelivery:
        try:
            return webhook_delivery_get(endpoint=self.get_object(), pk=int(delivery_id))
        except WebhookDelivery.DoesNotExist as exc:
            raise Http404("No such delivery of this endpoint.") from exc

    @extend_schema(
        tags=["webhooks"],
        parameters=[DELIVERY_ID],
        responses={200: WebhookDeliveryDetailSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"], url_path=r"deliveries/(?P<delivery_id>\d+)")
    def delivery(self, request, pk=None, delivery_id=None):
        """One delivery: what it sends and each attempt (when, the answer or the error, how
        long it took)."""
        return Response(WebhookDeliveryDetailSerializer(self._delivery(delivery_id)).data)

    @extend_schema(
        tags=["webhooks"],
        request=None,
        parameters=[DELIVERY_ID, KEY_PARAMETER],
        responses={
            200: OpenApiResponse(
                WebhookDeliveryDetailSerializer,
                description="Pending again: a new round of attempts starts at once.",
            ),
            400: OpenApiResponse(
                description="`delivery`: only a failed delivery of an active endpoint can be "
                "sent again."
            ),
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_id>\d+)/resend")
    def resend(self, request, pk=None, delivery_id=None):
        """Send a failed delivery again (same event id and body, signed afresh), with a new
        round of attempts."""
        delivery = self._delivery(delivery_id)

        def work():
            resent = webhook_delivery_resend(delivery=delivery, acting_user=request.user)
            body = WebhookDeliveryDetailSerializer(resent).data
            return status.HTTP_200_OK, idempotency.json_ready(body)

        endpoint = f"POST webhooks/{delivery.endpoint_id}/deliveries/{delivery.pk}/resend/"
        return _idempotent(request, endpoint, work)
