"""CSV export of the panels' lists (django-tables2's export through tablib): every table offers
"Export CSV" with the page's filters applied and all its pages; a page with several tables
exports each by its own link; a cell a spreadsheet would run as a formula is written as text;
a tenant exports only what it sees."""

import csv
import io

import pytest
from django.urls import reverse

from billing.models import Document
from dashboard.exports import neutralise
from tests import factories as f


def rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("-170.50", "-170.50"),  # a plain number stays a number
        ("-1,234.50 USD", "-1,234.50 USD"),
        ("Northwind", "Northwind"),
        (None, None),
    ],
)
def test_a_formula_is_written_as_text(value, written):
    assert neutralise(value) == written


def test_the_reseller_list_exports_with_its_search_and_every_page(world, login, provider):
    for i in range(30):
        f.reseller(parent=provider, name=f"Bulk Reseller {i:02d}")
    staff = login(world.staff)
    page = staff.get(reverse("reseller_list"), {"q": "Bulk"}).content.decode()
    assert "Export CSV" in page and "_export=csv" in page

    exported = rows(staff.get(reverse("reseller_list"), {"q": "Bulk", "_export": "csv"}))

    names = [row[0] for row in exported[1:]]
    assert len(names) == 30  # both pages, the search applied
    assert all(name.startswith("Bulk Reseller") for name in names)


def test_a_page_with_several_tables_exports_each_by_its_own_link(world, login):
    client = login(world.r1_user)
    page = client.get(reverse("account")).content.decode()
    assert 'data-export="doc-"' in page and 'data-export="cust-"' in page

    documents = rows(client.get(reverse("account"), {"_export": "csv", "_table": "doc-"}))
    customers = rows(client.get(reverse("account"), {"_export": "csv", "_table": "cust-"}))

    numbers = "\n".join(",".join(row) for row in documents)
    assert world.docs.r1_inv2.display_number in numbers
    received = Document.objects.filter(recipient=world.r1).exclude(status="draft")
    assert len(documents) - 1 == received.count() == 4  # reseller1's own, nobody else's
    assert [row[0] for row in customers[1:]] == ["Customer One"]
    missing = client.get(reverse("account"), {"_export": "csv", "_table": "nope-"})
    assert missing.status_code == 404


def test_a_customer_named_like_a_formula_exports_as_text(world, login):
    f.customer(parent=world.r1, name="=cmd|' /C calc'!A0")
    exported = rows(login(world.r1_user).get(reverse("own_customer_list"), {"_export": "csv"}))
    names = [row[0] for row in exported[1:]]
    assert "'=cmd|' /C calc'!A0" in names
    assert "Customer Two" not in names  # reseller2's customer: never in reseller1's export
