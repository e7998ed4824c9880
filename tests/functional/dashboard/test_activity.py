"""The provider panel shows an account's activity (audit events) on its page, filterable by
action; no tenant sees it, not even on its own page."""

from django.urls import reverse

from billing import ledger
from tests import factories as f
from tests.functional.dashboard.conftest import JAN1


def _cancel(world, account, reason):
    invoice = f.invoice(account, "9.00", JAN1)
    ledger.document_cancel(document=invoice, acting_user=world.staff, reason=reason)
    return invoice


def test_staff_see_the_accounts_activity_and_filter_it(world, login):
    mine = _cancel(world, world.r1, "sent to the wrong reseller")
    theirs = _cancel(world, world.r2, "reseller two's mistake")
    staff = login(world.staff)

    html = staff.get(reverse("reseller_detail", args=[world.r1.pk])).content.decode()
    activity = html[html.index('id="activity"') :]
    assert "document.cancel" in activity and f"billing.document #{mine.pk}" in activity
    assert "reason: sent to the wrong reseller" in activity
    assert f"#{theirs.pk}" not in activity and "reseller two" not in activity

    url = reverse("reseller_detail", args=[world.r1.pk])
    filtered = staff.get(url, {"act-action": "payment_method."}).content.decode()
    filtered = filtered[filtered.index('id="activity"') :]
    assert "document.cancel" not in filtered


def test_no_tenant_sees_activity_even_on_its_own_page(world, login):
    _cancel(world, world.r1, "a reason staff keep")
    for user, page in ((world.r1_user, reverse("account")), (world.c1_user, reverse("account"))):
        html = login(user).get(page).content.decode()
        assert 'id="activity"' not in html and "a reason staff keep" not in html
    html = login(world.r1_user).get(reverse("own_customer_detail", args=[world.c1.pk]))
    assert 'id="activity"' not in html.content.decode()
