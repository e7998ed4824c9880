"""The built-in engine, rule matching and the answer checks, without a database."""

import datetime
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from django.test import override_settings

from billing.taxes import http
from billing.taxes.engines import (
    BuiltinEngine,
    CheckedAnswer,
    EngineAccountRef,
    LineTax,
    TaxEngineError,
    TaxRequest,
    external_engine,
    installed_methods,
    jurisdiction_specificity,
    most_specific,
)
from tests.factories.taxes import line

DAY = datetime.date(2026, 3, 1)


def rate(jurisdiction, value, category="*", name="VAT", start=datetime.date(2020, 1, 1), end=None):
    return SimpleNamespace(
        jurisdiction=jurisdiction,
        tax_category=category,
        rate=D(value),
        name=name,
        valid_from_date=start,
        valid_to_date=end,
    )


def request(*lines, jurisdiction="DE", currency="EUR", exempt=False, on=DAY):
    return TaxRequest(
        issuer_id=1,
        recipient_id=2,
        jurisdiction=jurisdiction,
        currency=currency,
        document_date=on,
        document_key="INV-test",
        lines=lines,
        exempt=exempt,
    )


@pytest.mark.parametrize(
    ("pattern", "jurisdiction", "expected"),
    [
        ("US-CA", "US-CA", 2),
        ("US", "US-CA", 1),
        ("*", "US-CA", 0),
        ("US-NY", "US-CA", None),
        ("US-CA", "US", None),  # a region rule never covers the whole country
        ("DE", "DE", 2),
        ("D", "DE", None),
        ("*", "", 0),
        ("DE", "", None),  # no profile: only "*" matches
    ],
)
def test_jurisdiction_specificity(pattern, jurisdiction, expected):
    assert jurisdiction_specificity(pattern, jurisdiction) == expected


def test_most_specific_orders_jurisdiction_before_category():
    rules = [
        SimpleNamespace(jurisdiction="*", tax_category="*", id="any"),
        SimpleNamespace(jurisdiction="*", tax_category="saas", id="any/saas"),
        SimpleNamespace(jurisdiction="US", tax_category="saas", id="US/saas"),
        SimpleNamespace(jurisdiction="US-CA", tax_category="*", id="CA"),
    ]
    pick = lambda j, c: most_specific(rules, jurisdiction=j, tax_category=c).id  # noqa: E731
    assert pick("US-CA", "saas") == "CA"  # region beats country even with an exact category
    assert pick("US-NY", "saas") == "US/saas"
    assert pick("US-NY", "hardware") == "any"
    assert pick("FR", "saas") == "any/saas"
    assert most_specific(rules[2:], jurisdiction="FR", tax_category="saas") is None


def test_builtin_rounds_each_line_half_up_once():
    engine = BuiltinEngine([rate("DE", "0.1900")])
    taxes = engine.calculate(
        request(line("a", "0.50"), line("b", "10.00"), line("c", "0.05"), line("d", "2.50"))
    )
    # 0.095 -> 0.10, 1.9, 0.0095 -> 0.01, 0.475 -> 0.48
    assert [t.amount for t in taxes] == [D("0.10"), D("1.90"), D("0.01"), D("0.48")]
    assert {t.rate for t in taxes} == {D("0.1900")} and {t.name for t in taxes} == {"VAT"}

    half = BuiltinEngine([rate("DE", "0.1000")]).calculate(
        request(line("h", "0.05"), line("i", "1.25"))
    )
    # 0.005 -> 0.01 and 0.125 -> 0.13: half-up, where banker's rounding gives 0.00 and 0.12
    assert [t.amount for t in half] == [D("0.01"), D("0.13")]


def test_builtin_uses_the_currencys_minor_unit():
    taxes = BuiltinEngine([rate("*", "0.1000")]).calculate(
        request(line("a", "1005"), jurisdiction="JP", currency="JPY")
    )
    assert taxes[0].amount == D("101")  # 100.5 -> 101


def test_builtin_picks_the_rate_in_force_and_most_specific():
    engine = BuiltinEngine(
        [
            rate("US", "0.0500", name="US tax"),
            rate("US-CA", "0.0725", name="CA tax", end=datetime.date(2026, 3, 1)),
            rate("US-CA", "0.0750", name="CA tax 2026", start=datetime.date(2026, 3, 1)),
            rate("US-CA", "0", category="food", name="CA food"),
        ]
    )
    feb = engine.calculate(
        request(line("a", "100.00"), jurisdiction="US-CA", on=DAY.replace(day=28, month=2))
    )
    mar = engine.calculate(
        request(line("a", "100.00"), line("f", "10.00", "food"), jurisdiction="US-CA")
    )
    ny = engine.calculate(request(line("a", "100.00"), jurisdiction="US-NY"))
    assert (feb[0].amount, feb[0].name) == (D("7.25"), "CA tax")
    assert (mar[0].amount, mar[0].name) == (D("7.50"), "CA tax 2026")  # the end date is exclusive
    assert (mar[1].amount, mar[1].name) == (D("0.00"), "CA food")
    assert (ny[0].amount, ny[0].name) == (D("5.00"), "US tax")


def test_builtin_without_a_rate_is_an_error_not_zero():
    engine = BuiltinEngine([rate("DE", "0.1900")])
    with pytest.raises(TaxEngineError, match="No built-in tax rate for FR"):
        engine.calculate(request(line("a", "10.00"), jurisdiction="FR"))


def test_builtin_exempt_recipient_pays_nothing():
    taxes = BuiltinEngine([rate("DE", "0.1900")]).calculate(
        request(line("a", "10.00"), exempt=True)
    )
    assert taxes == [LineTax(key="a", rate=D("0"), amount=D("0.00"), name="Exempt")]


def test_checked_answer_refuses_incomplete_or_odd_answers():
    req = request(line("a", "10.00"), line("b", "5.00"))

    def check(*taxes, total=None):
        answer = CheckedAnswer(request=req, engine="Test")
        for t in taxes:
            answer.add(t)
        return answer.result(total_tax=total)

    a = LineTax("a", D("0.19"), D("1.90"))
    b = LineTax("b", D("0.19"), D("0.95"))
    assert check(b, a, total=D("2.85")) == [a, b]  # back in the request's order
    with pytest.raises(TaxEngineError, match="no tax for line"):
        check(a)
    with pytest.raises(TaxEngineError, match="not asked"):
        check(a, b, LineTax("zz", D("0"), D("0.00")))
    with pytest.raises(TaxEngineError, match="twice"):
        check(a, a)
    with pytest.raises(TaxEngineError, match="minor units"):
        check(a, LineTax("b", D("0.19"), D("0.951")))
    with pytest.raises(TaxEngineError, match="add up"):
        check(a, b, total=D("2.86"))
    with pytest.raises(TaxEngineError, match="wrong sign"):
        check(a, LineTax("b", D("0.19"), D("-0.95")))


def test_duplicate_line_keys_are_refused():
    with pytest.raises(ValueError, match="unique"):
        request(line("a", "1.00"), line("a", "2.00"))


@override_settings(TAX_ENGINES={})
def test_external_engines_are_off_until_configured():
    assert installed_methods() == {"builtin"}
    with pytest.raises(TaxEngineError, match="avatax tax engine is not installed"):
        external_engine("avatax", EngineAccountRef(id=1))


@override_settings(
    TAX_ENGINES={"vertex": {"url": "http://127.0.0.1:9", "client_id": "a", "client_secret": "b"}},
    TAX_ENGINE_CREDENTIALS={"r7": {"client_id": "r7-id", "client_secret": "r7-secret"}},
    TAX_ENGINE_TIMEOUT_SECONDS=3,
)
def test_engine_account_credentials_override_the_installation():
    default = external_engine("vertex", EngineAccountRef(id=1, company_code="ACME"))
    own = external_engine("vertex", EngineAccountRef(id=2, settings_key="r7"))
    assert (default.client_id, default.company_code, default.timeout) == ("a", "ACME", 3.0)
    assert (own.client_id, own.client_secret) == ("r7-id", "r7-secret")
    with pytest.raises(TaxEngineError, match="No credentials 'nope'"):
        external_engine("vertex", EngineAccountRef(id=3, settings_key="nope"))


def test_json_amounts_are_sent_with_their_exact_digits():
    body = http.dumps({"amount": D("12345678901234567.89"), "lines": [D("0.10")], "s": "x"})
    assert body == b'{"amount": 12345678901234567.89, "lines": [0.10], "s": "x"}'
    assert http.loads(body, engine="t")["amount"] == D("12345678901234567.89")
