"""One Idempotency-Key mechanism (billing.idempotency) on both POST endpoints that create money or
orders: top-ups (payments/) and orders (orders/). Each test runs on both.

- Racing requests with one key: exactly one 201; the others 200 with `Idempotent-Replayed: true`
  and the same body, or 409 while the first is still running; one payment (one gateway charge),
  or one order.
- A retry after completion replays: 200, `Idempotent-Replayed: true`, the same body.
- The same key with another body, or at the other endpoint, answers 422 and creates nothing.
- Keys are per user: two users sending one key each get their own.
- A request that crashed (or failed at the gateway) keeps nothing under its key: a retry runs.
"""

from types import SimpleNamespace

import pytest
from django.db import connections

from billing import idempotency
from billing.gateway import TestGateway
from billing.models import Document, GatewayCharge, IdempotencyKey
from orders.models import Order
from tests import factories as f
from tests.threads import run_together

RACERS = 10
REPLAYED = idempotency.REPLAYED_HEADER


@pytest.fixture(autouse=True)
def _gateway():
    TestGateway.reset()
    yield
    TestGateway.reset()


def topups(world, shop):
    """Top-ups: Bravo and Alpha (resellers) by their own cards."""
    return SimpleNamespace(
        url="/api/v1/payments/",
        user=world.bravo,
        body={"payment_method": world.methods["b_card"].pk, "amount": "25.00"},
        other_body={"payment_method": world.methods["b_card"].pk, "amount": "26.00"},
        second_user=world.alpha,
        second_body={"payment_method": world.methods["a_card"].pk, "amount": "25.00"},
        made=lambda: set(Document.objects.filter(doc_type="payment").values_list("pk", flat=True)),
    )


def orders(world, shop):
    """Orders: Bravo Customer for itself (approval off, cash: completed at once) and Bravo for
    Bravo Customer."""
    body = {"items": [{"product": shop.office.pk, "quantity": 2}]}
    return SimpleNamespace(
        url="/api/v1/orders/",
        user=shop.bravo_customer,
        body=body,
        other_body={"items": [{"product": shop.office.pk, "quantity": 3}]},
        second_user=world.bravo,
        second_body={**body, "customer": world.b1.pk},
        made=lambda: set(Order.objects.values_list("pk", flat=True)),
    )


@pytest.fixture(params=[topups, orders], ids=["payments", "orders"])
def endpoint(request, world, shop):
    return request.param(world, shop)


def post(api, user, url, body, key):
    headers = {} if key is None else {idempotency.KEY_HEADER: key}
    return api(user).post(url, body, format="json", headers=headers)


# --- concurrency, on PostgreSQL with real threads ----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_racing_requests_with_one_key_make_one_and_answer_201_once(endpoint, world, api):
    before = endpoint.made()

    def send(i):
        response = post(api, endpoint.user, endpoint.url, endpoint.body, "race")
        return response.status_code, response.json(), response.headers.get(REPLAYED)

    results, errors = run_together(RACERS, send)

    assert errors == []
    created = [body for status, body, replayed in results if status == 201]
    assert len(created) == 1, [status for status, _, _ in results]
    assert next(r for r in results if r[0] == 201)[2] is None  # the original is no replay
    for status, body, replayed in results:
        assert status in (200, 201, 409), (status, body)
        if status == 200:
            assert (body, replayed) == (created[0], "true")
        if status == 409:
            assert "still in progress" in body["detail"]
    assert endpoint.made() - before == {created[0]["id"]}
    record = IdempotencyKey.objects.get(user=endpoint.user, key="race")
    assert (record.response_status, record.response_body) == (201, created[0])
    if endpoint.url.endswith("payments/"):
        gateway_key = f"topup:{world.b.pk}:race"
        assert TestGateway.attempts[gateway_key] == 1  # charged once
        assert GatewayCharge.objects.filter(idempotency_key=gateway_key).count() == 1


@pytest.mark.django_db(transaction=True)
def test_racing_requests_with_one_key_and_two_bodies_make_one(endpoint, api):
    before = endpoint.made()
    bodies = [endpoint.body, endpoint.other_body] * (RACERS // 2)

    def send(i):
        return post(api, endpoint.user, endpoint.url, bodies[i], "race-2").status_code

    results, errors = run_together(RACERS, send)

    assert errors == []
    assert results.count(201) == 1
    assert set(results) <= {200, 201, 409, 422} and 422 in results
    assert len(endpoint.made() - before) == 1


def test_a_request_waiting_too_long_for_its_key_answers_409(endpoint, api, monkeypatch):
    """Another request holds the key (here: a second connection holds its lock)."""
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 1)
    before = endpoint.made()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            lock_id = idempotency._lock_id(endpoint.user.pk, "busy")
            cursor.execute("SELECT pg_advisory_lock(%s)", [lock_id])

        response = post(api, endpoint.user, endpoint.url, endpoint.body, "busy")

        assert response.status_code == 409
        assert "still in progress" in response.json()["detail"]
        assert endpoint.made() == before
    finally:
        other.close()  # releases the lock
    retry = post(api, endpoint.user, endpoint.url, endpoint.body, "busy")
    assert retry.status_code == 201 and REPLAYED not in retry.headers


# --- one request after another -----------------------------------------------------------------


def test_a_retry_after_completion_replays_200_with_the_same_body(endpoint, api):
    before = endpoint.made()

    first = post(api, endpoint.user, endpoint.url, endpoint.body, "k1")
    again = post(api, endpoint.user, endpoint.url, endpoint.body, "k1")

    assert (first.status_code, again.status_code) == (201, 200)
    assert REPLAYED not in first.headers and again.headers[REPLAYED] == "true"
    assert again.json() == first.json()
    assert endpoint.made() - before == {first.json()["id"]}


def test_the_same_key_with_another_body_answers_422_naming_the_mismatch(endpoint, api):
    first = post(api, endpoint.user, endpoint.url, endpoint.body, "k2")
    before = endpoint.made()

    other = post(api, endpoint.user, endpoint.url, endpoint.other_body, "k2")

    assert other.status_code == 422
    assert (
        "already used with a different request (with a different body)" in (other.json()["detail"])
    )
    assert endpoint.made() == before
    record = IdempotencyKey.objects.get(user=endpoint.user, key="k2")
    assert record.response_body == first.json()  # the key still names the first request


def test_two_users_with_one_key_each_get_their_own(endpoint, api):
    before = endpoint.made()

    mine = post(api, endpoint.user, endpoint.url, endpoint.body, "shared")
    theirs = post(api, endpoint.second_user, endpoint.url, endpoint.second_body, "shared")

    assert mine.status_code == theirs.status_code == 201
    assert REPLAYED not in mine.headers and REPLAYED not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]
    assert endpoint.made() - before == {mine.json()["id"], theirs.json()["id"]}


def test_a_request_that_crashed_releases_its_key(endpoint, world, api, monkeypatch):
    """An exception out of the work (here: serialising the answer, after the work was done)
    stores no response: the retry with the same key runs again and does not make a second one.
    The top-up's key is released, and the retry finds the booked top-up by its gateway key (200,
    a replay: charged once); the order's key stays pending, linked to the order, and the retry
    continues with that order (201)."""
    before = endpoint.made()
    real = idempotency.json_ready

    def crash(data):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(idempotency, "json_ready", crash)
    with pytest.raises(RuntimeError):
        post(api, endpoint.user, endpoint.url, endpoint.body, "k3")
    assert not IdempotencyKey.objects.filter(key="k3", order__isnull=True).exists()
    monkeypatch.setattr(idempotency, "json_ready", real)

    retry = post(api, endpoint.user, endpoint.url, endpoint.body, "k3")

    if endpoint.url.endswith("payments/"):
        assert (retry.status_code, retry.headers[REPLAYED]) == (200, "true"), retry.content
    else:
        assert retry.status_code == 201 and REPLAYED not in retry.headers, retry.content
    assert len(endpoint.made() - before) == 1
    assert post(api, endpoint.user, endpoint.url, endpoint.body, "k3").json() == retry.json()
    if endpoint.url.endswith("payments/"):
        assert TestGateway.attempts[f"topup:{world.b.pk}:k3"] == 1


def test_a_key_used_at_one_endpoint_answers_422_at_the_other(world, shop, api):
    card = world.methods["b_card"].pk
    topup = post(
        api, world.bravo, "/api/v1/payments/", {"payment_method": card, "amount": "5"}, "k4"
    )
    before = set(Order.objects.values_list("pk", flat=True))

    order = post(
        api,
        world.bravo,
        "/api/v1/orders/",
        {"customer": world.b1.pk, "items": [{"product": shop.office.pk, "quantity": 1}]},
        "k4",
    )

    assert topup.status_code == 201
    assert order.status_code == 422 and "at another endpoint" in order.json()["detail"]
    assert set(Order.objects.values_list("pk", flat=True)) == before


def test_a_gateway_failure_keeps_nothing_under_the_key(world, api):
    failing = f.card(world.b, token="tok_fail_idem")
    body = {"payment_method": failing.pk, "amount": "10.00"}

    response = post(api, world.bravo, "/api/v1/payments/", body, "k5")

    assert response.status_code == 503
    assert response.json()["idempotency_key"] == "k5"
    assert not IdempotencyKey.objects.filter(key="k5").exists()  # retry may run again
    again = post(api, world.bravo, "/api/v1/payments/", body, "k5")
    assert again.status_code == 503 and REPLAYED not in again.headers


def test_without_a_key_nothing_is_stored(endpoint, api):
    first = post(api, endpoint.user, endpoint.url, endpoint.body, None)
    second = post(api, endpoint.user, endpoint.url, endpoint.body, None)

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert not IdempotencyKey.objects.filter(user=endpoint.user).exists()
