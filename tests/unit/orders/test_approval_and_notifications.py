"""Seed 004's approval toggle rules, the confirmation recipient priority, and prices."""

import datetime
from decimal import Decimal as D

import pytest

from orders.notifications import confirmation_recipient
from orders.selectors import price_quote
from resellers import services as accounts
from resellers.exceptions import ApplicationError, PermissionDenied
from resellers.models import PaymentMethod
from resellers.selectors import order_approval_locked, order_approval_required
from tests import factories as f
from tests.factories import orders as of


class TestApprovalToggle:
    def test_on_by_default(self, customer):
        assert customer.order_approval_required is True
        assert order_approval_required(customer=customer) is True

    @pytest.mark.parametrize("kind", [PaymentMethod.Kind.CASH, PaymentMethod.Kind.DEPOSIT])
    def test_cash_or_deposit_resellers_may_switch_it(self, provider, kind):
        reseller = f.reseller(parent=provider)
        accounts.payment_method_create(account=reseller, kind=kind)
        customer = f.customer(parent=reseller)
        user = f.user(account=reseller)
        accounts.customer_set_order_approval(customer=customer, required=False, acting_user=user)
        customer.refresh_from_db()
        assert order_approval_required(customer=customer) is False
        assert not order_approval_locked(reseller=reseller)

    def test_card_resellers_are_locked_on(self, provider):
        reseller = f.reseller(parent=provider)
        f.card(reseller, default=True)
        customer = f.customer(parent=reseller)
        with pytest.raises(ApplicationError, match="locked"):
            accounts.customer_set_order_approval(
                customer=customer, required=False, acting_user=f.user(account=reseller)
            )
        customer.refresh_from_db()
        assert customer.order_approval_required is True
        assert order_approval_locked(reseller=reseller)

    def test_switching_from_cash_to_card_keeps_the_toggle_locked_as_it_was(self, provider):
        reseller = f.reseller(parent=provider)
        accounts.payment_method_create(account=reseller, kind=PaymentMethod.Kind.CASH)
        off, on = f.customer(parent=reseller), f.customer(parent=reseller)
        user = f.user(account=reseller)
        accounts.customer_set_order_approval(customer=off, required=False, acting_user=user)

        card = f.card(reseller)
        accounts.payment_method_set_default(payment_method=card)
        off.refresh_from_db()
        assert off.order_approval_required is False  # shown in its previous state...
        assert order_approval_locked(reseller=reseller)  # ...locked...
        assert order_approval_required(customer=off) is True  # ...and approval required
        assert order_approval_required(customer=on) is True
        with pytest.raises(ApplicationError, match="locked"):
            accounts.customer_set_order_approval(customer=off, required=True, acting_user=user)

    def test_only_its_reseller_switches_it(self, customer, provider):
        stranger = f.user(account=f.reseller(parent=provider))
        with pytest.raises(PermissionDenied):
            accounts.customer_set_order_approval(
                customer=customer, required=False, acting_user=stranger
            )

    def test_referral_customers_need_no_reseller_approval(self, referral_reseller):
        assert order_approval_required(customer=f.customer(parent=referral_reseller)) is False


class TestConfirmationRecipient:
    """Seed 004: bill-to, then primary, then the oldest contact, then the approver."""

    @pytest.fixture
    def reseller(self, provider):
        return f.reseller(parent=provider)

    @pytest.fixture
    def approver(self, reseller):
        user = f.user(account=reseller)
        user.email = "approver@r.example"
        user.save()
        return user

    def _contact(self, account, email, minutes, **roles):
        created = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(
            minutes=minutes
        )
        return accounts.contact_create(
            account=account, name=email, email=email, created_at=created, **roles
        )

    def test_bill_to_first(self, reseller, approver):
        self._contact(reseller, "old@r.example", 0)
        self._contact(reseller, "primary@r.example", 1, is_primary=True)
        self._contact(reseller, "bill@r.example", 2, is_bill_to=True)
        assert confirmation_recipient(account=reseller, approver=approver) == "bill@r.example"

    def test_then_primary(self, reseller, approver):
        self._contact(reseller, "old@r.example", 0)
        self._contact(reseller, "primary@r.example", 1, is_primary=True)
        assert confirmation_recipient(account=reseller, approver=approver) == "primary@r.example"

    def test_then_the_oldest_contact(self, reseller, approver):
        self._contact(reseller, "newer@r.example", 5)
        self._contact(reseller, "oldest@r.example", 1)
        assert confirmation_recipient(account=reseller, approver=approver) == "oldest@r.example"

    def test_then_the_approver(self, reseller, approver):
        assert confirmation_recipient(account=reseller, approver=approver) == "approver@r.example"
        assert confirmation_recipient(account=reseller) is None


class TestPrices:
    def test_resale_cost_from_the_providers_list_and_amount_from_the_resellers(
        self, provider, cash_reseller, customer, product
    ):
        of.price_list(provider, [cash_reseller], items={product: "9.5000"})
        of.price_list(cash_reseller, [customer], markup=D("20"))
        quote = price_quote(product=product, customer=customer, credit_account=cash_reseller)
        assert (quote.unit_cost, quote.unit_price) == (D("9.5000"), D("11.4000"))

    def test_explicit_customer_price_wins_over_markup(
        self, provider, cash_reseller, customer, product
    ):
        of.price_list(cash_reseller, [customer], items={product: "15.0000"}, markup=D("20"))
        quote = price_quote(product=product, customer=customer, credit_account=cash_reseller)
        assert (quote.unit_cost, quote.unit_price) == (D("12.00"), D("15.0000"))

    def test_referral_customers_pay_catalogue_prices(self, referral_reseller, product):
        referred = f.customer(parent=referral_reseller)
        quote = price_quote(product=product, customer=referred, credit_account=referred)
        assert (quote.unit_cost, quote.unit_price) == (D("12.00"), D("12.00"))

    def test_a_resellers_own_order_pays_cost(self, provider, cash_reseller, product):
        of.price_list(provider, [cash_reseller], items={product: "8.0000"})
        quote = price_quote(product=product, customer=None, credit_account=cash_reseller)
        assert (quote.unit_cost, quote.unit_price) == (D("8.0000"), D("8.0000"))

    def test_order_totals_show_cost_and_amount(
        self, provider, cash_reseller, customer, customer_user, product
    ):
        of.price_list(provider, [cash_reseller], items={product: "9.5000"})
        of.price_list(cash_reseller, [customer], markup=D("20"))
        order = of.order(placed_by=customer_user, customer=customer, items=[(product, 3)],
                         submit=False)  # fmt: skip
        assert (order.total_cost, order.total_amount) == (D("28.50"), D("34.20"))
