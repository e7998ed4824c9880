"""The Vertex O Series adapter against a local stand-in for its OAuth and v2 supplies API."""

import datetime
import time
from decimal import Decimal as D

import pytest

from billing.taxes.engines import EngineAccountRef, TaxEngineError, TaxRequest
from billing.taxes.vertex import VertexEngine
from tests.factories.taxes import line
from tests.integration.taxes.fake_engines import FakeVertex

DAY = datetime.date(2026, 3, 1)


@pytest.fixture
def vertex():
    with FakeVertex() as fake:
        yield fake
    assert not fake.errors, fake.errors


def engine(fake, **conf):
    base = {
        "url": fake.url,
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "company_code": "CLOUDCO",
        "timeout": 2.0,
    }
    return VertexEngine(base | conf, account=EngineAccountRef(id=1))


def request(*lines, jurisdiction="US-NY", currency="USD", exempt=False, number="", key="doc-1"):
    return TaxRequest(
        issuer_id=7,
        recipient_id=42,
        jurisdiction=jurisdiction,
        currency=currency,
        document_date=DAY,
        document_key=key,
        lines=lines or (line("sub-1", "100.00"), line("sub-2", "33.33", "saas", quantity="2")),
        exempt=exempt,
        exemption_number=number,
    )


def test_taxes_each_line_as_vertex_answers(vertex):
    taxes = engine(vertex).calculate(request())

    assert [(x.key, x.amount, x.rate) for x in taxes] == [
        ("sub-1", D("8.50"), D("0.085")),  # 4.00 + 4.50
        ("sub-2", D("2.83"), D("0.085")),  # 1.33 + 1.50 (1.49985), each rounded by Vertex
    ]
    assert taxes[0].name == "Ny State Tax + Ny City Tax"
    token_request, supplies = vertex.requests
    assert token_request["path"] == "/oseries-auth/oauth/token"
    assert supplies["headers"]["Authorization"] == f"Bearer {vertex.token}"
    sent = vertex.last_json("/vertex-ws/v2/supplies")
    assert (sent["saleMessageType"], sent["transactionType"]) == ("INVOICE", "SALE")
    assert (sent["documentNumber"], sent["documentDate"]) == ("doc-1", "2026-03-01")
    assert sent["currency"] == {"isoCurrencyCodeAlpha": "USD"}
    assert sent["seller"] == {"company": "CLOUDCO"}
    assert sent["customer"] == {
        "customerCode": {"value": "42"},
        "destination": {"country": "US", "mainDivision": "NY"},
    }
    assert sent["lineItems"][1] == {
        "lineItemNumber": 2,
        "lineItemId": "sub-2",
        "quantity": {"value": D("2")},
        "extendedPrice": D("33.33"),
        "product": {"productClass": "saas", "value": "Line sub-2"},
    }


def test_the_token_is_reused_until_it_expires(vertex):
    vertex_engine = engine(vertex)
    vertex_engine.calculate(request(key="doc-1"))
    vertex_engine.calculate(request(key="doc-2"))
    paths = [r["path"] for r in vertex.requests]
    assert paths.count("/oseries-auth/oauth/token") == 1
    assert paths.count("/vertex-ws/v2/supplies") == 2


def test_an_exempt_recipient_is_sent_as_exempt(vertex):
    taxes = engine(vertex).calculate(request(exempt=True, number="EX-77"))
    assert {x.amount for x in taxes} == {D("0.00")}
    customer = vertex.last_json("supplies")["customer"]
    assert customer["isTaxExempt"] is True
    assert customer["exemptionCertificate"] == {"value": "EX-77"}


def test_wrong_client_credentials_are_an_engine_error(vertex):
    with pytest.raises(TaxEngineError, match="HTTP 401"):
        engine(vertex, client_secret="wrong").calculate(request())
    assert [r["path"] for r in vertex.requests] == ["/oseries-auth/oauth/token"]


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("http500", "HTTP 500"),
        ("malformed", "not JSON"),
        ("missing_line", "no tax for line"),
        ("wrong_currency", "answered in EUR"),
        ("bad_total", "add up"),
    ],
)
def test_a_failing_engine_never_yields_a_tax(vertex, mode, message):
    vertex_engine = engine(vertex)
    vertex_engine.token()  # the token endpoint works; the calculation misbehaves
    vertex.mode = mode
    with pytest.raises(TaxEngineError, match=message):
        vertex_engine.calculate(request())


def test_a_slow_engine_times_out_quickly(vertex):
    vertex.mode, vertex.slow_seconds = "slow", 2.0
    started = time.monotonic()
    with pytest.raises(TaxEngineError, match=r"no answer within 0\.2 s"):
        engine(vertex, timeout=0.2).calculate(request())
    assert time.monotonic() - started < 1.5


def test_a_recipient_without_jurisdiction_is_refused_before_calling(vertex):
    with pytest.raises(TaxEngineError, match="no tax jurisdiction"):
        engine(vertex).calculate(request(jurisdiction=""))
    assert vertex.requests == []
