"""subscriptions/{id}/suspend/, resume/ and usage/: provider staff suspend and resume; anyone else
who sees the subscription gets 403, another tenant 404; usage is reported once per reference."""

from decimal import Decimal as D

import pytest
from rest_framework.test import APIClient

from orders.models import Subscription, UsageRecord
from resellers.models import AuditEvent
from tests.factories import orders as of
from tests.functional.api.shop import TODAY, user

OTHERS = {"alpha": 403, "alpha_customer": 403, "bravo": 404, "referral": 404,
          "referral_customer": 404}  # fmt: skip


def suspend(client, subscription, **body):
    return client.post(
        f"/api/v1/subscriptions/{subscription.pk}/suspend/", body or None, format="json"
    )


def resume(client, subscription):
    return client.post(f"/api/v1/subscriptions/{subscription.pk}/resume/")


# --- suspend/ and resume/ ----------------------------------------------------------------------


def test_staff_suspends_and_resumes(world, shop, api):
    staff = api(world.staff)

    suspended = suspend(staff, shop.s_a1, reason="Credit hold: invoice 42 unpaid")

    assert suspended.status_code == 200, suspended.content
    assert (suspended.json()["id"], suspended.json()["status"]) == (shop.s_a1.pk, "suspended")
    shop.s_a1.refresh_from_db()
    assert shop.s_a1.status == "suspended"
    event = AuditEvent.objects.get(action="subscription.suspend", object_id=str(shop.s_a1.pk))
    assert event.details == {"reason": "Credit hold: invoice 42 unpaid"}
    assert event.actor == world.staff

    resumed = resume(staff, shop.s_a1)

    assert resumed.status_code == 200, resumed.content
    assert resumed.json()["status"] == "active"
    shop.s_a1.refresh_from_db()
    assert shop.s_a1.status == "active"


@pytest.mark.parametrize(("role", "expected"), list(OTHERS.items()))
def test_only_staff_suspends(world, shop, api, role, expected):
    response = suspend(api(user(world, shop, role)), shop.s_a1)

    assert response.status_code == expected
    shop.s_a1.refresh_from_db()
    assert shop.s_a1.status == "active"


@pytest.mark.parametrize(("role", "expected"), list(OTHERS.items()))
def test_only_staff_resumes_a_suspended_subscription(world, shop, api, role, expected):
    assert suspend(api(world.staff), shop.s_a1).status_code == 200

    response = resume(api(user(world, shop, role)), shop.s_a1)

    assert response.status_code == expected
    shop.s_a1.refresh_from_db()
    assert shop.s_a1.status == "suspended"


def test_the_reseller_withdraws_a_pending_cancellation(world, shop, api):
    alpha = api(world.alpha)
    assert alpha.post(f"/api/v1/subscriptions/{shop.s_a1.pk}/cancel/").status_code == 200

    response = resume(alpha, shop.s_a1)

    assert response.status_code == 200 and response.json()["status"] == "active"


def test_transitions_the_status_does_not_allow_are_conflicts(world, shop, api):
    staff = api(world.staff)
    assert resume(staff, shop.s_a1).json() == {"detail": "The subscription is already active."}
    assert resume(staff, shop.s_a1).status_code == 409
    assert suspend(staff, shop.s_a1).status_code == 200

    again = suspend(staff, shop.s_a1)

    assert again.status_code == 409
    assert again.json() == {"detail": "The subscription is already suspended."}


def test_a_reason_over_300_characters_is_refused(world, shop, api):
    response = suspend(api(world.staff), shop.s_a1, reason="x" * 301)

    assert response.status_code == 400 and "reason" in response.json()
    shop.s_a1.refresh_from_db()
    assert shop.s_a1.status == "active"


def test_token_auth_works_for_the_actions(world, shop):
    from tests.factories.api import api_token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(world.staff)}")
    assert suspend(client, shop.s_b1).json()["status"] == "suspended"
    assert resume(client, shop.s_b1).json()["status"] == "active"


# --- usage/ ------------------------------------------------------------------------------------


@pytest.fixture
def storage(world, shop):
    """Bravo Customer's usage subscription, started today (2026-02-10): 0.10 per GB from the
    catalogue to Bravo, + 20% to its customer (0.12)."""
    product = of.ProductFactory(
        sku="STORAGE", name="Storage GB", billing_type="usage", list_price=D("0.10")
    )
    shop.default_catalogue.products.add(product)
    order = of.order(placed_by=shop.bravo_customer, customer=world.b1, items=[(product, 1)],
                     today=TODAY)  # fmt: skip
    assert order.status == "completed", order.status_message
    return Subscription.objects.get(order=order)


def usage_url(subscription) -> str:
    return f"/api/v1/subscriptions/{subscription.pk}/usage/"


def post_usage(client, subscription, **body):
    body = {"usage_date": "2026-02-10", "reference": "meter-1", **body}
    return client.post(usage_url(subscription), body, format="json")


def test_usage_reported_twice_with_one_reference_is_stored_once(world, api, storage):
    staff = api(world.staff)

    first = post_usage(staff, storage, quantity="12.5")
    again = post_usage(staff, storage, quantity="12.5")

    assert first.status_code == 201, first.content
    assert again.status_code == 200
    assert again.json() == first.json()
    assert first.json() == {
        "id": first.json()["id"],
        "subscription": storage.pk,
        "usage_date": "2026-02-10",
        "quantity": "12.5000",
        "amount": None,
        "cost": None,
        "reference": "meter-1",
        "corrects": None,
        "reason": "",
        "created_at": "2026-02-10T10:00:00Z",
    }
    assert UsageRecord.objects.filter(subscription=storage).count() == 1


def test_the_same_reference_with_another_body_is_a_conflict(world, api, storage):
    staff = api(world.staff)
    post_usage(staff, storage, quantity="12.5")

    response = post_usage(staff, storage, quantity="13")

    assert response.status_code == 409
    assert "meter-1" in response.json()["detail"]
    assert UsageRecord.objects.get(subscription=storage).quantity == D("12.5")


def test_money_usage_with_a_cost(world, api, storage):
    response = post_usage(api(world.staff), storage, amount="25.00", cost="20.00")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["quantity"], body["amount"], body["cost"]) == (None, "25.00", "20.00")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"quantity": "1", "amount": "1.00"}, "quantity"),  # both
        ({}, "amount"),  # neither
        ({"quantity": "1", "cost": "1.00"}, "cost"),
        ({"quantity": "-1"}, "quantity"),
        ({"quantity": "many"}, "quantity"),
        ({"amount": "25.001"}, "amount"),  # more decimals than money has
        ({"amount": "-5.00"}, "amount"),
        ({"quantity": "1", "usage_date": "2026-02-09"}, "usage_date"),  # before the start
        ({"quantity": "1", "usage_date": "2026-02-11"}, "usage_date"),  # tomorrow
        ({"quantity": "1", "usage_date": "10/02/2026"}, "usage_date"),
        ({"quantity": "1", "reference": ""}, "reference"),
        ({"quantity": "1", "reference": "r" * 121}, "reference"),
    ],
)
def test_bad_usage_is_a_400_naming_the_field(world, api, storage, body, field):
    response = post_usage(api(world.staff), storage, **body)

    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not UsageRecord.objects.filter(subscription=storage).exists()


def test_a_missing_reference_is_a_400(world, api, storage):
    response = api(world.staff).post(
        usage_url(storage), {"usage_date": "2026-02-10", "quantity": "1"}, format="json"
    )
    assert response.status_code == 400 and "reference" in response.json()


def test_usage_on_a_subscription_not_billed_by_usage_is_a_400(world, shop, api):
    response = post_usage(api(world.staff), shop.s_b1, quantity="1")

    assert response.status_code == 400
    assert response.json() == {"subscription": ["Office Suite is not billed by usage."]}


def test_a_billed_day_is_refused(world, api, storage):
    Subscription.objects.filter(pk=storage.pk).update(billed_through="2026-02-10")  # as a run does
    Subscription.objects.filter(pk=storage.pk).update(start_date="2026-01-10")

    response = post_usage(api(world.staff), storage, quantity="1", usage_date="2026-02-09")

    assert response.status_code == 400
    assert response.json() == {
        "usage_date": ["This day is already billed: usage is accepted from 2026-02-10 on."]
    }


@pytest.mark.parametrize(("role", "expected"), [("bravo", 403), ("bravo_customer", 403),
                         ("alpha", 404), ("referral", 404)])  # fmt: skip
def test_only_staff_reports_usage(world, shop, api, storage, role, expected):
    response = post_usage(api(user(world, shop, role)), storage, quantity="1")

    assert response.status_code == expected
    assert not UsageRecord.objects.filter(subscription=storage).exists()


USAGE_VISIBLE = {"staff": 200, "bravo": 200, "bravo_customer": 200, "alpha": 404,
                 "alpha_customer": 404, "referral": 404}  # fmt: skip


@pytest.mark.parametrize(("role", "expected"), list(USAGE_VISIBLE.items()))
def test_usage_is_listed_to_those_who_see_the_subscription(world, shop, api, storage, role,
                                                           expected):  # fmt: skip
    staff = api(world.staff)
    post_usage(staff, storage, amount="25.00", cost="20.00", reference="b")
    post_usage(staff, storage, quantity="3", reference="a")

    response = api(user(world, shop, role)).get(usage_url(storage))

    assert response.status_code == expected
    if expected == 200:
        rows = response.json()["results"]
        assert [row["reference"] for row in rows] == ["b", "a"]  # by day, then as reported
        cost = None if role == "bravo_customer" else "20.00"  # end customers never see the cost
        assert rows[0]["cost"] == cost and rows[0]["amount"] == "25.00"


def test_the_schema_describes_the_actions(db):
    schema = APIClient().get("/api/v1/schema/?format=json").json()
    paths = schema["paths"]
    for action in ("suspend", "resume"):
        responses = paths[f"/api/v1/subscriptions/{{id}}/{action}/"]["post"]["responses"]
        assert {"200", "403", "404", "409"} <= set(responses), action
    usage = paths["/api/v1/subscriptions/{id}/usage/"]
    assert {"200", "201", "400", "403", "404", "409"} <= set(usage["post"]["responses"])
    assert "get" in usage
    body = schema["components"]["schemas"]["UsageRecordInputRequest"]
    assert set(body["required"]) == {"usage_date", "reference"}
