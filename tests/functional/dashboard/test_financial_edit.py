"""The Edit window of a reseller's Financial Information (seed 000)."""

from decimal import Decimal as D

import pytest
from django.urls import reverse

from resellers.models import Account, AuditEvent
from tests.functional.dashboard.helpers import field

pytestmark = pytest.mark.django_db

SNAPSHOT_FIELDS = (
    "credit_terms",
    "credit_limit",
    "payment_terms_days",
    "daily_invoicing",
    "credit_hold",
    "auto_topup_enabled",
    "auto_topup_threshold",
    "auto_topup_amount",
    "auto_topup_payment_method_id",
    "updated_at",
)

CHECKBOXES = ("credit_hold", "auto_topup_enabled")


def snapshot(account):
    return Account.objects.filter(pk=account.pk).values(*SNAPSHOT_FIELDS).get()


def edits(account):
    return AuditEvent.objects.filter(
        action="account.update_financials", object_id=str(account.pk)
    ).count()


def good_data(**overrides):
    data = {
        "credit_terms": "net_terms",
        "credit_limit": "2500.00",
        "payment_terms_days": "45",
        "daily_invoicing": "all",
        "credit_hold": "",
        "auto_topup_enabled": "",
        "auto_topup_threshold": "",
        "auto_topup_amount": "",
        "auto_topup_payment_method": "",
    }
    data.update(overrides)
    # as a browser posts it: an unticked checkbox is absent, an empty text input is ""
    return {k: v for k, v in data.items() if not (k in CHECKBOXES and v == "")}


@pytest.fixture
def staff_client(login, world):
    return login(world.staff)


def edit_url(account):
    return reverse("reseller_edit", args=[account.pk])


def test_edit_form_offers_the_three_modes_with_seed_000s_explanations(staff_client, world):
    response = staff_client.get(edit_url(world.r1))
    assert response.status_code == 200
    html = response.content.decode()
    for value, label in (
        ("prepaid_only", "Prepaid purchases only"),
        ("all", "All purchases"),
        ("disabled", "Disabled"),
    ):
        assert f'<option value="{value}"' in html
        assert label in html
    assert 'value="prepaid_only" selected' in html  # current mode preselected
    assert "pre-paid by a single payment that fully covers the respective order" in html
    assert "Important:" in html
    assert "does not cover orders placed by the reseller itself" in html
    assert "not invoiced daily for any such orders" in html
    # only this account's cards are offered for top-up: only a card is charged online
    assert f'<option value="{world.r1_cash.pk}"' not in html
    assert f'<option value="{world.r1_card.pk}"' in html
    assert f'<option value="{world.r2_card.pk}"' not in html


def test_good_edit_saves_audits_and_redirects_with_a_message(staff_client, world):
    before = edits(world.r1)
    response = staff_client.post(
        edit_url(world.r1),
        good_data(
            credit_hold="on",
            auto_topup_enabled="on",
            auto_topup_threshold="100.00",
            auto_topup_amount="500.00",
            auto_topup_payment_method=str(world.r1_card.pk),
        ),
    )
    assert response.status_code == 302
    assert response.url == reverse("reseller_detail", args=[world.r1.pk])

    r1 = Account.objects.get(pk=world.r1.pk)
    assert r1.daily_invoicing == Account.DailyInvoicing.ALL
    assert r1.credit_limit == D("2500.00")
    assert r1.payment_terms_days == 45
    assert r1.credit_hold is True
    assert r1.auto_topup_enabled is True
    assert (r1.auto_topup_threshold, r1.auto_topup_amount) == (D("100.00"), D("500.00"))
    assert r1.auto_topup_payment_method_id == world.r1_card.pk

    assert edits(world.r1) == before + 1
    event = AuditEvent.objects.filter(
        action="account.update_financials", object_id=str(world.r1.pk)
    ).first()
    assert event.actor_id == world.staff.pk
    assert event.details["daily_invoicing"] == "all"
    assert event.details["credit_limit"] == "2500.00"

    page = staff_client.get(response.url).content.decode()
    assert "Financial information of Alpha Reseller saved." in page
    assert field(page, "daily_invoicing") == "All purchases"
    assert field(page, "credit_limit") == "2,500.00 USD"
    assert field(page, "credit_hold") == "On hold"
    assert field(page, "auto_topup_payment_method") == "Credit card •••• 4242"


@pytest.mark.parametrize(
    ("data", "error_field", "message"),
    [
        (good_data(credit_limit="-1.00"), "credit_limit", "without a sign"),
        (good_data(credit_limit="abc"), "credit_limit", "Enter an amount in digits"),
        (good_data(payment_terms_days="thirty"), "payment_terms_days", "Enter a whole number."),
        (good_data(payment_terms_days="-5"), "payment_terms_days", "cannot be negative"),
        (good_data(auto_topup_amount="lots"), "auto_topup_amount", "Enter an amount in digits"),
        (good_data(auto_topup_amount="0"), "auto_topup_amount", "must be positive"),
        (good_data(auto_topup_threshold="-10"), "auto_topup_threshold", "without a sign"),
        (good_data(daily_invoicing="sometimes"), "daily_invoicing", "Select a valid choice"),
        (good_data(credit_terms="prepaid"), "credit_limit", "A prepaid account has no credit"),
        (
            good_data(auto_topup_enabled="on", auto_topup_amount="50.00"),
            "auto_topup_threshold",
            "needs a threshold and an amount",
        ),
    ],
)
def test_bad_input_shows_the_form_again_and_changes_nothing(
    staff_client, world, data, error_field, message
):
    before, audited = snapshot(world.r1), edits(world.r1)
    response = staff_client.post(edit_url(world.r1), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert error_field in form.errors, form.errors
    assert message in " ".join(form.errors[error_field])
    html = response.content.decode()
    assert "Nothing was saved." in html
    assert f'id="{error_field}-error"' in html
    assert snapshot(world.r1) == before
    assert edits(world.r1) == audited


def test_another_accounts_top_up_method_is_refused(staff_client, world):
    """A tampered POST naming reseller2's card as reseller1's top-up method."""
    before, audited = snapshot(world.r1), edits(world.r1)
    data = good_data(
        auto_topup_enabled="on",
        auto_topup_threshold="100.00",
        auto_topup_amount="500.00",
        auto_topup_payment_method=str(world.r2_card.pk),
    )
    response = staff_client.post(edit_url(world.r1), data)
    assert response.status_code == 200
    assert "auto_topup_payment_method" in response.context["form"].errors
    assert "Select a valid choice" in response.content.decode()
    assert snapshot(world.r1) == before
    assert edits(world.r1) == audited


def test_referral_reseller_cannot_get_daily_invoicing(staff_client, world):
    before = snapshot(world.ref)
    data = good_data(credit_terms="prepaid", credit_limit="0", daily_invoicing="all")
    response = staff_client.post(edit_url(world.ref), data)
    assert response.status_code == 200
    assert "does not apply to referral" in " ".join(
        response.context["form"].errors["daily_invoicing"]
    )
    assert snapshot(world.ref) == before


@pytest.mark.parametrize("who", ["r1_user", "c1_user"])
def test_reseller_user_gets_403_on_its_own_edit_and_nothing_is_saved(login, world, who):
    client = login(getattr(world, who))
    before, audited = snapshot(world.r1), edits(world.r1)
    if who == "r1_user":
        assert client.get(edit_url(world.r1)).status_code == 403
        assert client.post(edit_url(world.r1), good_data()).status_code == 403
    else:  # the customer cannot even see its reseller
        assert client.post(edit_url(world.r1), good_data()).status_code == 404
    assert snapshot(world.r1) == before
    assert edits(world.r1) == audited


def test_reseller_user_gets_404_on_another_tenants_edit(login, world):
    client = login(world.r1_user)
    before = snapshot(world.r2)
    assert client.post(edit_url(world.r2), good_data()).status_code == 404
    assert snapshot(world.r2) == before
