"""Webhooks in the provider panel: /billing/webhooks/ (the endpoints and registering one),
/billing/webhooks/<pk>/ (edit; its secret shown once, then on request; rotate and deactivate ask
first), the delivery log with Send again, and a delivery's page. Resellers and customers: 403;
nobody signed in: the login page."""

import pytest
from django.urls import reverse

from billing.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from billing.webhooks import webhook_emit
from resellers.models import AuditEvent
from tests import factories as f
from tests.factories import webhooks as fw

pytestmark = pytest.mark.django_db
LIST = "/billing/webhooks/"
HOOK = "https://erp.example.com/hooks"


@pytest.fixture
def staff(client, provider_user):
    client.force_login(provider_user)
    return client


@pytest.fixture
def endpoint(provider_user):
    return fw.endpoint(url=HOOK, events=["document.paid", "account.credit_hold"])


def _failed(delivery: WebhookDelivery, *, status_code=500, error="HTTP 500") -> WebhookDelivery:
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=1,
        attempted_at=delivery.created_at,
        status_code=status_code,
        error=error,
        response_excerpt="upstream down",
        duration_ms=40,
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status="failed",
        attempts=1,
        attempts_allowed=1,
        last_status_code=status_code,
        last_error=error,
        last_attempt_at=delivery.created_at,
    )
    delivery.refresh_from_db()
    return delivery


def test_staff_register_an_endpoint_and_see_its_secret_once(staff, provider_user):
    page = staff.get(LIST)
    assert page.status_code == 200
    assert 'aria-current="page">Webhooks</a>' in page.content.decode()

    response = staff.post(
        LIST,
        {
            "url": HOOK,
            "events": ["order.completed", "document.paid"],
            "description": "ERP",
            "is_active": "on",
        },
    )

    made = WebhookEndpoint.objects.get()
    assert response.status_code == 302 and response.url == f"{LIST}{made.pk}/"
    assert (made.url, made.events, made.description) == (
        HOOK,
        ["order.completed", "document.paid"],
        "ERP",
    )
    assert made.is_active
    first = staff.get(response.url).content.decode()
    assert made.secret in first and 'id="secret-once"' in first
    again = staff.get(response.url).content.decode()
    assert made.secret not in again and "Show secret" in again
    shown = staff.post(f"{LIST}{made.pk}/secret/")
    assert made.secret in shown.content.decode() and shown["Cache-Control"] == "no-store"
    assert HOOK in staff.get(LIST).content.decode()
    [audit] = AuditEvent.objects.filter(action="webhook_endpoint.create")
    assert audit.actor == provider_user


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"url": "http://erp.example.com/hooks", "events": ["document.paid"]}, "url", "HTTPS"),
        ({"url": "http://localhost:9000/h", "events": ["document.paid"]}, "url", "Loopback"),
        ({"url": HOOK}, "events", "Choose at least one event."),
        ({"url": "", "events": ["document.paid"]}, "url", "required"),
    ],
)
def test_bad_input_is_a_form_error_and_nothing_is_registered(staff, data, field, message):
    response = staff.post(LIST, {**data, "is_active": "on"})

    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    assert "No endpoint was registered" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_staff_edit_rotate_and_deactivate(staff, endpoint):
    page = f"{LIST}{endpoint.pk}/"
    saved = staff.post(page, {"url": HOOK, "events": ["document.issued"], "is_active": "on"})
    assert saved.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.events == ["document.issued"] and endpoint.is_active
    refused = staff.post(page, {"url": "ftp://x.example.com", "events": ["document.issued"]})
    assert "Nothing was saved" in refused.content.decode()

    old = endpoint.secret
    ask = staff.get(f"{page}rotate-secret/")
    assert ask.status_code == 200 and "signed with it" in ask.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.secret == old  # asking changes nothing
    rotated = staff.post(f"{page}rotate-secret/")
    endpoint.refresh_from_db()
    assert rotated.url == page and endpoint.secret != old
    assert endpoint.secret in staff.get(page).content.decode()  # shown once, again

    webhook_emit(event="document.issued", data={})
    ask = staff.get(f"{page}deactivate/").content.decode()
    assert "Its 1 pending delivery will fail" in ask
    done = staff.post(f"{page}deactivate/")
    assert done.status_code == 302 and done.url == LIST
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "already inactive" in staff.get(f"{page}deactivate/").content.decode()
    actions = set(
        AuditEvent.objects.filter(object_type="billing.webhookendpoint").values_list(
            "action", flat=True
        )
    )
    assert actions == {
        "webhook_endpoint.create",
        "webhook_endpoint.update",
        "webhook_endpoint.rotate_secret",
        "webhook_endpoint.deactivate",
    }


def test_the_delivery_log_and_send_again(staff, endpoint, reseller_a):
    delivered = webhook_emit(event="document.paid", account=reseller_a, data={"n": 1})[0]
    WebhookDelivery.objects.filter(pk=delivered.pk).update(
        status="delivered", attempts=1, last_status_code=200, delivered_at=delivered.created_at
    )
    failed = _failed(webhook_emit(event="account.credit_hold", account=reseller_a, data={})[0])
    log_url = f"{LIST}{endpoint.pk}/deliveries/"

    log = staff.get(log_url)

    assert log.status_code == 200
    html = log.content.decode()
    rows = list(log.context["table"].rows)
    assert [r.record.pk for r in rows] == [failed.pk, delivered.pk]
    assert "HTTP 500" in html and "Alpha Reseller" in html and "1 of 1" in html
    assert 'class="badge warn" data-field="delivery_status">Failed<' in html
    assert 'class="badge ok" data-field="delivery_status">Delivered<' in html
    assert ">account.credit_hold</a>" in html
    assert html.count(">Send again</button>") == 1
    only = staff.get(log_url, {"status": "delivered"})
    assert [r.record.pk for r in only.context["table"].rows] == [delivered.pk]

    detail = staff.get(f"{log_url}{failed.pk}/").content.decode()
    assert str(failed.event_id) in detail and "upstream down" in detail

    resent = staff.post(f"{log_url}{failed.pk}/resend/", {"next": f"{log_url}?status=failed"})
    assert resent.status_code == 302 and resent.url == f"{log_url}?status=failed"
    failed.refresh_from_db()
    assert failed.status == "pending" and failed.attempts_allowed == 1 + 8
    again = staff.post(f"{log_url}{failed.pk}/resend/", follow=True)
    assert "Only a failed delivery can be sent again" in again.content.decode()
    outside = staff.post(f"{log_url}{failed.pk}/resend/", {"next": "https://evil.example.com/"})
    assert outside.url == log_url


def test_a_delivery_of_another_endpoint_is_not_found_here(staff, endpoint):
    other = fw.endpoint(url="https://other.example.com/h", events=["document.issued"])
    [theirs] = webhook_emit(event="document.issued", data={})

    assert theirs.endpoint_id == other.pk
    assert staff.get(f"{LIST}{endpoint.pk}/deliveries/{theirs.pk}/").status_code == 404
    assert staff.post(f"{LIST}{endpoint.pk}/deliveries/{theirs.pk}/resend/").status_code == 404
    assert staff.get(f"{LIST}999999/").status_code == 404


@pytest.mark.parametrize("kind", ["reseller", "customer"])
def test_resellers_and_customers_get_403_everywhere(client, endpoint, reseller_a, kind):
    account = reseller_a if kind == "reseller" else f.customer(parent=reseller_a)
    client.force_login(f.user(account=account))
    [delivery] = webhook_emit(event="document.paid", data={})
    base = f"{LIST}{endpoint.pk}/"

    answers = [
        client.get(LIST),
        client.post(LIST, {"url": HOOK, "events": ["document.paid"]}),
        client.get(base),
        client.post(base, {"url": HOOK, "events": ["document.paid"]}),
        client.post(f"{base}secret/"),
        client.get(f"{base}rotate-secret/"),
        client.post(f"{base}rotate-secret/"),
        client.post(f"{base}deactivate/"),
        client.get(f"{base}deliveries/"),
        client.get(f"{base}deliveries/{delivery.pk}/"),
        client.post(f"{base}deliveries/{delivery.pk}/resend/"),
    ]

    assert [r.status_code for r in answers] == [403] * len(answers)
    assert endpoint.secret not in "".join(r.content.decode() for r in answers)
    assert WebhookEndpoint.objects.count() == 1


def test_nobody_signed_in_goes_to_the_login_page(client, endpoint):
    response = client.get(f"{LIST}{endpoint.pk}/")

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
