"""`billing-runs/`: provider staff list and read runs (figures, chunks, failures), start one
(POST; 201 finished, 202 still running on the workers) or ask what it would issue (`dry_run`,
200, nothing written). Everybody else: 403 on every method.

The world is tests.factories.billing.world(): reseller R with customer C, subscribed on
2026-01-01 to Cloud Suite, so the billing-date run for 2026-02-01 invoices both. The clock is
frozen at 2026-02-10.

Celery: the API calls `run_start` with `inline=None`, which reads CELERY_TASK_ALWAYS_EAGER when
it is called. Eager mode is off in the test settings, and no worker runs here, so the tests that
start a run turn it on (`eager`) and the chunks run in the request (201).
"""

import datetime

import pytest
import time_machine

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
from tests.functional.api.conftest import ids

pytestmark = pytest.mark.django_db
URL = "/api/v1/billing-runs/"
FEB1 = d("2026-02-01")


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(datetime.datetime(2026, 2, 10, 12, tzinfo=datetime.UTC), tick=True):
        yield


@pytest.fixture
def eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def w():
    w = bf.world()
    bf.subscribe(w, today=d("2026-01-01"))
    return w


@pytest.fixture
def staff(api, w):
    return api(w.staff)


def written() -> dict:
    return {
        "runs": BillingRun.objects.count(),
        "documents": Document.objects.count(),
        "lines": DocumentLine.objects.count(),
        "charges": ResellerTransaction.objects.count(),
        "invoiced": ResellerTransaction.objects.filter(status="invoiced").count(),
    }


def failing_tax_engine(w, settings) -> None:
    """R taxes its customers through AvaTax, then AvaTax is uninstalled: C's tax fails."""
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
    return BillingRun.objects.create(**{"kind": "billing", "run_date": FEB1, **fields})


# --- starting a run ---------------------------------------------------------------------------


def test_staff_start_a_run_and_it_issues_the_invoices(staff, w, eager):
    response = staff.post(URL, {"kind": "billing", "run_date": "2026-02-01"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    run = BillingRun.objects.get()
    assert response["Location"] == f"{URL}{run.pk}/"
    assert body["id"] == run.pk
    assert {k: body[k] for k in ("kind", "run_date", "status", "trigger", "started_by")} == {
        "kind": "billing",
        "run_date": "2026-02-01",
        "status": "completed",
        "trigger": "api",
        "started_by": w.staff.username,
    }
    # two phases: the customer's chunk, then the reseller's (its billing order carries the
    # customer's February at cost)
    assert (body["chunks_done"], body["chunks_total"], body["accounts_total"]) == (2, 2, 2)
    assert (body["invoices_issued"], body["accounts_invoiced"]) == (2, 2)
    assert body["amounts"] == {"USD": "50.00"}
    assert body["failures"] == [] and body["failures_count"] == 0 and body["stalled"] is False
    assert [c["number"] for c in body["chunks"]] == [1, 2]
    invoices = Document.objects.filter(billing_key="billing:2026-02-01", status="issued")
    assert {i.recipient for i in invoices} == {w.reseller, w.customer}


def test_the_daily_invoicing_run_starts_too(staff, w, eager):
    response = staff.post(URL, {"kind": "daily", "run_date": "2026-02-01"}, format="json")

    assert response.status_code == 201
    assert response.json()["kind"] == "daily"
    assert BillingRun.objects.get().kind == "daily"


def test_a_run_still_running_on_the_workers_answers_202(staff, w, monkeypatch):
    running = make_run(chunks_total=3)
    monkeypatch.setattr("billing.api_runs.run_start", lambda **kwargs: running)

    response = staff.post(URL, {"run_date": "2026-02-01"}, format="json")

    assert response.status_code == 202
    assert response["Location"] == f"{URL}{running.pk}/"
    body = response.json()
    assert (body["status"], body["chunks_done"], body["chunks_total"]) == ("running", 0, 3)


def test_a_dry_run_answers_the_invoices_and_writes_nothing(staff, w, eager):
    before = written()

    response = staff.post(URL, {"run_date": "2026-02-01", "dry_run": True}, format="json")

    assert response.status_code == 200, response.content
    assert written() == before
    body = response.json()
    assert (body["dry_run"], body["kind"], body["run_date"]) == (True, "billing", "2026-02-01")
    assert (body["accounts_due"], body["lines"], body["amounts"]) == (2, 4, {"USD": "50.00"})
    invoices = {i["account"]["name"]: i for i in body["invoices"]}
    assert set(invoices) == {"Reseller R", "Customer C"}
    customer = invoices["Customer C"]
    assert customer["account"]["id"] == w.customer.pk
    # each issuer numbers its own documents: the dry run says whose each invoice would be
    assert customer["issuer"] == {"id": w.reseller.pk, "name": "Reseller R"}
    assert invoices["Reseller R"]["issuer"] == {"id": w.provider.pk, "name": w.provider.name}
    assert (customer["total"], customer["currency"], customer["due_date"]) == (
        "30.00",
        "USD",
        "2026-03-03",
    )
    renewal = next(line for line in customer["lines"] if line["description"] == "Cloud Suite")
    assert renewal == {
        "description": "Cloud Suite",
        "period_start": "2026-02-01",
        "period_end": "2026-03-01",
        "quantity": "1.0000",
        "amount": "15.00",
        "tax": "0.00",
    }
    assert body["failures"] == []

    # ...and the run agrees with it.
    run = staff.post(URL, {"run_date": "2026-02-01"}, format="json").json()
    assert run["amounts"] == body["amounts"] and run["charges_invoiced"] == body["lines"]


def test_a_dry_run_names_the_accounts_it_would_fail(staff, w, settings):
    failing_tax_engine(w, settings)

    response = staff.post(URL, {"run_date": "2026-02-01", "dry_run": True}, format="json")

    [failure] = response.json()["failures"]
    assert failure["account"] == {"id": w.customer.pk, "name": "Customer C"}
    assert "not installed" in failure["reason"]
    assert BillingRun.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"run_date": "2026-13-01"}, "run_date"),
        ({"run_date": "01/02/2026"}, "run_date"),
        ({}, "run_date"),
        ({"run_date": "2026-03-01"}, "run_date"),  # the future: a run bills up to its date
        ({"run_date": "2026-02-01", "kind": "weekly"}, "kind"),
        ({"run_date": "2026-02-01", "kind": "weekly", "dry_run": True}, "kind"),
    ],
)
def test_bad_input_answers_400_naming_the_field(staff, w, eager, body, field):
    response = staff.post(URL, body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert isinstance(response.json()[field], list)
    assert BillingRun.objects.count() == 0


def test_a_dry_run_may_look_ahead(staff, w):
    response = staff.post(URL, {"run_date": "2026-03-01", "dry_run": True}, format="json")
    assert response.status_code == 200 and response.json()["run_date"] == "2026-03-01"


# --- reading runs -----------------------------------------------------------------------------


def test_a_failing_engine_is_on_the_run_with_its_account(staff, w, eager, settings):
    failing_tax_engine(w, settings)

    response = staff.post(URL, {"run_date": "2026-02-01"}, format="json")

    assert response.status_code == 201
    run_id = response.json()["id"]
    body = staff.get(f"{URL}{run_id}/").json()
    assert (body["status"], body["failures_count"], body["invoices_issued"]) == ("failed", 1, 1)
    [failure] = body["failures"]
    assert failure["account"] == {"id": w.customer.pk, "name": "Customer C"}
    assert failure["chunk"] == 1 and "not installed" in failure["reason"]
    assert not Document.objects.filter(recipient=w.customer, billing_key="billing:2026-02-01")
    listed = staff.get(URL).json()["results"]
    assert [(r["id"], r["failures_count"]) for r in listed] == [(run_id, 1)]
    assert "failures" not in listed[0]  # the list carries the count; the run, its failures


def test_a_whole_chunk_s_failure_has_no_account(staff, w):
    run = make_run(status="failed", chunks_total=1, chunks_done=1, failures_count=1)
    BillingRunFailure.objects.create(run=run, account=None, chunk=1, reason="Chunk 1 failed")

    body = staff.get(f"{URL}{run.pk}/").json()

    assert body["failures"] == [{"account": None, "chunk": 1, "reason": "Chunk 1 failed"}]


def test_the_list_is_newest_first_and_filters(staff, w):
    old = make_run(status="completed", run_date=d("2026-01-01"))
    daily = make_run(status="completed", kind="daily")
    running = make_run(chunks_total=2, chunks_done=1)

    def ids(query=""):
        response = staff.get(URL + query)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [running.pk, daily.pk, old.pk]
    assert ids("?kind=daily") == [daily.pk]
    assert ids("?run_date=2026-02-01") == [running.pk, daily.pk]
    assert ids("?status=running") == [running.pk]
    assert ids("?kind=billing&status=completed") == [old.pk]
    assert staff.get(URL + "?kind=weekly").status_code == 400


def test_a_run_silent_for_over_an_hour_is_stalled(staff, w):
    run = make_run(chunks_total=4, chunks_done=1)
    fresh = make_run(chunks_total=4, chunks_done=1)
    BillingRun.objects.filter(pk=run.pk).update(
        started_at=datetime.datetime(2026, 2, 10, 9, tzinfo=datetime.UTC)
    )

    stalled = {r["id"]: r["stalled"] for r in staff.get(URL).json()["results"]}

    assert stalled == {run.pk: True, fresh.pk: False}
    body = staff.get(f"{URL}{run.pk}/").json()
    assert (body["status"], body["stalled"], body["duration_seconds"]) == ("running", True, None)


def test_an_unknown_run_is_404(staff, w):
    assert staff.get(f"{URL}999999/").status_code == 404


# --- who may ----------------------------------------------------------------------------------


def test_nobody_but_provider_staff_reads_or_starts_runs(api, w, eager):
    run = make_run(status="completed")
    other = f.reseller(name="Other Reseller")
    users = [
        w.reseller_user,
        f.user(account=w.customer),
        f.user(account=other),  # a second tenant
        f.user(account=f.customer(parent=other, name="Other Customer")),
    ]
    for user in users:
        client = api(user)
        assert client.get(URL).status_code == 403
        assert client.get(f"{URL}{run.pk}/").status_code == 403
        assert client.get(f"{URL}999999/").status_code == 403  # the same for any id
        for body in ({"run_date": "2026-02-01"}, {"run_date": "2026-02-01", "dry_run": True}):
            assert client.post(URL, body, format="json").status_code == 403
    assert api().get(URL).status_code == 401
    assert api().post(URL, {"run_date": "2026-02-01"}, format="json").status_code == 401
    assert BillingRun.objects.count() == 1
    assert not Document.objects.filter(billing_key="billing:2026-02-01").exists()


# --- the documents a run issued: /documents/?billing_run=&billing_key= ------------------------


DOCUMENTS = "/api/v1/documents/"


@pytest.fixture
def issued(w):
    """The run of Feb 1 really run: it invoices R and C, and a second tenant (reseller O, with a
    subscription of its own), in one run."""
    (w.other,) = bf.resellers_with_subscriptions(1, today=d("2026-01-01"))
    w.other_user = f.user(account=w.other)
    w.run = run_start(run_date=FEB1, inline=True)
    w.docs = {doc.recipient_id: doc.pk for doc in Document.objects.filter(billing_run=w.run)}
    assert set(w.docs) == {w.reseller.pk, w.customer.pk, w.other.pk}
    return w


def test_documents_filter_by_the_run_that_issued_them(api, w, issued):
    f.invoice(w.reseller, "5.00", FEB1)  # issued by hand, by no run
    earlier = run_start(run_date=d("2026-01-15"), inline=True)

    response = api(w.staff).get(DOCUMENTS, {"billing_run": w.run.pk})

    assert response.status_code == 200
    assert ids(response) == set(w.docs.values())
    assert ids(api(w.staff).get(DOCUMENTS, {"billing_run": earlier.pk})) == set()
    by_key = api(w.staff).get(DOCUMENTS, {"billing_key": "billing:2026-02-01"})
    assert ids(by_key) == set(w.docs.values())
    assert ids(api(w.staff).get(DOCUMENTS, {"billing_key": "billing:2026-02"})) == set()  # exact


def test_a_tenant_filtering_by_a_run_sees_only_its_own_documents(api, w, issued):
    mine = {w.docs[w.reseller.pk], w.docs[w.customer.pk]}  # R's own invoice and its customer's

    assert ids(api(w.reseller_user).get(DOCUMENTS, {"billing_run": w.run.pk})) == mine
    assert ids(api(w.other_user).get(DOCUMENTS, {"billing_run": w.run.pk})) == {w.docs[w.other.pk]}
    customer = f.user(account=w.customer)
    assert ids(api(customer).get(DOCUMENTS, {"billing_key": "billing:2026-02-01"})) == {
        w.docs[w.customer.pk]
    }
    # A tenant with no document in the run sees nothing of the others'.
    stranger = f.user(account=f.reseller(name="Stranger"))
    assert ids(api(stranger).get(DOCUMENTS, {"billing_run": w.run.pk})) == set()


def test_a_bad_run_id_is_a_400(staff, w):
    response = staff.get(DOCUMENTS, {"billing_run": "run-1"})
    assert response.status_code == 400 and "billing_run" in response.json()


def test_the_run_filters_are_in_the_schema(api, w):
    schema = api().get("/api/v1/schema/?format=json").json()

    parameters = schema["paths"][DOCUMENTS]["get"]["parameters"]
    by_name = {p["name"]: p for p in parameters}
    assert by_name["billing_run"]["schema"]["type"] == "integer"
    assert by_name["billing_key"]["schema"]["type"] == "string"
