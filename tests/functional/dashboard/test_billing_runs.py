"""Billing runs in the provider panel: /billing/runs/ (the runs, the form that starts one, a dry
run) and /billing/runs/<pk>/ (figures, chunks, failures; running and stalled runs).

The world is tests.factories.billing.world(): reseller R with customer C, subscribed on
2026-01-01 to Cloud Suite (10.00 to R, 15.00 to C), so the billing-date run for 2026-02-01
invoices both. The panel's clock is 2026-02-10 (conftest.py).

Celery: the panel calls `run_start` with `inline=None`, which reads CELERY_TASK_ALWAYS_EAGER
when it is called. Eager mode is off in the test settings (tests that need a task start a real
worker), and with it off the run would be queued for workers that do not run here; so the tests
that start a run turn eager mode on (`eager`), and the chunks run in the request.
"""

import datetime
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import (
    BillingRun,
    BillingRunFailure,
    Document,
    DocumentLine,
    ResellerTransaction,
)
from billing.runs import run_start
from tests import factories as f
from tests.factories import billing as bf
from tests.factories import taxes as t
from tests.factories.billing import d
from tests.threads import run_together

pytestmark = pytest.mark.django_db
FEB1 = d("2026-02-01")
RUNS = "/billing/runs/"


@pytest.fixture
def eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def w():
    w = bf.world()
    bf.subscribe(w, today=d("2026-01-01"))
    return w


@pytest.fixture
def staff(client, w):
    client.force_login(w.staff)
    return client


def start(client, *, kind="billing", run_date="2026-02-01", dry_run=False, key=None):
    data = {"kind": kind, "run_date": run_date, "submission_key": key or uuid.uuid4().hex}
    if dry_run:
        data["dry_run"] = "on"
    return client.post(RUNS, data)


def written() -> dict:
    """Everything a run writes, counted."""
    return {
        "runs": BillingRun.objects.count(),
        "documents": Document.objects.count(),
        "lines": DocumentLine.objects.count(),
        "charges": ResellerTransaction.objects.count(),
        "invoiced": ResellerTransaction.objects.filter(status="invoiced").count(),
    }


def failing_tax_engine(w, settings) -> None:
    """R taxes its customers through AvaTax, then AvaTax is uninstalled: computing C's tax
    raises TaxEngineError ("not installed") before any request, and the run records it."""
    settings.TAX_ENGINES = {
        "avatax": {
            "url": "http://127.0.0.1:9",
            "account_id": "1",
            "license_key": "x",
            "company_code": "DEFAULT",
        }
    }
    t.profile(w.customer, "US-CA")
    t.rule(w.reseller, "*", method="avatax", engine_account=t.engine_account(w.reseller))
    settings.TAX_ENGINES = {}


def make_run(**fields) -> BillingRun:
    """A run row for display tests; `started_at` may be set (auto_now_add ignores it)."""
    started_at = fields.pop("started_at", None)
    run = BillingRun.objects.create(**{"kind": "billing", "run_date": FEB1, **fields})
    if started_at is not None:
        BillingRun.objects.filter(pk=run.pk).update(started_at=started_at)
        run.refresh_from_db()
    return run


# --- starting a run ---------------------------------------------------------------------------


def test_staff_start_a_run_and_it_issues_the_invoices(staff, w, eager):
    response = start(staff)

    run = BillingRun.objects.get()
    assert response.status_code == 302 and response.url == f"/billing/runs/{run.pk}/"
    assert (run.kind, run.run_date, run.trigger, run.started_by) == (
        "billing",
        FEB1,
        "panel",
        w.staff,
    )
    assert (run.status, run.invoices_issued, run.accounts_invoiced) == ("completed", 2, 2)
    invoices = Document.objects.filter(billing_key="billing:2026-02-01", status="issued")
    assert {i.recipient for i in invoices} == {w.reseller, w.customer}

    page = staff.get(response.url)
    html = page.content.decode()
    assert page.status_code == 200 and "Refresh" not in page
    assert "Completed" in html and f"Started run #{run.pk}" in html
    assert 'data-figure="invoices_issued">2<' in html
    assert "No failures." in html


def test_a_resubmitted_form_starts_one_run(staff, w, eager):
    key = uuid.uuid4().hex
    first = start(staff, key=key)
    second = start(staff, key=key)  # a double click, a reload, the back button

    run = BillingRun.objects.get()
    assert first.url == second.url == f"/billing/runs/{run.pk}/"
    assert "already sent" in staff.get(second.url).content.decode()
    # Another rendered form is another run (which finds nothing left to issue).
    start(staff)
    assert BillingRun.objects.count() == 2
    assert Document.objects.filter(billing_key="billing:2026-02-01").count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_racing_posts_of_one_form_start_one_run(eager):
    w = bf.world()
    bf.subscribe(w, today=d("2026-01-01"))
    first = Client()
    first.force_login(w.staff)
    second = Client()
    second.cookies = first.cookies  # the same browser session, two tabs or a double click
    key = uuid.uuid4().hex

    results, errors = run_together(2, lambda i: start((first, second)[i], key=key))

    assert errors == []
    assert [r.status_code for r in results] == [302, 302]
    run = BillingRun.objects.get()
    assert run.invoices_issued == 2
    assert {r.url for r in results} <= {f"/billing/runs/{run.pk}/", RUNS}


def test_a_dry_run_shows_the_invoices_and_writes_nothing(staff, w, eager):
    before = written()

    response = start(staff, dry_run=True)

    assert response.status_code == 200
    assert written() == before
    html = response.content.decode()
    assert "nothing was written" in html
    assert html.count('class="card planned-invoice"') == 2
    assert "Customer C" in html and "Reseller R" in html
    # R: its order (10.00) and its customer's renewal from Feb 1 at cost (10.00).
    # C: its order's first period (15.00) and the renewal from Feb 1 (15.00), with its period.
    assert 'data-figure="lines">4<' in html and 'data-figure="amounts">50.00 USD<' in html
    # The stored end is exclusive (Mar 1): the period reads to its last day, as on the invoice.
    assert '<td>Cloud Suite</td><td class="period">1 Feb 2026 \u2013 28 Feb 2026</td>' in html
    assert "2026-03-01" not in html
    assert "30.00 USD, due 3 Mar 2026" in html
    assert 'id="start-for-real"' in html  # the same run, for real, one click away


def test_a_dry_run_may_look_ahead_but_a_run_may_not(staff, w, eager):
    ahead = start(staff, run_date="2026-03-01", dry_run=True)
    html = ahead.content.decode()
    assert ahead.status_code == 200 and 'id="start-for-real"' not in html
    assert "A run on that date would issue" in html and "for this date now" not in html
    assert "1 Mar 2026 is in the future, so the run cannot be started yet" in html

    refused = start(staff, run_date="2026-03-01")

    assert refused.status_code == 200
    assert "is in the future" in refused.context["start_form"].errors["run_date"][0]
    assert BillingRun.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"run_date": "2026-13-01"}, "run_date"),
        ({"run_date": "yesterday"}, "run_date"),
        ({"run_date": ""}, "run_date"),
        ({"kind": "weekly"}, "kind"),
    ],
)
def test_bad_input_is_a_form_error_and_starts_nothing(staff, w, eager, data, field):
    response = start(staff, **data)

    assert response.status_code == 200
    assert field in response.context["start_form"].errors
    assert "No run was started." in response.content.decode()
    assert BillingRun.objects.count() == 0


# --- a run's page -----------------------------------------------------------------------------


def test_a_runs_page_lists_the_invoices_it_issued(staff, w):
    run = run_start(run_date=FEB1, inline=True)
    r_invoice = Document.objects.get(billing_run=run, recipient=w.reseller)
    c_invoice = Document.objects.get(billing_run=run, recipient=w.customer)
    by_hand = f.invoice(w.reseller, "5.00", FEB1)  # no run issued it

    response = staff.get(f"/billing/runs/{run.pk}/")

    table = response.context["documents_table"]
    assert {row.record.pk for row in table.paginated_rows} == {r_invoice.pk, c_invoice.pk}
    assert table.paginator.per_page == 25
    html = response.content.decode()
    for invoice, recipient_url in [
        (r_invoice, f"/billing/resellers/{w.reseller.pk}/"),
        (c_invoice, f"/billing/customers/{w.customer.pk}/"),
    ]:
        row = html.split(f'data-document="{invoice.pk}"', 1)[1].split("</tr>", 1)[0]
        assert f'href="/documents/{invoice.pk}/"' in row and invoice.display_number in row
        assert f'href="{recipient_url}"' in row
        assert "3 Mar 2026" in row  # due, net 30
    assert "20.00 USD" in html and "30.00 USD" in html
    assert f'data-document="{by_hand.pk}"' not in html


def test_a_run_with_nothing_due_says_so(staff, w):
    run_start(run_date=FEB1, inline=True)
    again = run_start(run_date=FEB1, inline=True)  # everything due was billed by the first
    assert (again.chunks_total, again.status) == (0, "completed")

    html = staff.get(f"/billing/runs/{again.pk}/").content.decode()

    assert "Nothing was due on 1 Feb 2026" in html
    assert 'data-figure="chunks">None<' in html
    assert "0 of 0" not in html and "No chunk has reported yet." not in html


def test_a_reactivation_run_says_it_is_a_catch_up(staff, w):
    run = make_run(status="completed", trigger="reactivation", chunks_total=1, chunks_done=1)

    html = staff.get(f"/billing/runs/{run.pk}/").content.decode()

    assert "Catch-up billing after a subscription was reactivated" in html
    assert "reactivation catch-up" in staff.get(RUNS).content.decode()


def test_the_list_fits_who_started_a_run_under_its_start(staff, w):
    make_run(status="completed", started_by=w.staff, trigger="panel")

    table = staff.get(RUNS).context["table"]

    assert len(table.columns) == 11
    assert {"trigger", "started_by", "finished_at"}.isdisjoint(c.name for c in table.columns)
    assert f"{w.staff.username} · panel" in staff.get(RUNS).content.decode()


def test_a_failing_engine_is_on_the_runs_page_and_the_account_left_unissued(
    staff, w, eager, settings
):
    failing_tax_engine(w, settings)

    response = start(staff)

    run = BillingRun.objects.get()
    assert (run.status, run.failures_count, run.invoices_issued) == ("failed", 1, 1)
    failure = BillingRunFailure.objects.get(run=run)
    assert failure.account == w.customer
    assert not Document.objects.filter(recipient=w.customer, billing_key="billing:2026-02-01")
    html = staff.get(response.url).content.decode()
    assert "Completed with failures" in html
    assert f'data-failure-account="{w.customer.pk}"' in html
    assert f'href="/billing/customers/{w.customer.pk}/"' in html
    assert "not installed" in html
    assert 'id="run-again"' in html and "Run 1 Feb 2026 again" in html
    listing = staff.get(RUNS).content.decode()
    assert f'data-run="{run.pk}"' in listing and '<span class="badge warn">1</span>' in listing

    # Run again (the page's button) while the engine is still down: C fails again, still
    # unissued, and R's invoice is not issued twice.
    start(staff)
    again = BillingRun.objects.latest("id")
    assert (again.status, again.invoices_issued, again.failures_count) == ("failed", 0, 1)
    assert again.failures.get().account == w.customer
    assert Document.objects.filter(billing_key="billing:2026-02-01").count() == 1


def test_a_failure_of_a_whole_chunk_names_the_chunk(staff, w):
    run = make_run(status="failed", chunks_total=1, chunks_done=1, failures_count=1)
    BillingRunFailure.objects.create(run=run, account=None, chunk=1, reason="Chunk 1 failed")
    BillingRunFailure.objects.create(run=run, account=w.reseller, chunk=1, reason="No issuer")

    html = staff.get(f"/billing/runs/{run.pk}/").content.decode()

    assert "The whole chunk 1" in html and "Chunk 1 failed" in html
    assert f'href="/billing/resellers/{w.reseller.pk}/"' in html and "No issuer" in html


def test_a_running_run_shows_its_progress_and_refreshes(staff, w):
    run = make_run(chunks_total=4, chunks_done=1)

    response = staff.get(f"/billing/runs/{run.pk}/")

    assert response["Refresh"] == "5"
    html = response.content.decode()
    assert "Running (1 of 4 chunks)" in html and 'id="running-hint"' in html
    assert 'id="stalled-hint"' not in html and 'id="run-again"' not in html


def test_a_run_silent_for_over_an_hour_reads_stalled(staff, w):
    two_hours_ago = timezone.now() - datetime.timedelta(hours=2)
    run = make_run(chunks_total=4, chunks_done=1, started_at=two_hours_ago)

    response = staff.get(f"/billing/runs/{run.pk}/")

    assert "Refresh" not in response
    html = response.content.decode()
    assert "Stalled / interrupted (1 of 4 chunks)" in html
    assert 'id="stalled-hint"' in html and "Run the date again" in html
    assert 'id="run-again"' in html
    assert "Stalled / interrupted" in staff.get(RUNS).content.decode()


# --- the list ---------------------------------------------------------------------------------


def test_the_list_is_newest_first_and_filters_by_kind_and_date(staff, w):
    old = make_run(status="completed", run_date=d("2026-01-01"))
    daily = make_run(status="completed", kind="daily", run_date=FEB1)
    new = make_run(
        status="completed",
        run_date=FEB1,
        invoices_issued=3,
        amounts={"USD": "45.00", "EUR": "10.00"},
        started_by=w.staff,
    )

    def shown(query=""):
        table = staff.get(RUNS + query).context["table"]
        return [row.record.pk for row in table.paginated_rows]

    assert shown() == [new.pk, daily.pk, old.pk]
    assert shown("?kind=daily") == [daily.pk]
    assert shown("?run_date=2026-02-01") == [new.pk, daily.pk]
    assert shown("?kind=billing&run_date=2026-01-01") == [old.pk]
    html = staff.get(RUNS).content.decode()
    assert "10.00 EUR; 45.00 USD" in html and w.staff.username in html
    bad = staff.get(RUNS + "?run_date=soon")
    assert bad.status_code == 200 and 'id="filter-error"' in bad.content.decode()


def test_the_list_pages_and_offers_the_form(staff, w):
    for day in range(1, 28):
        make_run(status="completed", run_date=datetime.date(2026, 1, day))

    first = staff.get(RUNS)

    assert len(first.context["table"].paginated_rows) == 25
    html = first.content.decode()
    assert 'rel="next"' in html and "27 in all" in html
    assert 'name="submission_key"' in html and 'value="2026-02-10"' in html  # today by default
    assert 'href="/billing/runs/"' in staff.get("/billing/").content.decode()  # in the nav


# --- who may --------------------------------------------------------------------------------------


@pytest.fixture
def others(w):
    """Users of every other kind: R's, C's, and a second tenant's reseller and customer."""
    other = f.reseller(name="Other Reseller")
    return [
        w.reseller_user,
        f.user(account=w.customer),
        f.user(account=other),
        f.user(account=f.customer(parent=other, name="Other Customer")),
    ]


def test_nobody_but_provider_staff_sees_or_starts_runs(client, w, others, eager):
    run = make_run(status="completed")
    BillingRunFailure.objects.create(run=run, account=w.customer, chunk=1, reason="x")
    for user in others:
        client.force_login(user)
        assert client.get(RUNS).status_code == 403
        assert client.get(f"/billing/runs/{run.pk}/").status_code == 403
        assert start(client).status_code == 403
        assert start(client, dry_run=True).status_code == 403
    assert BillingRun.objects.count() == 1
    assert not Document.objects.filter(billing_key="billing:2026-02-01").exists()


def test_anonymous_users_go_to_login(client, w):
    run = make_run()
    for response in (client.get(RUNS), client.get(f"/billing/runs/{run.pk}/"), start(client)):
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert BillingRun.objects.count() == 1


def test_an_unknown_run_is_404(staff, w):
    assert staff.get("/billing/runs/999999/").status_code == 404
