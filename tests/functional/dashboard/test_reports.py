"""Seed 003 in the panels: the provider's Reports page (sales, payouts with Mark paid,
acquisitions; a period filter; each table exports as CSV), the commission rate on a referral
reseller's page, a referral reseller's own payout statement and acquired customers, and the
public sign-up page with a reseller code. Tenants never reach the provider's pages."""

import csv
import datetime
import io
from decimal import Decimal

from django.urls import reverse

from billing.models import ReferralPayout
from resellers.models import Account, AuditEvent
from tests import factories as f

JANUARY = {"period_start": "2026-01-01", "period_end": "2026-01-31"}


def _paid_referral_sales(world):
    """The referral customer pays its 80.00 invoice; the partner earns 10 %."""
    f.payment(world.refc, "80.00", datetime.date(2026, 1, 20), apply_to=[world.docs.refc_inv])
    Account.objects.filter(pk=world.ref.pk).update(commission_rate=Decimal("0.1000"))


def test_the_reports_page_shows_sales_payouts_and_acquisitions(world, login):
    _paid_referral_sales(world)
    staff = login(world.staff)

    html = staff.get(reverse("reports"), JANUARY).content.decode()

    sales = html[html.index('id="sales-report"') :]
    assert world.r1.name in sales and world.ref.name in sales
    payouts = html[html.index('id="payouts-report"') :]
    payouts = payouts[: payouts.index("</table>")]
    assert world.ref.name in payouts and "80.00" in payouts and "8.00" in payouts
    assert "10.0 %" in payouts
    assert f'id="mark-paid-{world.ref.pk}"' in html
    exported = staff.get(reverse("reports"), {**JANUARY, "_export": "csv", "_table": "pay-"})
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[1][:4] == [world.ref.name, "80.00", "0.1000", "8.00"]
    for table in ("sales-", "acq-"):
        response = staff.get(reverse("reports"), {**JANUARY, "_export": "csv", "_table": table})
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")


def test_mark_a_payout_paid_once_with_a_reference(world, login):
    _paid_referral_sales(world)
    staff = login(world.staff)
    form = {"reseller": world.ref.pk, **JANUARY, "reference": "SEPA 2026-01"}

    response = staff.post(reverse("payout_paid"), form, follow=True)

    assert "marked paid" in response.content.decode()
    payout = ReferralPayout.objects.get()
    assert (payout.amount, payout.reference, payout.paid_by) == (
        Decimal("8.00"),
        "SEPA 2026-01",
        world.staff,
    )
    again = staff.post(reverse("payout_paid"), form, follow=True).content.decode()
    assert "payout was marked paid on" in again
    assert ReferralPayout.objects.count() == 1
    assert AuditEvent.objects.filter(action="referral_payout.paid").count() == 1
    for user in (world.r1_user, world.ref_user):
        assert login(user).post(reverse("payout_paid"), form).status_code == 403
        assert login(user).get(reverse("reports")).status_code == 403


def test_staff_set_the_commission_rate_on_the_referral_resellers_page(world, login):
    staff = login(world.staff)
    page = staff.get(reverse("reseller_detail", args=[world.ref.pk])).content.decode()
    assert 'id="commission"' in page
    assert (
        'id="commission"'
        not in staff.get(reverse("reseller_detail", args=[world.r1.pk])).content.decode()
    )

    staff.post(reverse("reseller_commission", args=[world.ref.pk]), {"percent": "12.5"})

    world.ref.refresh_from_db()
    assert world.ref.commission_rate == Decimal("0.1250")
    bad = staff.post(reverse("reseller_commission", args=[world.ref.pk]), {"percent": "150"})
    assert bad.status_code == 302
    world.ref.refresh_from_db()
    assert world.ref.commission_rate == Decimal("0.1250")
    assert (
        login(world.ref_user)
        .post(reverse("reseller_commission", args=[world.ref.pk]), {"percent": "90"})
        .status_code
        == 403
    )


def test_a_referral_reseller_sees_its_own_statement_and_who_signed_up(world, login):
    _paid_referral_sales(world)
    client = login(world.ref_user)

    html = client.get(reverse("own_referrals"), JANUARY).content.decode()

    statement = html[html.index('id="payout-statement"') :]
    assert "80.00" in statement and "8.00" in statement and "Not paid yet" in statement
    february = {"period_start": "2026-02-01", "period_end": "2026-02-28"}  # they signed up
    html = client.get(reverse("own_referrals"), february).content.decode()
    acquired = html[html.index('id="acquired"') :]
    assert world.refc.name in acquired
    assert world.c1.name not in html and world.c2.name not in html
    # a resale reseller sees who it brought, without a payout statement
    resale = login(world.r1_user).get(reverse("own_referrals"), february).content.decode()
    assert 'id="payout-statement"' not in resale and world.c1.name in resale
    assert login(world.c1_user).get(reverse("own_referrals")).status_code == 403


def test_a_customer_signs_up_with_a_reseller_code(world, client):
    code = world.ref.reseller_code
    page = client.get(reverse("signup"), {"code": code}).content.decode()
    assert f'value="{code}"' in page

    response = client.post(
        reverse("signup"),
        {
            "name": "Fabrikam",
            "contact_name": "Fay Brik",
            "email": "fay@fabrikam.example",
            "username": "fay",
            "password": "a long enough passphrase",
            "reseller_code": code,
        },
        follow=True,
    )

    account = Account.objects.get(name="Fabrikam")
    assert (account.parent, account.issuer) == (world.ref, world.provider)
    assert response.redirect_chain[-1][0] == reverse("account")
    assert f"brought by {world.ref.name}" in response.content.decode()
    bad = client.post(
        reverse("signup"),
        {
            "name": "Nope",
            "contact_name": "N",
            "email": "n@n.example",
            "username": "nope",
            "password": "a long enough passphrase",
            "reseller_code": "NOT-A-CODE",
        },
    )
    assert bad.status_code == 200 and "No reseller has this code." in bad.content.decode()
    assert not Account.objects.filter(name="Nope").exists()
