"""The AvaTax adapter against a local stand-in for the AvaTax REST v2 service."""

import datetime
import time
from decimal import Decimal as D

import pytest

from billing.taxes.avatax import AvaTaxEngine
from billing.taxes.engines import EngineAccountRef, TaxEngineError, TaxRequest
from tests.factories.taxes import line
from tests.integration.taxes.fake_engines import FakeAvaTax

DAY = datetime.date(2026, 3, 1)


@pytest.fixture
def avatax():
    with FakeAvaTax() as fake:
        yield fake
    assert not fake.errors, fake.errors  # every request the adapter sent was well-formed


def engine(fake, **conf):
    base = {
        "url": fake.url,
        "account_id": fake.account_id,
        "license_key": fake.license_key,
        "company_code": "CLOUDCO",
        "timeout": 2.0,
    }
    return AvaTaxEngine(base | conf, account=EngineAccountRef(id=1))


def request(*lines, jurisdiction="US-CA", currency="USD", exempt=False, number=""):
    return TaxRequest(
        issuer_id=7,
        recipient_id=42,
        jurisdiction=jurisdiction,
        currency=currency,
        document_date=DAY,
        document_key="7-INV-2026-03-42",
        lines=lines or (line("1", "100.00"), line("2", "19.99", "SW054000", quantity="3")),
        exempt=exempt,
        exemption_number=number,
    )


def test_taxes_each_line_as_avatax_answers(avatax):
    taxes = engine(avatax).calculate(request())

    assert [(x.key, x.amount, x.rate) for x in taxes] == [
        ("1", D("7.25"), D("0.0725")),  # 6.00 + 0.25 + 1.00
        ("2", D("1.45"), D("0.0725")),  # 1.20 + 0.05 + 0.20, each detail rounded by AvaTax
    ]
    assert taxes[0].name == "CA STATE TAX + CA COUNTY TAX + CA SPECIAL TAX"
    sent = avatax.last_json("/api/v2/transactions/create")
    assert sent["type"] == "SalesInvoice" and sent["commit"] is False
    assert (sent["code"], sent["companyCode"], sent["date"]) == (
        "7-INV-2026-03-42",
        "CLOUDCO",
        "2026-03-01",
    )
    assert (sent["customerCode"], sent["currencyCode"]) == ("42", "USD")
    assert sent["addresses"] == {"singleLocation": {"country": "US", "region": "CA"}}
    assert sent["lines"][1] == {
        "number": "2",
        "amount": D("19.99"),
        "quantity": D("3"),
        "taxCode": "SW054000",
        "description": "Line 2",
    }
    assert "exemptionNo" not in sent
    assert b'"amount": 100.00' in avatax.requests[-1]["raw"]  # exact digits, not a float


def test_a_country_without_region_and_another_currency(avatax):
    taxes = engine(avatax).calculate(request(line("a", "50.00"), jurisdiction="DE", currency="EUR"))
    assert [(x.amount, x.name) for x in taxes] == [(D("9.50"), "DE VAT")]
    assert avatax.last_json("create")["addresses"] == {"singleLocation": {"country": "DE"}}


def test_an_exempt_recipient_is_sent_its_exemption(avatax):
    taxes = engine(avatax).calculate(request(exempt=True, number="CA-RESALE-991"))
    assert [(x.amount, x.rate) for x in taxes] == [(D("0.00"), D("0")), (D("0.00"), D("0"))]
    assert avatax.last_json("create")["exemptionNo"] == "CA-RESALE-991"


def test_wrong_credentials_are_an_engine_error(avatax):
    with pytest.raises(TaxEngineError, match="HTTP 401"):
        engine(avatax, license_key="wrong").calculate(request())


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
def test_a_failing_engine_never_yields_a_tax(avatax, mode, message):
    avatax.mode = mode
    with pytest.raises(TaxEngineError, match=message) as failure:
        engine(avatax).calculate(request())
    assert failure.value.field == "tax"


def test_a_slow_engine_times_out_quickly(avatax):
    avatax.mode, avatax.slow_seconds = "slow", 2.0
    started = time.monotonic()
    with pytest.raises(TaxEngineError, match=r"no answer within 0\.2 s") as failure:
        engine(avatax, timeout=0.2).calculate(request())
    assert time.monotonic() - started < 1.5
    assert failure.value.extra["timeout"] is True


def test_an_unreachable_engine_is_an_engine_error():
    with FakeAvaTax() as fake:
        url = fake.url  # the port is free again once the server is closed
    with pytest.raises(TaxEngineError, match="cannot reach"):
        AvaTaxEngine(
            {"url": url, "account_id": "1", "license_key": "k", "timeout": 1.0},
            account=EngineAccountRef(id=1),
        ).calculate(request())
