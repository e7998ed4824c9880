"""Taxes in the panels: /account/taxes/ (a resale reseller's own rules and rates), /billing/taxes/
(provider staff, ?owner=<resale reseller>), deleting a rule, and tax profiles on account pages.

A resale reseller defines a built-in rule and rate here and the next billing run taxes its
customer's invoice by them. Other tenants cannot see or change them; referral resellers and
customers get 403 and no link. The panel's clock is 2026-02-10 (conftest.py).
"""

import uuid
from decimal import Decimal as D

import pytest

from billing.models import Document
from billing.runs import run_start
from billing.taxes.models import TaxEngineAccount, TaxProfile, TaxRate, TaxRule
from resellers.models import AuditEvent
from tests.factories import billing as bf
from tests.factories import taxes as t
from tests.factories.billing import d

pytestmark = pytest.mark.django_db
OWN = "/account/taxes/"
PROVIDER = "/billing/taxes/"


def add_rule(client, url=OWN, *, key=None, **fields):
    data = {
        "form": "rule",
        "jurisdiction": "*",
        "tax_category": "*",
        "method": "builtin",
        "submission_key": key or uuid.uuid4().hex,
        **fields,
    }
    return client.post(url, data)


def add_rate(client, url=OWN, *, key=None, **fields):
    data = {
        "form": "rate",
        "jurisdiction": "*",
        "tax_category": "*",
        "name": "Sales tax",
        "rate": "7.25",
        "valid_from_date": "2026-01-01",
        "valid_to_date": "",
        "submission_key": key or uuid.uuid4().hex,
        **fields,
    }
    return client.post(url, data)


def errors(response, form: str) -> dict:
    assert response.status_code == 200, response.status_code
    return response.context[form].errors


def test_a_resale_reseller_defines_rules_in_the_panel_and_the_run_taxes_its_customer(client):
    w = bf.world()
    client.force_login(w.reseller_user)

    page = client.get(OWN)
    assert page.status_code == 200
    assert b'href="/account/taxes/"' in page.content  # the top navigation links it
    profile = client.post(
        f"/account/customers/{w.customer.pk}/tax-profile/", {"jurisdiction": "us-ca"}
    )
    key = uuid.uuid4().hex
    first = add_rule(client, key=key, jurisdiction="us-ca")
    again = add_rule(client, key=key, jurisdiction="us-ca")  # a double click: nothing twice
    rate = add_rate(client, jurisdiction="US-CA")

    assert profile.status_code == first.status_code == again.status_code == rate.status_code == 302
    assert TaxProfile.objects.get(account=w.customer).jurisdiction == "US-CA"
    [rule] = TaxRule.objects.filter(owner=w.reseller)
    assert (rule.jurisdiction, rule.tax_category, rule.method) == ("US-CA", "*", "builtin")
    [tax_rate] = TaxRate.objects.filter(owner=w.reseller)
    assert (tax_rate.rate, tax_rate.valid_from_date) == (D("0.0725"), d("2026-01-01"))
    shown = client.get(OWN).content.decode()
    assert "US-CA" in shown and "7.25 %" in shown

    bf.subscribe(w, today=d("2026-01-01"))
    run_start(run_date=d("2026-02-01"), inline=True)

    invoice = Document.objects.get(recipient=w.customer, billing_key="billing:2026-02-01")
    # 15.00 order + 15.00 renewal, 7.25 % per line: 1.0875 -> 1.09 twice
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        D("30.00"),
        D("2.18"),
        D("32.18"),
    )
    # The provider defined nothing: the reseller's own billing order carries no tax.
    order = Document.objects.get(recipient=w.reseller, billing_key="billing:2026-02-01")
    assert order.tax_total == D("0.00")


def test_another_reseller_cannot_see_or_delete_the_rules(client, world):
    rule = t.rule(world.r1, "DE")
    t.rate(world.r1, "DE", "0.1900")
    client.force_login(world.r2_user)

    page = client.get(OWN)
    deleted = client.post(f"/account/taxes/rules/{rule.pk}/delete/")
    provider_page = client.get(PROVIDER)
    provider_delete = client.post(f"{PROVIDER}rules/{rule.pk}/delete/?owner={world.r1.pk}")

    assert page.status_code == 200
    assert list(page.context["rules_table"].data) == []
    assert list(page.context["rates_table"].data) == []
    assert deleted.status_code == 404
    assert provider_page.status_code == provider_delete.status_code == 403
    assert TaxRule.objects.filter(pk=rule.pk).exists()


def test_a_reseller_deletes_its_own_rule(client, world):
    rule = t.rule(world.r1, "DE")
    client.force_login(world.r1_user)

    response = client.post(f"/account/taxes/rules/{rule.pk}/delete/")

    assert response.status_code == 302 and response["Location"] == OWN
    assert not TaxRule.objects.filter(pk=rule.pk).exists()


@pytest.mark.parametrize("who", ["ref_user", "c1_user", "refc_user"])
def test_referral_resellers_and_customers_get_403_and_no_link(client, world, who):
    client.force_login(getattr(world, who))

    own = client.get("/account/")
    page = client.get(OWN)
    post = add_rule(client)
    provider = client.get(PROVIDER)

    assert own.status_code == 200 and b"/account/taxes/" not in own.content
    assert page.status_code == post.status_code == provider.status_code == 403
    assert not TaxRule.objects.exists()


def test_bad_input_gives_errors_on_the_fields(client, world):
    t.rule(world.r1, "DE")
    t.rate(world.r1, "DE", "0.1900", valid_from=d("2026-01-01"))
    client.force_login(world.r1_user)

    not_a_code = errors(add_rule(client, jurisdiction="Germany"), "rule_form")
    duplicate = errors(add_rule(client, jurisdiction="de"), "rule_form")
    no_engine = errors(add_rule(client, method="avatax"), "rule_form")
    too_high = errors(add_rate(client, rate="120"), "rate_form")
    reversed_period = errors(add_rate(client, valid_to_date="2025-12-31"), "rate_form")
    overlap = errors(add_rate(client, jurisdiction="DE", valid_from_date="2026-02-01"), "rate_form")

    assert "jurisdiction" in not_a_code and "already a rule" in duplicate["jurisdiction"][0]
    assert "method" in no_engine  # AvaTax is not installed: not even offered
    assert "rate" in too_high
    assert "must end after it starts" in reversed_period["valid_to_date"][0]
    assert "in force in that period" in overlap["valid_from_date"][0]
    assert TaxRule.objects.filter(owner=world.r1).count() == 1
    assert TaxRate.objects.filter(owner=world.r1).count() == 1


def test_a_failed_submission_can_be_sent_again_with_its_token(client, world):
    client.force_login(world.r1_user)
    key = uuid.uuid4().hex

    refused = add_rule(client, key=key, jurisdiction="Germany")
    fixed = add_rule(client, key=key, jurisdiction="DE")

    assert refused.status_code == 200 and fixed.status_code == 302
    assert TaxRule.objects.filter(owner=world.r1, jurisdiction="DE").exists()


def test_every_method_is_listed_and_those_not_installed_say_so(client, world, settings):
    client.force_login(world.r1_user)
    page = client.get(OWN)
    form = page.context["rule_form"]
    methods = dict(form.fields["method"].choices)
    html = page.content.decode()

    assert methods == {
        "builtin": "Built-in rates",
        "avatax": "AvaTax (not installed)",
        "vertex": "Vertex O Series (not installed)",
    }
    assert '<option value="avatax" disabled>' in html
    assert "TAX_AVATAX_URL" in html and "TAX_VERTEX_URL" in html
    assert 'id="engine-none"' in html  # nothing installed: no engine account form

    settings.TAX_ENGINES = {"avatax": {"url": "http://127.0.0.1:9/", "company_code": "X"}}
    page = client.get(OWN)
    methods = dict(page.context["rule_form"].fields["method"].choices)
    assert methods["avatax"] == "AvaTax" and methods["vertex"].endswith("(not installed)")
    assert '<option value="avatax">' in page.content.decode()
    assert dict(page.context["engine_form"].fields["engine"].choices) == {"avatax": "AvaTax"}


def add_engine(client, url=OWN, **fields):
    data = {
        "form": "engine",
        "engine": "avatax",
        "label": "Main AvaTax",
        "company_code": "",
        "settings_key": "",
        "submission_key": uuid.uuid4().hex,
        **fields,
    }
    return client.post(url, data)


def test_engine_accounts_are_added_in_the_panel_once_installed(client, world, settings):
    settings.TAX_ENGINES = {"avatax": {"url": "http://127.0.0.1:9/", "company_code": "X"}}
    client.force_login(world.r1_user)

    added = add_engine(client, company_code="R1CO")
    twice = errors(add_engine(client), "engine_form")
    vertex = errors(add_engine(client, engine="vertex", label="V"), "engine_form")
    rule = add_rule(
        client,
        jurisdiction="US",
        method="avatax",
        engine_account=TaxEngineAccount.objects.get(owner=world.r1).pk,
    )
    client.force_login(world.r2_user)
    other = client.get(OWN)

    assert added.status_code == 302
    engine = TaxEngineAccount.objects.get(owner=world.r1)
    assert (engine.engine, engine.label, engine.company_code) == ("avatax", "Main AvaTax", "R1CO")
    assert not engine.shared_with_resellers
    assert "already have an engine account" in twice["label"][0]
    assert "engine" in vertex  # not installed: not a choice
    assert rule.status_code == 302
    assert TaxRule.objects.get(owner=world.r1, jurisdiction="US").engine_account == engine
    assert AuditEvent.objects.filter(action="tax_engine_account.create", account=world.r1).exists()
    assert "Main AvaTax" not in other.content.decode()  # another reseller sees none of it
    assert "shared_with_resellers" not in other.context["engine_form"].fields


def test_the_provider_shares_an_engine_account_with_resellers(client, world, settings):
    settings.TAX_ENGINES = {"vertex": {"url": "http://127.0.0.1:9/"}}
    client.force_login(world.staff)
    add_engine(client, PROVIDER, engine="vertex", label="Group Vertex", shared_with_resellers="on")
    client.force_login(world.r1_user)
    r1_page = client.get(OWN)

    assert TaxEngineAccount.objects.get(owner=world.provider).shared_with_resellers
    assert [e.label for e in r1_page.context["engine_accounts_table"].data] == ["Group Vertex"]


def test_provider_staff_manage_the_provider_and_a_resale_resellers_taxation(client, world):
    t.rule(world.r1, "DE")
    client.force_login(world.staff)

    own = client.get(PROVIDER)
    added = add_rule(client, PROVIDER, jurisdiction="GB")
    reseller_page = client.get(f"/billing/resellers/{world.r1.pk}/")
    r1_page = client.get(f"{PROVIDER}?owner={world.r1.pk}")
    r1_added = add_rate(client, f"{PROVIDER}?owner={world.r1.pk}", jurisdiction="DE", rate="19")
    referral = client.get(f"{PROVIDER}?owner={world.ref.pk}")

    assert own.status_code == 200 and own.context["owner"] == world.provider
    assert added.status_code == 302
    assert TaxRule.objects.filter(owner=world.provider, jurisdiction="GB").exists()
    assert f'href="/billing/taxes/?owner={world.r1.pk}"'.encode() in reseller_page.content
    assert [r.jurisdiction for r in r1_page.context["rules_table"].data] == ["DE"]
    assert r1_added["Location"] == f"{PROVIDER}?owner={world.r1.pk}"
    assert TaxRate.objects.get(owner=world.r1).rate == D("0.1900")
    assert referral.status_code == 404  # referral resellers define no taxation
    assert client.get(OWN)["Location"] == PROVIDER


def test_tax_profiles_are_set_by_provider_staff_or_the_issuer(client, world):
    client.force_login(world.r1_user)
    own_customer = client.get(f"/account/customers/{world.c1.pk}/")
    own_page = client.get("/account/")
    client.force_login(world.ref_user)
    referral = client.post(
        f"/account/customers/{world.refc.pk}/tax-profile/", {"jurisdiction": "DE"}
    )
    client.force_login(world.c1_user)
    self_exempt = client.post(
        f"/account/customers/{world.c1.pk}/tax-profile/", {"jurisdiction": "DE", "exempt": "on"}
    )
    client.force_login(world.staff)
    staff = client.post(
        f"/billing/customers/{world.refc.pk}/tax-profile/",
        {"jurisdiction": "US-NY", "exempt": "on", "exemption_number": "EX-1"},
    )
    bad = client.post(f"/billing/resellers/{world.r2.pk}/tax-profile/", {"jurisdiction": "?"})

    assert b'id="tax-profile"' in own_customer.content
    assert b'id="tax-profile"' not in own_page.content  # no self-exemption
    assert referral.status_code == 403  # the provider bills a referred customer, not the referrer
    assert self_exempt.status_code == 403  # no self-exemption
    assert staff.status_code == 302
    profile = TaxProfile.objects.get(account=world.refc)
    assert (profile.jurisdiction, profile.exempt, profile.exemption_number) == (
        "US-NY",
        True,
        "EX-1",
    )
    assert bad.status_code == 302 and not TaxProfile.objects.filter(account=world.r2).exists()
    shown = client.get(bad["Location"]).content.decode()
    assert "Tax profile not saved. Jurisdiction:" in shown
