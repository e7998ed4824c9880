"""Who may define taxation, what the services accept, and the audit trail."""

import datetime
from decimal import Decimal as D

import pytest

from billing.taxes import selectors, services
from billing.taxes.engines import TaxEngineError
from resellers.exceptions import ApplicationError, PermissionDenied
from resellers.models import AuditEvent
from tests import factories as f
from tests.factories import taxes as t

JAN1 = datetime.date(2026, 1, 1)
JUL1 = datetime.date(2026, 7, 1)
ENGINES = {
    "avatax": {"url": "http://127.0.0.1:9", "account_id": "1", "license_key": "k"},
    "vertex": {"url": "http://127.0.0.1:9", "client_id": "c", "client_secret": "s"},
}


@pytest.fixture(autouse=True)
def engines_installed(settings):
    settings.TAX_ENGINES = ENGINES


@pytest.fixture
def users(provider_user, reseller_a, reseller_b, referral_reseller):
    customer = f.customer(parent=reseller_a)
    return {
        "staff": provider_user,
        "a": f.user(account=reseller_a),
        "b": f.user(account=reseller_b),
        "referral": f.user(account=referral_reseller),
        "customer": f.user(account=customer),
        "customer_account": customer,
    }


def make_rule(owner, user, **kw):
    values = {"jurisdiction": "DE", "tax_category": "*", "method": "builtin"} | kw
    return services.tax_rule_create(owner=owner, acting_user=user, **values)


def audited(action, obj):
    return AuditEvent.objects.filter(action=action, object_id=str(obj.pk)).first()


def test_provider_staff_and_resale_resellers_define_their_rules(users, provider, reseller_a):
    provider_rule = make_rule(provider, users["staff"], jurisdiction="us-ca")
    own_rule = make_rule(reseller_a, users["a"])
    assert provider_rule.jurisdiction == "US-CA"  # normalised
    event = audited("tax_rule.create", own_rule)
    assert event.actor == users["a"] and event.account == reseller_a
    assert event.details["method"] == "builtin"


@pytest.mark.parametrize("who", ["referral", "customer"])
def test_referral_resellers_and_customers_cannot_define_taxation(users, who):
    user = users[who]
    with pytest.raises(PermissionDenied):
        make_rule(user.account, user)
    with pytest.raises(PermissionDenied):
        services.tax_rate_create(
            owner=user.account,
            jurisdiction="DE",
            tax_category="*",
            name="VAT",
            rate=D("0.19"),
            valid_from_date=JAN1,
            acting_user=user,
        )


def test_the_system_cannot_give_a_customer_rules_either(users):
    with pytest.raises(ApplicationError) as failure:
        make_rule(users["customer_account"], None)
    assert failure.value.field == "owner"


def test_a_second_tenant_cannot_touch_anothers_rules(users, reseller_a, provider):
    rule = make_rule(reseller_a, users["a"])
    with pytest.raises(PermissionDenied):
        services.tax_rule_update(rule=rule, acting_user=users["b"], method="builtin")
    with pytest.raises(PermissionDenied):
        services.tax_rule_delete(rule=rule, acting_user=users["b"])
    with pytest.raises(PermissionDenied):
        make_rule(reseller_a, users["b"], jurisdiction="FR")
    with pytest.raises(PermissionDenied):  # nor the provider's
        make_rule(provider, users["a"])
    # and it does not even see them
    assert not selectors.tax_rules_visible(user=users["b"]).filter(pk=rule.pk).exists()
    assert selectors.tax_rules_visible(user=users["a"]).filter(pk=rule.pk).exists()
    assert selectors.tax_rules_visible(user=users["staff"]).filter(pk=rule.pk).exists()


def test_rule_values_are_checked(users, provider):
    staff = users["staff"]
    make_rule(provider, staff)
    cases = [
        ({}, "jurisdiction"),  # the same scope twice
        ({"jurisdiction": "Germany"}, "jurisdiction"),
        ({"tax_category": ""}, "tax_category"),
        ({"method": "magic"}, "method"),
        ({"jurisdiction": "FR", "method": "avatax"}, "engine_account"),
    ]
    for values, field in cases:
        with pytest.raises(ApplicationError) as failure:
            make_rule(provider, staff, **values)
        assert failure.value.field == field, values


def test_a_method_that_is_not_installed_is_refused(users, provider, settings):
    account = t.engine_account(provider, "vertex")
    settings.TAX_ENGINES = {"avatax": ENGINES["avatax"]}
    with pytest.raises(ApplicationError, match="Vertex O Series tax engine is not installed") as e:
        make_rule(provider, users["staff"], method="vertex", engine_account=account)
    assert e.value.field == "method"


def test_a_reseller_may_use_the_providers_engine_account_only_if_shared(
    users, provider, reseller_a, reseller_b
):
    shared = t.engine_account(provider, "avatax", label="Shared", shared=True)
    private = t.engine_account(provider, "avatax", label="Private")
    others = t.engine_account(reseller_b, "avatax", label="Bravo's")
    own = t.engine_account(reseller_a, "vertex", label="Alpha's")

    rule = make_rule(reseller_a, users["a"], method="avatax", engine_account=shared)
    assert rule.engine_account == shared
    make_rule(reseller_a, users["a"], jurisdiction="FR", method="vertex", engine_account=own)
    for account in (private, others):
        with pytest.raises(ApplicationError, match="neither yours nor shared") as failure:
            make_rule(
                reseller_a, users["a"], jurisdiction="US", method="avatax", engine_account=account
            )
        assert failure.value.field == "engine_account"
    with pytest.raises(ApplicationError) as failure:  # a Vertex account for an AvaTax rule
        make_rule(reseller_a, users["a"], jurisdiction="GB", method="avatax", engine_account=own)
    assert failure.value.field == "engine_account"
    usable = set(selectors.tax_engine_accounts_usable(owner=reseller_a))
    assert usable == {shared, own}


def test_only_the_provider_shares_engine_accounts(users, reseller_a):
    with pytest.raises(ApplicationError) as failure:
        services.tax_engine_account_create(
            owner=reseller_a,
            engine="avatax",
            label="Mine",
            shared_with_resellers=True,
            acting_user=users["a"],
        )
    assert failure.value.field == "shared_with_resellers"


def test_unsharing_makes_the_resellers_next_calculation_fail_clearly(users, provider, reseller_a):
    shared = t.engine_account(provider, "avatax", shared=True)
    make_rule(reseller_a, users["a"], jurisdiction="*", method="avatax", engine_account=shared)
    customer = users["customer_account"]
    t.profile(customer, "US-CA")
    services.tax_engine_account_update(
        engine_account=shared, acting_user=users["staff"], shared_with_resellers=False
    )
    assert audited("tax_engine_account.update", shared).details["reseller_rules_affected"] == 1
    with pytest.raises(TaxEngineError, match="no longer shares"):
        services.tax_calculate(
            issuer=reseller_a,
            recipient=customer,
            currency="USD",
            on_date=JAN1,
            lines=[t.line("1", "10.00")],
        )


def test_rates_never_overlap_and_can_be_succeeded(users, provider):
    staff = users["staff"]

    def create(start, end=None, value="0.1900"):
        return services.tax_rate_create(
            owner=provider,
            jurisdiction="DE",
            tax_category="*",
            name="MwSt",
            rate=D(value),
            valid_from_date=start,
            valid_to_date=end,
            acting_user=staff,
        )

    first = create(JAN1)
    with pytest.raises(ApplicationError, match="in force in that period"):
        create(JUL1, value="0.1600")
    services.tax_rate_update(tax_rate=first, acting_user=staff, valid_to_date=JUL1)
    second = create(JUL1, value="0.1600")  # starts the day the first one ends: no overlap
    assert second.rate == D("0.1600")
    assert audited("tax_rate.update", first).details["after"]["valid_to_date"] == "2026-07-01"
    for value, field in (("1.5", "rate"), ("-0.1", "rate"), ("0.12345", "rate")):
        with pytest.raises(ApplicationError) as failure:
            create(datetime.date(2030, 1, 1), value=value)
        assert failure.value.field == field
    with pytest.raises(ApplicationError) as failure:
        create(datetime.date(2031, 1, 1), datetime.date(2031, 1, 1))
    assert failure.value.field == "valid_to_date"


def test_tax_profiles_are_set_by_the_issuer_not_the_account(users, reseller_a):
    customer = users["customer_account"]
    with pytest.raises(PermissionDenied):  # no self-exemption
        services.tax_profile_set(
            account=customer, jurisdiction="DE", exempt=True, acting_user=users["customer"]
        )
    with pytest.raises(PermissionDenied):  # the reseller's own profile is the provider's call
        services.tax_profile_set(account=reseller_a, jurisdiction="DE", acting_user=users["a"])
    with pytest.raises(PermissionDenied):
        services.tax_profile_set(account=customer, jurisdiction="DE", acting_user=users["b"])
    profile = services.tax_profile_set(
        account=customer,
        jurisdiction="de",
        exempt=True,
        exemption_number="DE-123",
        acting_user=users["a"],
    )
    assert (profile.jurisdiction, profile.exempt) == ("DE", True)
    updated = services.tax_profile_set(
        account=customer, jurisdiction="US-NY", acting_user=users["staff"]
    )
    assert updated.pk == profile.pk and not updated.exempt
    with pytest.raises(ApplicationError) as failure:
        services.tax_profile_set(account=customer, jurisdiction="*", acting_user=None)
    assert failure.value.field == "jurisdiction"
