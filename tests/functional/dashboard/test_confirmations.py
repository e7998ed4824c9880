"""Destructive panel actions ask first (dashboard/confirmations.py): the list's button is a GET to
the action's URL, which shows what will happen and changes nothing; the page's form POSTs to the
same URL, which does it. Another tenant's GET answers 404, as its POST does.

Covered: cancel an order, execute one, cancel a subscription, unlink an application, delete a
tax rule, start a real billing run. The panel's clock is 2026-02-10 (conftest.py)."""

import datetime
import uuid

import pytest
from django.urls import reverse

from billing.models import Application, BillingRun, CreditReservation, Document
from billing.taxes.models import TaxRule
from orders.models import OrderStatus, Subscription
from resellers.services import customer_set_order_approval
from tests.factories import billing as bf
from tests.factories import orders as of
from tests.factories import taxes as t
from tests.factories.billing import d
from tests.functional.dashboard.ordering import messages_of, place

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 2, 10)


def confirm_form(html: str) -> str:
    """The confirmation page's POST form."""
    at = html.index('id="confirm-form"')
    return html[html.rindex("<form", 0, at) : html.index("</form>", at)]


# --- orders -----------------------------------------------------------------------------------


@pytest.fixture
def orders(world, shop):
    """manual: reseller1 buys 1 x Server Setup (executed by hand) -> submitted to the distributor,
    300.00 of its credit reserved. pending: Customer One orders Office Suite -> pending
    reseller1's approval (nothing reserved)."""
    manual = place(world.r1_user, [(shop.setup, 1)], reseller=world.r1, today=TODAY)
    pending = place(world.c1_user, [(shop.office, 2)], customer=world.c1, today=TODAY)
    return manual, pending


def test_cancel_order_get_shows_what_is_released_and_changes_nothing(login, world, orders):
    manual, _ = orders
    assert manual.status == OrderStatus.SUBMITTED_TO_DISTRIBUTOR
    url = reverse("order_cancel", args=[manual.pk])
    staff = login(world.staff)

    # the list's Cancel button is a GET form to the same URL
    listing = staff.get(reverse("distributor_orders")).content.decode()
    assert f'<form method="get" action="{url}">' in listing

    response = staff.get(url, {"next": reverse("distributor_orders")})

    assert response.status_code == 200
    html = response.content.decode()
    number = manual.display_number
    assert f"Cancel order {number}?" in html
    assert (
        f"Order {number} (Alpha Reseller&#x27;s own purchase, total cost 300.00 USD) will be "
        "cancelled: nothing of it will be delivered"
    ) in html
    assert (
        "The 300.00 USD of Alpha Reseller&#x27;s credit reserved for it will be released: its "
        "available credit goes up by as much."
    ) in html
    form = confirm_form(html)
    assert "Yes, cancel the order" in form and 'name="csrfmiddlewaretoken"' in form
    assert f'name="next" value="{reverse("distributor_orders")}"' in form
    assert 'id="back-link">Back</a>' in html
    manual.refresh_from_db()
    assert manual.status == OrderStatus.SUBMITTED_TO_DISTRIBUTOR
    assert manual.reservation.status == CreditReservation.Status.ACTIVE

    done = staff.post(url, {"next": reverse("distributor_orders")}, follow=True)

    assert messages_of(done) == [f"Order {number} was cancelled."]
    manual.refresh_from_db()
    assert manual.status == OrderStatus.CANCELLED
    assert manual.reservation.status == CreditReservation.Status.RELEASED


def test_a_customer_reads_its_own_cancellation_without_the_resellers_figures(login, world, orders):
    _, pending = orders
    client = login(world.c1_user)

    html = client.get(reverse("order_cancel", args=[pending.pk])).content.decode()

    assert f"Your order {pending.display_number} will be cancelled" in html
    assert "credit" not in html.split('id="consequences"')[1].split("</ul>")[0]
    pending.refresh_from_db()
    assert pending.status == OrderStatus.PENDING_APPROVAL


def test_execute_get_says_what_is_delivered_and_charged_then_post_executes(login, world, orders):
    manual, _ = orders
    url = reverse("order_execute", args=[manual.pk])
    staff = login(world.staff)

    html = staff.get(url).content.decode()

    assert f"Execute order {manual.display_number}?" in html
    assert "its items will be delivered and their subscriptions start today (10 Feb 2026)" in html
    assert "Alpha Reseller is charged its total cost, 300.00 USD" in html
    assert "Yes, execute the order" in confirm_form(html)
    manual.refresh_from_db()
    assert manual.status == OrderStatus.SUBMITTED_TO_DISTRIBUTOR

    staff.post(url)

    manual.refresh_from_db()
    assert manual.status == OrderStatus.COMPLETED


def test_an_order_that_can_no_longer_be_cancelled_says_so_and_offers_no_button(
    login, world, orders
):
    manual, _ = orders
    staff = login(world.staff)
    staff.post(reverse("order_cancel", args=[manual.pk]))

    html = staff.get(reverse("order_cancel", args=[manual.pk])).content.decode()

    assert f"Order {manual.display_number} cannot be cancelled now: it is cancelled." in html
    assert 'id="confirm-form"' not in html


@pytest.mark.parametrize("who", ["r2_user", "c2_user", "ref_user", "c1_user"])
def test_another_tenant_gets_404_for_the_order_confirmation(login, world, orders, who):
    manual, _ = orders  # reseller1's own purchase: Customer One does not see it either
    client = login(getattr(world, who))

    assert client.get(reverse("order_cancel", args=[manual.pk])).status_code == 404
    assert client.get(reverse("order_execute", args=[manual.pk])).status_code == 404
    manual.refresh_from_db()
    assert manual.status == OrderStatus.SUBMITTED_TO_DISTRIBUTOR


def test_only_staff_get_the_execute_confirmation(login, world, orders):
    manual, _ = orders
    assert login(world.r1_user).get(reverse("order_execute", args=[manual.pk])).status_code == 403


# --- subscriptions ----------------------------------------------------------------------------


@pytest.fixture
def subscription(world, shop):
    """Customer One's Office Suite, active, billed to 2026-03-10."""
    customer_set_order_approval(customer=world.c1, required=False, acting_user=world.r1_user)
    world.c1.refresh_from_db()
    of.order(placed_by=world.c1_user, customer=world.c1, items=[(shop.office, 1)], today=TODAY)
    return Subscription.objects.get(account=world.c1)


def test_cancel_subscription_get_says_when_it_ends_and_changes_nothing(login, world, subscription):
    client = login(world.r1_user)
    url = reverse("subscription_cancel", args=[subscription.pk])
    back = reverse("own_customer_detail", args=[world.c1.pk])

    response = client.get(url, {"next": back})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Cancel Office Suite for Customer One?" in html
    assert (
        "Office Suite for Customer One stays active until the end of the period already billed "
        "(10 Mar 2026), then ends."
    ) in html
    assert f'href="{back}" id="back-link"' in html
    subscription.refresh_from_db()
    assert subscription.status == "active"

    done = client.post(url, {"next": back}, follow=True)

    assert done.redirect_chain[-1][0] == back
    subscription.refresh_from_db()
    assert subscription.status == "pending_cancellation"
    again = client.get(url).content.decode()
    assert "cannot be cancelled: it is already pending cancellation" in again
    assert 'id="confirm-form"' not in again


def test_a_suspended_subscription_ends_today(login, world, subscription):
    staff = login(world.staff)
    staff.post(reverse("subscription_suspend", args=[subscription.pk]))

    html = staff.get(reverse("subscription_cancel", args=[subscription.pk])).content.decode()

    assert "Office Suite for Customer One ends today (10 Feb 2026)" in html
    subscription.refresh_from_db()
    assert subscription.status == "suspended"


@pytest.mark.parametrize("who", ["r2_user", "c2_user", "ref_user"])
def test_another_tenant_gets_404_for_the_subscription_confirmation(login, world, subscription, who):
    response = login(getattr(world, who)).get(
        reverse("subscription_cancel", args=[subscription.pk])
    )
    assert response.status_code == 404
    subscription.refresh_from_db()
    assert subscription.status == "active"


# --- unlink -------------------------------------------------------------------------------------


def test_unlink_get_says_which_amounts_return_to_open_and_changes_nothing(login, world):
    inv1, pay = world.docs.r1_inv1, world.docs.r1_pay
    application = Application.objects.get(debit_document=inv1, unapplied_at__isnull=True)
    url = reverse("application_remove", args=[inv1.pk, application.pk])
    staff = login(world.staff)
    assert (
        f'<form method="get" action="{url}">'
        in staff.get(reverse("document_detail", args=[inv1.pk])).content.decode()
    )

    html = staff.get(url).content.decode()

    assert f"Unlink {pay.display_number} from {inv1.display_number}?" in html
    assert (
        f"{inv1.display_number} is open again for that amount: its open amount goes from "
        "0.00 USD to 100.00 USD, so it reads unpaid again."
    ) in html
    assert (
        f"{pay.display_number}&#x27;s open amount goes from 50.00 USD to 150.00 USD: the "
        "100.00 USD returns to Alpha Reseller&#x27;s credit balance."
    ) in html
    assert "Yes, unlink" in confirm_form(html)
    application.refresh_from_db()
    inv1.refresh_from_db()
    assert application.unapplied_at is None and inv1.open_amount == 0

    staff.post(url)

    application.refresh_from_db()
    inv1.refresh_from_db()
    assert application.unapplied_at is not None and inv1.open_amount == 100


@pytest.mark.parametrize("who", ["r1_user", "r2_user"])
def test_unlink_confirmation_is_for_provider_staff_only(login, world, who):
    inv1 = world.docs.r1_inv1
    application = Application.objects.get(debit_document=inv1, unapplied_at__isnull=True)
    response = login(getattr(world, who)).get(
        reverse("application_remove", args=[inv1.pk, application.pk])
    )
    # reseller1 sees its document but may not unlink (403); reseller2 does not see it (404)
    assert response.status_code == (403 if who == "r1_user" else 404)
    application.refresh_from_db()
    assert application.unapplied_at is None


# --- tax rules ----------------------------------------------------------------------------------


def test_delete_rule_get_asks_and_another_reseller_gets_404(login, world):
    rule = t.rule(world.r1, "DE")
    url = reverse("own_tax_rule_delete", args=[rule.pk])

    assert login(world.r2_user).get(url).status_code == 404
    html = login(world.r1_user).get(url).content.decode()

    assert "Delete the DE / * rule?" in html and "Yes, delete the rule" in confirm_form(html)
    assert TaxRule.objects.filter(pk=rule.pk).exists()


def test_staff_delete_a_resellers_rule_through_its_confirmation(login, world):
    rule = t.rule(world.r1, "DE")
    url = f"{reverse('tax_rule_delete', args=[rule.pk])}?owner={world.r1.pk}"
    staff = login(world.staff)

    html = staff.get(url).content.decode()
    assert f'action="{url}"' in confirm_form(html).replace("&amp;", "&")
    assert TaxRule.objects.filter(pk=rule.pk).exists()

    staff.post(url)

    assert not TaxRule.objects.filter(pk=rule.pk).exists()


# --- billing runs -------------------------------------------------------------------------------


@pytest.fixture
def run_world(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    w = bf.world()
    bf.subscribe(w, today=d("2026-01-01"))
    return w


def test_a_real_run_asks_first_with_its_date_and_a_dry_run_link(client, run_world):
    client.force_login(run_world.staff)
    key = uuid.uuid4().hex
    query = {"kind": "billing", "run_date": "2026-02-01", "submission_key": key}
    runs_page = client.get(reverse("billing_runs")).content.decode()
    assert f'<form method="get" action="{reverse("billing_run_start")}"' in runs_page
    documents = Document.objects.count()

    response = client.get(reverse("billing_run_start"), query)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Start the billing date run for 1 Feb 2026?" in html
    assert "The billing-date run for 1 Feb 2026 will issue an invoice to every account" in html
    assert "kind=billing&amp;run_date=2026-02-01&amp;dry_run=on" in html  # the dry run link
    form = confirm_form(html)
    assert "Yes, start the run" in form and f'value="{key}"' in form
    assert not BillingRun.objects.exists() and Document.objects.count() == documents

    started = client.post(reverse("billing_run_start"), query)

    run = BillingRun.objects.get()
    assert started.status_code == 302 and started["Location"] == f"/billing/runs/{run.pk}/"
    assert (run.run_date, run.kind, run.trigger) == (d("2026-02-01"), "billing", "panel")


def test_the_dry_run_link_writes_nothing_and_a_future_real_run_is_refused(client, run_world):
    client.force_login(run_world.staff)
    start = reverse("billing_run_start")

    dry = client.get(start, {"kind": "billing", "run_date": "2026-02-01", "dry_run": "on",
                             "submission_key": uuid.uuid4().hex})  # fmt: skip
    future = client.get(start, {"kind": "billing", "run_date": "2026-03-01",
                                "submission_key": uuid.uuid4().hex})  # fmt: skip

    assert "nothing was written" in dry.content.decode()
    assert future.status_code == 200 and "No run was started." in future.content.decode()
    assert 'id="confirm-form"' not in future.content.decode()
    assert not BillingRun.objects.exists()


def test_the_run_confirmation_is_for_provider_staff(client, run_world):
    client.force_login(run_world.reseller_user)
    response = client.get(
        reverse("billing_run_start"),
        {"kind": "billing", "run_date": "2026-02-01", "submission_key": uuid.uuid4().hex},
    )
    assert response.status_code == 403
    assert not BillingRun.objects.exists()
