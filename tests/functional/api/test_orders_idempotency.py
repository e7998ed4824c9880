"""Idempotency-Key on POST orders/, as payment APIs do: a retry with the same key and body replays
the first response (200, `Idempotent-Replayed: true`) and creates nothing; the same key with
another body is refused; racing requests with one key place one order; a request that died
midway is continued by its retry. (The mechanism, shared with top-ups: test_idempotency.py.)"""

import pytest
from django.db import connections

from billing import idempotency
from billing.models import IdempotencyKey
from orders.models import Order, OrderItem, Subscription
from tests.threads import run_together

URL = "/api/v1/orders/"


def post(client, body, key):
    headers = {} if key is None else {"Idempotency-Key": key}
    return client.post(URL, body, format="json", headers=headers)


def body_for(shop, quantity=2, product=None):
    return {"items": [{"product": (product or shop.office).pk, "quantity": quantity}]}


def orders_of(account):
    return Order.objects.filter(customer=account)


def test_a_retry_replays_the_first_response_and_creates_nothing(world, shop, api):
    client = api(shop.bravo_customer)
    before = orders_of(world.b1).count()

    first = post(client, body_for(shop), "order-7f3a")
    again = post(client, body_for(shop), "order-7f3a")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert orders_of(world.b1).count() == before + 1
    assert Subscription.objects.filter(order_id=first.json()["id"]).count() == 1
    record = IdempotencyKey.objects.get(user=shop.bravo_customer, key="order-7f3a")
    assert record.order_id == first.json()["id"]
    assert (record.response_status, record.response_body) == (201, first.json())
    assert record.completed_at is not None and len(record.request_hash) == 64


def test_the_replay_is_the_first_response_even_after_the_order_moved_on(world, shop, api):
    customer = api(world.alpha_customer)
    first = post(customer, body_for(shop), "k1")
    assert first.json()["status"] == "pending_approval"
    api(world.alpha).post(f"{URL}{first.json()['id']}/approve/")

    again = post(customer, body_for(shop), "k1")

    assert again.json() == first.json()  # what the first request answered, as Stripe does
    assert api(world.alpha_customer).get(f"{URL}{first.json()['id']}/").json()["status"] == (
        "completed"
    )


def test_the_same_body_in_another_key_order_is_the_same_request(world, shop, api):
    client = api(shop.bravo_customer)
    body = {"notes": "n", "items": [{"quantity": 1, "product": shop.office.pk}]}
    reordered = {"items": [{"product": shop.office.pk, "quantity": 1}], "notes": "n"}

    first = post(client, body, "same")
    again = post(client, reordered, "same")

    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]


def test_the_same_key_with_another_body_is_refused(world, shop, api):
    client = api(shop.bravo_customer)
    first = post(client, body_for(shop, quantity=2), "k2")
    before = (Order.objects.count(), OrderItem.objects.count())

    response = post(client, body_for(shop, quantity=3), "k2")

    assert response.status_code == 422
    assert "already used with a different request" in response.json()["detail"]
    assert (Order.objects.count(), OrderItem.objects.count()) == before
    record = IdempotencyKey.objects.get(user=shop.bravo_customer, key="k2")
    assert record.response_body == first.json()


def test_keys_belong_to_their_user(world, shop, api):
    mine = post(api(shop.bravo_customer), body_for(shop), "shared-key")
    theirs = post(api(world.bravo), {**body_for(shop), "customer": world.b1.pk}, "shared-key")

    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert "Idempotent-Replayed" not in theirs.headers


def test_a_refused_request_stores_nothing_and_the_key_can_be_retried(world, shop, api):
    client = api(shop.bravo_customer)
    before = orders_of(world.b1).count()

    refused = post(client, body_for(shop, product=shop.special), "k3")  # not in its catalogue
    assert refused.status_code == 400
    assert not IdempotencyKey.objects.filter(key="k3").exists()
    invalid = post(client, body_for(shop, quantity=0), "k3")
    assert invalid.status_code == 400
    assert not IdempotencyKey.objects.filter(key="k3").exists()

    fixed = post(client, body_for(shop), "k3")

    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers
    assert orders_of(world.b1).count() == before + 1


def test_a_request_that_died_midway_is_retried_into_one_order(world, shop, api, monkeypatch):
    """An order needing no approval, card or manual step is placed in one transaction: a crash
    inside it leaves no order and the key pending, and the retry places exactly one."""
    from orders.services import placement

    client = api(shop.bravo_customer)
    before = orders_of(world.b1).count()

    def crash(**kwargs):
        raise RuntimeError("worker killed while placing the order")

    monkeypatch.setattr(placement, "_complete_at_once", crash)
    with pytest.raises(RuntimeError):
        post(client, body_for(shop), "k4")
    # Nothing was created, so nothing is kept under the key: the retry starts afresh.
    assert not IdempotencyKey.objects.filter(key="k4", order__isnull=False).exists()
    assert orders_of(world.b1).count() == before
    monkeypatch.undo()

    retry = post(client, body_for(shop), "k4")

    assert retry.status_code == 201, retry.content
    assert retry.json()["status"] == "completed"
    assert orders_of(world.b1).count() == before + 1
    assert post(client, body_for(shop), "k4").json() == retry.json()


def test_a_draft_left_by_a_dead_request_is_submitted_by_its_retry(world, shop, api):
    """Where an earlier attempt linked a draft to the key and died, the retry submits it."""
    from orders.services import ItemSpec, order_create

    client = api(shop.bravo_customer)
    first = post(client, body_for(shop), "k5")
    record = IdempotencyKey.objects.get(key="k5")
    draft = order_create(placed_by=shop.bravo_customer, customer=world.b1,
                         items=[ItemSpec(product=shop.office, quantity=1)])  # fmt: skip
    IdempotencyKey.objects.filter(pk=record.pk).update(
        order=draft, completed_at=None, response_status=None, response_body=None
    )

    retry = post(client, body_for(shop), "k5")

    assert first.status_code == 201
    assert retry.status_code == 201 and retry.json()["id"] == draft.pk
    assert retry.json()["status"] == "completed"


def test_a_malformed_key_answers_400(world, shop, api):
    before = Order.objects.count()
    response = post(api(shop.bravo_customer), body_for(shop), "k" * 256)
    assert response.status_code == 400
    assert list(response.json()) == ["Idempotency-Key"]
    assert Order.objects.count() == before


def test_without_a_key_each_post_is_a_new_order(world, shop, api):
    client = api(shop.bravo_customer)
    first, second = post(client, body_for(shop), None), post(client, body_for(shop), None)
    assert first.json()["id"] != second.json()["id"]
    assert not IdempotencyKey.objects.exists()


# --- concurrency, on PostgreSQL with real threads ----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_racing_requests_with_one_key_place_one_order(world, shop, api):
    user, body = shop.bravo_customer, body_for(shop, quantity=3)
    before = set(orders_of(world.b1).values_list("pk", flat=True))

    def place(i):
        response = post(api(user), body, "race-1")
        return response.status_code, response.json(), response.headers.get("Idempotent-Replayed")

    results, errors = run_together(2, place)

    assert errors == []
    (status_a, body_a, replay_a), (status_b, body_b, replay_b) = results
    assert sorted([(status_a, replay_a), (status_b, replay_b)], key=str) == [
        (200, "true"),
        (201, None),
    ]
    assert body_a == body_b
    created = set(orders_of(world.b1).values_list("pk", flat=True)) - before
    assert created == {body_a["id"]}
    assert body_a["status"] == "completed"
    assert Subscription.objects.filter(order_id=body_a["id"]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_racing_requests_with_one_key_and_different_bodies(world, shop, api):
    user = shop.bravo_customer
    bodies = [body_for(shop, quantity=1), body_for(shop, quantity=5)]
    before = orders_of(world.b1).count()

    def place(i):
        response = post(api(user), bodies[i], "race-2")
        return response.status_code

    results, errors = run_together(2, place)

    assert errors == []
    assert sorted(results) == [201, 422]
    assert orders_of(world.b1).count() == before + 1


def test_a_request_that_waits_too_long_for_its_key_answers_409(world, shop, api, monkeypatch):
    """Another request holds the key (here: a second connection holds its lock)."""
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 1)
    user = shop.bravo_customer
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [idempotency._lock_id(user.pk, "busy")])
        before = Order.objects.count()

        response = post(api(user), body_for(shop), "busy")

        assert response.status_code == 409
        assert "still in progress" in response.json()["detail"]
        assert Order.objects.count() == before
    finally:
        other.close()  # releases the lock
    retry = post(api(user), body_for(shop), "busy")  # nothing was stored: the work runs now
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers
