"""The account page lists the viewer's own API tokens and revokes them (POST, with CSRF); nobody
else's. A plain log out keeps them; "Log out and revoke all my API tokens" ends both."""

import pytest
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from resellers.models import AuditEvent
from tests import factories as f
from tests.factories.api import api_token

pytestmark = pytest.mark.django_db


def _api_status(token: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get("/api/v1/resellers/").status_code


def _row(token: str) -> AuthToken:
    return AuthToken.objects.get(token_key=token[:15])


def test_the_account_page_lists_my_tokens_only(client, alice, bob):
    mine = api_token(alice)
    theirs = api_token(bob)
    client.force_login(alice)

    page = client.get("/account/").content.decode()

    assert 'id="api-tokens"' in page
    assert f'data-token="{mine[:8]}"' in page
    assert f"/account/api-tokens/{_row(mine).digest}/revoke/" in page
    assert theirs[:8] not in page and _row(theirs).digest not in page
    assert mine not in page  # the token itself is shown once, by the API, never again


def test_a_customer_page_of_a_reseller_shows_no_token_section(client, alice, reseller_a):
    customer = f.customer(parent=reseller_a, name="Alpha Customer")
    client.force_login(alice)

    page = client.get(f"/account/customers/{customer.pk}/").content.decode()

    assert 'id="api-tokens"' not in page


def test_revoke_one_token(client, alice):
    gone = api_token(alice)
    kept = api_token(alice)
    client.force_login(alice)

    response = client.post(f"/account/api-tokens/{_row(gone).digest}/revoke/", follow=True)

    assert response.redirect_chain[-1][0] == "/account/#api-tokens"
    assert "The API token is revoked" in response.content.decode()
    assert _api_status(gone) == 401
    assert _api_status(kept) == 200
    event = AuditEvent.objects.get(action="api_token.revoke", actor=alice)
    assert event.object_id == gone[:15] and event.details == {"via": "panel"}


def test_nobody_else_can_revoke_my_token(client, alice, bob):
    token = api_token(alice)
    client.force_login(bob)

    response = client.post(f"/account/api-tokens/{_row(token).digest}/revoke/")

    assert response.status_code == 404
    assert _api_status(token) == 200


def test_revoke_is_post_only_and_needs_csrf(alice):
    token = api_token(alice)
    url = f"/account/api-tokens/{_row(token).digest}/revoke/"
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403
    assert _api_status(token) == 200


def test_anonymous_is_sent_to_login(client, alice):
    token = api_token(alice)
    response = client.post(f"/account/api-tokens/{_row(token).digest}/revoke/")
    assert response.status_code == 302 and response.url.startswith("/login/")
    assert _api_status(token) == 200


def test_revoke_all(client, alice, bob):
    mine = [api_token(alice), api_token(alice)]
    theirs = api_token(bob)
    client.force_login(alice)

    response = client.post("/account/api-tokens/revoke-all/", follow=True)

    assert "All your API tokens are revoked (2)" in response.content.decode()
    assert [_api_status(t) for t in mine] == [401, 401]
    assert _api_status(theirs) == 200
    assert 'id="no-api-tokens"' in response.content.decode()


def test_plain_logout_keeps_tokens(client, alice):
    token = api_token(alice)
    client.force_login(alice)

    client.post("/logout/")

    assert client.get("/account/").status_code == 302
    assert _api_status(token) == 200


def test_sign_out_everywhere_revokes_tokens_and_logs_out(client, alice):
    token = api_token(alice)
    client.force_login(alice)

    response = client.post("/account/sign-out-everywhere/", follow=True)

    assert response.redirect_chain[-1][0] == "/login/"
    assert "all your API tokens are revoked" in response.content.decode()
    assert _api_status(token) == 401
    assert client.get("/account/").status_code == 302


def test_provider_staff_manage_tokens_on_their_own_page(client, staff):
    token = api_token(staff)
    client.force_login(staff)

    page = client.get("/account/api-tokens/")
    assert page.status_code == 200
    assert f'data-token="{token[:8]}"' in page.content.decode()

    response = client.post(f"/account/api-tokens/{_row(token).digest}/revoke/")
    assert response.url == "/account/api-tokens/"
    assert _api_status(token) == 401
