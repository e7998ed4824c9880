"""The General Statistics on a resale reseller's Dashboard (its home page), in seed 004's three
colour-coded columns; the same figures as GET /api/v1/dashboard/statistics/ (one selector);
provider staff see them on a reseller's page and provider-wide on the Billing page; another
tenant's never."""

import datetime
import re

from django.urls import reverse

from tests import factories as f

NINE = (
    "monthly_costs",
    "account_balance",
    "subscriptions_sold",
    "licenses_sold",
    "active_subscriptions",
    "suspended_subscriptions",
    "overdue_payments",
    "credit_limit",
    "available_credit",
)


def shown(html: str) -> dict:
    section = html[html.index('id="general-statistics"') :]
    section = section[: section.index("</section>")]
    return dict(re.findall(r'data-statistic="(\w+)"[^>]*>([^<]*)<', section))


def test_the_reseller_home_page_shows_the_nine_figures_in_three_columns(world, login):
    client = login(world.r1_user)
    html = client.get(reverse("reseller_dashboard")).content.decode()

    figures = shown(html)
    assert set(figures) == set(NINE)
    # conftest: balance -170.50, limit 1,000, available 749.50; nothing issued in February yet
    assert figures["account_balance"].replace("\u2212", "-").startswith("-")
    assert "170.50" in figures["account_balance"]
    assert "749.50" in figures["available_credit"]
    assert "0.00" in figures["monthly_costs"]
    columns = re.findall(r'class="stat-column (blue|red)" aria-label="([^"]+)"', html)
    assert columns == [
        ("blue", "Monthly costs"),
        ("blue", "Account balance"),
        ("red", "Overdue payments"),
    ]
    api = client.get("/api/v1/dashboard/statistics/").json()
    assert api["available_credit"] == "749.50" and api["account_balance"] == "-170.50"


def test_figures_follow_documents_issued_this_month(world, login):
    f.invoice(world.r1, "40.00", datetime.date(2026, 2, 3))
    f.credit_memo(world.r1, "15.00", datetime.date(2026, 2, 4))
    figures = shown(login(world.r1_user).get(reverse("reseller_dashboard")).content.decode())
    assert "25.00" in figures["monthly_costs"]


def test_provider_staff_see_a_resellers_figures_and_the_provider_wide_ones(world, login):
    staff = login(world.staff)
    page = staff.get(reverse("reseller_detail", args=[world.r2.pk])).content.decode()
    assert "600.00" in shown(page)["available_credit"]  # reseller2: 1,000 - 400
    billing = staff.get(reverse("billing")).content.decode()
    assert "provider-wide" in billing[billing.index('id="general-statistics"') :][:400]
    assert set(shown(billing)) == set(NINE)


def test_no_figures_of_another_tenant_nor_for_a_referral_resellers_customer(world, login):
    r2_page = login(world.r2_user).get(reverse("reseller_dashboard")).content.decode()
    assert "170.50" not in shown(r2_page)["account_balance"]
    customer_page = login(world.ref_user).get(reverse("own_customer_detail", args=[world.refc.pk]))
    assert 'id="general-statistics"' not in customer_page.content.decode()
    assert login(world.r1_user).get(reverse("reseller_detail", args=[world.r2.pk])).status_code in (
        403,
        404,
    )


def test_the_dashboard_is_a_resale_resellers_home_page_and_nobody_elses(world, login):
    client = login(world.r1_user)
    assert client.get("/").url == reverse("reseller_dashboard")
    html = client.get(reverse("reseller_dashboard")).content.decode()
    assert f'<a href="{reverse("reseller_dashboard")}" aria-current="page">Dashboard</a>' in html
    assert 'id="product-mix"' in html and 'id="pending-approval"' in html
    # My account keeps the documents and customers, not the dashboard's figures
    account = client.get(reverse("account")).content.decode()
    assert 'id="general-statistics"' not in account and 'id="pending-approval"' not in account
    assert world.docs.r1_inv2.display_number in account

    for user in (world.ref_user, world.c1_user, world.staff):
        other = login(user)
        assert other.get(reverse("reseller_dashboard")).status_code == 404
        assert ">Dashboard</a>" not in other.get("/", follow=True).content.decode()
    assert login(world.c1_user).get("/").url == reverse("account")


def test_the_page_queries_do_not_grow_with_the_documents(
    world, login, django_assert_max_num_queries
):
    client = login(world.r1_user)
    client.get(reverse("reseller_dashboard"))
    with django_assert_max_num_queries(40) as before:
        client.get(reverse("reseller_dashboard"))
    for day in range(1, 9):
        f.invoice(world.r1, "1.00", datetime.date(2026, 2, day))
    with django_assert_max_num_queries(len(before.captured_queries)):
        client.get(reverse("reseller_dashboard"))


def test_the_product_mix_widget_shows_the_chart_and_the_same_figures_as_a_table(world, login):
    client = login(world.r1_user)
    html = client.get(reverse("reseller_dashboard"), {"mix-period": "last_month"}).content.decode()

    widget = html[html.index('id="product-mix"') :]
    widget = widget[: widget.index("</section>")]
    # January: INV 100.00 and 250.50 made by hand ("Other"); the credit memo is no purchase
    assert 'data-product="Other"' in widget and "350.50" in widget and "100.0 %" in widget
    chart_url = re.search(r'<img class="mix-chart" src="([^"]+)"', widget).group(1)
    assert "mix-period=last_month" in chart_url.replace("&amp;", "&")
    chart = client.get(chart_url.replace("&amp;", "&"))
    assert chart.status_code == 200 and chart["Content-Type"] == "image/svg+xml"
    svg = chart.content.decode()
    assert "<svg" in svg and "Other (100.0 %)" in svg
    assert "<script" not in svg  # no tooltips script, nothing from a CDN
    assert "'unsafe-inline'" in chart["Content-Security-Policy"]  # pygal's own styles
    dashboard = reverse("reseller_dashboard")
    assert "'unsafe-inline'" not in client.get(dashboard)["Content-Security-Policy"]
    exported = client.get(
        dashboard, {"mix-period": "last_month", "_export": "csv", "_table": "mixt-"}
    ).content.decode("utf-8-sig")
    assert exported.splitlines()[1:] == ["Other,,,350.50,1.0000"]


def test_the_chart_answers_404_outside_the_users_scope(world, login):
    url = reverse("product_mix_chart")
    assert login(world.r2_user).get(url, {"account": world.r1.pk}).status_code == 404
    assert login(world.ref_user).get(url, {"account": world.refc.pk}).status_code == 404
    assert login(world.r2_user).get(url, {"account": "x"}).status_code == 404
    assert login(world.staff).get(url, {"account": world.r1.pk}).status_code == 200
