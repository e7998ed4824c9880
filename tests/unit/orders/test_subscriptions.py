"""Orders create subscriptions; cancellation orders, suspension and resumption change them."""

import datetime
from decimal import Decimal as D

import pytest

from orders import services
from orders.models import OrderStatus, OrderType, Subscription, SubscriptionStatus
from resellers.services import customer_set_order_approval
from tests import factories as f
from tests.factories import orders as of

TODAY = of.TODAY


@pytest.fixture
def subscribed(customer, customer_user, cash_user, product):
    customer_set_order_approval(customer=customer, required=False, acting_user=cash_user)
    customer.refresh_from_db()
    of.order(placed_by=customer_user, customer=customer, items=[(product, 2)])
    return Subscription.objects.get(account=customer)


def test_trial_products_start_in_trial_and_are_not_charged(customer, customer_user, cash_user):
    trial = of.ProductFactory(trial_days=30, list_price=D("20.00"))
    of.default_catalogue(trial)
    customer_set_order_approval(customer=customer, required=False, acting_user=cash_user)
    customer.refresh_from_db()
    order = of.order(placed_by=customer_user, customer=customer, items=[(trial, 1)])
    sub = Subscription.objects.get(order=order)
    assert sub.status == SubscriptionStatus.TRIAL
    assert sub.trial_end_date == sub.next_billing_date == datetime.date(2026, 12, 25)
    assert not customer.parent.reseller_transactions.exists()
    assert not customer.parent.credit_reservations.filter(status="active").exists()


def test_annual_and_month_end_billing_dates(customer, customer_user, cash_user):
    annual = of.ProductFactory(billing_type="recurring_annual")
    monthly = of.ProductFactory()
    of.default_catalogue(annual, monthly)
    customer_set_order_approval(customer=customer, required=False, acting_user=cash_user)
    customer.refresh_from_db()
    jan31 = datetime.date(2027, 1, 31)
    of.order(placed_by=customer_user, customer=customer, items=[(annual, 1), (monthly, 1)],
             today=jan31)  # fmt: skip
    dates = dict(Subscription.objects.values_list("billing_period", "next_billing_date"))
    assert dates == {"annual": datetime.date(2028, 1, 31), "monthly": datetime.date(2027, 2, 28)}


def test_cancelling_runs_to_the_end_of_the_paid_period(subscribed, customer_user):
    order = services.subscription_cancel(
        subscription=subscribed, acting_user=customer_user, today=TODAY
    )
    subscribed.refresh_from_db()
    assert subscribed.status == SubscriptionStatus.PENDING_CANCELLATION
    assert (order.order_type, order.status) == (OrderType.CANCELLATION, OrderStatus.COMPLETED)
    assert order.items.get().subscription == subscribed
    with pytest.raises(services.InvalidOrderTransition):
        services.subscription_cancel(subscription=subscribed, acting_user=customer_user,
                                     today=TODAY)  # fmt: skip
    services.subscription_resume(subscription=subscribed, acting_user=customer_user)
    subscribed.refresh_from_db()
    assert subscribed.status == SubscriptionStatus.ACTIVE


def test_suspension_is_the_providers(subscribed, customer_user, provider_user):
    with pytest.raises(services.PermissionDenied):
        services.subscription_suspend(subscription=subscribed, acting_user=customer_user)
    services.subscription_suspend(subscription=subscribed, acting_user=provider_user,
                                  reason="credit hold")  # fmt: skip
    subscribed.refresh_from_db()
    assert subscribed.status == SubscriptionStatus.SUSPENDED
    with pytest.raises(services.PermissionDenied):
        services.subscription_resume(subscription=subscribed, acting_user=customer_user)
    services.subscription_resume(subscription=subscribed, acting_user=provider_user)
    subscribed.refresh_from_db()
    assert subscribed.status == SubscriptionStatus.ACTIVE


def test_another_tenant_cannot_cancel(subscribed, provider):
    stranger = f.user(account=f.reseller(parent=provider))
    with pytest.raises(services.PermissionDenied):
        services.subscription_cancel(subscription=subscribed, acting_user=stranger, today=TODAY)
    subscribed.refresh_from_db()
    assert subscribed.status == SubscriptionStatus.ACTIVE
