"""Rules pointing at external engines, end to end: settings -> engine account -> rule ->
calculator -> local stand-in service."""

import datetime
from decimal import Decimal as D

import pytest

from billing.taxes.engines import TaxEngineError
from billing.taxes.services import TaxCalculator, tax_calculate
from tests import factories as f
from tests.factories import taxes as t
from tests.integration.taxes.fake_engines import FakeVertex

DAY = datetime.date(2026, 3, 1)


@pytest.fixture
def avatax(avatax_installed):
    return avatax_installed


@pytest.fixture
def vertex(settings):
    with FakeVertex() as fake:
        settings.TAX_ENGINES = {
            **(settings.TAX_ENGINES or {}),
            "vertex": {"url": fake.url, "client_id": "installation", "client_secret": "x"},
        }
        # The reseller's own Vertex account: its credentials live in settings, not the database.
        settings.TAX_ENGINE_CREDENTIALS = {
            "alpha-vertex": {"client_id": fake.client_id, "client_secret": fake.client_secret}
        }
        yield fake
    assert not fake.errors, fake.errors


def calc(issuer, recipient, *lines):
    return tax_calculate(
        issuer=issuer,
        recipient=recipient,
        currency=recipient.currency,
        on_date=DAY,
        lines=lines or [t.line("1", "100.00")],
        document_key=f"INV-{recipient.pk}",
    )


def test_a_reseller_uses_the_providers_shared_avatax_account(avatax, provider, reseller_a):
    shared = t.engine_account(provider, "avatax", shared=True, company_code="DISTRI")
    t.rule(reseller_a, "US", method="avatax", engine_account=shared)
    customer = f.customer(parent=reseller_a)
    t.profile(customer, "US-CA")

    [tax] = calc(reseller_a, customer)
    assert (tax.amount, tax.rate) == (D("7.25"), D("0.0725"))
    sent = avatax.last_json("create")
    assert sent["companyCode"] == "DISTRI"  # the provider's company in AvaTax
    assert sent["code"] == f"INV-{customer.pk}"


def test_a_reseller_uses_its_own_vertex_account(vertex, provider, reseller_a):
    own = t.engine_account(reseller_a, "vertex", settings_key="alpha-vertex")
    t.rule(reseller_a, "*", method="vertex", engine_account=own)
    t.rule(provider, "*")
    t.rate(provider, "*", "0.1000")
    customer = f.customer(parent=reseller_a)
    t.profile(customer, "US-NY")
    t.profile(reseller_a, "DE")

    [customer_tax] = calc(reseller_a, customer)  # the reseller's rule: Vertex
    [reseller_tax] = calc(provider, reseller_a)  # the provider's rule: built-in
    assert customer_tax.amount == D("8.50")
    assert reseller_tax.amount == D("10.00")
    assert len([r for r in vertex.requests if r["path"].endswith("/supplies")]) == 1


def test_one_document_split_between_builtin_and_an_engine(avatax, provider):
    account = t.engine_account(provider, "avatax")
    t.rule(provider, "US", "saas", method="avatax", engine_account=account)
    t.rule(provider, "US", "*")
    t.rate(provider, "US", "0.0500", name="Flat US")
    customer = f.customer(parent=provider)
    t.profile(customer, "US-CA")

    taxes = calc(
        provider,
        customer,
        t.line("a", "100.00", "saas"),
        t.line("b", "100.00", "support"),
        t.line("c", "19.99", "saas"),
    )
    assert [(x.key, x.amount) for x in taxes] == [
        ("a", D("7.25")),
        ("b", D("5.00")),
        ("c", D("1.45")),
    ]
    assert [line["number"] for line in avatax.last_json("create")["lines"]] == ["a", "c"]


def test_a_failing_engine_fails_the_document_and_says_which(avatax, provider):
    account = t.engine_account(provider, "avatax")
    rule = t.rule(provider, "*", method="avatax", engine_account=account)
    customers = [f.customer(parent=provider) for _ in range(2)]
    for customer in customers:
        t.profile(customer, "US-CA")
    calculator = TaxCalculator.for_issuers([provider.pk], DAY)

    def tax(customer):
        return calculator.calculate(
            calculator.request(
                issuer_id=provider.pk,
                recipient_id=customer.pk,
                currency="USD",
                document_key=f"INV-{customer.pk}",
                lines=[t.line("1", "100.00")],
            )
        )

    avatax.mode = "http500"
    with pytest.raises(TaxEngineError, match="HTTP 500") as failure:
        tax(customers[0])
    assert failure.value.extra["rule"] == rule.pk
    assert failure.value.extra["document_key"] == f"INV-{customers[0].pk}"
    avatax.mode = "ok"  # the engine is back: the retry taxes the same document
    assert tax(customers[0])[0].amount == D("7.25")
    assert tax(customers[1])[0].amount == D("7.25")


def test_an_engine_removed_from_settings_fails_clearly(avatax, provider, settings):
    account = t.engine_account(provider, "avatax")
    t.rule(provider, "*", method="avatax", engine_account=account)
    customer = f.customer(parent=provider)
    t.profile(customer, "US-CA")
    settings.TAX_ENGINES = {}
    with pytest.raises(TaxEngineError, match="not installed"):
        calc(provider, customer)
    assert avatax.requests == []
