"""reseller-transactions/: provider staff list every account's charges and correct or cancel one
not yet invoiced, with a reason; the corrected amount is what the billing order will carry. A
tenant reads its own account's only and corrects nothing; an invoiced one is refused naming
`status` (a correcting order corrects it)."""

from decimal import Decimal as D

import pytest

from billing.models import ResellerTransaction
from billing.runs import run_preview
from billing.selectors import account_financials, balance_mismatches
from resellers.models import AuditEvent

URL = "/api/v1/reseller-transactions/"


def _uninvoiced(account):
    return ResellerTransaction.objects.filter(account=account, status="uninvoiced").first()


def _post(client, tx, verb, body):
    return client.post(f"{URL}{tx.pk}/{verb}/", body, format="json")


def test_staff_list_and_filter_by_account_kind_status_and_period(world, shop, api):
    client = api(world.staff)

    rows = client.get(URL, {"account": world.a.pk}).json()["results"]
    assert rows and {r["account"]["id"] for r in rows} == {world.a.pk}
    orders = client.get(URL, {"account": world.a.pk, "kind": "order", "status": "uninvoiced"})
    assert {r["kind"] for r in orders.json()["results"]} == {"order"}
    assert client.get(URL, {"period_start": "2099-01-01"}).json()["results"] == []
    assert client.get(URL, {"period_end": "2000-01-01"}).json()["results"] == []
    assert client.get(URL, {"status": "nonsense"}).status_code == 400


def test_staff_correct_an_uninvoiced_amount_with_a_reason(world, shop, api):
    tx = _uninvoiced(world.a)
    before = account_financials(account=world.a).available_credit
    new = tx.amount - D("2.50")

    response = _post(api(world.staff), tx, "correct", {"amount": str(new), "reason": "list price"})

    assert response.status_code == 200, response.content
    assert response.json()["amount"] == str(new)
    tx.refresh_from_db()
    assert tx.amount == new and tx.status == "uninvoiced"
    assert account_financials(account=world.a).available_credit - before == D("2.50")
    event = AuditEvent.objects.get(action="reseller_transaction.correct", object_id=str(tx.pk))
    assert event.details == {
        "reason": "list price",
        "before": str(new + D("2.50")),
        "after": str(new),
    }
    assert balance_mismatches() == []
    # what the account's next billing order would carry: the corrected amount
    world.a.refresh_from_db()
    plans = run_preview(run_date=world.a.next_billing_date)
    charged = [c for p in plans for i in p.invoices for c in i.charges if c.pk == tx.pk]
    assert [c.amount for c in charged] == [new]


def test_staff_cancel_one_and_it_counts_against_nothing(world, shop, api):
    tx = _uninvoiced(world.a)
    before = account_financials(account=world.a).available_credit

    response = _post(api(world.staff), tx, "cancel", {"reason": "ordered twice"})

    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert account_financials(account=world.a).available_credit - before == tx.amount
    again = _post(api(world.staff), tx, "correct", {"amount": "1.00", "reason": "x"})
    assert again.status_code == 400 and "status" in again.json()


def test_an_invoiced_one_is_refused_naming_status(world, shop, api):
    tx = _uninvoiced(world.a)
    ResellerTransaction.objects.filter(pk=tx.pk).update(
        status="invoiced", invoice=world.docs["inv_a"]
    )
    response = _post(api(world.staff), tx, "correct", {"amount": "1.00", "reason": "late"})
    assert response.status_code == 400
    assert "correcting order" in response.json()["status"][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "1.001", "reason": "x"}, "amount"),
        ({"amount": "abc", "reason": "x"}, "amount"),
        ({"amount": "5.00"}, "reason"),
        ({"amount": "5.00", "reason": "x", "refund": True}, "refund"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(world, shop, api, body, field):
    tx = _uninvoiced(world.a)
    response = _post(api(world.staff), tx, "correct", body)
    assert response.status_code == 400 and field in response.json(), response.json()
    tx.refresh_from_db()
    assert tx.amount == _uninvoiced(world.a).amount
    assert not AuditEvent.objects.filter(action="reseller_transaction.correct").exists()


def test_a_tenant_reads_its_own_and_corrects_nothing(world, shop, api):
    mine, theirs = _uninvoiced(world.a), _uninvoiced(world.b)
    client = api(world.alpha)

    rows = client.get(URL).json()["results"]
    assert rows and {r["account"]["id"] for r in rows} == {world.a.pk}
    assert client.get(f"{URL}{theirs.pk}/").status_code == 404
    assert _post(client, mine, "correct", {"amount": "1.00", "reason": "x"}).status_code == 403
    assert _post(client, theirs, "cancel", {"reason": "x"}).status_code == 404
    assert api(world.alpha_customer).get(f"{URL}{mine.pk}/").status_code == 404


def test_a_credit_is_refunded_at_once_and_never_reaches_the_billing_order(world, shop, api):
    """Seed 001 §4: "an option (configured when the correction is made) to refund directly to
    the reseller's payment method, without the need to wait for the billing order"."""
    import datetime

    from billing import ledger
    from billing.gateway import TestGateway
    from billing.models import Document
    from tests import factories as f

    TestGateway.reset()
    tx = _uninvoiced(world.a)
    card = f.card(world.a, token="tok_alpha_refund")
    ledger.card_charge(
        payment_method=card,
        amount=D("100.00"),
        idempotency_key="earlier-topup",
        charge_date=datetime.date(2026, 1, 5),
    )
    body = {"amount": "-25.00", "reason": "Refund adjustment", "refund": True,
            "payment_method": card.pk}  # fmt: skip
    response = api(world.staff).post(
        f"{URL}{tx.pk}/correct/", body, format="json", HTTP_IDEMPOTENCY_KEY="tx-refund-1"
    )
    replay = api(world.staff).post(
        f"{URL}{tx.pk}/correct/", body, format="json", HTTP_IDEMPOTENCY_KEY="tx-refund-1"
    )

    assert response.status_code == 200, response.content
    assert replay.status_code == 200 and replay.json() == response.json()
    tx.refresh_from_db()
    assert (tx.amount, tx.status) == (D("-25.00"), "invoiced")
    memo = tx.invoice
    assert (memo.doc_type, memo.reference, memo.open_amount) == (
        "credit_memo",
        f"transaction:{tx.pk}",
        D("0.00"),
    )
    refund = Document.objects.get(doc_type="refund", recipient=world.a)
    assert refund.total == memo.total  # the credit, with the tax the billing order would add
    assert next(iter(TestGateway.charges.values())).refunded == memo.total
    event = AuditEvent.objects.get(action="reseller_transaction.correct", object_id=str(tx.pk))
    assert event.details["refunded"] == refund.display_number
    world.a.refresh_from_db()
    plans = run_preview(run_date=world.a.next_billing_date)
    assert not [c for p in plans for i in p.invoices for c in i.charges if c.pk == tx.pk]
    assert balance_mismatches() == []


def test_refund_at_once_needs_a_credit_and_a_card_that_paid(world, shop, api):
    from tests import factories as f

    tx = _uninvoiced(world.a)
    unused = f.card(world.a, token="tok_never_charged")
    staff = api(world.staff)
    for body, field in (
        ({"amount": "5.00", "reason": "x", "refund": True, "payment_method": unused.pk}, "refund"),
        ({"amount": "-5.00", "reason": "x", "refund": True, "payment_method": unused.pk},
         "payment_method"),
        ({"amount": "-5.00", "reason": "x", "refund": True, "payment_method": 999999},
         "payment_method"),
    ):  # fmt: skip
        response = staff.post(f"{URL}{tx.pk}/correct/", body, format="json")
        assert response.status_code == 400 and field in response.json(), response.json()
    before = tx.amount
    tx.refresh_from_db()
    assert (tx.amount, tx.status) == (before, "uninvoiced")
