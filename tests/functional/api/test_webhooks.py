"""`webhooks/`: provider staff register, read, change and deactivate webhook endpoints, reveal and
rotate their secret, read each endpoint's delivery log and send a failed delivery again.
Everybody else (a reseller, another tenant's reseller, a customer, a referral reseller): 403 on
every method; nobody signed in: 401.

The world is conftest.py's: staff `staff`, resellers Alpha (`alpha`) and Bravo (`bravo`), Alpha's
customer (`alpha-customer`), a referral reseller (`referral`).
"""

import pytest

from billing.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from billing.webhooks import webhook_emit
from resellers.models import AuditEvent
from tests.factories import webhooks as fw

pytestmark = pytest.mark.django_db
URL = "/api/v1/webhooks/"
HOOK = "https://hooks.example.com/billing"


@pytest.fixture
def staff(api, world):
    return api(world.staff)


@pytest.fixture
def endpoint(world):
    return fw.endpoint(url=HOOK, events=["document.paid", "account.credit_hold"])


def test_staff_register_an_endpoint_and_get_its_secret_once(staff, world):
    response = staff.post(
        URL,
        {"url": HOOK, "events": ["document.paid", "order.completed"], "description": "ERP"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    made = WebhookEndpoint.objects.get(pk=body["id"])
    assert body["secret"] == made.secret and made.secret.startswith("whsec_")
    assert body["url"] == HOOK and body["events"] == ["order.completed", "document.paid"]
    assert (body["is_active"], body["description"], body["created_by"]) == (True, "ERP", "staff")
    assert "secret" not in staff.get(f"{URL}{made.pk}/").json()
    listed = staff.get(URL).json()["results"]
    assert [row["id"] for row in listed] == [made.pk] and "secret" not in listed[0]
    assert staff.get(f"{URL}{made.pk}/secret/").json() == {"secret": made.secret}
    [audit] = AuditEvent.objects.filter(action="webhook_endpoint.create")
    assert audit.actor == world.staff and made.secret not in str(audit.details)


def test_a_retried_post_with_its_idempotency_key_registers_one_endpoint(staff):
    data = {"url": HOOK, "events": ["document.paid"]}
    first = staff.post(URL, data, format="json", headers={"Idempotency-Key": "hook-1"})
    again = staff.post(URL, data, format="json", headers={"Idempotency-Key": "hook-1"})

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert WebhookEndpoint.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"url": "http://hooks.example.com/b", "events": ["document.paid"]}, "url", "HTTPS"),
        ({"url": "http://127.0.0.1:9000/b", "events": ["document.paid"]}, "url", "Loopback"),
        ({"url": "https://u:p@hooks.example.com/", "events": ["document.paid"]}, "url", "password"),
        ({"url": HOOK, "events": []}, "events", ""),
        ({"url": HOOK, "events": ["order.shipped"]}, "events", ""),
        ({"events": ["document.paid"]}, "url", "required"),
    ],
)
def test_bad_input_answers_400_naming_the_field(staff, data, field, message):
    response = staff.post(URL, data, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert message in str(response.json()[field])
    assert not WebhookEndpoint.objects.exists()


def test_loopback_over_http_is_accepted_with_debug_on(staff, settings):
    settings.DEBUG = True

    response = staff.post(
        URL, {"url": "http://127.0.0.1:9000/hooks", "events": ["document.paid"]}, format="json"
    )

    assert response.status_code == 201, response.content


def test_staff_change_and_deactivate_an_endpoint(staff, endpoint, world):
    patched = staff.patch(f"{URL}{endpoint.pk}/", {"events": ["document.issued"]}, format="json")
    assert patched.status_code == 200, patched.content
    assert patched.json()["events"] == ["document.issued"] and patched.json()["url"] == HOOK

    put = staff.put(
        f"{URL}{endpoint.pk}/",
        {"url": "https://other.example.com/h", "events": ["document.paid"]},
        format="json",
    )
    assert put.status_code == 200 and put.json()["url"] == "https://other.example.com/h"
    refused = staff.patch(f"{URL}{endpoint.pk}/", {"url": "http://x.example.com"}, format="json")
    assert refused.status_code == 400 and "url" in refused.json()

    assert staff.delete(f"{URL}{endpoint.pk}/").status_code == 204
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.deactivated_at is not None
    assert staff.get(f"{URL}{endpoint.pk}/").json()["is_active"] is False  # kept, with its log
    back = staff.patch(f"{URL}{endpoint.pk}/", {"is_active": True}, format="json")
    assert back.json()["is_active"] is True

    actions = list(
        AuditEvent.objects.filter(object_type="billing.webhookendpoint")
        .order_by("pk")
        .values_list("action", "actor__username")
    )
    assert actions == [
        ("webhook_endpoint.create", None),  # the factory's, as a job
        ("webhook_endpoint.update", "staff"),
        ("webhook_endpoint.update", "staff"),
        ("webhook_endpoint.deactivate", "staff"),
        ("webhook_endpoint.update", "staff"),
    ]


def test_rotating_the_secret_replaces_it(staff, endpoint):
    old = endpoint.secret

    response = staff.post(f"{URL}{endpoint.pk}/rotate-secret/")

    assert response.status_code == 200
    endpoint.refresh_from_db()
    assert response.json() == {"secret": endpoint.secret} and endpoint.secret != old
    assert AuditEvent.objects.filter(action="webhook_endpoint.rotate_secret").count() == 1


def test_the_delivery_log_and_send_again(staff, endpoint, world):
    [failed] = webhook_emit(event="document.paid", account=world.a, data={"n": 1})
    [pending] = webhook_emit(event="account.credit_hold", account=world.b, data={"n": 2})
    WebhookAttempt.objects.create(
        delivery=failed,
        number=1,
        attempted_at=failed.created_at,
        status_code=500,
        error="HTTP 500",
        duration_ms=12,
    )
    WebhookDelivery.objects.filter(pk=failed.pk).update(
        status="failed", attempts=1, last_status_code=500, last_error="HTTP 500"
    )
    fw.endpoint(url="https://other.example.com/h", events=["document.issued"])
    [elsewhere] = webhook_emit(event="document.issued", data={})  # the other endpoint's

    log = staff.get(f"{URL}{endpoint.pk}/deliveries/").json()
    assert [row["id"] for row in log["results"]] == [pending.pk, failed.pk]
    row = log["results"][1]
    assert (row["event"], row["status"], row["attempts"]) == ("document.paid", "failed", 1)
    assert (row["last_status_code"], row["last_error"]) == (500, "HTTP 500")
    assert row["account"] == {"id": world.a.pk, "name": "Alpha Reseller"}
    only_failed = staff.get(f"{URL}{endpoint.pk}/deliveries/", {"status": "failed"}).json()
    assert [r["id"] for r in only_failed["results"]] == [failed.pk]
    assert staff.get(f"{URL}{endpoint.pk}/deliveries/", {"status": "lost"}).status_code == 400

    detail = staff.get(f"{URL}{endpoint.pk}/deliveries/{failed.pk}/").json()
    assert detail["data"]["n"] == 1
    assert detail["attempt_log"][0]["status_code"] == 500
    # another endpoint's delivery is not this endpoint's
    assert staff.get(f"{URL}{endpoint.pk}/deliveries/{elsewhere.pk}/").status_code == 404

    resent = staff.post(f"{URL}{endpoint.pk}/deliveries/{failed.pk}/resend/")
    assert resent.status_code == 200, resent.content
    assert resent.json()["status"] == "pending"
    again = staff.post(f"{URL}{endpoint.pk}/deliveries/{pending.pk}/resend/")
    assert again.status_code == 400 and "delivery" in again.json()


@pytest.mark.parametrize("who", ["alpha", "bravo", "alpha_customer", "referral"])
def test_everybody_but_provider_staff_is_refused(api, world, endpoint, who):
    client = api(getattr(world, who))
    [delivery] = webhook_emit(event="document.paid", data={})
    one = f"{URL}{endpoint.pk}/"

    answers = [
        client.get(URL),
        client.post(URL, {"url": HOOK, "events": ["document.paid"]}, format="json"),
        client.get(one),
        client.patch(one, {"is_active": False}, format="json"),
        client.delete(one),
        client.get(f"{one}secret/"),
        client.post(f"{one}rotate-secret/"),
        client.get(f"{one}deliveries/"),
        client.get(f"{one}deliveries/{delivery.pk}/"),
        client.post(f"{one}deliveries/{delivery.pk}/resend/"),
    ]

    assert [r.status_code for r in answers] == [403] * len(answers)
    assert "secret" not in str([r.content for r in answers])
    endpoint.refresh_from_db()
    assert endpoint.is_active and WebhookEndpoint.objects.count() == 1


def test_nobody_signed_in_gets_401(api, endpoint):
    assert api().get(URL).status_code == 401
    assert api().get(f"{URL}{endpoint.pk}/secret/").status_code == 401


def test_an_unknown_endpoint_is_404_for_staff(staff):
    assert staff.get(f"{URL}999999/").status_code == 404
    assert staff.get(f"{URL}999999/deliveries/").status_code == 404
