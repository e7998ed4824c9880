import datetime
from decimal import Decimal as D

import pytest

from billing import ledger
from resellers import services
from resellers.exceptions import ApplicationError, PermissionDenied
from resellers.models import Account, AuditEvent, Contact, PaymentMethod
from resellers.services import customer_class_default
from tests import factories as f


def test_issuer_follows_the_reseller_model(provider, reseller_a, referral_reseller):
    resale_customer = f.customer(parent=reseller_a)
    referral_customer = f.customer(parent=referral_reseller)
    direct_customer = f.customer(parent=provider)
    assert reseller_a.issuer == provider
    assert resale_customer.issuer == reseller_a  # the reseller bills under its own name
    assert referral_customer.issuer == provider  # seed 003: the provider is the biller
    assert direct_customer.issuer == provider


def test_only_the_upstream_issuer_bills_an_account(provider, reseller_a):
    customer = f.customer(parent=reseller_a)
    with pytest.raises(ApplicationError, match="does not bill"):
        ledger.document_create(
            doc_type="invoice",
            issuer=provider,
            recipient=customer,
            lines=[ledger.LineSpec(description="x", unit_price=D("1"))],
        )


def test_daily_invoicing_defaults(reseller_a, referral_reseller):
    assert reseller_a.daily_invoicing == Account.DailyInvoicing.PREPAID_ONLY
    assert referral_reseller.daily_invoicing == Account.DailyInvoicing.DISABLED


def test_fresh_installation_default_class_bills_on_hold(db):
    assert customer_class_default().bill_for_subscriptions_on_hold is True


def test_reseller_codes_are_unique(provider, reseller_a):
    with pytest.raises(ApplicationError, match="taken"):
        f.reseller(parent=provider, code=reseller_a.reseller_code)


def test_contact_roles_move_to_the_newest_holder(reseller_a):
    first = services.contact_create(account=reseller_a, name="A", email="a@x.test", is_bill_to=True)
    second = services.contact_create(
        account=reseller_a, name="B", email="b@x.test", is_bill_to=True
    )
    first.refresh_from_db()
    assert (first.is_bill_to, second.is_bill_to) == (False, True)
    assert Contact.objects.filter(account=reseller_a, is_bill_to=True).count() == 1


def test_payment_methods(reseller_a):
    cash = services.payment_method_create(account=reseller_a, kind=PaymentMethod.Kind.CASH)
    card = f.card(reseller_a, expiry=datetime.date(2026, 6, 30))
    assert cash.is_default and not card.is_default  # the first method is the default
    services.payment_method_set_default(payment_method=card)
    cash.refresh_from_db()
    assert (cash.is_default, PaymentMethod.objects.get(pk=card.pk).is_default) == (False, True)
    assert card.token_is_active(datetime.date(2026, 6, 30))
    assert not card.token_is_active(datetime.date(2026, 7, 1))
    with pytest.raises(ApplicationError, match="token"):
        services.payment_method_create(account=reseller_a, kind=PaymentMethod.Kind.CARD)
    with pytest.raises(ApplicationError, match="Only cards"):
        services.payment_method_create(
            account=reseller_a, kind=PaymentMethod.Kind.CASH, gateway_token="tok"
        )


class TestFinancialInformation:
    def test_staff_saves_everything_with_an_audit_row(self, reseller_a, provider_user):
        card = f.card(reseller_a)
        services.account_update_financials(
            account=reseller_a,
            acting_user=provider_user,
            credit_limit=D("2500.00"),
            daily_invoicing=Account.DailyInvoicing.ALL,
            auto_topup_enabled=True,
            auto_topup_threshold=D("100.00"),
            auto_topup_amount=D("500.00"),
            auto_topup_payment_method=card,
        )
        reseller_a.refresh_from_db()
        assert reseller_a.credit_limit == D("2500.00")
        assert reseller_a.daily_invoicing == "all"
        assert reseller_a.auto_topup_payment_method == card
        event = AuditEvent.objects.get(action="account.update_financials")
        assert event.actor == provider_user
        assert event.details["credit_limit"] == "2500.00"

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"credit_limit": D("-1")}, "credit_limit"),
            ({"payment_terms_days": -5}, "payment_terms_days"),
            ({"daily_invoicing": "weekly"}, "daily_invoicing"),
            ({"auto_topup_amount": D("0")}, "auto_topup_amount"),
            ({"auto_topup_enabled": True}, "auto_topup_threshold"),
        ],
    )
    def test_bad_values_change_nothing(self, reseller_a, provider_user, changes, field):
        with pytest.raises(ApplicationError) as exc:
            services.account_update_financials(
                account=reseller_a, acting_user=provider_user, **changes
            )
        assert exc.value.field == field
        fresh = Account.objects.get(pk=reseller_a.pk)
        assert (fresh.credit_limit, fresh.daily_invoicing) == (D("1000.00"), "prepaid_only")
        assert not AuditEvent.objects.filter(action="account.update_financials").exists()

    def test_top_up_method_of_another_account_is_refused(
        self, reseller_a, reseller_b, provider_user
    ):
        foreign = f.card(reseller_b)
        with pytest.raises(ApplicationError) as exc:
            services.account_update_financials(
                account=reseller_a, acting_user=provider_user, auto_topup_payment_method=foreign
            )
        assert exc.value.field == "auto_topup_payment_method"
        assert Account.objects.get(pk=reseller_a.pk).auto_topup_payment_method is None

    def test_reseller_cannot_change_its_own_credit(self, reseller_a):
        me = f.user(account=reseller_a)
        for change in (
            {"credit_limit": D("9999")},
            {"daily_invoicing": "all"},
            {"credit_terms": "prepaid"},
        ):
            with pytest.raises(PermissionDenied):
                services.account_update_financials(account=reseller_a, acting_user=me, **change)
        assert Account.objects.get(pk=reseller_a.pk).credit_limit == D("1000.00")

    def test_saving_unchanged_values_writes_nothing(self, reseller_a, provider_user):
        services.account_update_financials(
            account=reseller_a, acting_user=provider_user, credit_limit=reseller_a.credit_limit
        )
        assert not AuditEvent.objects.filter(action="account.update_financials").exists()

    def test_reseller_chooses_its_own_top_up_method(self, reseller_a):
        me = f.user(account=reseller_a)
        card = f.card(reseller_a)
        services.account_update_financials(
            account=reseller_a, acting_user=me, auto_topup_payment_method=card
        )
        assert Account.objects.get(pk=reseller_a.pk).auto_topup_payment_method == card

    def test_referral_resellers_have_no_daily_invoicing(self, referral_reseller, provider_user):
        with pytest.raises(ApplicationError, match="referral"):
            services.account_set_daily_invoicing(
                account=referral_reseller, mode="all", acting_user=provider_user
            )

    def test_prepaid_accounts_have_no_credit_limit(self, provider, provider_user):
        prepaid = f.reseller(parent=provider, credit_terms="prepaid", credit_limit=D("0"))
        with pytest.raises(ApplicationError, match="prepaid"):
            services.account_update_financials(
                account=prepaid, acting_user=provider_user, credit_limit=D("10")
            )
