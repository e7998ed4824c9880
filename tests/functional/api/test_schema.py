"""The OpenAPI schema: served at /api/v1/schema/, valid, with no warnings, and naming every
stable path; the docs page beside it."""

from django.core.management import call_command
from rest_framework.test import APIClient

STABLE_PATHS = [
    "/api/v1/auth/token/",
    "/api/v1/resellers/",
    "/api/v1/resellers/{id}/",
    "/api/v1/resellers/{id}/daily-invoicing/",
    "/api/v1/customers/",
    "/api/v1/customers/{id}/",
    "/api/v1/contacts/",
    "/api/v1/contacts/{id}/",
    "/api/v1/payment-methods/",
    "/api/v1/payment-methods/{id}/",
    "/api/v1/documents/",
    "/api/v1/documents/{id}/",
    "/api/v1/products/",
    "/api/v1/products/{id}/",
    "/api/v1/orders/",
    "/api/v1/orders/{id}/",
    "/api/v1/orders/{id}/approve/",
    "/api/v1/orders/{id}/cancel/",
    "/api/v1/subscriptions/",
    "/api/v1/subscriptions/{id}/",
    "/api/v1/billing-runs/",
    "/api/v1/billing-runs/{id}/",
    "/api/v1/tax-rules/",
    "/api/v1/tax-rules/{id}/",
    "/api/v1/tax-rates/",
    "/api/v1/tax-rates/{id}/",
    "/api/v1/webhooks/",
    "/api/v1/webhooks/{id}/",
    "/api/v1/webhooks/{id}/deliveries/",
]


def test_schema_endpoint_serves_the_stable_paths(db):
    response = APIClient().get("/api/v1/schema/?format=json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in STABLE_PATHS:
        assert path in schema["paths"], path
    assert "put" in schema["paths"]["/api/v1/resellers/{id}/daily-invoicing/"]
    mode = schema["components"]["schemas"]["DailyInvoicingEnum"]["enum"]
    assert mode == ["prepaid_only", "all", "disabled"]
    card = schema["components"]["schemas"]["PaymentMethod"]["properties"]
    assert "gateway_token" not in card and "card_last4" in card
    money = schema["components"]["schemas"]["Document"]["properties"]["total"]
    assert money["type"] == "string" and money["format"] == "decimal"
    orders = schema["paths"]["/api/v1/orders/"]
    assert "post" in orders and "get" in orders
    assert "Idempotency-Key" in [p["name"] for p in orders["post"]["parameters"]]
    assert {"201", "400", "409", "422"} <= set(orders["post"]["responses"])
    assert "409" in schema["paths"]["/api/v1/orders/{id}/approve/"]["post"]["responses"]
    order = schema["components"]["schemas"]["Order"]["properties"]
    assert order["total_cost"]["nullable"] is True  # null to end customers


def test_schema_validates_without_warnings(db, tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in STABLE_PATHS:
        assert f"  {path}:" in text


def test_docs_page_is_served(db):
    client = APIClient()
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    # its init script is a file of its own (the CSP allows no inline script): it names the schema
    assert b'<script src="/api/v1/docs/?script=' in response.content
    assert b"/api/v1/schema/" in client.get("/api/v1/docs/", {"script": ""}).content
    # Swagger UI's scripts are served locally (drf-spectacular-sidecar): the network may be closed.
    assert b"cdn.jsdelivr.net" not in response.content
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in (
        response.content
    )
