"""audit-events/: provider staff read who did what to which account, when and why; filters by
account, action (or its prefix), actor, object and time; everyone else gets 403."""

from billing import ledger
from resellers.models import AuditEvent
from tests import factories as f

URL = "/api/v1/audit-events/"


def _cancelled_invoice(world, account, reason):
    invoice = f.invoice(account, "12.00", world.docs["inv_a"].issue_date)
    ledger.document_cancel(document=invoice, acting_user=world.staff, reason=reason)
    return invoice


def test_staff_read_one_accounts_events_with_who_what_and_why(world, api):
    mine = _cancelled_invoice(world, world.a, "issued twice")
    _cancelled_invoice(world, world.b, "another tenant's")

    body = api(world.staff).get(URL, {"account": world.a.pk, "action": "document.cancel"}).json()

    [row] = body["results"]
    assert (row["account"], row["account_name"]) == (world.a.pk, world.a.name)
    assert (row["action"], row["object_type"], row["object_id"]) == (
        "document.cancel",
        "billing.document",
        str(mine.pk),
    )
    assert row["actor"] == world.staff.username
    assert row["details"]["reason"] == "issued twice"


def test_an_action_prefix_an_actor_and_a_time_window_filter(world, api):
    _cancelled_invoice(world, world.a, "one")
    client = api(world.staff)

    everything = client.get(URL, {"account": world.a.pk}).json()["results"]
    documents = client.get(URL, {"account": world.a.pk, "action": "document."}).json()["results"]
    by_nobody = client.get(URL, {"account": world.a.pk, "actor": "nobody"}).json()["results"]
    long_ago = client.get(URL, {"created_before": "2000-01-01T00:00:00Z"}).json()["results"]

    assert documents and all(r["action"].startswith("document.") for r in documents)
    assert len(everything) >= len(documents)
    assert {r["account"] for r in everything} == {world.a.pk}
    assert by_nobody == [] and long_ago == []
    assert client.get(URL, {"created_after": "not a date"}).status_code == 400


def test_nobody_but_provider_staff_reads_them(world, api):
    event = AuditEvent.objects.filter(account=world.a).first() or AuditEvent.objects.first()
    assert event is not None
    for user in (world.alpha, world.bravo, world.alpha_customer):
        client = api(user)
        assert client.get(URL).status_code == 403
        assert client.get(f"{URL}{event.pk}/").status_code == 403
    assert api().get(URL).status_code in (401, 403)
    assert api(world.staff).get(f"{URL}{event.pk}/").json()["id"] == event.pk
