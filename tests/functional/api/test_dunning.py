"""GET /api/v1/accounts/{id}/dunning/ and GET|PUT /api/v1/accounts/{id}/dunning-policy/: the
account's own users, its resale reseller and provider staff; the second tenant gets 404."""

import datetime

import pytest
from django.utils import timezone

from billing.dunning import dunning_run
from billing.models import DunningPolicy

pytestmark = pytest.mark.django_db


@pytest.fixture
def dunned(world, settings):
    settings.DUNNING_CREDIT_HOLD_DAYS = 10
    settings.DUNNING_SUSPENSION_DAYS = 20
    dunning_run(today=timezone.localdate())
    return world


def url(account):
    return f"/api/v1/accounts/{account.pk}/dunning/"


def test_the_account_sees_its_stage_since_and_next_step(dunned, api):
    w = dunned
    today = timezone.localdate()
    body = api(w.alpha).get(url(w.a)).json()
    # INV 600.00 of 5 January, due 4 February, 350.00 still open: long past suspension.
    assert body["stage"] == "suspended" and body["credit_hold"] is True
    assert body["since"] == today.isoformat()
    assert body["oldest_due_date"] == "2026-02-04"
    assert body["overdue_amount"] == "350.00" and body["currency"] == "USD"
    assert body["days_overdue"] == (today - datetime.date(2026, 2, 4)).days
    assert body["next_step"] is None  # nothing further: paying is the way back
    assert body["policy"]["credit_hold_days"] == 10


def test_the_next_step_before_the_hold(world, api, settings):
    w = world
    settings.DUNNING_CREDIT_HOLD_DAYS = 400
    settings.DUNNING_SUSPENSION_DAYS = 500
    dunning_run(today=timezone.localdate())
    body = api(w.alpha).get(url(w.a)).json()
    assert body["stage"] == "overdue" and body["credit_hold"] is False
    due = datetime.date(2026, 2, 4) + datetime.timedelta(days=400)
    assert body["next_step"] == {"step": "credit_hold", "on_date": due.isoformat()}


def test_who_sees_an_accounts_dunning(dunned, api):
    w = dunned
    assert api(w.alpha).get(url(w.a1)).status_code == 200  # its own customer
    assert api(w.alpha_customer).get(url(w.a1)).status_code == 200
    assert api(w.staff).get(url(w.a)).status_code == 200
    assert api(w.bravo).get(url(w.a)).status_code == 404  # the second tenant
    assert api(w.bravo).get(url(w.a1)).status_code == 404
    assert api(w.alpha_customer).get(url(w.a)).status_code == 404  # its reseller's
    assert api(w.referral).get(url(w.r1)).status_code == 404  # financial: not a referral's
    assert api().get(url(w.a)).status_code in (401, 403)


def test_a_reseller_sets_its_policy_for_its_customers(world, api):
    w = world
    body = {
        "reminder_days_before": [5, 2],
        "reminder_days_after": [1],
        "credit_hold_days": 7,
        "suspension_days": None,
    }
    response = api(w.alpha).put(f"/api/v1/accounts/{w.a.pk}/dunning-policy/", body, format="json")
    assert response.status_code == 200, response.content
    got = response.json()
    assert got["reminder_days_before"] == [2, 5] and got["suspension_days"] is None
    assert got["effective"]["credit_hold_days"] == 7
    assert got["effective"]["suspension_days"] == 30  # the settings' default
    assert api(w.alpha).get(f"/api/v1/accounts/{w.a.pk}/dunning-policy/").json() == got


def test_policy_bad_input_and_other_tenants(world, api):
    w = world
    path = f"/api/v1/accounts/{w.a.pk}/dunning-policy/"
    empty = {
        "reminder_days_before": None,
        "reminder_days_after": None,
        "credit_hold_days": None,
        "suspension_days": None,
    }
    bad = api(w.alpha).put(path, {**empty, "credit_hold_days": 0}, format="json")
    assert bad.status_code == 400 and "credit_hold_days" in bad.json()
    order = api(w.alpha).put(
        path, {**empty, "credit_hold_days": 20, "suspension_days": 5}, format="json"
    )
    assert order.status_code == 400 and "suspension_days" in str(order.json())
    assert api(w.bravo).put(path, empty, format="json").status_code == 404
    customer = api(w.alpha_customer).put(
        f"/api/v1/accounts/{w.a1.pk}/dunning-policy/", empty, format="json"
    )
    assert customer.status_code == 400  # a customer bills nobody
    assert not DunningPolicy.objects.exists()
    staff = api(w.staff).put(
        f"/api/v1/accounts/{w.provider.pk}/dunning-policy/",
        {**empty, "credit_hold_days": 12},
        format="json",
    )
    assert staff.status_code == 200 and staff.json()["effective"]["credit_hold_days"] == 12
    assert api(w.alpha).get(f"/api/v1/accounts/{w.provider.pk}/dunning-policy/").status_code == 404
