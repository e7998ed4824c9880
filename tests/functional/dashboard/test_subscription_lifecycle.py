"""Suspend and Resume on the provider's pages of an account: provider staff only (a reseller or
customer that sees the subscription gets 403, another tenant 404); a refused transition is a
message with nothing changed."""

import datetime

import pytest
from django.urls import reverse

from orders.models import Subscription
from resellers.models import AuditEvent
from resellers.services import customer_set_order_approval
from tests.factories import orders as of
from tests.functional.dashboard.ordering import messages_of


@pytest.fixture
def subscription(world, shop):
    customer_set_order_approval(customer=world.c1, required=False, acting_user=world.r1_user)
    world.c1.refresh_from_db()
    of.order(placed_by=world.c1_user, customer=world.c1, items=[(shop.office, 1)],
             today=datetime.date(2026, 2, 10))  # fmt: skip
    return Subscription.objects.get(account=world.c1)


def suspended(subscription) -> Subscription:
    Subscription.objects.filter(pk=subscription.pk).update(status="suspended")
    subscription.refresh_from_db()
    return subscription


def test_staff_suspends_from_the_customers_page_then_resumes(login, world, subscription):
    client = login(world.staff)
    page = reverse("customer_detail", args=[world.c1.pk])
    suspend_url = reverse("subscription_suspend", args=[subscription.pk])
    resume_url = reverse("subscription_resume", args=[subscription.pk])
    html = client.get(page).content.decode()
    assert suspend_url in html and resume_url not in html

    response = client.post(suspend_url, {"next": page, "reason": "Credit hold"}, follow=True)

    subscription.refresh_from_db()
    assert subscription.status == "suspended"
    assert messages_of(response) == ["Office Suite for Customer One is suspended."]
    html = response.content.decode()
    assert resume_url in html and suspend_url not in html
    event = AuditEvent.objects.get(action="subscription.suspend", object_id=str(subscription.pk))
    assert event.details == {"reason": "Credit hold"}

    response = client.post(resume_url, {"next": page}, follow=True)

    subscription.refresh_from_db()
    assert subscription.status == "active"
    assert messages_of(response) == ["Office Suite for Customer One is active again."]
    assert suspend_url in response.content.decode()


def test_resellers_and_customers_see_no_suspend_or_resume(login, world, subscription):
    for who, page in [("r1_user", reverse("own_customer_detail", args=[world.c1.pk])),
                      ("c1_user", reverse("account"))]:  # fmt: skip
        html = login(getattr(world, who)).get(page).content.decode()
        assert reverse("subscription_cancel", args=[subscription.pk]) in html, who
        assert reverse("subscription_suspend", args=[subscription.pk]) not in html, who


@pytest.mark.parametrize("who", ["r1_user", "c1_user"])
def test_the_reseller_or_customer_cannot_suspend(login, world, subscription, who):
    response = login(getattr(world, who)).post(
        reverse("subscription_suspend", args=[subscription.pk])
    )
    subscription.refresh_from_db()
    assert response.status_code == 403
    assert subscription.status == "active"


@pytest.mark.parametrize("who", ["r1_user", "c1_user"])
def test_the_reseller_or_customer_cannot_resume_a_suspended_one(login, world, subscription, who):
    suspended(subscription)
    response = login(getattr(world, who)).post(
        reverse("subscription_resume", args=[subscription.pk])
    )
    subscription.refresh_from_db()
    assert response.status_code == 403
    assert subscription.status == "suspended"


@pytest.mark.parametrize("who", ["r2_user", "c2_user", "ref_user"])
@pytest.mark.parametrize("action", ["subscription_suspend", "subscription_resume"])
def test_another_tenant_gets_404(login, world, subscription, who, action):
    response = login(getattr(world, who)).post(reverse(action, args=[subscription.pk]))
    assert response.status_code == 404


def test_suspending_twice_says_why_and_changes_nothing(login, world, subscription):
    client = login(world.staff)
    suspended(subscription)

    response = client.post(reverse("subscription_suspend", args=[subscription.pk]), follow=True)

    assert messages_of(response) == ["The subscription is already suspended."]
    subscription.refresh_from_db()
    assert subscription.status == "suspended"


def test_a_reason_over_300_characters_is_a_message(login, world, subscription):
    response = login(world.staff).post(
        reverse("subscription_suspend", args=[subscription.pk]), {"reason": "x" * 301}, follow=True
    )
    assert messages_of(response) == ["Keep the reason to 300 characters."]
    subscription.refresh_from_db()
    assert subscription.status == "active"


def test_get_is_not_allowed(login, world, subscription):
    response = login(world.staff).get(reverse("subscription_suspend", args=[subscription.pk]))
    assert response.status_code == 405
