"""POST documents/: provider staff issue a debit or credit memo by hand (issue 11, item 5):
lines, a reason kept in the audit log, tax from the issuer's rules as on invoices, numbered like
every document, the balance moved, verify_balances clean. Anyone else: 403, nothing written."""

from decimal import Decimal as D

from billing.models import Document
from billing.selectors import account_financials, balance_mismatches
from resellers.models import AuditEvent
from tests.factories import taxes as tf

URL = "/api/v1/documents/"


def memo(doc_type="credit_memo", recipient=None, **overrides):
    body = {
        "doc_type": doc_type,
        "recipient": recipient,
        "lines": [{"description": "Goodwill for the outage of 3 March", "unit_price": "25.00"}],
        "reason": "Outage credit agreed with the reseller",
    }
    return {**body, **overrides}


def test_a_credit_memo_raises_the_credit_balance_and_is_audited_with_its_reason(world, api):
    before = account_financials(account=world.a)

    response = api(world.staff).post(URL, memo(recipient=world.a.pk), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["type"], body["status"], body["total"]) == ("credit_memo", "issued", "25.00")
    assert body["number"].startswith("CM-") and body["recipient"]["id"] == world.a.pk
    after = account_financials(account=world.a)
    assert after.credit_balance - before.credit_balance == D("25.00")
    event = AuditEvent.objects.get(action="document.memo", object_id=str(body["id"]))
    assert event.details["reason"] == "Outage credit agreed with the reseller"
    assert event.actor == world.staff and event.account == world.a
    assert balance_mismatches() == []


def test_a_debit_memo_is_taxed_by_the_issuers_rules_like_an_invoice(world, api):
    tf.profile(world.b1, "DE")
    tf.rate(world.b, "DE", "0.19")
    tf.rule(world.b, "DE")
    before = account_financials(account=world.b1)

    response = api(world.staff).post(
        URL,
        memo(
            "debit_memo",
            world.b1.pk,
            lines=[{"description": "Setup fee missed", "quantity": "2", "unit_price": "50.00"}],
        ),
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["subtotal"], body["tax_total"], body["total"]) == ("100.00", "19.00", "119.00")
    assert body["issuer"]["id"] == world.b.pk  # the customer's issuer: its reseller
    assert body["lines"][0]["tax_rate"] == "0.1900"
    assert account_financials(account=world.b1).open_debt - before.open_debt == D("119.00")
    assert balance_mismatches() == []


def test_nobody_but_staff_issues_memos(world, api):
    count = Document.objects.count()
    for user in (world.alpha, world.alpha_customer, world.referral):
        response = api(user).post(URL, memo(recipient=user.account_id), format="json")
        assert response.status_code == 403, response.content
    assert Document.objects.count() == count


def test_bad_input_names_the_field_and_writes_nothing(world, api):
    client = api(world.staff)
    count, events = Document.objects.count(), AuditEvent.objects.count()
    cases = {
        "doc_type": memo("invoice", world.a.pk),
        "recipient": memo(recipient=987654),
        "lines": memo(recipient=world.a.pk, lines=[]),
        "reason": memo(recipient=world.a.pk, reason=" "),
    }
    for field, body in cases.items():
        response = client.post(URL, body, format="json")
        assert response.status_code == 400, (field, response.content)
        assert field in response.json(), (field, response.json())
    negative = memo(recipient=world.a.pk, lines=[{"description": "x", "unit_price": "-5"}])
    assert client.post(URL, negative, format="json").status_code == 400
    provider = memo(recipient=world.provider.pk)
    assert "recipient" in client.post(URL, provider, format="json").json()
    assert (Document.objects.count(), AuditEvent.objects.count()) == (count, events)


def test_a_replayed_key_answers_the_same_memo_and_issues_nothing_more(world, api):
    client = api(world.staff)
    first = client.post(URL, memo(recipient=world.a.pk), format="json", HTTP_IDEMPOTENCY_KEY="m1")
    again = client.post(URL, memo(recipient=world.a.pk), format="json", HTTP_IDEMPOTENCY_KEY="m1")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Document.objects.filter(reference__startswith="memo:").count() == 1
