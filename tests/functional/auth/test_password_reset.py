"""Password reset by email (Django's views, the panel's templates), the four password validators,
and password change."""

import re

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import authenticate
from django.core import mail
from django.test import RequestFactory

from tests.factories.api import api_token
from tests.functional.auth.test_token_panel import _api_status

pytestmark = pytest.mark.django_db


def _ask_for_link(client, email="alice@alpha.example"):
    return client.post("/password/reset/", {"email": email})


def _link() -> str:
    (message,) = mail.outbox
    return re.search(r"http://testserver(/password/reset/\S+/)", message.body).group(1)


def test_the_login_page_links_to_password_reset(client):
    page = client.get("/login/").content.decode()
    assert 'href="/password/reset/"' in page and "Forgot your password?" in page
    assert client.get("/password/reset/").status_code == 200


def test_the_email_is_sent_with_a_link_to_the_panel(client, alice, settings):
    settings.SITE_URL = "http://testserver"

    response = _ask_for_link(client)

    assert response.status_code == 302 and response.url == "/password/reset/sent/"
    (message,) = mail.outbox
    assert message.to == ["alice@alpha.example"]
    assert message.subject == "Reset your Cloud Billing password"
    assert "Hello alice" in message.body
    assert message.alternatives == []  # plain text only
    assert "&#x27;" not in message.body and "&amp;" not in message.body
    assert client.get(response.url).status_code == 200


def test_an_unknown_address_sends_nothing_and_says_the_same(client, alice):
    response = _ask_for_link(client, "nobody@example.com")
    assert response.status_code == 302 and response.url == "/password/reset/sent/"
    assert mail.outbox == []


def test_the_link_sets_a_new_password_that_passes_the_validators(client, alice, settings):
    settings.SITE_URL = "http://testserver"
    token = api_token(alice)
    _ask_for_link(client)

    form = client.get(_link(), follow=True)
    set_password_url = form.redirect_chain[-1][0]
    assert set_password_url.endswith("/set-password/")
    assert 'name="new_password1"' in form.content.decode()

    for weak, complaint in [
        ("demo", "too short"),
        ("password123", "too common"),
        ("83920174651", "entirely numeric"),
        ("alice@alpha", "too similar"),
    ]:
        refused = client.post(set_password_url, {"new_password1": weak, "new_password2": weak})
        assert refused.status_code == 200
        assert complaint in refused.content.decode(), weak

    done = client.post(
        set_password_url,
        {"new_password1": "Violet-harbour-42", "new_password2": "Violet-harbour-42"},
    )

    assert done.status_code == 302 and done.url == "/password/reset/complete/"
    assert client.get(done.url).status_code == 200
    request = RequestFactory().post("/login/")
    assert authenticate(request, username="alice", password="Violet-harbour-42") == alice
    assert authenticate(request, username="alice", password="pw") is None
    assert _api_status(token) == 401  # the reset revoked the API tokens
    # the link works once
    again = client.get(_link(), follow=True)
    assert 'id="invalid-reset-link"' in again.content.decode()


def test_a_reset_clears_the_lockout(client, alice, settings):
    settings.SITE_URL = "http://testserver"
    for _ in range(5):
        client.post("/login/", {"username": "alice", "password": "wrong"})
    assert AccessAttempt.objects.filter(username="alice").exists()
    _ask_for_link(client)
    set_password_url = client.get(_link(), follow=True).redirect_chain[-1][0]

    client.post(
        set_password_url,
        {"new_password1": "Violet-harbour-42", "new_password2": "Violet-harbour-42"},
    )

    assert not AccessAttempt.objects.filter(username="alice").exists()
    response = client.post("/login/", {"username": "alice", "password": "Violet-harbour-42"})
    assert response.status_code == 302


def test_password_change_applies_the_validators(client, alice):
    client.force_login(alice)
    token = api_token(alice)

    refused = client.post(
        "/password/change/",
        {"old_password": "pw", "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert refused.status_code == 200 and "entirely numeric" in refused.content.decode()

    done = client.post(
        "/password/change/",
        {
            "old_password": "pw",
            "new_password1": "Violet-harbour-42",
            "new_password2": "Violet-harbour-42",
        },
    )
    assert done.status_code == 302 and done.url == "/password/change/done/"
    assert client.get("/account/").status_code == 200  # still logged in here
    alice.refresh_from_db()
    assert alice.check_password("Violet-harbour-42")
    assert _api_status(token) == 200  # a routine change keeps the integrations' tokens
