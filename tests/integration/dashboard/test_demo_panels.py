"""The demo as a new user finds it (issue 12): Proseware's order waiting for a payment token is on
its dashboard with what to do, and Southridge, which pays cash, is offered a card to top up
with. Each dashboard lists its own orders only."""

import datetime
import re
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from billing.gateway import TestGateway
from orders.models import Order, Subscription
from orders.services import TOKEN_WARNING
from resellers.models import User

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 15, 12, tzinfo=datetime.UTC)


@pytest.fixture
def demo():
    TestGateway.reset()
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", stdout=StringIO())
        yield
    TestGateway.reset()


def dashboard(username: str, url: str = "/dashboard/") -> str:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client.get(url).content.decode()


def widget(html: str, section_id: str) -> str:
    return re.search(rf'<section[^>]*id="{section_id}".*?</section>', html, re.S)[0]


def test_prosewares_order_waiting_for_a_token_is_on_its_dashboard(demo):
    stuck = Order.objects.get(notes="DEMO-PW-ORD-1", parent__isnull=True)

    waiting = widget(dashboard("reseller4"), "pending-payment")

    row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{stuck.display_number}.*?</tr>", waiting, re.S)[0]
    assert "Coho Winery" in row and TOKEN_WARNING in row
    assert f'aria-label="Accept order {stuck.display_number}"' in row
    assert 'href="/account/cards/add/"' in waiting  # what to do: a card that can be charged
    # Northwind's and Southridge's dashboards do not list it
    for other in ("reseller1", "reseller2"):
        assert stuck.display_number not in widget(dashboard(other), "pending-payment")


def test_southridge_pays_cash_and_is_offered_a_card_to_top_up_with(demo):
    html = dashboard("reseller2", "/account/")
    assert 'id="add-card-link" href="/account/cards/add/"' in html
    client = Client()
    client.force_login(User.objects.get(username="reseller2"))
    assert 'id="add-card"' in client.get("/account/topup/").content.decode()
    assert client.get("/account/cards/add/").status_code == 200


@pytest.mark.parametrize(
    ("username", "period"),
    [("reseller1", "this_month"), ("reseller2", "this_month"), ("reseller4", "last_3_months")],
)
def test_each_resale_resellers_dashboard_shows_the_nine_figures_and_a_product_mix(
    demo, username, period
):
    html = dashboard(username, f"/dashboard/?mix-period={period}")

    figures = re.findall(r'data-statistic="(\w+)"', widget(html, "general-statistics"))
    assert sorted(figures) == sorted(
        [
            "monthly_costs",
            "account_balance",
            "subscriptions_sold",
            "licenses_sold",
            "active_subscriptions",
            "suspended_subscriptions",
            "overdue_payments",
            "credit_limit",
            "available_credit",
        ]
    )
    mix = widget(html, "product-mix")
    products = set(re.findall(r'data-product="([^"]+)"', mix)) - {"Other"}
    assert products  # real products, not only "Other" (Proseware bought last month)
    assert 'class="mix-chart"' in mix


def test_reseller3_logs_in_with_the_demo_password_and_sees_its_payouts(demo):
    client = Client()
    response = client.post("/login/", {"username": "reseller3", "password": "demo"}, follow=True)
    assert response.redirect_chain[-1][0] == "/account/"  # a referral reseller: no dashboard
    assert client.get("/account/referrals/").status_code == 200


def test_the_dunning_page_shows_an_account_at_each_stage(demo):
    """Issue 13: the demo's dunning run leaves Lucerne Publishing on credit hold, Fourth Coffee
    suspended (its subscription with it) and the accounts with documents just overdue reminded;
    everyone else is current."""
    with time_machine.travel(NOW, tick=False):
        html = dashboard("provider", "/billing/dunning/")
    stages = {}
    for row in html.split("<tr")[1:]:
        stage = re.search(r'data-stage="(\w+)"', row.split(">")[0])
        if stage:
            stages[re.search(r"<a [^>]*>([^<]+)</a>", row)[1]] = stage[1]
    assert stages["Lucerne Publishing"] == "credit_hold"
    assert stages["Fourth Coffee"] == "suspended"
    assert stages["Northwind Cloud Services"] == "overdue"
    assert "Southridge IT" not in stages  # current
    assert Subscription.objects.get(account__name="Fourth Coffee").status == "suspended"
