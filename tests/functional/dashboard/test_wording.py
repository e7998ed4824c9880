"""What a person reads: overdue documents marked, payments labelled the right way round, contact
roles, prepaid accounts without a credit limit."""

import re

from django.urls import reverse

from resellers import services as accounts
from tests.functional.dashboard.helpers import figure


def row_of(html: str, number: str) -> str:
    """All table rows mentioning `number`, joined (a page may list a document twice)."""
    rows = re.findall(rf"<tr[^>]*>(?:(?!</tr>).)*{number}(?:(?!</tr>).)*</tr>", html, re.S)
    assert rows, f"no row for {number}"
    return "\n".join(rows)


def test_unpaid_documents_past_due_read_overdue(login, world):
    # On 2026-02-10: reseller2's invoice fell due on Jan 31; reseller1's second on Feb 14.
    staff = login(world.staff)
    r2_page = staff.get(reverse("reseller_detail", args=[world.r2.pk])).content.decode()
    assert ">Overdue<" in row_of(r2_page, world.docs.r2_inv.display_number)
    r1_page = login(world.r1_user).get(reverse("account")).content.decode()
    assert ">Issued<" in row_of(r1_page, world.docs.r1_inv2.display_number)
    assert ">Paid<" in row_of(r1_page, world.docs.r1_inv1.display_number)  # paid is never overdue
    staff = login(world.staff)  # one test client: log back in as staff
    doc = staff.get(reverse("document_detail", args=[world.docs.r2_inv.pk])).content.decode()
    assert 'data-field="status">Overdue<' in doc


def test_a_payment_reads_paid_by_the_account(login, world):
    html = login(world.staff).get(reverse("document_detail", args=[world.docs.r1_pay.pk]))
    text = re.sub(r"\s+", " ", html.content.decode())
    assert f'<dt>Paid by</dt><dd data-field="recipient">{world.r1.name}</dd>' in text
    assert f'<dt>Received by</dt><dd data-field="issuer">{world.provider.name}</dd>' in text
    invoice = login(world.staff).get(reverse("document_detail", args=[world.docs.r1_inv2.pk]))
    assert f'<dt>Issued to</dt><dd data-field="recipient">{world.r1.name}</dd>' in re.sub(
        r"\s+", " ", invoice.content.decode()
    )


def test_contact_roles_are_listed_apart(login, world):
    accounts.contact_create(
        account=world.r1, name="Both Roles", email="both@example.com", is_bill_to=True,
        is_primary=True,
    )  # fmt: skip
    html = login(world.staff).get(reverse("reseller_detail", args=[world.r1.pk])).content.decode()
    assert "Bill-to, Primary" in html


def test_prepaid_accounts_show_no_credit_limit(login, world):
    staff = login(world.staff)
    listing = staff.get(reverse("reseller_list")).content.decode()
    assert "None (prepaid)" in row_of(listing, world.ref.name)
    page = staff.get(reverse("reseller_detail", args=[world.ref.pk])).content.decode()
    assert figure(page, "credit_limit") == "None (prepaid)"
    # A prepaid customer buys nothing on credit: no (negative) "available credit" to puzzle over.
    own = login(world.c1_user).get(reverse("account")).content.decode()
    assert figure(own, "available_credit") == "None (prepaid)"
