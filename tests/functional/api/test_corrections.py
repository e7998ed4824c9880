"""POST orders/{id}/corrections/: provider staff correct a completed order's details; the answer
is the correcting order (corrects, each item's corrects_item), the documents it issued and what
each side is charged now; the original order lists its corrections. Tenants: 403 on their own
order, 404 on another's; an order not completed: 409; bad input: 400 naming the field."""

from decimal import Decimal as D

from billing.models import ResellerTransaction
from orders.models import Order

URL = "/api/v1/orders/{}/corrections/"


def _line(order, **fields):
    return {"item": order.items.get().pk, **fields}


def body(order, **fields):
    return {"lines": [_line(order, **fields)], "outcome": "credit_memo", "reason": "Wrong price"}


def test_staff_correct_a_price_before_invoicing(world, shop, api):
    order = shop.b1_done  # 3 x Office Suite: Bravo 33.00 at cost, its customer 45.00
    response = api(world.staff).post(
        URL.format(order.pk),
        body(order, unit_price="14.00", unit_cost="10.00"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="c-1",
    )

    assert response.status_code == 201, response.content
    result = response.json()
    corrected = result["order"]
    assert (corrected["order_type"], corrected["corrects"]) == ("correction", order.pk)
    assert corrected["items"][0]["corrects_item"] == order.items.get().pk
    assert result["documents"] == []  # nothing was invoiced yet: corrected in place
    assert [(s["before"], s["after"], s["how"]) for s in result["sides"]] == [
        ("33.00", "30.00", "corrected in place"),
        ("45.00", "42.00", "corrected in place"),
    ]
    amounts = sorted(
        ResellerTransaction.objects.filter(order_item__order=order).values_list("amount", flat=True)
    )
    assert amounts == [D("30.00"), D("42.00")]
    original = api(world.staff).get(f"/api/v1/orders/{order.pk}/").json()
    assert original["corrections"] == [corrected["id"]]
    replay = api(world.staff).post(
        URL.format(order.pk),
        body(order, unit_price="14.00", unit_cost="10.00"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="c-1",
    )
    assert replay.status_code == 200 and replay.json()["order"]["id"] == corrected["id"]
    assert Order.objects.filter(corrects=order).count() == 1


def test_tenants_and_states_and_bad_input(world, shop, api):
    done = shop.b1_done
    count = Order.objects.count()
    assert api(world.bravo).post(URL.format(done.pk), body(done, cancel=True), format="json")\
        .status_code == 403  # fmt: skip
    assert api(world.alpha).post(URL.format(done.pk), body(done, cancel=True), format="json")\
        .status_code == 404  # fmt: skip
    pending = shop.a1_pending
    conflict = api(world.staff).post(
        URL.format(pending.pk), body(pending, cancel=True), format="json"
    )
    assert conflict.status_code == 409
    staff = api(world.staff)
    for bad, field in (
        ({**body(done), "lines": []}, "lines"),
        ({**body(done), "outcome": "cash"}, "outcome"),
        ({**body(done), "reason": ""}, "reason"),
        (
            {
                "lines": [{"item": shop.a1_done.items.get().pk, "cancel": True}],
                "outcome": "credit_memo",
                "reason": "x",
            },
            "lines",
        ),
        (body(done, quantity=0), "lines"),
    ):
        response = staff.post(URL.format(done.pk), bad, format="json")
        assert response.status_code == 400 and field in response.json(), (bad, response.json())
    assert Order.objects.count() == count


def test_staff_correct_the_service_period_and_a_period_outside_it_is_400(world, shop, api):
    order = shop.b1_done  # Bravo 33.00 at cost, its customer 45.00, for the charge's period
    charge = ResellerTransaction.objects.filter(order_item__order=order).first()
    start, end = charge.period_start_date, charge.period_end_date
    later = start + (end - start) // 2
    staff = api(world.staff)

    outside = staff.post(
        URL.format(order.pk), body(order, period_end=str(end + (end - start))), format="json"
    )
    assert outside.status_code == 400 and "lines" in outside.json()
    assert not Order.objects.filter(corrects=order).exists()

    response = staff.post(
        URL.format(order.pk),
        body(order, period_start=str(later)),
        format="json",
        HTTP_IDEMPOTENCY_KEY="p-1",
    )

    assert response.status_code == 201, response.content
    item = response.json()["order"]["items"][0]
    assert (item["period_start"], item["period_end"]) == (str(later), str(end))
    share = D((end - later).days) / D((end - start).days)
    expected = [(D(33) * share).quantize(D("0.01")), (D(45) * share).quantize(D("0.01"))]
    assert [D(s["after"]) for s in response.json()["sides"]] == expected
    periods = set(
        ResellerTransaction.objects.filter(order_item__order=order).values_list(
            "period_start_date", "period_end_date"
        )
    )
    assert periods == {(later, end)}
