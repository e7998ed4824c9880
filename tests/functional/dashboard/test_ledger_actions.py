"""Ledger actions in the panels: link and unlink (provider staff), record an offline payment
(provider staff), pay with the credit balance (seed 002: reseller and customer users for their own
account, provider staff on a reseller's behalf).

Figures start from `world` (conftest.py). Reseller1's documents, issued by the provider:
  INV-000001 100.00 (due 2026-01-31, paid by PAY-000001), INV-000002 250.50 (due 2026-02-14),
  CM-000001 30.00 (issued 2026-01-20), PAY-000001 150.00 (2026-02-01, 50.00 open).
  open debt 250.50; credit balance 80.00; balance -170.50; available 749.50.
Customer1 (prepaid, billed by reseller1): INV-000001 45.00, PAY-000001 20.00 applied to it.
"""

import datetime
import re
import uuid
from decimal import Decimal as D

import pytest
import time_machine
from django.urls import reverse

from billing import ledger
from billing.models import Application, Balance, Document, DocumentStatus, DocumentType
from billing.selectors import balance_mismatches
from resellers.models import AuditEvent
from tests import factories as f
from tests.functional.dashboard.helpers import amount, field, figure

pytestmark = pytest.mark.django_db

JAN20 = datetime.date(2026, 1, 20)
JAN25 = datetime.date(2026, 1, 25)


# --- helpers ----------------------------------------------------------------------------------


def ledger_state() -> dict:
    """Everything an action could write: counts, open amounts, applications, balances, audit."""
    return {
        "documents": Document.objects.count(),
        "applications": Application.objects.count(),
        "open_amounts": list(
            Document.objects.order_by("pk").values_list("pk", "status", "open_amount")
        ),
        "links": list(Application.objects.order_by("pk").values_list("pk", "unapplied_at")),
        "balances": list(
            Balance.objects.order_by("pk").values_list("pk", "open_debt", "credit_balance")
        ),
        "audit": AuditEvent.objects.count(),
    }


def reload(doc: Document) -> Document:
    return Document.objects.get(pk=doc.pk)


def balance_row(account) -> Balance:
    return Balance.objects.get(issuer_id=account.issuer_id, recipient_id=account.pk)


def link_of(debit: Document) -> Application:
    """The one active application on `debit`."""
    return Application.objects.get(debit_document=debit, unapplied_at__isnull=True)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def apply_url(doc) -> str:
    return reverse("application_create", args=[doc.pk])


def unlink_url(doc, application) -> str:
    return reverse("application_remove", args=[doc.pk, application.pk])


def audit(action: str, **filters):
    return AuditEvent.objects.filter(action=action, **filters)


@pytest.fixture
def staff(login, world):
    return login(world.staff)


@pytest.fixture
def extra_invoice(world):
    """A 40.00 invoice to reseller1 due 2026-01-25: due before INV-000002 (2026-02-14)."""
    return f.invoice(world.r1, "40.00", JAN20, due_date=JAN25)


# --- link and unlink (provider staff) ---------------------------------------------------------


def test_document_page_lists_applications_with_who_and_when(staff, world):
    inv1, pay = world.docs.r1_inv1, world.docs.r1_pay
    response = staff.get(reverse("document_detail", args=[inv1.pk]))
    html = response.content.decode()
    app = link_of(inv1)
    assert f'data-application="{app.pk}"' in html
    assert f'href="/documents/{pay.pk}/"' in html
    assert "100.00 USD" in html
    assert "Applied by" in html and ">system</td>" in html  # recorded without a user
    assert unlink_url(inv1, app) in html  # an Unlink button for the active application
    # nothing is open on a paid invoice: no Apply form
    assert response.context["apply_form"] is None
    assert 'id="apply-form"' not in html and 'id="nothing-to-apply"' not in html


def test_apply_form_offers_open_documents_of_the_same_pair_on_the_other_side(
    staff, world, extra_invoice
):
    docs = world.docs
    form = staff.get(reverse("document_detail", args=[docs.r1_inv2.pk])).context["apply_form"]
    offered = list(form.fields["counterpart"].queryset)
    # credit documents of provider -> reseller1 with something open, oldest issued first;
    # not customer1's payment (another pair), nor anything of reseller2
    assert offered == [docs.r1_cm, docs.r1_pay]

    html = staff.get(reverse("document_detail", args=[docs.r1_pay.pk])).content.decode()
    form = staff.get(reverse("document_detail", args=[docs.r1_pay.pk])).context["apply_form"]
    # debit documents, oldest due first; the paid INV-000001 is not offered
    assert list(form.fields["counterpart"].queryset) == [extra_invoice, docs.r1_inv2]
    assert "Invoice INV-000002 · due 14 Feb 2026 · 250.50 USD open" in html
    assert 'placeholder="Smaller open amount"' in html


def test_staff_links_part_of_a_payment_to_an_invoice(staff, world):
    docs = world.docs
    response = staff.post(apply_url(docs.r1_inv2), {"counterpart": docs.r1_pay.pk, "amount": "20"})
    assert response.status_code == 302
    assert response.url == reverse("document_detail", args=[docs.r1_inv2.pk])

    page = staff.get(response.url)
    assert messages_of(page) == ["Applied 20.00 USD of PAY-000001 to INV-000002."]
    html = page.content.decode()
    assert field(html, "open_amount") == "230.50 USD"
    assert field(html, "status") == "Issued"
    # 250.50 - 20.00 and 50.00 - 20.00; the balance does not move, available credit rises
    assert reload(docs.r1_inv2).open_amount == D("230.50")
    assert reload(docs.r1_pay).open_amount == D("30.00")
    row = balance_row(world.r1)
    assert (row.open_debt, row.credit_balance) == (D("230.50"), D("60.00"))
    reseller = staff.get(reverse("reseller_detail", args=[world.r1.pk])).content.decode()
    assert amount(figure(reseller, "balance")) == D("-170.50")
    assert amount(figure(reseller, "credit_balance")) == D("60.00")
    assert amount(figure(reseller, "available_credit")) == D("769.50")

    app = Application.objects.get(debit_document=docs.r1_inv2)
    assert (app.credit_document_id, app.amount, app.applied_by) == (
        docs.r1_pay.pk,
        D("20.00"),
        world.staff,
    )
    event = audit("application.create", object_id=str(app.pk)).get()
    assert event.actor == world.staff
    assert (event.details["credit"], event.details["debit"]) == ("PAY-000001", "INV-000002")
    assert D(event.details["amount"]) == D("20.00")  # stored as typed ("20"): see the report
    assert balance_mismatches() == []


def test_blank_amount_applies_the_smaller_open_amount(staff, world):
    docs = world.docs
    # from the invoice: the credit memo's 30.00 is smaller than the invoice's 250.50
    response = staff.post(apply_url(docs.r1_inv2), {"counterpart": docs.r1_cm.pk}, follow=True)
    assert messages_of(response) == ["Applied 30.00 USD of CM-000001 to INV-000002."]
    assert reload(docs.r1_cm).open_amount == D("0.00")
    assert reload(docs.r1_cm).status == DocumentStatus.CLOSED
    assert reload(docs.r1_inv2).open_amount == D("220.50")
    # from the payment: its 50.00 is smaller than the invoice's 220.50
    response = staff.post(apply_url(docs.r1_pay), {"counterpart": docs.r1_inv2.pk}, follow=True)
    assert messages_of(response) == ["Applied 50.00 USD of PAY-000001 to INV-000002."]
    assert reload(docs.r1_pay).open_amount == D("0.00")
    assert reload(docs.r1_inv2).open_amount == D("170.50")
    row = balance_row(world.r1)
    assert (row.open_debt, row.credit_balance) == (D("170.50"), D("0.00"))
    assert audit("application.create", actor=world.staff).count() == 2


def test_staff_unlinks_and_the_history_stays(staff, world):
    docs = world.docs
    app = link_of(docs.r1_inv1)
    response = staff.post(unlink_url(docs.r1_inv1, app), follow=True)
    assert messages_of(response) == ["Unlinked 100.00 USD of PAY-000001 from INV-000001."]

    inv1, pay = reload(docs.r1_inv1), reload(docs.r1_pay)
    assert (inv1.open_amount, inv1.status) == (D("100.00"), DocumentStatus.ISSUED)
    assert pay.open_amount == D("150.00")
    app.refresh_from_db()
    assert app.unapplied_by == world.staff and app.unapplied_at is not None
    assert audit("application.remove", object_id=str(app.pk), actor=world.staff).exists()
    # open debt 350.50, credit balance 150.00 + 30.00: the balance stays -170.50
    row = balance_row(world.r1)
    assert (row.open_debt, row.credit_balance) == (D("350.50"), D("180.00"))

    html = response.content.decode()
    assert field(html, "open_amount") == "100.00 USD"
    assert "Unlinked</span>" in html
    assert unlink_url(docs.r1_inv1, app) not in html  # no button on an unlinked row
    assert response.context["page"].applications.get().unapplied_by == world.staff
    reseller = staff.get(reverse("reseller_detail", args=[world.r1.pk])).content.decode()
    assert amount(figure(reseller, "balance")) == D("-170.50")
    assert amount(figure(reseller, "available_credit")) == D("649.50")
    assert balance_mismatches() == []


def test_unlinking_twice_says_so_and_changes_nothing(staff, world):
    inv1 = world.docs.r1_inv1
    app = link_of(inv1)
    staff.post(unlink_url(inv1, app), follow=True)
    before = ledger_state()
    response = staff.post(unlink_url(inv1, app), follow=True)
    assert messages_of(response) == ["This application was already unlinked."]
    assert ledger_state() == before


@pytest.mark.parametrize(
    ("data", "error_field", "message"),
    [
        ({"amount": "0"}, "amount", "must be more than zero"),
        ({"amount": "-5.00"}, "amount", "without a sign"),
        ({"amount": "abc"}, "amount", "Enter an amount in digits"),
        ({"amount": "1.005"}, "amount", "Too many decimals: USD has at most 2"),
        ({"amount": "60.00"}, "amount", "exceeds the open amount of PAY-000001 (50.00)"),
        ({"counterpart": "c1_pay"}, "counterpart", "Select a valid choice"),  # another pair
        ({"counterpart": "r1_inv1"}, "counterpart", "Select a valid choice"),  # same side
        ({"counterpart": "999999"}, "counterpart", "Select a valid choice"),
        ({"counterpart": ""}, "counterpart", "This field is required."),
    ],
)
def test_bad_apply_input_shows_the_error_and_writes_nothing(
    staff, world, data, error_field, message
):
    data = {"counterpart": "r1_pay", "amount": "10.00", **data}
    doc = getattr(world.docs, data["counterpart"], None)
    if doc is not None:
        data["counterpart"] = doc.pk
    before = ledger_state()
    response = staff.post(apply_url(world.docs.r1_inv2), data)
    assert response.status_code == 200
    form = response.context["apply_form"]
    assert message in " ".join(form.errors[error_field]), form.errors
    html = response.content.decode()
    assert "Nothing was applied." in html
    assert f'id="{error_field}-error"' in html
    assert ledger_state() == before


def test_reseller_and_customer_see_no_link_controls(login, world):
    docs = world.docs
    for user, doc in ((world.r1_user, docs.r1_inv1), (world.r1_user, docs.r1_inv2)):
        response = login(user).get(reverse("document_detail", args=[doc.pk]))
        html = response.content.decode()
        assert response.context["apply_form"] is None
        assert "/apply/" not in html and "/unlink/" not in html and ">Unlink</button>" not in html
        assert "Applied by" not in html  # who linked is for the provider
    html = login(world.r1_user).get(reverse("document_detail", args=[docs.r1_inv1.pk]))
    assert f'href="/documents/{docs.r1_pay.pk}/"' in html.content.decode()  # still sees "paid by"
    response = login(world.c1_user).get(reverse("document_detail", args=[docs.c1_inv.pk]))
    assert "/unlink/" not in response.content.decode()


def test_action_urls_answer_only_post(staff, world):
    inv1 = world.docs.r1_inv1
    assert staff.get(apply_url(inv1)).status_code == 405
    # GET on unlink is its confirmation page (tests/functional/dashboard/test_confirmations.py)
    assert staff.get(unlink_url(inv1, link_of(inv1))).status_code == 200
    assert staff.get(reverse("reseller_credit_pay", args=[world.r1.pk])).status_code == 405


# --- record an offline payment (provider staff) ------------------------------------------------


def payment_url(account) -> str:
    name = "reseller_payment_record" if account.is_reseller else "customer_payment_record"
    return reverse(name, args=[account.pk])


def payment_data(world, **overrides) -> dict:
    data = {
        "amount": "300.00",
        "received_date": "2026-02-10",
        "payment_method": world.r1_cash.pk,
        "reference": "WIRE-1",
        "apply_to": [world.docs.r1_inv2.pk],
        "submission_key": uuid.uuid4().hex,
    }
    data.update(overrides)
    return data


def test_account_pages_link_to_record_payment_for_staff_only(staff, login, world):
    html = staff.get(reverse("reseller_detail", args=[world.r1.pk])).content.decode()
    assert f'href="{payment_url(world.r1)}"' in html
    html = staff.get(reverse("customer_detail", args=[world.c1.pk])).content.decode()
    assert f'href="{payment_url(world.c1)}"' in html
    own = login(world.r1_user).get(reverse("account")).content.decode()
    assert "/payments/new/" not in own and "Record payment" not in own


@time_machine.travel(datetime.datetime(2026, 2, 10, 9, tzinfo=datetime.UTC), tick=False)
def test_payment_form_offers_the_accounts_methods_and_open_documents(staff, world, extra_invoice):
    response = staff.get(payment_url(world.r1))
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.fields["payment_method"].queryset) == {world.r1_cash, world.r1_card}
    # unpaid documents, oldest due first: 2026-01-25, then 2026-02-14
    assert list(form.fields["apply_to"].queryset) == [extra_invoice, world.docs.r1_inv2]
    html = response.content.decode()
    assert f'<option value="{world.r2_card.pk}"' not in html
    assert 'value="2026-02-10"' in html  # received today, by default
    assert "Money received by <strong>Cloud Distributor</strong> from" in html
    assert "Amount (USD)" in html
    assert 'type="checkbox"' in html and "checked" not in html  # nothing ticked by default


def test_staff_records_a_payment_and_applies_it(staff, world):
    response = staff.post(payment_url(world.r1), payment_data(world))
    assert response.status_code == 302
    assert response.url == reverse("reseller_detail", args=[world.r1.pk])

    page = staff.get(response.url)
    assert messages_of(page) == [
        "Recorded payment PAY-000002 of 300.00 USD from Alpha Reseller. "
        "Applied 250.50 USD of PAY-000002 to INV-000002. "
        "49.50 USD remains as credit balance."
    ]
    payment = Document.objects.get(doc_type=DocumentType.PAYMENT, number=2, issuer=world.provider)
    assert (payment.recipient, payment.total, payment.open_amount) == (
        world.r1,
        D("300.00"),
        D("49.50"),
    )
    assert payment.issue_date == datetime.date(2026, 2, 10)
    assert (payment.payment_method, payment.reference) == (world.r1_cash, "WIRE-1")
    assert reload(world.docs.r1_inv2).status == DocumentStatus.PAID
    # open debt 0; credit balance 50.00 + 30.00 + 49.50 = 129.50; available 1,000.00
    row = balance_row(world.r1)
    assert (row.open_debt, row.credit_balance) == (D("0.00"), D("129.50"))
    html = page.content.decode()
    assert amount(figure(html, "balance")) == D("129.50")
    assert amount(figure(html, "credit_balance")) == D("129.50")
    assert amount(figure(html, "available_credit")) == D("1000.00")
    for action in ("document.create", "document.issue", "application.create"):
        assert audit(action, actor=world.staff, account=world.r1).count() == 1
    assert balance_mismatches() == []


def test_payment_is_applied_oldest_due_first_whatever_the_order_ticked(staff, world, extra_invoice):
    inv2 = world.docs.r1_inv2
    data = payment_data(world, amount="100", apply_to=[inv2.pk, extra_invoice.pk])
    response = staff.post(payment_url(world.r1), data, follow=True)
    assert messages_of(response) == [
        "Recorded payment PAY-000002 of 100.00 USD from Alpha Reseller. "
        "Applied 40.00 USD of PAY-000002 to INV-000005. "
        "Applied 60.00 USD of PAY-000002 to INV-000002."
    ]
    assert reload(extra_invoice).open_amount == D("0.00")
    assert reload(inv2).open_amount == D("190.50")
    # open debt 190.50, credit balance 80.00: balance -110.50, available 809.50
    html = response.content.decode()
    assert amount(figure(html, "balance")) == D("-110.50")
    assert amount(figure(html, "available_credit")) == D("809.50")


def test_payment_without_documents_becomes_credit_balance(staff, world):
    data = payment_data(world, amount="75.25", payment_method="", reference="", apply_to=[])
    response = staff.post(payment_url(world.r1), data, follow=True)
    assert messages_of(response) == [
        "Recorded payment PAY-000002 of 75.25 USD from Alpha Reseller. "
        "75.25 USD remains as credit balance."
    ]
    assert amount(figure(response.content.decode(), "credit_balance")) == D("155.25")
    assert balance_row(world.r1).credit_balance == D("155.25")


def test_payment_from_a_resale_customer_is_issued_by_its_reseller(staff, world):
    """Customer1 is prepaid: the payment pays its unpaid invoice at once, oldest due first."""
    response = staff.get(payment_url(world.c1))
    assert "apply_to" not in response.context["form"].fields
    html = response.content.decode()
    assert "is prepaid: its credit balance is applied" in html
    assert "Money received by <strong>Alpha Reseller</strong> from" in html

    data = {"amount": "10.00", "received_date": "2026-02-10", "submission_key": uuid.uuid4().hex}
    response = staff.post(payment_url(world.c1), data, follow=True)
    assert response.redirect_chain[-1][0] == reverse("customer_detail", args=[world.c1.pk])
    assert messages_of(response) == [
        "Recorded payment PAY-000002 of 10.00 USD from Customer One. "
        "Applied 10.00 USD of PAY-000002 to INV-000001."
    ]
    payment = Document.objects.get(issuer=world.r1, doc_type=DocumentType.PAYMENT, number=2)
    assert payment.recipient == world.c1
    assert reload(world.docs.c1_inv).open_amount == D("15.00")
    row = balance_row(world.c1)
    assert (row.issuer, row.open_debt, row.credit_balance) == (world.r1, D("15.00"), D("0.00"))
    assert amount(figure(response.content.decode(), "balance")) == D("-15.00")
    # reseller1's own balance towards the provider did not move
    assert balance_row(world.r1).open_debt == D("250.50")


@pytest.mark.parametrize(
    ("overrides", "error_field", "message"),
    [
        ({"amount": "0"}, "amount", "must be more than zero"),
        ({"amount": "-10.00"}, "amount", "without a sign"),
        ({"amount": "ten"}, "amount", "Enter an amount in digits"),
        ({"amount": "10.001"}, "amount", "Too many decimals: USD has at most 2"),
        ({"amount": ""}, "amount", "This field is required."),
        ({"amount": "1" * 13}, "amount", "at most 12 digits before the point"),
        ({"amount": "1" * 17}, "amount", "at most 12 digits before the point"),
        ({"amount": "1e2"}, "amount", "no sign, exponent"),
        ({"amount": "1,0000.00"}, "amount", "groups of three"),
        ({"received_date": ""}, "received_date", "This field is required."),
        ({"received_date": "yesterday"}, "received_date", "Enter a valid date."),
        ({"payment_method": "r2_card"}, "payment_method", "Select a valid choice"),
        ({"apply_to": ["r2_inv"]}, "apply_to", "Select a valid choice"),
        ({"apply_to": ["c1_inv"]}, "apply_to", "Select a valid choice"),
        ({"apply_to": ["r1_inv1"]}, "apply_to", "Select a valid choice"),  # already paid
        ({"reference": "x" * 101}, "reference", "at most 100 characters"),
    ],
)
def test_bad_payment_input_shows_the_error_and_writes_nothing(
    staff, world, overrides, error_field, message
):
    if overrides.get("payment_method") == "r2_card":
        overrides["payment_method"] = world.r2_card.pk  # a tampered POST
    if "apply_to" in overrides:
        overrides["apply_to"] = [getattr(world.docs, key).pk for key in overrides["apply_to"]]
    before = ledger_state()
    response = staff.post(payment_url(world.r1), payment_data(world, **overrides))
    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.errors[error_field]), form.errors
    html = response.content.decode()
    assert "Nothing was recorded." in html
    assert f'id="{error_field}-error"' in html
    assert ledger_state() == before


def test_a_payment_typed_with_grouping_commas_is_recorded(staff, world):
    response = staff.post(payment_url(world.r1), payment_data(world, amount="1,234.50"))

    assert response.status_code == 302, response.context["form"].errors
    payment = Document.objects.filter(recipient=world.r1, doc_type=DocumentType.PAYMENT).latest(
        "pk"
    )
    assert payment.total == D("1234.50")


# --- pay with credit balance (seed 002) --------------------------------------------------------


def pay(client, url, *docs):
    return client.post(url, {"documents": [d.pk for d in docs]}, follow=True)


def test_reseller_sees_the_credit_balance_form_with_everything_ticked(login, world, extra_invoice):
    response = login(world.r1_user).get(reverse("account"))
    html = response.content.decode()
    assert "Pay unpaid documents with credit balance" in html
    assert field(html, "credit_balance_to_apply") == "80.00 USD"
    assert "You have a credit balance of" in html
    form = response.context["pay_form"]
    assert list(form.fields["documents"].queryset) == [extra_invoice, world.docs.r1_inv2]
    assert html.count('name="documents"') == 2
    ticked = re.findall(r'<input type="checkbox" name="documents"[^>]*\bchecked\b', html)
    assert len(ticked) == 2
    assert f'action="{reverse("own_credit_pay")}"' in html


def test_no_credit_balance_form_without_credit_or_without_unpaid_documents(login, world):
    # reseller2 owes 400.00 but holds no credit; customer1's credit was applied automatically
    for user in (world.r2_user, world.c1_user, world.ref_user):
        response = login(user).get(reverse("account"))
        assert "pay_form" not in response.context
        assert "Pay unpaid documents with credit balance" not in response.content.decode()
    # reseller1 with nothing unpaid
    f.payment(world.r1, "250.50", datetime.date(2026, 2, 10), apply_to=[world.docs.r1_inv2])
    response = login(world.r1_user).get(reverse("account"))
    assert "pay_form" not in response.context


def test_reseller_pays_with_its_credit_balance(login, world):
    client = login(world.r1_user)
    inv2 = world.docs.r1_inv2
    response = pay(client, reverse("own_credit_pay"), inv2)
    assert response.redirect_chain[-1][0] == reverse("account")
    # credit memo (issued 2026-01-20) first, then the payment: 30.00 + 50.00 to INV-000002.
    # To the reseller the credit balance is one sum: no credit memo is named.
    assert messages_of(response) == [
        "Paid 80.00 USD with your credit balance: 80.00 USD to INV-000002 (170.50 USD still open)."
    ]
    assert reload(inv2).open_amount == D("170.50")
    assert reload(world.docs.r1_cm).status == DocumentStatus.CLOSED
    assert reload(world.docs.r1_pay).status == DocumentStatus.CLOSED
    row = balance_row(world.r1)
    assert (row.open_debt, row.credit_balance) == (D("170.50"), D("0.00"))
    html = response.content.decode()
    assert amount(figure(html, "credit_balance")) == D("0.00")
    assert amount(figure(html, "balance")) == D("-170.50")
    assert amount(figure(html, "available_credit")) == D("829.50")
    assert "Pay unpaid documents with credit balance" not in html  # nothing left to pay with
    links = Application.objects.filter(debit_document=inv2).order_by("pk")
    assert [(a.credit_document_id, a.amount) for a in links] == [
        (world.docs.r1_cm.pk, D("30.00")),
        (world.docs.r1_pay.pk, D("50.00")),
    ]
    assert audit("application.create", actor=world.r1_user).count() == 2
    assert balance_mismatches() == []


def test_the_system_picks_the_order_oldest_due_first(login, world, extra_invoice):
    response = pay(
        login(world.r1_user), reverse("own_credit_pay"), world.docs.r1_inv2, extra_invoice
    )
    assert messages_of(response) == [
        "Paid 80.00 USD with your credit balance: 40.00 USD to INV-000005 (paid); "
        "40.00 USD to INV-000002 (210.50 USD still open)."
    ]
    assert reload(extra_invoice).status == DocumentStatus.PAID
    assert reload(world.docs.r1_inv2).open_amount == D("210.50")


def test_only_the_ticked_documents_are_paid(login, world, extra_invoice):
    pay(login(world.r1_user), reverse("own_credit_pay"), world.docs.r1_inv2)
    assert reload(extra_invoice).open_amount == D("40.00")
    assert reload(world.docs.r1_inv2).open_amount == D("170.50")


def test_staff_pays_with_credit_balance_on_the_resellers_behalf(staff, world):
    html = staff.get(reverse("reseller_detail", args=[world.r1.pk])).content.decode()
    assert "Alpha Reseller has a credit balance of" in html
    url = reverse("reseller_credit_pay", args=[world.r1.pk])
    response = pay(staff, url, world.docs.r1_inv2)
    assert response.redirect_chain[-1][0] == reverse("reseller_detail", args=[world.r1.pk])
    assert messages_of(response) == [
        "Applied 30.00 USD of CM-000001 to INV-000002. "
        "Applied 50.00 USD of PAY-000001 to INV-000002."
    ]
    assert balance_row(world.r1).credit_balance == D("0.00")
    assert audit("application.create", actor=world.staff).count() == 2


def test_customer_pays_its_own_documents_with_its_credit_balance(login, world):
    """Provider staff unlink customer1's automatic application; customer1 then has 20.00 of
    credit balance and 45.00 unpaid, and pays with it."""
    c1_inv = world.docs.c1_inv
    ledger.application_remove(application=link_of(c1_inv), acting_user=world.staff)
    client = login(world.c1_user)
    html = client.get(reverse("account")).content.decode()
    assert field(html, "credit_balance_to_apply") == "20.00 USD"

    response = pay(client, reverse("own_credit_pay"), c1_inv)
    assert messages_of(response) == [
        "Paid 20.00 USD with your credit balance: 20.00 USD to INV-000001 (25.00 USD still open)."
    ]
    assert reload(c1_inv).open_amount == D("25.00")
    row = balance_row(world.c1)
    assert (row.open_debt, row.credit_balance) == (D("25.00"), D("0.00"))
    assert amount(figure(response.content.decode(), "credit_balance")) == D("0.00")
    assert audit("application.create", actor=world.c1_user).count() == 1


def test_customer_cannot_pay_another_customers_document(login, world):
    ledger.application_remove(application=link_of(world.docs.c1_inv), acting_user=world.staff)
    before = ledger_state()
    response = pay(login(world.c1_user), reverse("own_credit_pay"), world.docs.c2_inv)
    assert response.status_code == 200
    assert "Select a valid choice" in " ".join(response.context["pay_form"].errors["documents"])
    assert "Nothing was paid." in response.content.decode()
    assert ledger_state() == before


@pytest.mark.parametrize(
    ("who", "keys", "message"),
    [
        ("r1_user", [], "Choose at least one document to pay."),
        ("r1_user", ["r2_inv"], "Select a valid choice"),  # another reseller's
        ("r1_user", ["c1_inv"], "Select a valid choice"),  # its customer's: not its own account
        ("r1_user", ["r1_pay"], "Select a valid choice"),  # not a debit document
        ("ref_user", ["refc_inv"], "Select a valid choice"),  # a referral reseller's customer
    ],
)
def test_bad_credit_payment_shows_the_error_and_writes_nothing(login, world, who, keys, message):
    before = ledger_state()
    docs = [getattr(world.docs, key) for key in keys]
    response = pay(login(getattr(world, who)), reverse("own_credit_pay"), *docs)
    assert response.status_code == 200
    assert message in " ".join(response.context["pay_form"].errors["documents"])
    assert 'id="documents-error"' in response.content.decode()
    assert ledger_state() == before


def test_staff_posting_to_the_own_account_form_goes_to_billing(staff, world):
    before = ledger_state()
    response = staff.post(reverse("own_credit_pay"), {"documents": [world.docs.r1_inv2.pk]})
    assert response.status_code == 302 and response.url == reverse("billing")
    assert ledger_state() == before


# --- tenant isolation of every action ----------------------------------------------------------


def _apply(doc_key, counterpart_key):
    return lambda w: (
        apply_url(getattr(w.docs, doc_key)),
        {"counterpart": getattr(w.docs, counterpart_key).pk, "amount": "1.00"},
    )


def _unlink(doc_key, linked_key):
    """Unlink, on the page of `doc_key`, the active application of the debit `linked_key`."""
    return lambda w: (
        unlink_url(getattr(w.docs, doc_key), link_of(getattr(w.docs, linked_key))),
        {},
    )


def _record(account_key):
    return lambda w: (
        payment_url(getattr(w, account_key)),
        {"amount": "10.00", "received_date": "2026-02-10", "submission_key": uuid.uuid4().hex},
    )


def _credit_pay(account_key, doc_key):
    return lambda w: (
        reverse("reseller_credit_pay", args=[getattr(w, account_key).pk]),
        {"documents": [getattr(w.docs, doc_key).pk]},
    )


NOT_FOUND = [
    # reseller1 guessing reseller2's documents and accounts
    ("r1_user", _apply("r2_inv", "r1_pay")),
    ("r1_user", _apply("c2_inv", "c1_pay")),
    ("r2_user", _unlink("r1_inv1", "r1_inv1")),
    ("r2_user", _unlink("c1_inv", "c1_inv")),
    ("r1_user", _unlink("r1_inv2", "c1_inv")),  # an application that is not this document's
    ("r1_user", _record("r2")),
    ("r1_user", _record("c2")),
    ("r1_user", _credit_pay("r2", "r2_inv")),
    # a referral reseller never sees its customers' documents
    ("ref_user", _apply("refc_inv", "r1_pay")),
    ("ref_user", _record("c1")),
    # customers
    ("c1_user", _apply("c2_inv", "c1_pay")),
    ("c2_user", _unlink("c1_inv", "c1_inv")),
    ("c1_user", _record("c2")),
    ("c1_user", _credit_pay("r1", "c1_inv")),
]

FORBIDDEN = [
    # resellers cannot link or unlink, even their own documents (seed 002)
    ("r1_user", _apply("r1_inv2", "r1_pay")),
    ("r1_user", _unlink("r1_inv1", "r1_inv1")),
    ("r1_user", _unlink("r1_pay", "r1_inv1")),
    ("r1_user", _apply("c1_inv", "c1_pay")),
    ("r1_user", _unlink("c1_inv", "c1_inv")),
    ("r2_user", _apply("r2_inv", "r2_inv")),
    ("c1_user", _unlink("c1_inv", "c1_inv")),
    ("c1_user", _apply("c1_inv", "c1_pay")),
    ("refc_user", _apply("refc_inv", "refc_inv")),
    # only provider staff record offline payments or act from the provider panel
    ("r1_user", _record("r1")),
    ("r1_user", _record("c1")),
    ("ref_user", _record("refc")),
    ("c1_user", _record("c1")),
    ("r1_user", _credit_pay("r1", "r1_inv2")),
    ("ref_user", _credit_pay("ref", "refc_inv")),
]


@pytest.mark.parametrize(("who", "action"), NOT_FOUND)
def test_another_tenants_action_answers_404_and_writes_nothing(client, world, who, action):
    url, data = action(world)
    client.force_login(getattr(world, who))
    before = ledger_state()
    response = client.post(url, data)
    assert response.status_code == 404
    assert ledger_state() == before


@pytest.mark.parametrize(("who", "action"), FORBIDDEN)
def test_provider_only_action_answers_403_and_writes_nothing(client, world, who, action):
    url, data = action(world)
    client.force_login(getattr(world, who))
    before = ledger_state()
    response = client.post(url, data)
    assert response.status_code == 403
    assert ledger_state() == before


def test_anonymous_posts_go_to_login(client, world):
    before = ledger_state()
    for url, data in (
        _apply("r1_inv2", "r1_pay")(world),
        _unlink("r1_inv1", "r1_inv1")(world),
        _record("r1")(world),
        (reverse("own_credit_pay"), {"documents": [world.docs.r1_inv2.pk]}),
    ):
        response = client.post(url, data)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert ledger_state() == before


def test_a_resubmitted_payment_form_records_one_payment(staff, world):
    data = payment_data(world, apply_to=[])
    first = staff.post(payment_url(world.r1), data)
    second = staff.post(payment_url(world.r1), data)  # double click, or the back button
    assert first.status_code == second.status_code == 302
    payments = Document.objects.filter(recipient=world.r1, doc_type=DocumentType.PAYMENT)
    assert payments.count() == 2  # the world's own payment and this one, once
    assert balance_row(world.r1).credit_balance == D("80.00") + D("300.00")


def test_a_payment_cannot_be_received_in_the_future(staff, world):
    before = Document.objects.count()
    response = staff.post(payment_url(world.r1), payment_data(world, received_date="2026-02-11"))
    assert response.status_code == 200
    assert response.context["form"].errors["received_date"] == [
        "A payment cannot be received in the future."
    ]
    assert Document.objects.count() == before
