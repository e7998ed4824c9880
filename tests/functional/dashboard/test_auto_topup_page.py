"""/account/auto-topup/: a reseller's own users set its automatic top-up in the panel (seed 001
§2), to a fixed amount or a target, charged to a card it chooses whatever its usual way of
paying; bad input is a form error with nothing saved; nobody else reaches the page. The page
tells where the automatic top-up stands (billing.auto_topups.auto_topup_state)."""

import datetime
from decimal import Decimal as D

from django.urls import reverse

from billing.auto_topups import auto_topup_run
from billing.gateway import TestGateway
from resellers.models import Account
from resellers.services import account_update_financials
from tests import factories as f

URL = "/account/auto-topup/"
NOW = datetime.datetime(2026, 2, 10, 12, tzinfo=datetime.UTC)


def test_a_reseller_sets_a_target_paid_by_a_card_it_chooses(world, login):
    client = login(world.r1_user)
    assert f'href="{URL}"' in client.get(reverse("account")).content.decode()
    form = client.get(URL).context["form"]
    assert list(form.fields["auto_topup_payment_method"].queryset) == [world.r1_card]  # no cash

    response = client.post(
        URL,
        {
            "auto_topup_enabled": "on",
            "auto_topup_threshold": "100.00",
            "auto_topup_mode": "target",
            "auto_topup_target": "1,000.00",
            "auto_topup_payment_method": world.r1_card.pk,
        },
    )

    assert response.status_code == 302 and response.url == reverse("account")
    account = Account.objects.get(pk=world.r1.pk)
    assert (account.auto_topup_enabled, account.auto_topup_mode) == (True, "target")
    assert (account.auto_topup_threshold, account.auto_topup_target) == (D("100.00"), D("1000"))
    assert account.auto_topup_payment_method_id == world.r1_card.pk
    page = client.get(reverse("account")).content.decode()
    assert 'data-field="auto_topup_target">1,000.00 USD<' in page


def test_a_target_below_the_threshold_is_a_form_error_and_nothing_is_saved(world, login):
    client = login(world.r1_user)
    response = client.post(
        URL,
        {
            "auto_topup_enabled": "on",
            "auto_topup_threshold": "100.00",
            "auto_topup_mode": "target",
            "auto_topup_target": "50.00",
        },
    )
    assert response.status_code == 200
    assert "above the threshold" in response.context["form"].errors["auto_topup_target"][0]
    assert not Account.objects.get(pk=world.r1.pk).auto_topup_enabled


def test_only_a_resellers_own_users_reach_it(world, login):
    assert login(world.c1_user).get(URL).status_code == 404
    assert login(world.staff).get(URL).status_code == 302  # staff edit it on the reseller's page
    other = login(world.r2_user)
    response = other.post(
        URL,
        {"auto_topup_enabled": "on", "auto_topup_threshold": "1", "auto_topup_mode": "fixed",
         "auto_topup_amount": "5", "auto_topup_payment_method": world.r1_card.pk},
    )  # fmt: skip
    assert response.status_code == 200  # r1's card is no choice of r2's
    assert "auto_topup_payment_method" in response.context["form"].errors
    assert not Account.objects.get(pk=world.r1.pk).auto_topup_enabled


def test_the_page_tells_where_the_automatic_top_up_stands(world, login):
    TestGateway.reset()
    declined = f.card(world.r1, token="tok_decline_panel")
    account_update_financials(
        account=world.r1,
        acting_user=None,
        auto_topup_enabled=True,
        auto_topup_threshold=D("900.00"),  # available credit with credit balance: 829.50
        auto_topup_amount=D("100.00"),
        auto_topup_payment_method=declined,
    )
    client = login(world.r1_user)
    idle = client.get(URL).content.decode()
    assert 'data-status="idle"' in idle and "Not below the threshold" in idle

    auto_topup_run(now=NOW)

    page = client.get(URL).content.decode()
    assert 'data-status="retry_scheduled"' in page
    assert "The last attempt failed; the next is due 10 Feb 2026 13:00." in page  # an hour later
    assert 'data-field="auto_topup_last_reason">The card was declined.<' in page
    assert "declined, 100.00 USD on" in page
