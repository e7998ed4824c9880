"""/account/auto-topup/: a reseller's own users set its automatic top-up in the panel (seed 001
§2), to a fixed amount or a target, charged to a card it chooses whatever its usual way of
paying; bad input is a form error with nothing saved; nobody else reaches the page."""

from decimal import Decimal as D

from django.urls import reverse

from resellers.models import Account

URL = "/account/auto-topup/"


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
