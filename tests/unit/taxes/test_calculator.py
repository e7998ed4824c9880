"""Resolution of rules across the account tree, and the batch calculator's query budget."""

import datetime
from decimal import Decimal as D

import pytest

from billing.taxes.engines import TaxEngineError
from billing.taxes.models import TaxEngineAccount, TaxRule
from billing.taxes.services import TaxCalculator, tax_calculate
from tests import factories as f
from tests.factories import taxes as t

DAY = datetime.date(2026, 3, 1)


@pytest.fixture
def tree(provider, reseller_a, referral_reseller):
    resale_customer = f.customer(parent=reseller_a, name="Resale Customer")
    referral_customer = f.customer(parent=referral_reseller, name="Referral Customer")
    direct_customer = f.customer(parent=provider, name="Direct Customer")
    t.profile(reseller_a, "DE")
    t.profile(resale_customer, "US-CA")
    t.profile(referral_customer, "US-CA")
    t.profile(direct_customer, "GB")
    return {
        "provider": provider,
        "reseller": reseller_a,
        "resale_customer": resale_customer,
        "referral_customer": referral_customer,
        "direct_customer": direct_customer,
    }


def tax_of(recipient, *lines, on=DAY):
    return tax_calculate(
        issuer=recipient.issuer,
        recipient=recipient,
        currency=recipient.currency,
        on_date=on,
        lines=lines or [t.line("1", "100.00")],
    )


def test_the_issuers_rules_apply(tree):
    t.rule(tree["provider"])
    t.rate(tree["provider"], "*", "0.1000", name="Provider tax")
    t.rule(tree["reseller"])
    t.rate(tree["reseller"], "*", "0.2000", name="Reseller tax")

    [resale] = tax_of(tree["resale_customer"])  # billed by its resale reseller
    [reseller] = tax_of(tree["reseller"])  # billed by the provider
    [referral] = tax_of(tree["referral_customer"])  # billed by the provider directly
    assert (resale.amount, resale.name) == (D("20.00"), "Reseller tax")
    assert (reseller.amount, reseller.name) == (D("10.00"), "Provider tax")
    assert (referral.amount, referral.name) == (D("10.00"), "Provider tax")


def test_no_matching_rule_means_zero_tax(tree):
    t.rule(tree["provider"], "DE")
    t.rate(tree["provider"], "DE", "0.1900")
    [gb] = tax_of(tree["direct_customer"])
    [de] = tax_of(tree["reseller"])
    assert (gb.amount, gb.rate) == (D("0.00"), D("0"))
    assert de.amount == D("19.00")


def test_the_most_specific_rule_picks_the_method(tree, settings):
    provider = tree["provider"]
    settings.TAX_ENGINES = {}
    t.rule(provider, "US", "standard")
    t.rule(provider, "*", "*")
    t.rate(provider, "*", "0.0500", name="Flat")
    # A region rule for an engine that is not installed (made directly: the services refuse it).
    avatax = TaxEngineAccount.objects.create(owner=provider, engine="avatax", label="AvaTax")
    TaxRule.objects.create(
        owner=provider,
        jurisdiction="US-CA",
        tax_category="*",
        method="avatax",
        engine_account=avatax,
    )

    [gb] = tax_of(tree["direct_customer"], t.line("1", "100.00"))
    assert gb.amount == D("5.00")  # only (*, *) matches GB
    with pytest.raises(TaxEngineError, match="avatax tax engine is not installed") as failure:
        tax_of(tree["referral_customer"], t.line("1", "100.00"))  # US-CA: the region rule wins
    assert failure.value.extra["method"] == "avatax"
    assert failure.value.extra["document_key"]


def test_lines_of_one_document_follow_their_own_categories(tree):
    provider = tree["provider"]
    t.rule(provider, "GB", "standard")
    t.rule(provider, "GB", "books")
    t.rate(provider, "GB", "0.2000", category="standard", name="VAT")
    t.rate(provider, "GB", "0", category="books", name="Zero-rated")
    taxes = tax_of(
        tree["direct_customer"],
        t.line("a", "10.00", "standard"),
        t.line("b", "10.00", "books"),
        t.line("c", "10.00", "hardware"),  # no rule: zero
        t.line("d", "0.99", "standard"),
    )
    assert [(x.key, x.amount, x.name) for x in taxes] == [
        ("a", D("2.00"), "VAT"),
        ("b", D("0.00"), "Zero-rated"),
        ("c", D("0.00"), ""),
        ("d", D("0.20"), "VAT"),  # 0.198 -> 0.20
    ]


def test_a_recipient_without_profile_matches_only_everywhere_rules(tree):
    provider = tree["provider"]
    nowhere = f.customer(parent=provider, name="No Profile")
    t.rule(provider, "US")
    t.rate(provider, "US", "0.0500")
    assert tax_of(nowhere)[0].amount == D("0.00")
    t.rule(provider, "*")
    t.rate(provider, "*", "0.0100", name="Everywhere")
    assert tax_of(nowhere)[0].amount == D("1.00")


def test_a_builtin_rule_without_a_rate_in_force_fails(tree):
    provider = tree["provider"]
    t.rule(provider, "GB")
    t.rate(provider, "GB", "0.1750", valid_to=datetime.date(2026, 1, 1))
    with pytest.raises(TaxEngineError, match="No built-in tax rate for GB"):
        tax_of(tree["direct_customer"])


def test_exempt_recipients_pay_no_builtin_tax(tree):
    provider = tree["provider"]
    t.profile(tree["direct_customer"], "GB", exempt=True, number="EX-1")
    t.rule(provider)
    t.rate(provider, "*", "0.2000")
    [tax] = tax_of(tree["direct_customer"])
    assert (tax.amount, tax.name) == (D("0.00"), "Exempt")


def test_for_issuers_is_a_fixed_number_of_queries(tree, django_assert_num_queries):
    provider, reseller = tree["provider"], tree["reseller"]
    for owner, value in ((provider, "0.1000"), (reseller, "0.2000")):
        t.rule(owner)
        t.rule(owner, "US-CA", "standard")
        t.rate(owner, "*", value)
        t.rate(owner, "US-CA", "0.0725", category="standard")
    recipients = [tree[k] for k in ("reseller", "resale_customer", "referral_customer")]
    recipients += [f.customer(parent=reseller) for _ in range(5)]

    with django_assert_num_queries(3):  # rules (+ owners, engine accounts), rates, profiles
        calculator = TaxCalculator.for_issuers([provider.pk, reseller.pk], DAY)
    with django_assert_num_queries(0):
        results = [
            calculator.calculate(
                calculator.request(
                    issuer_id=r.issuer_id,
                    recipient_id=r.pk,
                    currency=r.currency,
                    document_key=f"doc-{r.pk}",
                    lines=[t.line("1", "100.00"), t.line("2", "10.00", "other")],
                )
            )
            for r in recipients
        ]
    amounts = [[x.amount for x in taxes] for taxes in results]
    assert amounts[0] == [D("10.00"), D("1.00")]  # reseller in DE: provider's * rate
    assert amounts[1] == [D("7.25"), D("2.00")]  # reseller's customer in US-CA
    assert amounts[2] == [D("7.25"), D("1.00")]  # referral customer in US-CA: provider's
    assert amounts[3] == [D("20.00"), D("2.00")]  # no profile: reseller's * rule


def test_the_calculator_refuses_what_it_did_not_load(tree):
    calculator = TaxCalculator.for_issuers([tree["provider"].pk], DAY)
    request = calculator.request(
        issuer_id=tree["reseller"].pk,
        recipient_id=tree["resale_customer"].pk,
        currency="USD",
        document_key="x",
        lines=[t.line("1", "1.00")],
    )
    with pytest.raises(ValueError, match="not loaded"):
        calculator.calculate(request)
    other_day = calculator.request(
        issuer_id=tree["provider"].pk,
        recipient_id=tree["reseller"].pk,
        currency="USD",
        document_key="y",
        lines=[t.line("1", "1.00")],
        document_date=DAY + datetime.timedelta(days=1),
    )
    with pytest.raises(ValueError, match="holds rates for"):
        calculator.calculate(other_day)
