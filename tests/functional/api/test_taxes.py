"""`tax-rules/` and `tax-rates/`: a resale reseller defines its built-in rule and rate through the
API and the billing run taxes its customer's invoice by them; scoped reads (another tenant's
id answers 404), 403 for referral resellers and customers, 400 naming the field."""

from decimal import Decimal as D

import pytest

from billing.models import Document
from billing.runs import run_start
from billing.taxes.models import TaxRate, TaxRule
from tests.factories import billing as bf
from tests.factories import taxes as t
from tests.factories.billing import d
from tests.functional.api.conftest import ids

pytestmark = pytest.mark.django_db
RULES = "/api/v1/tax-rules/"
RATES = "/api/v1/tax-rates/"
RATE = {
    "jurisdiction": "*",
    "tax_category": "*",
    "name": "Sales tax",
    "rate": "0.0725",
    "valid_from_date": "2026-01-01",
}


def test_a_resale_reseller_defines_a_rule_and_rate_and_the_run_taxes_its_customer(api):
    w = bf.world()
    client = api(w.reseller_user)

    rule = client.post(
        RULES, {"jurisdiction": "*", "tax_category": "*", "method": "builtin"}, format="json"
    )
    rate = client.post(RATES, RATE, format="json")

    assert rule.status_code == 201, rule.content
    assert rate.status_code == 201, rate.content
    assert rule.json()["owner"] == {"id": w.reseller.pk, "name": w.reseller.name}
    assert rule.json()["engine_account"] is None
    assert rate.json()["rate"] == "0.0725" and rate.json()["valid_to_date"] is None
    assert client.get(f"{RULES}{rule.json()['id']}/").json()["method"] == "builtin"

    bf.subscribe(w, today=d("2026-01-01"))
    run_start(run_date=d("2026-02-01"), inline=True)

    invoice = Document.objects.get(recipient=w.customer, billing_key="billing:2026-02-01")
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        D("30.00"),
        D("2.18"),
        D("32.18"),
    )


def test_reads_are_scoped_and_another_tenants_rule_is_404(api, world):
    rule = t.rule(world.a, "DE")
    rate = t.rate(world.a, "DE", "0.1900")
    provider_rule = t.rule(world.provider, "GB")

    assert ids(api(world.alpha).get(RULES)) == {rule.pk}
    assert ids(api(world.alpha).get(RATES)) == {rate.pk}
    assert ids(api(world.bravo).get(RULES)) == set()
    assert ids(api(world.staff).get(RULES)) == {rule.pk, provider_rule.pk}
    assert ids(api(world.staff).get(f"{RULES}?owner={world.a.pk}")) == {rule.pk}
    bravo = api(world.bravo)
    assert bravo.get(f"{RULES}{rule.pk}/").status_code == 404
    assert bravo.get(f"{RATES}{rate.pk}/").status_code == 404
    assert bravo.delete(f"{RULES}{rule.pk}/").status_code == 404
    assert api(world.alpha).get(f"{RULES}{provider_rule.pk}/").status_code == 404
    assert TaxRule.objects.filter(pk=rule.pk).exists()


def test_a_reseller_deletes_its_own_rule_and_rates_cannot_be_deleted(api, world):
    rule = t.rule(world.a, "DE")
    rate = t.rate(world.a, "DE", "0.1900")
    client = api(world.alpha)

    assert client.delete(f"{RULES}{rule.pk}/").status_code == 204
    assert client.delete(f"{RATES}{rate.pk}/").status_code == 405
    assert not TaxRule.objects.filter(pk=rule.pk).exists()


@pytest.mark.parametrize("who", ["referral", "alpha_customer"])
def test_referral_resellers_and_customers_get_403(api, world, who):
    client = api(getattr(world, who))

    rule = client.post(
        RULES, {"jurisdiction": "*", "tax_category": "*", "method": "builtin"}, format="json"
    )
    rate = client.post(RATES, RATE, format="json")

    assert rule.status_code == rate.status_code == 403
    assert not TaxRule.objects.exists() and not TaxRate.objects.exists()


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (
            RULES,
            {"jurisdiction": "Germany", "tax_category": "*", "method": "builtin"},
            "jurisdiction",
        ),
        (RULES, {"jurisdiction": "de", "tax_category": "*", "method": "builtin"}, "jurisdiction"),
        (RULES, {"jurisdiction": "*", "tax_category": "", "method": "builtin"}, "tax_category"),
        (RULES, {"jurisdiction": "*", "tax_category": "*", "method": "magic"}, "method"),
        (RULES, {"jurisdiction": "*", "tax_category": "*", "method": "avatax"}, "method"),
        (
            RULES,
            {"jurisdiction": "*", "tax_category": "*", "method": "builtin", "engine_account": 999},
            "engine_account",
        ),
        (RATES, {**RATE, "rate": "7.25"}, "rate"),
        (RATES, {**RATE, "rate": "0.07251"}, "rate"),
        (RATES, {**RATE, "name": " "}, "name"),
        (RATES, {**RATE, "valid_to_date": "2025-12-31"}, "valid_to_date"),
        (RATES, {**RATE, "jurisdiction": "DE", "valid_from_date": "2026-02-01"}, "valid_from_date"),
        (RATES, {**RATE, "valid_from_date": "01/02/2026"}, "valid_from_date"),
    ],
)
def test_bad_input_answers_400_naming_the_field(api, world, url, body, field):
    t.rule(world.a, "DE")
    t.rate(world.a, "DE", "0.1900", valid_from=d("2026-01-01"))

    response = api(world.alpha).post(url, body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert TaxRule.objects.filter(owner=world.a).count() == 1
    assert TaxRate.objects.filter(owner=world.a).count() == 1


def test_owner_is_for_provider_staff(api, world):
    bravo = api(world.bravo).post(
        RULES,
        {"owner": world.a.pk, "jurisdiction": "*", "tax_category": "*", "method": "builtin"},
        format="json",
    )
    staff = api(world.staff)
    for_alpha = staff.post(RATES, {**RATE, "owner": world.a.pk}, format="json")
    for_provider = staff.post(RATES, RATE, format="json")
    for_referral = staff.post(RATES, {**RATE, "owner": world.r.pk}, format="json")
    unknown = staff.post(RATES, {**RATE, "owner": 999999}, format="json")

    assert bravo.status_code == 400 and "owner" in bravo.json()
    assert for_alpha.status_code == 201 and for_alpha.json()["owner"]["id"] == world.a.pk
    assert for_provider.status_code == 201
    assert for_provider.json()["owner"]["id"] == world.provider.pk
    assert for_referral.status_code == 400 and "owner" in for_referral.json()
    assert unknown.status_code == 400 and "owner" in unknown.json()
    assert not TaxRule.objects.filter(owner=world.a).exists()
