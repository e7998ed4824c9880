"""documents/{id}/pdf/: the document's PDF, scoped like the document itself (see conftest.world:
Provider -> Alpha INV-000001 600.00 due 4 Feb 2026 with 250.00 paid; Alpha -> Alpha Customer
80.00; a draft to Alpha Customer; Bravo's and the referral partner's invoices)."""

import io
import re

import pytest
from pypdf import PdfReader
from rest_framework.test import APIClient


def _url(document) -> str:
    return f"/api/v1/documents/{document.pk}/pdf/"


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def test_a_reseller_downloads_its_invoice_as_pdf(world, api):
    inv = world.docs["inv_a"]

    response = api(world.alpha).get(_url(inv))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="INV-000001.pdf"'
    assert response.content.startswith(b"%PDF")
    text = _text(response.content)
    assert "INV-000001" in text
    assert "invoice line" in text  # the line's description
    assert "600.00 USD" in text  # total
    assert "250.00 USD" in text and "350.00 USD" in text  # paid, due
    assert "4 Feb 2026" in text  # due date (30-day terms)
    assert "Attn: Ann Alpha" in text  # Alpha's bill-to contact


def test_a_client_may_ask_for_pdf_explicitly(world, api):
    response = api(world.alpha).get(_url(world.docs["inv_a"]), HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")


def test_a_resale_reseller_and_its_customer_download_the_customers_invoice(world, api):
    inv = world.docs["inv_a1"]
    for user in (world.alpha, world.alpha_customer, world.staff):
        response = api(user).get(_url(inv))
        assert response.status_code == 200, user
        assert "Alpha Customer" in _text(response.content)


@pytest.mark.parametrize(
    ("who", "doc"),
    [
        ("bravo", "inv_a"),  # another reseller's invoice
        ("bravo", "inv_a1"),  # another reseller's customer's
        ("alpha", "inv_b1"),
        ("alpha_customer", "inv_a"),  # its reseller's own invoice
        ("referral", "inv_r1"),  # a referral reseller never sees its customers' documents
        ("alpha", "draft_a1"),  # drafts are for provider staff
        ("alpha_customer", "draft_a1"),
    ],
)
def test_what_the_user_may_not_see_answers_404(world, api, who, doc):
    response = api(getattr(world, who)).get(_url(world.docs[doc]))
    assert response.status_code == 404
    assert not response.content.startswith(b"%PDF")


def test_a_404_asked_for_as_pdf_is_worded_in_json(world, api):
    response = api(world.bravo).get(_url(world.docs["inv_a"]), HTTP_ACCEPT="application/pdf")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


def test_a_referral_reseller_downloads_its_own_invoice(world, api):
    response = api(world.referral).get(_url(world.docs["inv_r"]))
    assert response.status_code == 200
    assert "Referral Partner" in _text(response.content)


def test_staff_download_a_draft_marked_draft(world, api):
    draft = world.docs["draft_a1"]
    response = api(world.staff).get(_url(draft))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="INV-DRAFT-{draft.pk}.pdf"'
    text = _text(response.content)
    assert "DRAFT" in text and "999.00 USD" in text


def test_anonymous_gets_401(world):
    response = APIClient().get(_url(world.docs["inv_a"]))
    assert response.status_code == 401


def test_token_auth_works_too(world):
    client = APIClient()
    token = client.post(
        "/api/v1/auth/token/", {"username": "alpha", "password": "pw"}, format="json"
    ).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(_url(world.docs["inv_a"])).content.startswith(b"%PDF")


def test_the_schema_describes_the_pdf(db):
    schema = APIClient().get("/api/v1/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/documents/{id}/pdf/"]["get"]
    assert operation["responses"]["200"]["content"] == {
        "application/pdf": {"schema": {"type": "string", "format": "binary"}}
    }
    assert "404" in operation["responses"]
    assert "documents" in operation["tags"]
