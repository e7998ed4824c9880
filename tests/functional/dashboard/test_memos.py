"""The provider panel's Issue memo page (/billing/resellers/<pk>/memos/new/ and
/billing/customers/<pk>/memos/new/): staff issue a debit or credit memo by hand, with a reason and
up to three lines; bad input or a failing tax engine is a form error and issues nothing; a double
submit issues once; resellers and customers are refused, another tenant gets 404."""

from decimal import Decimal as D

from django.urls import reverse

from billing.models import Document
from billing.selectors import account_financials, balance_mismatches
from resellers.models import AuditEvent
from tests.factories import taxes as tf


def memo_url(account) -> str:
    name = "reseller_memo_issue" if account.is_reseller else "customer_memo_issue"
    return reverse(name, args=[account.pk])


def body(**overrides) -> dict:
    data = {
        "submission_key": "memo-key-1",
        "doc_type": "credit_memo",
        "reason": "Outage of 3 February, agreed with the reseller",
        "line1_description": "Goodwill: backup outage",
        "line1_quantity": "2",
        "line1_unit_price": "10.00",
        "line1_tax_category": "standard",
        "line2_description": "Support hours not delivered",
        "line2_quantity": "1",
        "line2_unit_price": "5.50",
        "line2_tax_category": "standard",
        "line3_description": "",
        "line3_quantity": "1",
        "line3_unit_price": "",
        "line3_tax_category": "standard",
    }
    return {**data, **overrides}


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def written() -> tuple[int, int]:
    return Document.objects.count(), AuditEvent.objects.count()


def test_staff_issue_a_credit_memo_with_two_lines(world, login):
    staff = login(world.staff)
    before = account_financials(account=world.r1)
    page = staff.get(reverse("reseller_detail", args=[world.r1.pk])).content.decode()
    assert memo_url(world.r1) in page and "Issue memo" in page
    form = staff.get(memo_url(world.r1)).content.decode()
    assert 'data-field="issue_date">10 Feb 2026<' in form  # today, read by the view

    response = staff.post(memo_url(world.r1), body(), follow=True)

    memo = Document.objects.get(recipient=world.r1, reference__startswith="memo:")
    assert response.redirect_chain == [(reverse("document_detail", args=[memo.pk]), 302)]
    assert (memo.doc_type, memo.status, memo.issuer) == ("credit_memo", "issued", world.provider)
    assert memo.number is not None and memo.issue_date.isoformat() == "2026-02-10"
    assert (memo.subtotal, memo.total) == (D("25.50"), D("25.50"))
    assert [(line.description, line.amount) for line in memo.lines.order_by("pk")] == [
        ("Goodwill: backup outage", D("20.00")),
        ("Support hours not delivered", D("5.50")),
    ]
    assert messages_of(response) == [
        f"Credit memo {memo.display_number} of 25.50 USD issued to {world.r1.name}."
    ]
    event = AuditEvent.objects.get(action="document.memo", object_id=str(memo.pk))
    assert event.actor == world.staff and event.account == world.r1
    assert event.details["reason"] == "Outage of 3 February, agreed with the reseller"
    after = account_financials(account=world.r1)
    assert after.credit_balance - before.credit_balance == D("25.50")
    assert balance_mismatches() == []


def test_a_debit_memo_to_a_customer_comes_from_its_reseller(world, login):
    staff = login(world.staff)
    page = staff.get(reverse("customer_detail", args=[world.c1.pk])).content.decode()
    assert memo_url(world.c1) in page

    response = staff.post(
        memo_url(world.c1),
        body(doc_type="debit_memo", line2_description="", line2_unit_price=""),
    )

    memo = Document.objects.get(recipient=world.c1, doc_type="debit_memo")
    assert response.status_code == 302 and response.url == reverse(
        "document_detail", args=[memo.pk]
    )
    assert (memo.issuer, memo.total) == (world.r1, D("20.00"))
    assert balance_mismatches() == []


def test_bad_input_is_a_form_error_and_issues_nothing(world, login):
    staff = login(world.staff)
    before = written()
    blank_lines = {f"line{i}_{key}": "" for i in (1, 2, 3) for key in ("description", "unit_price")}
    cases = {
        "no reason": (body(reason=" "), "reason"),
        "no lines": (body(**blank_lines), None),
        "negative price": (body(line2_unit_price="-5.00"), "line2_unit_price"),
        "zero quantity": (body(line1_quantity="0"), "line1_quantity"),
        "price without a description": (body(line1_description=""), "line1_description"),
        "description without a price": (body(line2_unit_price=""), "line2_unit_price"),
        "not a memo type": (body(doc_type="invoice"), "doc_type"),
    }
    for case, (data, field) in cases.items():
        response = staff.post(memo_url(world.r1), data)
        assert response.status_code == 200, case
        form = response.context["form"]
        errors = form.errors.get(field) if field else form.non_field_errors()
        assert errors, (case, form.errors)
        assert "Nothing was issued." in response.content.decode(), case
    assert written() == before


def test_a_failing_tax_engine_issues_nothing(world, login, settings):
    """Reseller1 taxes its customers through AvaTax, then AvaTax is uninstalled: the memo's tax
    cannot be computed, and nothing is issued."""
    settings.TAX_ENGINES = {
        "avatax": {
            "url": "http://127.0.0.1:9",
            "account_id": "1",
            "license_key": "x",
            "company_code": "DEFAULT",
        }
    }
    tf.profile(world.c1, "US-CA")
    tf.rule(world.r1, "*", method="avatax", engine_account=tf.engine_account(world.r1))
    settings.TAX_ENGINES = {}
    staff = login(world.staff)
    before = written()

    response = staff.post(memo_url(world.c1), body())

    assert response.status_code == 200
    [error] = response.context["form"].non_field_errors()
    assert error.startswith("The tax engine failed, so nothing was issued")
    assert written() == before


def test_a_double_submit_issues_one_memo(world, login):
    staff = login(world.staff)

    first = staff.post(memo_url(world.r1), body(submission_key="twice"))
    again = staff.post(memo_url(world.r1), body(submission_key="twice"), follow=True)

    [memo] = Document.objects.filter(recipient=world.r1, reference__startswith="memo:")
    assert first.url == reverse("document_detail", args=[memo.pk])
    assert again.redirect_chain[-1][0] == first.url
    assert messages_of(again)[-1] == "That form was already sent: here is what it made."


def test_resellers_and_customers_are_refused_and_see_no_button(world, login):
    before = written()
    # Their own account, or one under it: a provider page, 403 (the scope lets them see it).
    for user, account in (
        (world.r1_user, world.c1),
        (world.c1_user, world.c1),
        (world.r1_user, world.r1),
    ):
        client = login(user)
        for response in (
            client.get(memo_url(account)),
            client.post(memo_url(account), body()),
        ):
            assert response.status_code == 403, (user, account, response.status_code)
    r1 = login(world.r1_user)
    assert "Issue memo" not in r1.get(reverse("account")).content.decode()
    assert (
        "Issue memo"
        not in r1.get(reverse("own_customer_detail", args=[world.c1.pk])).content.decode()
    )
    # Another tenant's accounts do not exist for them.
    r2 = login(world.r2_user)
    for account in (world.r1, world.c1):
        assert r2.get(memo_url(account)).status_code == 404
        assert r2.post(memo_url(account), body()).status_code == 404
    assert written() == before


def test_the_reseller_sees_its_memo_in_its_documents(world, login):
    login(world.staff).post(memo_url(world.r1), body())
    memo = Document.objects.get(recipient=world.r1, reference__startswith="memo:")

    page = login(world.r1_user).get(reverse("account")).content.decode()
    assert memo.display_number in page
    assert login(world.r2_user).get(reverse("document_detail", args=[memo.pk])).status_code == 404
