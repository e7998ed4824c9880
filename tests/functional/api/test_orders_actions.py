"""POST orders/{id}/approve/ and cancel/: the tenant check first (404), then who may act (403),
then the order's state (409). A refused action changes nothing."""

from decimal import Decimal as D

import pytest

from billing.models import CreditReservation, Document, ResellerTransaction
from billing.selectors import account_financials
from orders.models import Order, Subscription
from resellers.models import AuditEvent
from tests import factories as f
from tests.functional.api.shop import ORDERS, ORDERS_VISIBLE, user


def approve(client, order, **kwargs):
    return client.post(f"/api/v1/orders/{order.pk}/approve/", **kwargs)


def cancel(client, order, body=None):
    return client.post(f"/api/v1/orders/{order.pk}/cancel/", body, format="json")


def state(order):
    fresh = Order.objects.get(pk=order.pk)
    return (fresh.status, fresh.status_message, fresh.approved_at, fresh.cancelled_at)


def actions_on(order):
    return AuditEvent.objects.filter(object_type="orders.order", object_id=order.pk).count()


# --- tenant isolation --------------------------------------------------------------------------


@pytest.mark.parametrize("role", [r for r in ORDERS_VISIBLE if r != "staff"])
def test_another_tenants_order_answers_404_to_every_action(world, shop, api, role):
    client = api(user(world, shop, role))
    hidden = [getattr(shop, key) for key in ORDERS if key not in ORDERS_VISIBLE[role]]
    before = {order.pk: (state(order), actions_on(order)) for order in hidden}

    for order in hidden:
        assert approve(client, order).status_code == 404, order
        assert cancel(client, order, {"reason": "mine now"}).status_code == 404, order

    assert {order.pk: (state(order), actions_on(order)) for order in hidden} == before


def test_a_made_up_id_answers_404(world, shop, api):
    client = api(world.alpha)
    assert client.post("/api/v1/orders/987654/approve/").status_code == 404
    assert client.post("/api/v1/orders/987654/cancel/").status_code == 404


# --- approve -----------------------------------------------------------------------------------


def test_the_reseller_approves_and_the_order_completes(world, shop, api):
    response = approve(api(world.alpha), shop.a1_pending)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == shop.a1_pending.pk
    assert (body["status"], body["status_display"]) == ("completed", "Completed")
    assert body["approved_at"] == body["completed_at"] == "2026-02-10T10:00:00Z"
    assert (body["total_cost"], body["total_amount"]) == ("20.00", "25.00")
    assert [i["delivery_status"] for i in body["items"]] == ["delivered"]
    order = Order.objects.get(pk=shop.a1_pending.pk)
    assert order.approved_by == world.alpha
    sub = Subscription.objects.get(order=order)
    assert (sub.account, sub.quantity, sub.unit_cost, sub.unit_price) == (
        world.a1,
        2,
        D("10.0000"),
        D("12.5000"),
    )
    charge = Document.objects.get(pk=order.payment_id)  # Alpha pays by card
    assert (charge.recipient, charge.total) == (world.a, D("20.00"))
    # Its customer's order, paid by the card charge made for it, is prepaid: no credit used.
    assert account_financials(account=world.a).available_credit == D("490.00")
    assert order.payment_allocations.get().status == "active"  # until the daily invoice


def test_approving_twice_answers_409_and_changes_nothing(world, shop, api):
    client = api(world.alpha)
    approve(client, shop.a1_pending)
    before = (state(shop.a1_pending), ResellerTransaction.objects.count(), Document.objects.count())

    response = approve(client, shop.a1_pending)

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"Order SO-{shop.a1_pending.pk:06d} is Completed; it cannot be approved."
    }
    after = (state(shop.a1_pending), ResellerTransaction.objects.count(), Document.objects.count())
    assert after == before


def test_an_end_customer_cannot_approve_its_own_order(world, shop, api):
    before = (state(shop.a1_pending), actions_on(shop.a1_pending))

    response = approve(api(world.alpha_customer), shop.a1_pending)

    assert response.status_code == 403
    assert response.json() == {"detail": "Only the reseller can approve its customers' orders."}
    assert (state(shop.a1_pending), actions_on(shop.a1_pending)) == before


def test_after_paying_off_debt_the_reseller_accepts_an_unexecuted_order(world, shop, api):
    placed = api(shop.bravo_customer).post(
        "/api/v1/orders/",
        {"items": [{"product": shop.office.pk, "quantity": 50}]},  # cost 550, available 317
        format="json",
    )
    order = Order.objects.get(pk=placed.json()["id"])
    assert order.status == "unexecuted_credit"
    f.payment(world.b, "400.00", world.docs["inv_b"].issue_date, apply_to=[world.docs["inv_b"]])

    response = approve(api(world.bravo), order)

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "completed"
    assert response.json()["status_message"] == ""
    assert account_financials(account=world.b).available_credit == D("167.00")  # 717 - 550


def test_provider_staff_may_approve(world, shop, api):
    response = approve(api(world.staff), shop.a1_pending)
    assert response.status_code == 200 and response.json()["status"] == "completed"


# --- cancel ------------------------------------------------------------------------------------


def test_cancelling_a_completed_order_answers_409_and_changes_nothing(world, shop, api):
    before = (state(shop.a1_done), actions_on(shop.a1_done))

    response = cancel(api(world.alpha), shop.a1_done, {"reason": "too late"})

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"Order SO-{shop.a1_done.pk:06d} is Completed; it cannot be cancelled."
    }
    assert (state(shop.a1_done), actions_on(shop.a1_done)) == before
    assert Subscription.objects.get(order=shop.a1_done).status == "active"


def test_the_reseller_cancels_with_a_reason_and_the_credit_comes_back(world, shop, api):
    assert account_financials(account=world.b).available_credit == D("317.00")

    response = cancel(api(world.bravo), shop.b1_manual, {"reason": "Customer changed plans"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["status_message"]) == ("cancelled", "Customer changed plans")
    assert body["cancelled_at"] == "2026-02-10T10:00:00Z"
    assert [i["delivery_status"] for i in body["items"]] == ["cancelled"]
    reservation = CreditReservation.objects.get(reference=f"order:{shop.b1_manual.pk}")
    assert reservation.status == "released"
    assert account_financials(account=world.b).available_credit == D("567.00")  # 317 + 250
    # the customer reads the reason too
    seen = api(shop.bravo_customer).get(f"/api/v1/orders/{shop.b1_manual.pk}/").json()
    assert seen["status_message"] == "Customer changed plans"


def test_cancel_without_a_body(world, shop, api):
    response = api(world.alpha).post(f"/api/v1/orders/{shop.a1_pending.pk}/cancel/")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["status_message"]) == ("cancelled", "")


def test_a_customer_cancels_its_own_order_while_it_waits_for_approval(world, shop, api):
    response = cancel(api(world.alpha_customer), shop.a1_pending)
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


def test_a_customer_cannot_cancel_once_it_is_completed(world, shop, api):
    before = state(shop.a1_done)
    response = cancel(api(world.alpha_customer), shop.a1_done)
    assert response.status_code == 403
    assert response.json() == {"detail": "You cannot cancel this order."}
    assert state(shop.a1_done) == before


def test_a_reason_too_long_answers_400(world, shop, api):
    before = state(shop.a1_pending)
    response = cancel(api(world.alpha), shop.a1_pending, {"reason": "x" * 301})
    assert response.status_code == 400 and list(response.json()) == ["reason"]
    assert state(shop.a1_pending) == before
