"""Correcting an order from the provider panel (seed 001 §4): the order page offers Correct order
to provider staff once it is completed; the form shows each detail as it stands; saving makes a
correcting order and says what each side was given back; the original lists it. Tenants: 403."""

from decimal import Decimal as D

from django.urls import reverse
from django.utils.formats import date_format

from billing.models import ResellerTransaction
from orders import services
from orders.models import Order
from tests.functional.dashboard.ordering import place

TODAY = __import__("datetime").date(2026, 2, 10)


def _completed(world, shop):
    order = place(world.c2_user, [(shop.office, 2)], customer=world.c2, today=TODAY)
    if order.status == "pending_approval":
        order = services.order_approve(order=order, acting_user=world.r2_user, today=TODAY)
    order.refresh_from_db()
    assert order.status == "completed", order.status_message
    return order


def test_staff_correct_a_price_from_the_order_page(world, shop, login):
    order = _completed(world, shop)
    item = order.items.get()
    staff = login(world.staff)

    page = staff.get(reverse("order-status", args=[order.pk])).content.decode()
    assert reverse("order_correct", args=[order.pk]) in page
    form = staff.get(reverse("order_correct", args=[order.pk])).content.decode()
    assert f'name="unit_price_{item.pk}"' in form and f'name="cancel_{item.pk}"' in form

    response = staff.post(
        reverse("order_correct", args=[order.pk]),
        {
            f"unit_price_{item.pk}": "10.00",
            f"unit_cost_{item.pk}": str(item.unit_cost),
            f"quantity_{item.pk}": "2",
            "outcome": "credit_memo",
            "reason": "Price list error",
        },
        follow=True,
    )

    correction = Order.objects.get(corrects=order)
    assert response.redirect_chain[-1][0] == reverse("order-status", args=[correction.pk])
    text = response.content.decode()
    assert f"{order.display_number} was corrected by {correction.display_number}" in text
    assert "corrected in place" in text
    customer_charge = ResellerTransaction.objects.get(order_item=item, account=world.c2)
    assert customer_charge.amount == D("20.00")
    original = staff.get(reverse("order-status", args=[order.pk])).content.decode()
    assert correction.display_number in original[original.index('data-field="corrections"') :]


def test_nothing_changed_is_a_form_error_and_tenants_get_403(world, shop, login):
    order = _completed(world, shop)
    item = order.items.get()
    url = reverse("order_correct", args=[order.pk])
    unchanged = {
        f"unit_price_{item.pk}": str(item.unit_price),
        f"unit_cost_{item.pk}": str(item.unit_cost),
        f"quantity_{item.pk}": str(item.quantity),
        "outcome": "credit_memo",
        "reason": "nothing",
    }
    response = login(world.staff).post(url, unchanged)
    assert response.status_code == 400
    assert "Change at least one detail" in response.content.decode()
    for user in (world.r2_user, world.c2_user):
        assert login(user).get(url).status_code == 403
        assert login(user).post(url, {**unchanged, f"cancel_{item.pk}": "on"}).status_code == 403
    assert login(world.r1_user).get(url).status_code == 404
    assert not Order.objects.filter(corrects=order).exists()


def test_a_cancelled_detail_shows_what_cancelled_it_and_no_fields(world, shop, login):
    order = _completed(world, shop)
    item = order.items.get()
    url = reverse("order_correct", args=[order.pk])
    staff = login(world.staff)
    cancel = {f"cancel_{item.pk}": "on", "outcome": "credit_memo", "reason": "Bought by mistake"}
    assert staff.post(url, cancel).status_code == 302
    correction = Order.objects.get(corrects=order)

    form = staff.get(url).content.decode()
    row = form[form.index(f'data-item="{item.pk}"') :]
    row = row[: row.index("</tr>")]
    assert correction.display_number in row and "nothing is left to correct" in row
    assert f'name="cancel_{item.pk}"' not in form
    response = staff.post(url, cancel)
    assert response.status_code == 400
    assert "Change at least one detail" in response.content.decode()
    assert Order.objects.filter(corrects=order).count() == 1


def test_staff_correct_the_service_period_from_the_form(world, shop, login):
    order = _completed(world, shop)
    item = order.items.get()
    charge = ResellerTransaction.objects.filter(order_item=item).first()
    start, end = charge.period_start_date, charge.period_end_date
    url = reverse("order_correct", args=[order.pk])
    staff = login(world.staff)
    form = staff.get(url).content.decode()
    assert f'name="period_start_{item.pk}"' in form and f'value="{start}"' in form
    fields = {
        f"unit_price_{item.pk}": str(item.unit_price),
        f"unit_cost_{item.pk}": str(item.unit_cost),
        f"quantity_{item.pk}": str(item.quantity),
        f"period_start_{item.pk}": str(start),
        f"period_end_{item.pk}": str(end),
        "outcome": "credit_memo",
        "reason": "Provisioned late",
    }

    outside = staff.post(url, {**fields, f"period_end_{item.pk}": "2030-01-01"})
    assert outside.status_code == 400
    assert "within the billing period" in outside.content.decode()
    later = start + (end - start) // 2
    response = staff.post(url, {**fields, f"period_start_{item.pk}": str(later)})

    assert response.status_code == 302
    correction = Order.objects.get(corrects=order)
    assert (correction.items.get().period_start, correction.items.get().period_end) == (later, end)
    page = staff.get(reverse("order-status", args=[correction.pk])).content.decode()
    assert f"service {date_format(later)} to {date_format(end)}" in page  # the panel's format
