"""REST API reads that carry ledger data: resellers and customers (their detail shows the
figures), and documents.

Every queryset comes from a selector that goes through `resellers.tenancy.scope`, so another
tenant's id answers 404. An account's figures are shown only when
`resellers.selectors.can_see_financials` allows it (`account_financials_visible`): a referral
reseller sees its customers' details, never their figures, documents or payment methods.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import django_filters
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings

from billing import idempotency, ledger
from billing.api_payments import (
    DocumentPaySerializer,
    PaymentSerializer,
    card_payment_response,
    key_parameter,
)
from billing.document_layout import document_layout
from billing.documents_pdf import CONTENT_TYPE, content_disposition, document_pdf
from billing.models import Document, DocumentStatus, DocumentType
from billing.selectors import account_financials_visible, document_bill_to, documents_visible
from billing.serializers import (
    CustomerDetailSerializer,
    DocumentSerializer,
    MemoCreateSerializer,
    RefundCreateSerializer,
    ResellerDetailSerializer,
)
from resellers.api import IdFilter
from resellers.exceptions import ApplicationError, PermissionDenied
from resellers.models import Account, PaymentMethod
from resellers.selectors import customers_visible, resellers_visible
from resellers.serializers import CustomerSerializer, ResellerSerializer
from resellers.tenancy import is_provider_staff


class _AccountViewSet(viewsets.ReadOnlyModelViewSet):
    """List: the accounts' details. Retrieve: details, contacts and, where the user may see
    them, the financial information and figures (`financials`, else null)."""

    queryset = Account.objects.none()  # the model, for the schema; rows come from the selector
    detail_serializer_class: type = ResellerDetailSerializer

    def get_serializer_class(self):
        if self.action == "retrieve":
            return self.detail_serializer_class
        return self.serializer_class

    def retrieve(self, request, *args, **kwargs):
        account = self.get_object()
        figures = account_financials_visible(user=request.user, account=account)
        context = {**self.get_serializer_context(), "figures": figures}
        return Response(self.get_serializer_class()(account, context=context).data)


class ResellerFilter(django_filters.FilterSet):
    class Meta:
        model = Account
        fields = ["reseller_model", "status"]


@extend_schema_view(
    list=extend_schema(tags=["resellers"]), retrieve=extend_schema(tags=["resellers"])
)
class ResellerViewSet(_AccountViewSet):
    serializer_class = ResellerSerializer
    detail_serializer_class = ResellerDetailSerializer
    filterset_class = ResellerFilter
    search_fields = ["name", "reseller_code"]
    ordering_fields = ["name", "created_at", "id"]

    def get_queryset(self):
        queryset = resellers_visible(user=self.request.user)
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("contacts")
        return queryset


class CustomerFilter(django_filters.FilterSet):
    reseller = IdFilter(field_name="parent_id")

    class Meta:
        model = Account
        fields = ["reseller", "status"]


@extend_schema_view(
    list=extend_schema(tags=["customers"]), retrieve=extend_schema(tags=["customers"])
)
class CustomerViewSet(_AccountViewSet):
    serializer_class = CustomerSerializer
    detail_serializer_class = CustomerDetailSerializer
    filterset_class = CustomerFilter
    search_fields = ["name"]
    ordering_fields = ["name", "created_at", "id"]

    def get_queryset(self):
        queryset = customers_visible(user=self.request.user)
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("contacts")
        return queryset


class PdfRenderer(renderers.BaseRenderer):
    """Lets a client ask for `Accept: application/pdf`. The PDF itself is returned as a plain
    HttpResponse; what this renders is an error (404, 401), which it answers as JSON."""

    media_type = CONTENT_TYPE
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return renderers.JSONRenderer().render(data)


class DocumentFilter(django_filters.FilterSet):
    recipient = IdFilter(field_name="recipient_id")
    issuer = IdFilter(field_name="issuer_id")
    type = django_filters.ChoiceFilter(field_name="doc_type", choices=DocumentType.choices)
    status = django_filters.ChoiceFilter(
        field_name="shown_status",
        choices=DocumentStatus.choices,
        help_text="The status as you are shown it (a credit memo is always closed to resellers).",
    )
    issued_from = django_filters.DateFilter(field_name="issue_date", lookup_expr="gte")
    issued_to = django_filters.DateFilter(field_name="issue_date", lookup_expr="lte")
    billing_run = IdFilter(
        field_name="billing_run_id",
        help_text="The id of the billing run that issued the documents (`/billing-runs/`).",
    )
    billing_key = django_filters.CharFilter(
        field_name="billing_key",
        lookup_expr="exact",
        help_text="What a run issued the documents for, exactly, e.g. `billing:2026-12-01`.",
    )

    class Meta:
        model = Document
        fields = [
            "recipient",
            "issuer",
            "type",
            "status",
            "issued_from",
            "issued_to",
            "billing_run",
            "billing_key",
        ]


@extend_schema_view(
    list=extend_schema(tags=["documents"]), retrieve=extend_schema(tags=["documents"])
)
class DocumentViewSet(viewsets.ReadOnlyModelViewSet):
    """Invoices, debit memos, credit memos, payments and refunds of the accounts whose finances
    you may see, with their lines and open amounts.

    Provider staff see every document, drafts included. Everyone else sees issued documents, and
    a credit memo always reads closed: its value is part of the account's credit balance.
    """

    queryset = Document.objects.none()
    serializer_class = DocumentSerializer
    filterset_class = DocumentFilter
    search_fields = ["reference", "recipient__name"]
    ordering_fields = ["issue_date", "due_date", "total", "id"]

    def get_queryset(self):
        return documents_visible(user=self.request.user)

    def get_serializer_class(self):
        if self.action == "create":
            return MemoCreateSerializer
        if self.action == "refund":
            return RefundCreateSerializer
        if self.action == "pay":
            return DocumentPaySerializer
        return DocumentSerializer

    @extend_schema(
        tags=["documents"],
        request=RefundCreateSerializer,
        parameters=[
            key_parameter(
                "New for each refund, scoped to you; also the gateway's key, so a "
                "retry after a timeout refunds once."
            )
        ],
        responses={
            201: OpenApiResponse(DocumentSerializer, description="The refund document."),
            200: OpenApiResponse(DocumentSerializer, description="A replay of the same key."),
            400: OpenApiResponse(
                description="`amount` (more than is unapplied, not positive) or "
                "`payment_method` (not the account's, or a card that did not pay this one); "
                "nothing written."
            ),
            402: OpenApiResponse(description="The gateway declined the refund; nothing written."),
            403: OpenApiResponse(description="Refunds are issued by provider staff only."),
            404: OpenApiResponse(description="No such document among those you may see."),
            503: OpenApiResponse(description="The gateway failed; nothing written. Retry."),
        },
    )
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        """Refund part or all of a credit document's unapplied amount (a payment, a credit
        memo) to one of the recipient's payment methods: to a card through the gateway, against
        the card payment it refunds; to cash, deposit or bank transfer as money paid back
        offline. A refund document is issued and applied against it; the credit balance falls.
        """
        document = self.get_object()
        if not is_provider_staff(request.user):
            raise PermissionDenied("Refunds are issued by provider staff only.")
        serializer = RefundCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        def work(record):
            method = PaymentMethod.objects.filter(pk=data["payment_method"]).first()
            if method is None:
                raise ApplicationError("No such payment method.", field="payment_method")
            refund = ledger.credit_refund(
                credit_document=document,
                amount=data["amount"],
                payment_method=method,
                # the gateway's key: one per refund, whoever asks (keys are per user here)
                idempotency_key=(
                    f"u{request.user.pk}:{record.key}" if record is not None else uuid.uuid4().hex
                ),
                issue_date=timezone.localdate(),
                acting_user=request.user,
                reason=data["reason"],
            )
            body = DocumentSerializer(self.get_queryset().get(pk=refund.pk)).data
            return status.HTTP_201_CREATED, idempotency.json_ready(body)

        outcome = idempotency.run_request(
            user=request.user,
            header=request.headers.get(idempotency.KEY_HEADER),
            data=request.data,
            endpoint=f"POST documents/{document.pk}/refund/",
            work=work,
        )  # a declined refund answers 402, a failed one 503 (config.api)
        return Response(outcome.body, status=outcome.status, headers=outcome.headers)

    @extend_schema(
        tags=["documents"],
        request=DocumentPaySerializer,
        parameters=[
            key_parameter(
                "New for each payment, scoped to you: a retry with the same key and "
                "body answers 200 with the same payment and charges nothing; after a gateway "
                "timeout (503) it completes the payment without charging twice."
            )
        ],
        responses={
            201: OpenApiResponse(PaymentSerializer, description="Charged, booked and applied."),
            200: OpenApiResponse(
                description="A replay of the same key (the payment); or, with "
                "`from_credit_balance`, the document as the credit balance left it, with "
                "`applied`."
            ),
            400: OpenApiResponse(
                description="`payment_method` (not one of the recipient's cards, no active "
                "token, declined, or its issuer takes no cards online), `amount`, `documents` "
                "(nothing open), `from_credit_balance`; nothing written."
            ),
            403: OpenApiResponse(description="Not your account's document to pay."),
            404: OpenApiResponse(description="No such document among those you may see."),
            503: OpenApiResponse(description="The gateway failed; nothing recorded. Retry."),
        },
    )
    @action(detail=True, methods=["post"])
    def pay(self, request, pk=None):
        """Pay an open invoice or debit memo (seed 003's first way): by card through the
        gateway, in full (the default) or in part, the payment applied to it and anything over
        its open amount left as credit balance; or, with `from_credit_balance`, with the
        account's credit balance (seed 002). Paid to its issuer: the provider takes cards, a
        resale reseller only with card payments on."""
        document = self.get_object()
        serializer = DocumentPaySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        endpoint = f"POST documents/{document.pk}/pay/"
        if not data["from_credit_balance"]:
            return card_payment_response(
                request=request,
                payer=lambda: (document.recipient, [document]),
                payment_method_id=data["payment_method"],
                amount=data.get("amount"),
                endpoint=endpoint,
            )

        def work(record):
            applied = ledger.credit_balance_apply(
                recipient=document.recipient,
                acting_user=request.user,
                debit_documents=[document],
            )
            body = {
                "applied": str(sum((a.amount for a in applied), Decimal(0))),
                "document": DocumentSerializer(self.get_queryset().get(pk=document.pk)).data,
            }
            return status.HTTP_200_OK, idempotency.json_ready(body)

        outcome = idempotency.run_request(
            user=request.user,
            header=request.headers.get(idempotency.KEY_HEADER),
            data=request.data,
            endpoint=endpoint,
            work=work,
        )
        return Response(outcome.body, status=outcome.status, headers=outcome.headers)

    @extend_schema(
        tags=["documents"],
        request=MemoCreateSerializer,
        parameters=[
            key_parameter(
                "New for each memo, scoped to you: a retry with the same key and "
                "body answers 200 with the same memo (`Idempotent-Replayed: true`) and issues "
                "nothing more."
            )
        ],
        responses={
            201: OpenApiResponse(DocumentSerializer, description="Issued and numbered."),
            200: OpenApiResponse(DocumentSerializer, description="A replay of the same key."),
            400: OpenApiResponse(
                description="Bad input, naming the field: `doc_type`, `recipient`, `lines`, "
                "`reason`; nothing written."
            ),
            403: OpenApiResponse(description="Memos are issued by provider staff only."),
            503: OpenApiResponse(description="The tax engine failed: nothing was issued."),
        },
    )
    def create(self, request):
        """Issue a debit memo or a credit memo by hand (provider staff): lines, a reason kept in
        the audit log, tax from the issuer's taxation rules as for invoices, numbered like every
        document. A credit memo raises the recipient's credit balance."""
        if not is_provider_staff(request.user):
            raise PermissionDenied("Memos are issued by provider staff only.")
        serializer = MemoCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        def work(record):
            recipient = Account.objects.filter(pk=data["recipient"]).first()
            if recipient is None:
                raise ApplicationError("No such account.", field="recipient")
            memo = ledger.memo_issue(
                doc_type=data["doc_type"],
                recipient=recipient,
                lines=[ledger.MemoLine(**line) for line in data["lines"]],
                reason=data["reason"],
                issue_date=timezone.localdate(),
                acting_user=request.user,
            )
            body = DocumentSerializer(self.get_queryset().get(pk=memo.pk)).data
            return status.HTTP_201_CREATED, idempotency.json_ready(body)

        outcome = idempotency.run_request(
            user=request.user,
            header=request.headers.get(idempotency.KEY_HEADER),
            data=request.data,
            endpoint="POST documents/",
            work=work,
        )  # a failing tax engine answers 503 (config.api)
        return Response(outcome.body, status=outcome.status, headers=outcome.headers)

    @extend_schema(
        tags=["documents"],
        summary="The document as a PDF",
        description=(
            "The document's invoice sheet (parties, dates, lines with their billing periods and "
            "tax, totals, amount paid and open) as an `application/pdf` attachment named after "
            "its number, e.g. `INV-000012.pdf`. Scoped like the document: another tenant's id "
            "answers 404. A draft (provider staff only) is watermarked DRAFT."
        ),
        # `?format=` only picks how an error is worded; the PDF is the PDF.
        parameters=[OpenApiParameter("format", exclude=True)],
        responses={
            (200, "application/pdf"): OpenApiResponse(
                response=OpenApiTypes.BINARY, description="The PDF."
            ),
            404: OpenApiResponse(description="No such document among those you may see."),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="pdf",
        renderer_classes=[*api_settings.DEFAULT_RENDERER_CLASSES, PdfRenderer],
    )
    def pdf(self, request, pk=None):
        document = self.get_object()
        layout = document_layout(
            document=document,
            lines=document.lines.all(),
            bill_to=document_bill_to(document=document),
            provider_view=is_provider_staff(request.user),
            as_of=timezone.localdate(),
        )
        response = HttpResponse(document_pdf(layout=layout), content_type=CONTENT_TYPE)
        response["Content-Disposition"] = content_disposition(layout)
        response["Cache-Control"] = "private, no-store"
        return response
