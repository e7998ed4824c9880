"""The dunning pages: /billing/dunning/ (provider staff: accounts by stage, the provider's policy)
and /account/dunning/ (a resale reseller: its customers only, its policy); the account page says
why an account is on credit hold. The second tenant sees none of another's."""

import datetime

import pytest
from django.utils import timezone

from billing.dunning import dunning_run
from billing.models import DunningPolicy, DunningState

pytestmark = pytest.mark.django_db


@pytest.fixture
def dunned(world, settings):
    settings.DUNNING_CREDIT_HOLD_DAYS = 5
    settings.DUNNING_SUSPENSION_DAYS = 30
    dunning_run(today=timezone.localdate())
    return world


def stages(response) -> dict[int, str]:
    html = response.content.decode()
    found = {}
    for chunk in html.split("data-account=")[1:]:
        account = int(chunk.split('"')[1])
        stage = chunk.split('data-stage="')[1].split('"')[0]
        found[account] = stage
    return found


def test_provider_staff_see_every_account_by_stage(dunned, login):
    w = dunned
    expected = dict(
        DunningState.objects.exclude(stage="current").values_list("account_id", "stage")
    )
    assert expected[w.r2.pk] == "credit_hold" and expected[w.c1.pk] == "suspended"
    response = login(w.staff).get("/billing/dunning/")
    assert response.status_code == 200
    assert stages(response) == expected
    html = response.content.decode()
    assert "400.00" in html and "Suspension on" in html  # r2's overdue and its next step
    narrowed = login(w.staff).get("/billing/dunning/?stage=suspended")
    assert set(stages(narrowed)) == {a for a, s in expected.items() if s == "suspended"}


def test_the_provider_page_is_staff_only(dunned, login):
    assert login(dunned.r1_user).get("/billing/dunning/").status_code == 403
    assert login(dunned.c1_user).get("/billing/dunning/").status_code == 403


def test_a_reseller_sees_its_customers_only(dunned, login):
    w = dunned
    response = login(w.r1_user).get("/account/dunning/")
    assert response.status_code == 200
    assert set(stages(response)) == {w.c1.pk}  # not customer2 (reseller2's), not itself
    assert set(stages(login(w.r2_user).get("/account/dunning/"))) <= {w.c2.pk}
    assert login(w.c1_user).get("/account/dunning/").status_code == 404
    assert login(w.ref_user).get("/account/dunning/").status_code == 404


def test_a_reseller_saves_its_policy_and_bad_input_saves_nothing(dunned, login):
    w = dunned
    client = login(w.r1_user)
    bad = client.post(
        "/account/dunning/",
        {"reminder_days_before": "3, soon", "credit_hold_days": "10", "suspension_days": "5"},
    )
    assert bad.status_code == 200 and "Whole numbers of days" in bad.content.decode()
    assert not DunningPolicy.objects.exists()
    wrong_order = client.post(
        "/account/dunning/", {"credit_hold_days": "10", "suspension_days": "5"}
    )
    assert "Suspension comes after the credit hold" in wrong_order.content.decode()
    assert not DunningPolicy.objects.exists()
    ok = client.post(
        "/account/dunning/",
        {"reminder_days_before": "7, 3", "reminder_days_after": "", "credit_hold_days": "10"},
    )
    assert ok.status_code == 302
    policy = DunningPolicy.objects.get(issuer=w.r1)
    assert (policy.reminder_days_before, policy.reminder_days_after) == ([3, 7], None)
    assert (policy.credit_hold_days, policy.suspension_days) == (10, None)


def test_the_account_page_says_why_it_is_held(dunned, login):
    w = dunned
    html = login(w.r2_user).get("/account/").content.decode()
    assert 'id="credit-hold-note"' in html
    assert "Your account is on credit hold" in html and "400.00" in html
    suspension = datetime.date(2026, 1, 31) + datetime.timedelta(days=30)
    assert "If nothing is paid, its subscriptions are suspended on" in html
    assert str(suspension.day) in html
    staff_view = login(w.staff).get(f"/billing/resellers/{w.r2.pk}/").content.decode()
    assert "This account is on credit hold" in staff_view
    assert 'id="credit-hold-note"' not in login(w.r1_user).get("/account/").content.decode()
