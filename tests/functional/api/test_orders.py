"""orders/: list and retrieve scoped by tenant, and POST orders/ placing and submitting an order,
with the figures of shop.py. Bad input answers 400 naming the field and creates nothing."""

import datetime
from decimal import Decimal as D

import pytest

from billing.models import CreditReservation, Document, ResellerTransaction
from billing.selectors import account_financials
from orders.models import IdempotencyKey, Order, OrderItem, Subscription
from orders.services import TOKEN_WARNING
from resellers.models import PaymentMethod
from tests.functional.api.conftest import ids
from tests.functional.api.shop import ORDERS, ORDERS_VISIBLE, user

ROLES = list(ORDERS_VISIBLE)


def post(client, body, **headers):
    return client.post("/api/v1/orders/", body, format="json", headers=headers)


def item(product, quantity=1):
    return {"product": product.pk, "quantity": quantity}


def order_of(response) -> Order:
    assert response.status_code == 201, response.content
    return Order.objects.get(pk=response.json()["id"])


# --- reading -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_each_user_sees_exactly_its_tenants_orders(world, shop, api, role):
    client = api(user(world, shop, role))

    listed = ids(client.get("/api/v1/orders/"))

    assert listed == {getattr(shop, key).pk for key in ORDERS_VISIBLE[role]}
    for key in ORDERS:
        pk = getattr(shop, key).pk
        expected = 200 if key in ORDERS_VISIBLE[role] else 404
        assert client.get(f"/api/v1/orders/{pk}/").status_code == expected, key


def test_the_reseller_sees_the_detailed_view_with_cost_and_amount(world, shop, api):
    body = api(world.alpha).get(f"/api/v1/orders/{shop.a1_pending.pk}/").json()

    assert body == {
        "id": shop.a1_pending.pk,
        "number": f"SO-{shop.a1_pending.pk:06d}",
        "order_type": "sales",
        "status": "pending_approval",
        "status_display": "Pending Reseller Approval",
        "status_message": "",
        "customer": {"id": world.a1.pk, "name": "Alpha Customer"},
        "credit_account": {"id": world.a.pk, "name": "Alpha Reseller"},
        "currency": "USD",
        "total_cost": "20.00",
        "total_amount": "25.00",
        "order_date": "2026-02-10T10:00:00Z",
        "created_at": "2026-02-10T10:00:00Z",
        "approved_at": None,
        "completed_at": None,
        "cancelled_at": None,
        "billing_contact_name": "",
        "billing_contact_email": None,  # null, not "" (format: email)
        "notes": "",
        "parent": None,
        "corrects": None,  # not a correcting order
        "corrections": [],  # and none corrects it
        "items": [
            {
                "id": shop.a1_pending.items.get().pk,
                "product": {"id": shop.office.pk, "sku": "OFFICE", "name": "Office Suite"},
                "delivery_status": "pending",
                "quantity": 2,
                "unit_price": "12.5000",
                "discount": "0.00",
                "total": "25.00",
                "unit_cost": "10.0000",
                "total_cost": "20.00",
                "corrects_item": None,
                "corrects_usage": None,
                "period_start": None,
                "period_end": None,
            }
        ],
        "sub_orders": [],
    }


def test_the_end_customer_sees_amounts_only(world, shop, api):
    reseller = api(world.alpha).get(f"/api/v1/orders/{shop.a1_done.pk}/").json()
    customer = api(world.alpha_customer).get(f"/api/v1/orders/{shop.a1_done.pk}/").json()

    assert (reseller["total_cost"], reseller["total_amount"]) == ("10.00", "12.50")
    assert (customer["total_cost"], customer["total_amount"]) == (None, "12.50")
    [line] = customer["items"]
    assert (line["unit_cost"], line["total_cost"]) == (None, None)
    assert (line["unit_price"], line["total"], line["delivery_status"]) == (
        "12.5000",
        "12.50",
        "delivered",
    )
    assert customer["status"] == "completed" and customer["approved_at"] is not None
    rows = api(world.alpha_customer).get("/api/v1/orders/").json()["results"]
    assert {row["total_cost"] for row in rows} == {None}


def test_a_referral_customer_sees_its_own_credit_shortfall(world, shop, api):
    body = api(shop.referral_customer).get(f"/api/v1/orders/{shop.r1_order.pk}/").json()

    assert body["status"] == "unexecuted_credit"
    assert body["status_display"] == "Unexecuted due to Insufficient Credit"
    assert body["status_message"] == "Not executed: there is not enough available credit."
    assert body["credit_account"] == {"id": world.r1.pk, "name": "Referral Customer"}


def test_filters_by_status_and_customer_stay_in_the_tenant(world, shop, api):
    alpha = api(world.alpha)
    assert ids(alpha.get("/api/v1/orders/?status=completed")) == {shop.a1_done.pk, shop.a_own.pk}
    assert ids(alpha.get(f"/api/v1/orders/?customer={world.a1.pk}")) == {
        shop.a1_pending.pk,
        shop.a1_done.pk,
    }
    assert ids(alpha.get(f"/api/v1/orders/?customer={world.b1.pk}")) == set()
    assert ids(alpha.get("/api/v1/orders/?status=submitted_to_distributor")) == set()
    staff = api(world.staff)
    assert ids(staff.get("/api/v1/orders/?status=submitted_to_distributor")) == {shop.b1_manual.pk}
    assert alpha.get("/api/v1/orders/?status=bogus").status_code == 400


# --- placing orders ----------------------------------------------------------------------------


def test_a_customer_without_approval_gets_a_completed_order_and_a_subscription(world, shop, api):
    response = post(
        api(shop.bravo_customer),
        {
            "items": [item(shop.office, 2)],
            "billing_contact_name": "Carl Customer",
            "billing_contact_email": "carl@example.com",
            "notes": "For the new office",
        },
    )

    order = order_of(response)
    body = response.json()
    assert body["status"] == "completed"
    assert (body["total_cost"], body["total_amount"]) == (None, "30.00")  # 2 x 15.00
    assert body["customer"] == {"id": world.b1.pk, "name": "Bravo Customer"}
    assert body["order_date"] == "2026-02-10T10:00:00Z"
    assert (body["billing_contact_name"], body["notes"]) == ("Carl Customer", "For the new office")
    [line] = body["items"]
    assert (line["quantity"], line["unit_price"], line["total"], line["delivery_status"]) == (
        2,
        "15.0000",
        "30.00",
        "delivered",
    )
    assert (order.total_cost, order.total_amount, order.placed_by) == (
        D("22.00"),
        D("30.00"),
        shop.bravo_customer,
    )
    sub = Subscription.objects.get(order=order)
    assert (sub.account, sub.credit_account, sub.quantity, sub.status) == (
        world.b1,
        world.b,
        2,
        "active",
    )
    assert sub.next_billing_date == datetime.date(2026, 3, 10)  # billed a month in advance
    # Bravo is charged its cost, its customer the amount; Bravo's credit goes down by the cost.
    charges = ResellerTransaction.objects.filter(reference=f"order:{order.pk}")
    assert {(t.account_id, t.amount) for t in charges} == {
        (world.b.pk, D("22.00")),
        (world.b1.pk, D("30.00")),
    }
    assert account_financials(account=world.b).available_credit == D("295.00")  # 317 - 22
    # the reseller sees the cost of the same order
    seen = api(world.bravo).get(f"/api/v1/orders/{order.pk}/").json()
    assert (seen["total_cost"], seen["total_amount"]) == ("22.00", "30.00")


def test_a_customer_may_name_its_own_account(world, shop, api):
    response = post(
        api(shop.bravo_customer), {"customer": world.b1.pk, "items": [item(shop.office)]}
    )
    assert order_of(response).customer == world.b1


def test_a_card_resellers_customer_waits_for_approval(world, shop, api):
    response = post(api(world.alpha_customer), {"customer": None, "items": [item(shop.office, 4)]})

    order = order_of(response)
    assert response.json()["status"] == "pending_approval"
    assert response.json()["total_amount"] == "50.00"  # 4 x 12.50
    assert order.customer == world.a1 and order.total_cost == D("40.00")
    assert not CreditReservation.objects.filter(reference=f"order:{order.pk}").exists()
    assert not Subscription.objects.filter(order=order).exists()


def test_a_reseller_orders_for_itself_and_its_card_is_charged(world, shop, api):
    response = post(api(world.alpha), {"items": [item(shop.special, 3)]})

    order = order_of(response)
    body = response.json()
    assert body["customer"] is None
    assert body["status"] == "completed"
    assert (body["total_cost"], body["total_amount"]) == ("60.00", "60.00")  # 3 x 20.00 at cost
    charge = Document.objects.get(pk=order.payment_id)
    assert (charge.doc_type, charge.total, charge.recipient) == ("payment", D("60.00"), world.a)
    assert Subscription.objects.get(order=order).account == world.a
    # 490 - 60: its own purchase under prepaid_only is not prepaid by its card charge.
    assert account_financials(account=world.a).available_credit == D("430.00")


def test_a_reseller_orders_a_manual_product_for_its_customer(world, shop, api):
    response = post(api(world.bravo), {"customer": world.b1.pk, "items": [item(shop.setup)]})

    order = order_of(response)
    assert response.json()["status"] == "submitted_to_distributor"
    assert (response.json()["total_cost"], response.json()["total_amount"]) == (
        "250.00",
        "300.00",
    )
    assert CreditReservation.objects.get(reference=f"order:{order.pk}").amount == D("250.00")
    assert order.placed_by == world.bravo


def test_a_mixed_order_is_split_and_stays_submitted(world, shop, api):
    response = post(
        api(world.bravo),
        {"customer": world.b1.pk, "items": [item(shop.office, 1), item(shop.setup, 1)]},
    )

    body = response.json()
    assert response.status_code == 201 and body["status"] == "submitted"
    assert body["items"] == []  # the items moved to the sub-orders
    auto, manual = sorted(body["sub_orders"], key=lambda part: part["id"])
    assert (auto["status"], auto["total_cost"], auto["total_amount"]) == (
        "completed",
        "11.00",
        "15.00",
    )
    assert (manual["status"], manual["total_cost"], manual["total_amount"]) == (
        "submitted_to_distributor",
        "250.00",
        "300.00",
    )
    assert [i["product"]["sku"] for i in manual["items"]] == ["SETUP"]
    # the parts are orders in their own right, listed as such
    client = api(world.bravo)
    assert ids(client.get(f"/api/v1/orders/?top_level=false&customer={world.b1.pk}")) == {
        auto["id"],
        manual["id"],
    }
    assert body["id"] in ids(client.get("/api/v1/orders/?top_level=true"))


def test_provider_staff_orders_for_a_customer_or_a_resellers_own_purchase(world, shop, api):
    staff = api(world.staff)

    for_customer = post(staff, {"customer": world.b1.pk, "items": [item(shop.office)]})
    for_reseller = post(staff, {"reseller": world.b.pk, "items": [item(shop.antivirus)]})

    assert for_customer.status_code == 201 and for_customer.json()["status"] == "completed"
    assert for_customer.json()["total_amount"] == "15.00"
    assert for_reseller.status_code == 201 and for_reseller.json()["status"] == "completed"
    assert for_reseller.json()["customer"] is None
    assert for_reseller.json()["credit_account"]["id"] == world.b.pk
    sub = Subscription.objects.get(order_id=for_reseller.json()["id"])
    assert (sub.billing_period, sub.next_billing_date) == ("annual", datetime.date(2027, 2, 10))


def test_insufficient_credit_leaves_it_unexecuted_and_the_customer_sees_no_figures(
    world, shop, api
):
    response = post(api(shop.bravo_customer), {"items": [item(shop.office, 50)]})  # cost 550

    order = order_of(response)
    # Bravo's credit is not its business: "processing", as its panel says, and no message
    assert (response.json()["status"], response.json()["status_display"]) == (
        "processing",
        "Processing",
    )
    assert response.json()["status_message"] is None
    assert order.status == "unexecuted_credit"
    seen = api(world.bravo).get(f"/api/v1/orders/{order.pk}/").json()
    assert seen["status_message"] == "Not executed: there is not enough available credit."
    assert not CreditReservation.objects.filter(reference=f"order:{order.pk}").exists()


def test_an_expired_card_leaves_the_approved_order_pending_with_seed_004s_warning(world, shop, api):
    PaymentMethod.objects.filter(pk=world.methods["a_card"].pk).update(
        expiry_date=datetime.date(2026, 1, 31)
    )
    order = order_of(post(api(world.alpha_customer), {"items": [item(shop.office)]}))

    response = api(world.alpha).post(f"/api/v1/orders/{order.pk}/approve/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "pending"
    assert response.json()["status_message"] == TOKEN_WARNING
    assert TOKEN_WARNING == (
        "Your payment method does not support this action. Please contact your distributor."
    )
    customer_view = api(world.alpha_customer).get(f"/api/v1/orders/{order.pk}/").json()
    assert (customer_view["status"], customer_view["status_message"]) == ("processing", None)


# --- bad input ---------------------------------------------------------------------------------


def snapshot():
    return (
        Order.objects.count(),
        OrderItem.objects.count(),
        Subscription.objects.count(),
        CreditReservation.objects.count(),
        IdempotencyKey.objects.count(),
    )


QUANTITY = "A quantity is a whole number of at least 1."


@pytest.mark.parametrize("quantity", [0, -1, 2.5, "two", True, 10_000, 2**31])
def test_a_bad_quantity_answers_400_naming_it(world, shop, api, quantity):
    before = snapshot()

    response = post(
        api(shop.bravo_customer),
        {"items": [item(shop.office), {"product": shop.office.pk, "quantity": quantity}]},
        **{"Idempotency-Key": "bad-quantity"},
    )

    assert response.status_code == 400
    errors = response.json()["items"]  # by the item's index
    assert list(errors) == ["1"] and list(errors["1"]) == ["quantity"]
    too_many = "At most 9,999 of one product per order."  # the one bound, as in the panel
    assert errors["1"]["quantity"] == [too_many if quantity in (10_000, 2**31) else QUANTITY]
    assert snapshot() == before


@pytest.mark.parametrize("which", ["another catalogue's", "unknown"])
def test_a_product_outside_the_catalogue_answers_400_naming_it(world, shop, api, which):
    product_id = shop.special.pk if which == "another catalogue's" else 987654
    before = snapshot()

    response = post(
        api(shop.bravo_customer),
        {"items": [item(shop.office), {"product": product_id, "quantity": 1}]},
    )

    assert response.status_code == 400
    assert response.json() == {
        "items": {"1": {"product": [f"Product {product_id} is not in Bravo Customer's catalogue."]}}
    }
    assert snapshot() == before


def test_a_reseller_orders_from_its_customers_catalogue(world, shop, api):
    """Alpha's customer shares Alpha's catalogue; Bravo's customer has the default one."""
    before = snapshot()
    response = post(api(world.bravo), {"customer": world.b1.pk, "items": [item(shop.special)]})
    assert response.status_code == 400 and "items" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize(
    ("role", "customer"),
    [("alpha", "b1"), ("alpha", "r1"), ("alpha_customer", "b1"), ("alpha_customer", "a")],
)
def test_another_tenants_customer_answers_400_like_an_unknown_id(world, shop, api, role, customer):
    client = api(user(world, shop, role))
    before = snapshot()

    foreign = post(client, {"customer": getattr(world, customer).pk, "items": [item(shop.office)]})
    unknown = post(client, {"customer": 987654, "items": [item(shop.office)]})

    assert foreign.status_code == unknown.status_code == 400
    assert (
        foreign.json()
        == unknown.json()
        == {"customer": ["No such customer among the accounts you may order for."]}
    )
    assert snapshot() == before


def test_a_referral_reseller_neither_orders_for_its_customers_nor_buys(world, shop, api):
    client = api(world.referral)
    before = snapshot()

    for_customer = post(client, {"customer": world.r1.pk, "items": [item(shop.office)]})
    for_itself = post(client, {"items": [item(shop.office)]})

    assert for_customer.status_code == 403
    assert "referral reseller does not order" in for_customer.json()["detail"]
    assert for_itself.status_code == 403
    assert for_itself.json() == {"detail": "Referral resellers do not place orders."}
    assert snapshot() == before


MISSING = object()


@pytest.mark.parametrize(
    ("role", "body", "field"),
    [
        ("bravo_customer", {"items": []}, "items"),
        ("bravo_customer", {"items": MISSING}, "items"),
        ("bravo_customer", {"items": [{"quantity": 1}]}, "items"),
        ("bravo_customer", {"items": "office"}, "items"),
        ("bravo_customer", {"reseller": "b"}, "reseller"),
        ("bravo_customer", {"billing_contact_email": "not an email"}, "billing_contact_email"),
        ("alpha_customer", {"reseller": "a"}, "reseller"),  # a customer cannot buy for Alpha
        ("bravo", {"customer": "b1", "reseller": "b"}, "reseller"),
        ("staff", {}, "customer"),  # staff must say whom for
    ],
)
def test_other_bad_input_answers_400_naming_the_field(world, shop, api, role, body, field):
    body = {"items": [item(shop.office)], **body}
    body = {name: value for name, value in body.items() if value is not MISSING}
    for name in ("customer", "reseller"):
        if isinstance(body.get(name), str):
            body[name] = getattr(world, body[name]).pk
    before = snapshot()

    response = post(api(user(world, shop, role)), body)

    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]
    assert snapshot() == before


def test_anonymous_cannot_order(shop, api):
    before = snapshot()
    response = post(api(), {"items": [item(shop.office)]})
    assert response.status_code in (401, 403)
    assert snapshot() == before
