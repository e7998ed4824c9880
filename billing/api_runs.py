"""REST API `billing-runs/`: the billing-date and daily invoicing runs, and starting one (POST).

Provider staff only. Runs are not any tenant's objects, so there is nothing to hide behind a
404: everybody else gets 403 on every method (list, retrieve, create), like the provider panel's
/billing/ pages. Reads come from `billing.runs.reports`; a POST calls `billing.runs.run_start`
(its chunks go to the Celery workers, or run in the request when Celery runs eagerly) or, with
`dry_run`, `billing.runs.reports.billing_run_preview`, which writes nothing.

Errors: bad input answers 400 naming the field: `kind` (not "billing" or "daily"), `run_date` (not
YYYY-MM-DD, or in the future for a real run: a run bills every period up to its date).
"""

from __future__ import annotations

import django_filters
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from billing.models import MONEY, BillingRun, BillingRunChunk, BillingRunFailure
from billing.runs import (
    billing_run_get,
    billing_run_preview,
    billing_runs_list,
    preview_lines,
    run_date_check,
    run_stalled,
    run_start,
)
from resellers.serializers import AccountRefSerializer
from resellers.tenancy import is_provider_staff

FORBIDDEN = OpenApiResponse(description="Billing runs are for provider staff.")


class IsProviderStaff(BasePermission):
    message = "Billing runs are for provider staff."

    def has_permission(self, request, view) -> bool:
        return is_provider_staff(request.user)


def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(**MONEY, read_only=True, **kwargs)


def _amounts(**kwargs) -> serializers.DictField:
    return serializers.DictField(
        child=serializers.DecimalField(**MONEY),
        read_only=True,
        help_text='Invoiced totals by currency, e.g. {"USD": "1520.00"}.',
        **kwargs,
    )


class BillingRunFailureSerializer(serializers.ModelSerializer):
    account = AccountRefSerializer(
        read_only=True,
        allow_null=True,
        help_text="The account left uninvoiced; null when a whole chunk failed.",
    )

    class Meta:
        model = BillingRunFailure
        fields = ["account", "chunk", "reason"]
        read_only_fields = fields


class BillingRunChunkSerializer(serializers.ModelSerializer):
    amounts = _amounts()

    class Meta:
        model = BillingRunChunk
        fields = [
            "number",
            "accounts",
            "accounts_invoiced",
            "invoices_issued",
            "subscriptions_billed",
            "charges_invoiced",
            "amounts",
            "failures",
            "finished_at",
        ]
        read_only_fields = fields


class BillingRunSerializer(serializers.ModelSerializer):
    """A run and its figures (the sums of its chunks' reports, once it finished)."""

    started_by = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Who started it from the panel or the API; null for beat and the commands.",
    )
    stalled = serializers.SerializerMethodField(
        help_text="Still running, but no chunk has reported for an hour: a worker died or the "
        "workers are down. Run the date again: it bills what is left, nothing twice."
    )
    duration_seconds = serializers.SerializerMethodField()
    amounts = _amounts()

    class Meta:
        model = BillingRun
        fields = [
            "id",
            "kind",
            "run_date",
            "status",
            "stalled",
            "trigger",
            "started_by",
            "started_at",
            "finished_at",
            "duration_seconds",
            "chunks_total",
            "chunks_done",
            "accounts_total",
            "accounts_invoiced",
            "invoices_issued",
            "subscriptions_billed",
            "charges_invoiced",
            "amounts",
            "failures_count",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "accounts_total": {"help_text": "Accounts due on the date, in all chunks."},
            "failures_count": {"help_text": "Accounts (or chunks) the run could not invoice."},
        }

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_stalled(self, run: BillingRun) -> bool:
        return run_stalled(run, now=self.context.get("now") or timezone.now())

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_duration_seconds(self, run: BillingRun) -> float | None:
        """Null while it runs."""
        return round(run.duration.total_seconds(), 3) if run.duration else None


class BillingRunDetailSerializer(BillingRunSerializer):
    """A run with its chunks' reports and its failures: each account it left uninvoiced, and
    why. Their charges stay uninvoiced, so running the date again retries them."""

    chunks = BillingRunChunkSerializer(many=True, read_only=True)
    failures = BillingRunFailureSerializer(many=True, read_only=True)

    class Meta(BillingRunSerializer.Meta):
        fields = [*BillingRunSerializer.Meta.fields, "chunks", "failures"]
        read_only_fields = fields


class BillingRunCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=BillingRun.Kind.choices,
        default=BillingRun.Kind.BILLING,
        help_text="`billing`: the billing-date run; `daily`: the daily invoicing run.",
    )
    run_date = serializers.DateField(
        help_text="YYYY-MM-DD: today or an earlier date (a dry run may look ahead)."
    )
    dry_run = serializers.BooleanField(
        default=False, help_text="Answer what the run would issue, and write nothing."
    )


class PlannedLineSerializer(serializers.Serializer):
    description = serializers.CharField()
    period_start = serializers.DateField(allow_null=True, help_text="Inclusive.")
    period_end = serializers.DateField(allow_null=True, help_text="Exclusive.")
    quantity = serializers.DecimalField(max_digits=19, decimal_places=4, allow_null=True)
    amount = _money()
    tax = _money()


class PlannedInvoiceSerializer(serializers.Serializer):
    account = serializers.SerializerMethodField()
    issuer = serializers.SerializerMethodField(
        help_text="Who would issue it: each issuer numbers its own documents."
    )
    currency = serializers.CharField()
    issue_date = serializers.DateField()
    due_date = serializers.DateField()
    subtotal = _money()
    tax_total = _money()
    total = _money()
    lines = serializers.SerializerMethodField()

    @extend_schema_field(AccountRefSerializer)
    def get_account(self, invoice) -> dict:
        return {"id": invoice.account_id, "name": invoice.account_name}

    @extend_schema_field(AccountRefSerializer)
    def get_issuer(self, invoice) -> dict:
        issuers = self.root.instance.issuers  # the RunPreview being serialised
        return {"id": invoice.issuer_id, "name": issuers.get(invoice.issuer_id, "")}

    @extend_schema_field(PlannedLineSerializer(many=True))
    def get_lines(self, invoice) -> list:
        return PlannedLineSerializer(preview_lines(invoice), many=True).data


class PlannedFailureSerializer(serializers.Serializer):
    account = serializers.SerializerMethodField()
    reason = serializers.CharField()

    @extend_schema_field(AccountRefSerializer(allow_null=True))
    def get_account(self, failure) -> dict | None:
        if failure.account_id is None:
            return None
        return {"id": failure.account_id, "name": failure.account_name}


class DryRunSerializer(serializers.Serializer):
    """What a run would issue: its invoices with their lines and tax, and the accounts it would
    fail. Nothing is written; the real run agrees line for line."""

    dry_run = serializers.SerializerMethodField()
    kind = serializers.ChoiceField(choices=BillingRun.Kind.choices)
    run_date = serializers.DateField()
    accounts_due = serializers.IntegerField()
    held = serializers.IntegerField(
        help_text="Accounts held (a suspended subscription of their own, on hold off)."
    )
    lines = serializers.IntegerField(help_text="Lines in all the invoices.")
    amounts = _amounts()
    invoices = PlannedInvoiceSerializer(many=True)
    failures = PlannedFailureSerializer(many=True)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_dry_run(self, preview) -> bool:
        return True


class BillingRunFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=BillingRun.Kind.choices)
    run_date = django_filters.DateFilter()
    status = django_filters.ChoiceFilter(choices=BillingRun.Status.choices)

    class Meta:
        model = BillingRun
        fields = ["kind", "run_date", "status"]


@extend_schema_view(
    list=extend_schema(
        tags=["billing-runs"], responses={200: BillingRunSerializer(many=True), 403: FORBIDDEN}
    ),
    retrieve=extend_schema(
        tags=["billing-runs"],
        responses={
            200: BillingRunDetailSerializer,
            403: FORBIDDEN,
            404: OpenApiResponse(description="No such run."),
        },
    ),
)
class BillingRunViewSet(viewsets.ReadOnlyModelViewSet):
    """Billing-date and daily invoicing runs, newest first: when each ran, what it covered,
    what it issued, and what failed and why (provider staff only). A run still `running` whose
    chunks stopped reporting for an hour is `stalled`."""

    queryset = BillingRun.objects.none()  # the model, for the schema; rows come from the selector
    permission_classes = [IsAuthenticated, IsProviderStaff]
    serializer_class = BillingRunSerializer
    filterset_class = BillingRunFilter
    ordering_fields = ["started_at", "run_date", "id"]
    lookup_value_regex = r"\d+"
    filter_backends = [DjangoFilterBackend, OrderingFilter]  # nothing to search

    def get_queryset(self):
        return billing_runs_list(user=self.request.user)

    def get_serializer_class(self):
        if self.action == "retrieve":
            return BillingRunDetailSerializer
        if self.action == "create":
            return BillingRunCreateSerializer
        return BillingRunSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def get_object(self):
        try:
            run = billing_run_get(user=self.request.user, pk=int(self.kwargs["pk"]))
        except BillingRun.DoesNotExist as exc:
            raise Http404("No such run.") from exc
        self.check_object_permissions(self.request, run)
        return run

    @extend_schema(
        tags=["billing-runs"],
        request=BillingRunCreateSerializer,
        responses={
            201: OpenApiResponse(
                BillingRunDetailSerializer,
                description="The run, finished (Celery eager: its chunks ran in the request). "
                "`status` says whether it completed or completed with failures.",
            ),
            202: OpenApiResponse(
                BillingRunDetailSerializer,
                description="The run, started on the workers and still `running`: follow it at "
                "the `Location` it answers (`chunks_done` of `chunks_total`).",
            ),
            200: OpenApiResponse(
                DryRunSerializer,
                description="`dry_run`: what the run would issue; nothing written.",
            ),
            400: OpenApiResponse(
                description="Bad input, naming the field: `kind`, `run_date` (not YYYY-MM-DD, or "
                "a future date for a real run)."
            ),
            403: FORBIDDEN,
        },
    )
    def create(self, request):
        """Start the billing-date run (`billing`) or the daily invoicing run (`daily`) for a date,
        or, with `dry_run`, answer what it would issue without writing anything.

        Running a date again is safe: a run issues one invoice per account and date, so a second
        run (or two started at once) finds nothing left to do, and it retries the accounts an
        earlier run failed."""
        serializer = BillingRunCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["dry_run"]:
            preview = billing_run_preview(kind=data["kind"], run_date=data["run_date"])
            return Response(DryRunSerializer(preview).data, status=status.HTTP_200_OK)
        run_date_check(data["run_date"], today=timezone.localdate())
        run = run_start(
            run_date=data["run_date"],
            kind=data["kind"],
            trigger="api",
            acting_user=request.user,
        )
        run = billing_run_get(user=request.user, pk=run.pk)
        body = BillingRunDetailSerializer(run, context=self.get_serializer_context()).data
        running = run.status == BillingRun.Status.RUNNING
        return Response(
            body,
            status=status.HTTP_202_ACCEPTED if running else status.HTTP_201_CREATED,
            headers={"Location": reverse("billing-run-detail", args=[run.pk])},
        )
