"""Every branch of seed 004's validation chain, through the services."""

import datetime
from decimal import Decimal as D

import pytest

from billing import selectors as ledger_selectors
from billing.gateway import TestGateway
from billing.models import CreditReservation, Document, ResellerTransaction
from orders import services
from orders.models import OrderStatus, Subscription, SubscriptionStatus
from orders.selectors import orders_for_distributor, orders_pending_approval, orders_unexecuted
from resellers.models import PaymentMethod
from resellers.services import customer_set_order_approval
from tests import factories as f
from tests.factories import orders as of

TODAY = of.TODAY


def active_reservations(account):
    return CreditReservation.objects.filter(account=account, status="active")


@pytest.fixture
def no_approval(customer, cash_user):
    customer_set_order_approval(customer=customer, required=False, acting_user=cash_user)
    customer.refresh_from_db()
    return customer


def test_approval_on_by_default_waits_for_the_reseller(customer, customer_user, product):
    order = of.order(placed_by=customer_user, customer=customer, items=[(product, 2)])
    assert order.status == OrderStatus.PENDING_APPROVAL
    assert list(orders_pending_approval(reseller=customer.parent)) == [order]
    assert not active_reservations(customer.parent).exists()  # waiting reserves nothing


def test_approved_order_with_credit_completes(customer, customer_user, cash_user, product):
    order = of.order(placed_by=customer_user, customer=customer, items=[(product, 3)])
    done = services.order_approve(order=order, acting_user=cash_user, today=TODAY)

    assert done.status == OrderStatus.COMPLETED
    assert done.approved_by == cash_user
    sub = Subscription.objects.get(order=order)
    assert (sub.account, sub.credit_account, sub.quantity) == (customer, customer.parent, 3)
    assert sub.status == SubscriptionStatus.ACTIVE
    assert sub.next_billing_date == datetime.date(2026, 12, 25)  # billed in advance
    # The reseller's charge at cost consumed its reservation; the customer's charge at amount.
    [rtx] = ResellerTransaction.objects.filter(account=customer.parent)
    assert rtx.amount == D("36.00") and rtx.reservation.status == "consumed"
    assert ResellerTransaction.objects.get(account=customer).amount == D("36.00")
    fin = ledger_selectors.account_financials(account=customer.parent)
    assert (fin.uninvoiced, fin.reserved, fin.available_credit) == (D("36.00"), D("0"), D("964.00"))


def test_without_approval_an_auto_product_executes_at_once(no_approval, customer_user, product):
    order = of.order(placed_by=customer_user, customer=no_approval, items=[(product, 1)])
    assert order.status == OrderStatus.COMPLETED


def test_insufficient_credit_leaves_the_order_unexecuted(
    no_approval, customer_user, product, mailoutbox, django_capture_on_commit_callbacks
):
    f.invoice(no_approval.parent, "995.00", TODAY)  # available: 5.00
    with django_capture_on_commit_callbacks(execute=True):
        order = of.order(placed_by=customer_user, customer=no_approval, items=[(product, 1)])

    assert order.status == OrderStatus.UNEXECUTED_CREDIT
    assert not active_reservations(no_approval.parent).exists()
    assert list(orders_unexecuted(reseller=no_approval.parent)) == [order]
    assert order in orders_for_distributor()
    assert order not in orders_pending_approval(reseller=no_approval.parent)  # never approved
    [notice] = [m for m in mailoutbox if "insufficient credit" in m.subject]
    assert notice.to == ["billing@cash.example"]


def test_approved_then_unexecuted_shows_in_both_lists(customer, customer_user, cash_user, product):
    f.invoice(customer.parent, "1000.00", TODAY)
    order = of.order(placed_by=customer_user, customer=customer, items=[(product, 1)])
    order = services.order_approve(order=order, acting_user=cash_user, today=TODAY)
    assert order.status == OrderStatus.UNEXECUTED_CREDIT
    assert order in orders_pending_approval(reseller=customer.parent)
    assert order in orders_unexecuted(reseller=customer.parent)


def test_after_paying_off_debt_the_reseller_accepts_an_unexecuted_order(
    no_approval, customer_user, cash_user, product, provider_user
):
    reseller = no_approval.parent
    inv = f.invoice(reseller, "1000.00", TODAY)
    order = of.order(placed_by=customer_user, customer=no_approval, items=[(product, 1)])
    assert order.status == OrderStatus.UNEXECUTED_CREDIT
    f.payment(reseller, "100.00", TODAY, apply_to=[inv])

    done = services.order_approve(order=order, acting_user=cash_user, today=TODAY)
    assert done.status == OrderStatus.COMPLETED


def test_manual_product_goes_to_the_distributor(no_approval, customer_user, manual_product,
                                                provider_user):  # fmt: skip
    order = of.order(placed_by=customer_user, customer=no_approval, items=[(manual_product, 1)])
    assert order.status == OrderStatus.SUBMITTED_TO_DISTRIBUTOR
    assert order in orders_for_distributor()
    assert active_reservations(no_approval.parent).get().amount == D("300.00")

    done = services.order_execute_manually(order=order, acting_user=provider_user, today=TODAY)
    assert done.status == OrderStatus.COMPLETED
    assert not active_reservations(no_approval.parent).exists()
    assert not Subscription.objects.filter(order=order).exists()  # a one-time service


def test_mixed_order_splits_and_stays_submitted_until_every_sub_order_executes(
    no_approval, customer_user, product, manual_product, provider_user
):
    order = of.order(
        placed_by=customer_user, customer=no_approval, items=[(product, 1), (manual_product, 1)]
    )
    assert order.status == OrderStatus.SUBMITTED
    auto, manual = order.sub_orders.order_by("pk")
    assert (auto.status, manual.status) == (
        OrderStatus.COMPLETED, OrderStatus.SUBMITTED_TO_DISTRIBUTOR)  # fmt: skip
    assert (auto.total_cost, manual.total_cost) == (D("12.00"), D("300.00"))

    services.order_execute_manually(order=manual, acting_user=provider_user, today=TODAY)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED


class TestCardPayers:
    @pytest.fixture
    def card_reseller(self, provider):
        return f.reseller(parent=provider, name="Card Reseller", credit_limit=D("1000.00"))

    @pytest.fixture
    def card_user(self, card_reseller):
        return f.user(account=card_reseller, username="cardholder")

    @pytest.fixture
    def card_customer(self, card_reseller):
        return f.customer(parent=card_reseller)

    def _card(self, reseller, token="tok_ok", expiry=datetime.date(2030, 1, 31)):
        return f.card(reseller, token=token, expiry=expiry, default=True)

    def _approved(self, card_customer, card_user, product):
        buyer = f.user(account=card_customer)
        order = of.order(placed_by=buyer, customer=card_customer, items=[(product, 2)])
        assert order.status == OrderStatus.PENDING_APPROVAL  # card: always approval
        return services.order_approve(order=order, acting_user=card_user, today=TODAY)

    def test_active_token_charges_once_and_completes(self, card_reseller, card_customer,
                                                     card_user, product):  # fmt: skip
        self._card(card_reseller)
        order = self._approved(card_customer, card_user, product)
        assert order.status == OrderStatus.COMPLETED
        assert order.payment.total == D("24.00") and order.payment.doc_type == "payment"
        assert TestGateway.attempts == {f"order:{order.pk}:charge": 1}

    @pytest.mark.parametrize("case", ["no token", "expired yesterday", "deactivated"])
    def test_missing_or_expired_token_leaves_it_pending_with_the_warning(
        self, card_reseller, card_customer, card_user, product, case
    ):
        if case == "no token":  # a gateway without tokenisation left the card without one
            PaymentMethod.objects.create(account=card_reseller, kind="card", is_default=True)
        elif case == "expired yesterday":
            self._card(card_reseller, expiry=TODAY - datetime.timedelta(days=1))
        else:
            PaymentMethod.objects.filter(pk=self._card(card_reseller).pk).update(is_active=False)
            # an inactive default still decides the chain: the reseller pays by card
        order = self._approved(card_customer, card_user, product)
        assert order.status == OrderStatus.PENDING
        assert order.status_message == (
            "Your payment method does not support this action. Please contact your distributor."
        )
        assert not active_reservations(card_reseller).exists()
        assert TestGateway.attempts == {}

    @pytest.mark.parametrize(("token", "message"), [
        ("tok_fail_1", services.GATEWAY_FAILED), ("tok_decline_1", "The card was declined."),
    ])  # fmt: skip
    def test_gateway_error_or_decline_is_not_submitted(
        self, card_reseller, card_customer, card_user, product, token, message
    ):
        self._card(card_reseller, token=token)
        order = self._approved(card_customer, card_user, product)
        assert (order.status, order.status_message) == (OrderStatus.PENDING, message)
        assert order not in orders_for_distributor()
        assert not Document.objects.filter(recipient=card_reseller, doc_type="payment").exists()
        assert not active_reservations(card_reseller).exists()

    def test_timeout_leaves_it_pending_and_a_retry_never_charges_twice(
        self, card_reseller, card_customer, card_user, product
    ):
        self._card(card_reseller, token="tok_timeout_1")
        order = self._approved(card_customer, card_user, product)
        assert order.status == OrderStatus.PENDING

        done = services.order_approve(order=order, acting_user=card_user, today=TODAY)
        assert done.status == OrderStatus.COMPLETED
        key = f"order:{order.pk}:charge"
        assert TestGateway.attempts[key] == 2 and len(TestGateway.charges) == 1
        assert Document.objects.filter(recipient=card_reseller, doc_type="payment").count() == 1


class TestBadInput:
    def test_product_outside_the_catalogue(self, customer, customer_user, product):
        other = of.ProductFactory(name="Not for you")
        with pytest.raises(services.ApplicationError, match="not in"):
            of.order(placed_by=customer_user, customer=customer, items=[(other, 1)])
        assert not customer.orders.exists()

    @pytest.mark.parametrize("quantity", [0, -1])
    def test_zero_or_negative_quantity(self, customer, customer_user, product, quantity):
        with pytest.raises(services.ApplicationError, match="at least 1"):
            of.order(placed_by=customer_user, customer=customer, items=[(product, quantity)])
        assert not customer.orders.exists()

    def test_approving_another_resellers_order(self, customer, customer_user, product, provider):
        order = of.order(placed_by=customer_user, customer=customer, items=[(product, 1)])
        stranger = f.user(account=f.reseller(parent=provider))
        with pytest.raises(services.PermissionDenied):
            services.order_approve(order=order, acting_user=stranger, today=TODAY)
        order.refresh_from_db()
        assert order.status == OrderStatus.PENDING_APPROVAL

    def test_approving_twice(self, customer, customer_user, cash_user, product):
        order = of.order(placed_by=customer_user, customer=customer, items=[(product, 1)])
        services.order_approve(order=order, acting_user=cash_user, today=TODAY)
        with pytest.raises(services.InvalidOrderTransition, match="Completed"):
            services.order_approve(order=order, acting_user=cash_user, today=TODAY)
        assert ResellerTransaction.objects.filter(account=customer.parent).count() == 1

    def test_cancelling_a_completed_order(self, customer, customer_user, cash_user, product):
        order = of.order(placed_by=customer_user, customer=customer, items=[(product, 1)])
        services.order_approve(order=order, acting_user=cash_user, today=TODAY)
        with pytest.raises(services.InvalidOrderTransition, match="cannot be cancelled"):
            services.order_cancel(order=order, acting_user=cash_user)

    def test_cancel_releases_the_reservation(self, no_approval, customer_user, cash_user,
                                             manual_product):  # fmt: skip
        order = of.order(placed_by=customer_user, customer=no_approval,
                         items=[(manual_product, 1)])  # fmt: skip
        services.order_cancel(order=order, acting_user=cash_user, reason="changed mind")
        assert not active_reservations(no_approval.parent).exists()
        assert ledger_selectors.account_financials(
            account=no_approval.parent
        ).available_credit == D("1000.00")


def test_the_stored_message_never_shows_the_resellers_figures(no_approval, customer_user, product):
    f.invoice(no_approval.parent, "995.00", TODAY)
    order = of.order(placed_by=customer_user, customer=no_approval, items=[(product, 1)])
    assert order.status_message == services.INSUFFICIENT_CREDIT
    assert "995" not in order.status_message and "5.00" not in order.status_message


def test_referral_resellers_place_no_orders(referral_reseller, product):
    referred = f.customer(parent=referral_reseller)
    with pytest.raises(services.PermissionDenied, match="Referral"):
        of.order(placed_by=f.user(account=referral_reseller), customer=referred,
                 items=[(product, 1)])  # fmt: skip
    assert not referred.orders.exists()


def test_a_parent_with_a_cancelled_sub_order_says_so(
    no_approval, customer_user, product, manual_product, provider_user
):
    order = of.order(
        placed_by=customer_user, customer=no_approval, items=[(product, 1), (manual_product, 1)]
    )
    _, manual = order.sub_orders.order_by("pk")
    services.order_cancel(order=manual, acting_user=provider_user, reason="cannot provision")
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert order.status_message == f"Partly cancelled: {manual.display_number}"


def test_without_a_billing_contact_the_customer_contact_is_mailed(
    no_approval, customer_user, product, mailoutbox, django_capture_on_commit_callbacks
):
    from resellers.services import contact_create

    contact_create(account=no_approval, name="AP", email="ap@customer.example", is_bill_to=True)
    customer_user.email = "person@customer.example"
    customer_user.save()
    with django_capture_on_commit_callbacks(execute=True):
        of.order(placed_by=customer_user, customer=no_approval, items=[(product, 1)])
    received = [m for m in mailoutbox if m.subject.startswith("We received your order")]
    assert [m.to for m in received] == [["ap@customer.example"]]
