"""Amounts in API requests go through the one money parser (billing.money.parse_amount): a 400
naming the field, and nothing charged, for what outside testing sent (exponents, full-width
digits, 17-digit amounts, JSON numbers in exponent form)."""

import pytest

from billing.gateway import TestGateway
from billing.models import Document, GatewayCharge

URL = "/api/v1/payments/"


@pytest.fixture(autouse=True)
def _gateway():
    TestGateway.reset()
    yield
    TestGateway.reset()


@pytest.mark.parametrize(
    "raw",
    [
        '"1e2"',
        '"\\uff11e5"',  # full-width one, then e5: once charged 100,000
        '"12345678901234567"',
        '"1234567890123"',
        '"-5.00"',
        '"NaN"',
        '"Infinity"',
        '"10.001"',
        '"1,234.50"',
        "1e2",  # a JSON number in exponent form
        "1E+5",
        "true",
    ],
)
def test_a_bad_amount_is_400_on_amount_and_charges_nothing(world, api, raw):
    card = world.methods["a_card"]
    before = (Document.objects.count(), GatewayCharge.objects.count())
    body = f'{{"payment_method": {card.pk}, "amount": {raw}}}'

    response = api(world.alpha).post(URL, body, content_type="application/json")

    assert response.status_code == 400, response.content
    assert list(response.json()) == ["amount"]
    assert (Document.objects.count(), GatewayCharge.objects.count()) == before
    assert TestGateway.attempts == {}


@pytest.mark.parametrize(
    ("raw", "total"), [('"250.10"', "250.10"), ("250.10", "250.10"), ("250", "250.00")]
)
def test_a_plain_amount_as_string_or_json_number_keeps_its_digits(world, api, raw, total):
    card = world.methods["a_card"]
    body = f'{{"payment_method": {card.pk}, "amount": {raw}}}'

    response = api(world.alpha).post(URL, body, content_type="application/json")

    assert response.status_code == 201, response.content
    assert response.json()["total"] == total


def test_the_schema_describes_the_amount_as_a_pattern_string(api, world):
    schema = api(world.alpha).get("/api/v1/schema/?format=json").json()
    amount = schema["components"]["schemas"]["TopupCreateRequest"]["properties"]["amount"]
    assert amount["type"] == "string" and amount["pattern"].startswith("^[0-9]{0,12}")
