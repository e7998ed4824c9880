"""documents/: fields with real amounts, the credit memo that is always closed to resellers,
drafts, and the filters."""

from tests.functional.api.conftest import ids


def test_document_detail_shows_lines_parties_and_amounts_as_strings(world, api):
    inv = world.docs["inv_a"]

    body = api(world.alpha).get(f"/api/v1/documents/{inv.pk}/").json()

    assert body == {
        "id": inv.pk,
        "number": "INV-000001",
        "type": "invoice",
        "status": "issued",
        "issuer": {"id": world.provider.pk, "name": "Cloud Distributor"},
        "recipient": {"id": world.a.pk, "name": "Alpha Reseller"},
        "currency": "USD",
        "issue_date": "2026-01-05",
        "due_date": "2026-02-04",  # 30-day terms
        "subtotal": "600.00",
        "tax_total": "0.00",
        "total": "600.00",
        "open_amount": "350.00",  # 250 of the payment applied
        "reference": "",
        "billing_key": "",  # issued by hand, not by a run
        "billing_run": None,
        "lines": [
            {
                "position": 1,
                "description": "invoice line",
                "quantity": "1.0000",
                "unit_price": "600.0000",
                "amount": "600.00",
                "tax_rate": "0.0000",
                "tax_amount": "0.00",
                "period_start_date": None,
                "period_end_date": None,
            }
        ],
    }


def test_customer_documents_are_numbered_by_their_issuer(world, api):
    body = api(world.alpha_customer).get(f"/api/v1/documents/{world.docs['inv_a1'].pk}/").json()
    assert body["number"] == "INV-000001"  # Alpha's first invoice
    assert body["issuer"] == {"id": world.a.pk, "name": "Alpha Reseller"}
    assert (body["total"], body["open_amount"], body["status"]) == ("80.00", "50.00", "issued")
    payment = api(world.alpha_customer).get(f"/api/v1/documents/{world.docs['pay_a1'].pk}/")
    assert (payment.json()["status"], payment.json()["open_amount"]) == ("closed", "0.00")


def test_a_credit_memo_is_always_closed_to_a_reseller(world, api):
    cm = world.docs["cm_a"]

    to_reseller = api(world.alpha).get(f"/api/v1/documents/{cm.pk}/").json()
    to_staff = api(world.staff).get(f"/api/v1/documents/{cm.pk}/").json()

    assert (to_reseller["type"], to_reseller["status"]) == ("credit_memo", "closed")
    assert to_reseller["open_amount"] == "0.00"  # its value lives in the credit balance
    assert to_reseller["total"] == "100.00"
    assert (to_staff["status"], to_staff["open_amount"]) == ("issued", "100.00")
    # ... and the credit balance does hold it
    reseller = api(world.alpha).get(f"/api/v1/resellers/{world.a.pk}/").json()
    assert reseller["financials"]["credit_balance"] == "100.00"


def test_status_filter_follows_what_the_user_is_shown(world, api):
    d = world.docs
    alpha = api(world.alpha)
    staff = api(world.staff)

    assert ids(alpha.get("/api/v1/documents/?status=closed")) == {
        d["pay_a"].pk,
        d["cm_a"].pk,
        d["pay_a1"].pk,
    }
    assert ids(alpha.get("/api/v1/documents/?status=issued")) == {d["inv_a"].pk, d["inv_a1"].pk}
    assert d["cm_a"].pk in ids(staff.get("/api/v1/documents/?status=issued"))
    assert ids(staff.get("/api/v1/documents/?status=draft")) == {d["draft_a1"].pk}
    assert ids(alpha.get("/api/v1/documents/?status=draft")) == set()


def test_type_and_recipient_filters(world, api):
    d = world.docs
    alpha = api(world.alpha)

    assert ids(alpha.get("/api/v1/documents/?type=invoice")) == {d["inv_a"].pk, d["inv_a1"].pk}
    assert ids(alpha.get(f"/api/v1/documents/?recipient={world.a1.pk}")) == {
        d["inv_a1"].pk,
        d["pay_a1"].pk,
    }
    assert ids(alpha.get(f"/api/v1/documents/?type=payment&recipient={world.a.pk}")) == {
        d["pay_a"].pk
    }
    assert ids(api(world.staff).get(f"/api/v1/documents/?issuer={world.a.pk}")) == {
        d["inv_a1"].pk,
        d["pay_a1"].pk,
        d["draft_a1"].pk,
    }


def test_bad_filter_values_answer_400_naming_the_field(world, api):
    alpha = api(world.alpha)

    bad_status = alpha.get("/api/v1/documents/?status=lost")
    bad_recipient = alpha.get("/api/v1/documents/?recipient=abc")

    assert bad_status.status_code == 400 and "status" in bad_status.json()
    assert bad_recipient.status_code == 400 and "recipient" in bad_recipient.json()


def test_document_list_is_newest_first(world, api):
    rows = api(world.bravo).get("/api/v1/documents/").json()["results"]
    assert [(r["number"], r["issue_date"], r["total"]) for r in rows] == [
        ("INV-000001", "2026-01-10", "120.00"),  # Bravo's first invoice, to Bravo Customer
        ("INV-000002", "2026-01-05", "400.00"),  # the provider's second, to Bravo
    ]


def test_a_cancelled_credit_memo_reads_cancelled_in_the_api_and_on_the_panel(world, api, client):
    """One rule (Document.reads_closed) for the API's list and the panel's page: a credit memo
    reads closed to a reseller unless it was cancelled, which it reads everywhere."""
    from django.urls import reverse

    from billing import ledger
    from tests import factories as f

    memo = f.credit_memo(world.a, "40.00", world.docs["cm_a"].issue_date)
    ledger.document_cancel(document=memo, acting_user=world.staff, reason="issued by mistake")

    body = api(world.alpha).get(f"/api/v1/documents/{memo.pk}/").json()
    client.force_login(world.alpha)
    html = client.get(reverse("document_detail", args=[memo.pk])).content.decode()

    assert body["status"] == "cancelled"
    assert "Cancelled" in html and ">Closed<" not in html
    kept = api(world.alpha).get(f"/api/v1/documents/{world.docs['cm_a'].pk}/").json()
    assert kept["status"] == "closed"
