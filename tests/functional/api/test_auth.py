"""Token auth, session auth, and 401 for anonymous requests on every endpoint.

Expiry, revocation, hashing and lockout: tests/functional/auth/."""

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.functional.api.conftest import ids

TOKEN_URL = "/api/v1/auth/token/"
ENDPOINTS = ["resellers", "customers", "contacts", "payment-methods", "documents"]


def test_token_for_good_credentials_then_used_as_header(world):
    client = APIClient()

    response = client.post(TOKEN_URL, {"username": "alpha", "password": "pw"}, format="json")

    assert response.status_code == 200
    assert set(response.json()) == {"token", "expiry"}
    token = response.json()["token"]
    assert AuthToken.objects.get(user=world.alpha).token_key == token[:15]
    authed = APIClient()
    authed.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert ids(authed.get("/api/v1/resellers/")) == {world.a.pk}
    # asking again makes a second token; both work
    again = client.post(TOKEN_URL, {"username": "alpha", "password": "pw"}, format="json")
    assert again.json()["token"] != token
    assert AuthToken.objects.filter(user=world.alpha).count() == 2
    assert ids(authed.get("/api/v1/resellers/")) == {world.a.pk}


def test_token_accepts_form_data(world):
    response = APIClient().post(TOKEN_URL, {"username": "bravo", "password": "pw"})
    assert response.status_code == 200 and len(response.json()["token"]) == 64


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "alpha", "password": "wrong"}, "non_field_errors"),
        ({"username": "nobody", "password": "pw"}, "non_field_errors"),
        ({"username": "alpha"}, "password"),
        ({}, "username"),
    ],
)
def test_bad_credentials_answer_400(world, body, field):
    response = APIClient().post(TOKEN_URL, body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not AuthToken.objects.filter(user=world.alpha).exists()


def test_a_wrong_token_answers_401(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 64)
    assert client.get("/api/v1/resellers/").status_code == 401


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_answers_401(world, endpoint):
    client = APIClient()
    listing = client.get(f"/api/v1/{endpoint}/")
    detail = client.get(f"/api/v1/{endpoint}/1/")

    assert listing.status_code == 401
    assert listing["WWW-Authenticate"] == "Token"
    assert detail.status_code == 401


def test_session_auth_works_for_the_browser(world):
    client = APIClient()
    client.force_login(world.bravo)  # axes needs a request to authenticate(): client.login has none

    assert ids(client.get("/api/v1/documents/")) == {
        world.docs["inv_b"].pk,
        world.docs["inv_b1"].pk,
    }


def test_session_writes_need_csrf(world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.staff)

    response = client.put(
        f"/api/v1/resellers/{world.a.pk}/daily-invoicing/", {"mode": "all"}, format="json"
    )

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
