"""REST API v1 routes (DESIGN.md "Stable names": extend, don't rename)."""

from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from billing.api import CustomerViewSet, DocumentViewSet, ResellerViewSet
from billing.api_auto_topup import AutoTopupView
from billing.api_cards import PaymentMethodViewSet
from billing.api_dunning import DunningPolicyView, DunningView
from billing.api_payments import PaymentViewSet
from billing.api_runs import BillingRunViewSet
from billing.api_transactions import ResellerTransactionViewSet
from billing.api_webhooks import WebhookEndpointViewSet
from billing.taxes.api import TaxRateViewSet, TaxRuleViewSet
from dashboard.api import (
    AcquisitionsReportView,
    PayoutsReportView,
    ProductMixView,
    SalesReportView,
    StatisticsView,
)
from orders.api import OrderViewSet, ProductViewSet, SubscriptionViewSet
from resellers.api import (
    AuditEventViewSet,
    ContactViewSet,
    DailyInvoicingView,
    ObtainTokenView,
)

router = DefaultRouter()
router.register("resellers", ResellerViewSet, basename="reseller")
router.register("customers", CustomerViewSet, basename="customer")
router.register("contacts", ContactViewSet, basename="contact")
router.register("payment-methods", PaymentMethodViewSet, basename="payment-method")
router.register("documents", DocumentViewSet, basename="document")
router.register("payments", PaymentViewSet, basename="payment")
router.register("products", ProductViewSet, basename="product")
router.register("orders", OrderViewSet, basename="order")
router.register("subscriptions", SubscriptionViewSet, basename="subscription")
router.register("billing-runs", BillingRunViewSet, basename="billing-run")
router.register("tax-rules", TaxRuleViewSet, basename="tax-rule")
router.register("tax-rates", TaxRateViewSet, basename="tax-rate")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register(
    "reseller-transactions", ResellerTransactionViewSet, basename="reseller-transaction"
)
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Split view: the init script is a file (?script), not inline, for the CSP (settings.base);
    # api/swagger_ui.html moves the page's inline style to a static file too. Swagger UI's CSS
    # draws its icons as data: SVG images, allowed on this page only.
    path(
        "docs/",
        csp_update({"img-src": ["data:"]})(
            SpectacularSwaggerSplitView.as_view(
                url_name="api-schema", template_name="api/swagger_ui.html"
            )
        ),
        name="api-docs",
    ),
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("dashboard/statistics/", StatisticsView.as_view(), name="api-dashboard-statistics"),
    path("dashboard/product-mix/", ProductMixView.as_view(), name="api-dashboard-product-mix"),
    path("reports/sales/", SalesReportView.as_view(), name="api-report-sales"),
    path("reports/payouts/", PayoutsReportView.as_view(), name="api-report-payouts"),
    path("reports/acquisitions/", AcquisitionsReportView.as_view(), name="api-report-acquisitions"),
    path("resellers/<int:pk>/auto-topup/", AutoTopupView.as_view(), name="api-reseller-auto-topup"),
    path(
        "resellers/<int:pk>/daily-invoicing/",
        DailyInvoicingView.as_view(),
        name="api-reseller-daily-invoicing",
    ),
    path("accounts/<int:pk>/dunning/", DunningView.as_view(), name="api-account-dunning"),
    path(
        "accounts/<int:pk>/dunning-policy/",
        DunningPolicyView.as_view(),
        name="api-account-dunning-policy",
    ),
    path("", include(router.urls)),
]
