"""API tokens: POST /api/v1/auth/token/ makes a new token with an expiry, stored hashed; it
expires after API_TOKEN_TTL_DAYS (30 by default); DELETE revokes the token making the call."""

import hashlib
from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from resellers.models import AuditEvent
from tests.factories.api import api_token

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


def _with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _get_token(username="alice", password="pw", **kwargs):
    return APIClient().post(TOKEN_URL, {"username": username, "password": password}, **kwargs)


@pytest.mark.parametrize("fmt", ["json", None])
def test_post_answers_token_and_expiry_in_30_days(alice, fmt):
    before = timezone.now()

    response = _get_token(format=fmt) if fmt else _get_token()

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expiry"}
    expiry = datetime.fromisoformat(body["expiry"])
    assert before + timedelta(days=30) <= expiry <= timezone.now() + timedelta(days=30)
    assert _with(body["token"]).get("/api/v1/resellers/").status_code == 200
    event = AuditEvent.objects.get(action="api_token.create", actor=alice)
    assert event.details["via"] == "api"


def test_the_database_keeps_a_digest_not_the_token(alice):
    token = _get_token().json()["token"]

    row = AuthToken.objects.get(user=alice)
    assert row.digest == hashlib.sha512(token.encode()).hexdigest()
    stored = [str(getattr(row, field.attname)) for field in AuthToken._meta.concrete_fields]
    assert not any(token in value for value in stored)
    assert not AuditEvent.objects.filter(details__icontains=token).exists()


def test_a_token_expires_after_its_ttl(alice):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        token = _get_token().json()["token"]

    with time_machine.travel(start + timedelta(days=29), tick=False):
        assert _with(token).get("/api/v1/resellers/").status_code == 200
    with time_machine.travel(start + timedelta(days=31), tick=False):
        response = _with(token).get("/api/v1/resellers/")
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
    assert not AuthToken.objects.filter(user=alice).exists()


def test_the_ttl_comes_from_settings(alice, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": timedelta(days=2)}
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        token = _get_token().json()["token"]
    with time_machine.travel(start + timedelta(days=3), tick=False):
        assert _with(token).get("/api/v1/resellers/").status_code == 401


def test_delete_revokes_the_calling_token_only(alice):
    first = _get_token().json()["token"]
    second = _get_token().json()["token"]

    response = _with(first).delete(TOKEN_URL)

    assert response.status_code == 204
    assert _with(first).get("/api/v1/resellers/").status_code == 401
    assert _with(first).delete(TOKEN_URL).status_code == 401
    assert _with(second).get("/api/v1/resellers/").status_code == 200
    assert AuditEvent.objects.filter(action="api_token.revoke", actor=alice).count() == 1


def test_delete_needs_a_token(alice, client):
    assert APIClient().delete(TOKEN_URL).status_code == 401
    client.force_login(alice)  # a browser session has no token to revoke
    assert client.delete(TOKEN_URL).status_code == 401


def test_a_stale_token_in_the_header_does_not_stop_getting_a_new_one(alice):
    client = _with("0" * 64)

    response = client.post(TOKEN_URL, {"username": "alice", "password": "pw"})

    assert response.status_code == 200 and response.json()["token"]


def test_bad_credentials_answer_400(alice):
    response = _get_token(password="wrong")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_a_factory_token_works(alice):
    assert _with(api_token(alice)).get("/api/v1/resellers/").status_code == 200


def test_the_schema_describes_the_token_endpoint(db):
    schema = APIClient().get("/api/v1/schema/?format=json").json()
    operations = schema["paths"]["/api/v1/auth/token/"]
    assert {"post", "delete"} <= set(operations)
    ok = operations["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    token = schema["components"]["schemas"][ok["$ref"].rsplit("/", 1)[1]]["properties"]
    assert set(token) == {"token", "expiry"}
    assert token["expiry"]["format"] == "date-time"
    assert {"400", "429"} <= set(operations["post"]["responses"])
    assert "204" in operations["delete"]["responses"]
    body = operations["post"]["requestBody"]["content"]
    assert {"application/json", "application/x-www-form-urlencoded"} <= set(body)
