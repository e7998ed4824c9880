"""Brute force: 5 failed logins from one username + IP address lock that pair out for 15 minutes
on the panel's /login/, the admin's login and POST /api/v1/auth/token/."""

import logging
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

MESSAGE = "Too many failed login attempts: try again in 15 minutes"
TOKEN_URL = "/api/v1/auth/token/"


def _login(client, username, password, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_five_failures_lock_the_panel_login_even_with_the_right_password(client, alice, caplog):
    for _ in range(4):
        response = _login(client, "alice", "wrong")
        assert response.status_code == 200
        assert b"Please enter a correct username and password" in response.content

    fifth = _login(client, "alice", "wrong")
    assert fifth.status_code == 429
    assert MESSAGE in fifth.content.decode()

    with caplog.at_level(logging.WARNING, logger="resellers.logins"):
        sixth = _login(client, "alice", "pw")

    assert sixth.status_code == 429
    assert MESSAGE in sixth.content.decode()
    assert sixth["Retry-After"] == str(15 * 60)
    assert b'href="/password/reset/"' in sixth.content  # in the panel's page, not a bare 403
    assert b"Cloud Billing" in sixth.content
    assert not _logged_in(client)
    assert "alice from 127.0.0.1 is locked out" in caplog.text
    attempt = AccessAttempt.objects.get(username="alice", ip_address="127.0.0.1")
    assert attempt.failures_since_start >= 5
    assert AccessFailureLog.objects.filter(username="alice", locked_out=True).exists()
    assert not AccessLog.objects.filter(username="alice").exists()


def test_the_lockout_is_per_username_and_address(client, alice, bob):
    for _ in range(5):
        _login(client, "alice", "wrong")

    assert _login(client, "alice", "pw").status_code == 429
    # another user from the same address, and alice from another address, still log in
    assert _login(client, "bob", "pw").status_code == 302
    other = client.__class__()
    assert _login(other, "alice", "pw", REMOTE_ADDR="10.0.0.9").status_code == 302
    assert _logged_in(other)


def test_the_lockout_ends_after_the_cool_off(client, alice):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            _login(client, "alice", "wrong")
        assert _login(client, "alice", "pw").status_code == 429
    # the refused attempt at `start` started the 15 minutes again
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        assert _login(client, "alice", "pw").status_code == 429
    with time_machine.travel(start + timedelta(minutes=14 + 16), tick=False):
        response = _login(client, "alice", "pw")
        assert response.status_code == 302
        assert _logged_in(client)


def test_a_successful_login_resets_the_count_and_is_recorded(client, alice):
    for _ in range(4):
        _login(client, "alice", "wrong")

    assert _login(client, "alice", "pw").status_code == 302
    assert AccessLog.objects.filter(username="alice", ip_address="127.0.0.1").count() == 1
    assert not AccessAttempt.objects.filter(username="alice").exists()
    client.post("/logout/")
    for _ in range(4):
        assert _login(client, "alice", "wrong").status_code == 200
    assert _login(client, "alice", "pw").status_code == 302


def test_the_admin_login_is_locked_out_too(client, staff):
    url = "/admin/login/?next=/admin/"
    for _ in range(5):
        client.post(url, {"username": "staff", "password": "wrong"})

    response = client.post(url, {"username": "staff", "password": "pw"})

    assert response.status_code == 429
    assert MESSAGE in response.content.decode()
    assert not _logged_in(client)


def test_the_api_answers_429_when_locked_out(alice, caplog):
    client = APIClient()
    statuses = [
        client.post(TOKEN_URL, {"username": "alice", "password": "wrong"}).status_code
        for _ in range(5)
    ]
    assert statuses == [400, 400, 400, 400, 429]

    with caplog.at_level(logging.WARNING, logger="resellers.logins"):
        response = client.post(TOKEN_URL, {"username": "alice", "password": "pw"}, format="json")

    assert response.status_code == 429
    assert response.json()["detail"].startswith(MESSAGE)
    assert response["Retry-After"] == str(15 * 60)
    assert not AuthToken.objects.filter(user=alice).exists()
    assert "alice from 127.0.0.1 is locked out" in caplog.text
    assert AccessFailureLog.objects.filter(
        username="alice", locked_out=True, path_info=TOKEN_URL
    ).exists()


def test_an_api_success_resets_the_count_and_is_recorded(alice):
    client = APIClient()
    for _ in range(4):
        client.post(TOKEN_URL, {"username": "alice", "password": "wrong"})

    assert client.post(TOKEN_URL, {"username": "alice", "password": "pw"}).status_code == 200
    assert AccessLog.objects.filter(username="alice", path_info=TOKEN_URL).count() == 1
    for _ in range(4):
        assert client.post(TOKEN_URL, {"username": "alice", "password": "no"}).status_code == 400
    assert client.post(TOKEN_URL, {"username": "alice", "password": "pw"}).status_code == 200


def test_failure_limit_and_cool_off_come_from_settings(client, alice, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=30)
    _login(client, "alice", "wrong")

    response = _login(client, "alice", "wrong")

    assert response.status_code == 429
    assert "try again in 30 minutes" in response.content.decode()


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "1.2.3.4", "10.0.0.1"),  # no proxy: the header is the client's own word
        (1, "198.51.100.7", "198.51.100.7"),  # what the proxy saw
        (1, "1.2.3.4, 198.51.100.7", "198.51.100.7"),  # a forged entry on the left is ignored
        (2, "198.51.100.7, 10.0.0.9", "198.51.100.7"),
        (2, "198.51.100.7", "10.0.0.1"),  # shorter than the proxies: not through them
    ],
)
def test_the_lockout_keys_on_the_address_the_trusted_proxy_saw(
    settings, proxies, forwarded, expected
):
    from django.test import RequestFactory

    from resellers.logins import client_ip

    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.0.0.1")
    assert client_ip(request) == expected
