"""PUT resellers/{id}/daily-invoicing/: 404 before 403 before 400, and only provider staff
changes anything, through the service and its audit row."""

import pytest

from resellers.models import Account, AuditEvent


def put(client, reseller_id, body):
    return client.put(f"/api/v1/resellers/{reseller_id}/daily-invoicing/", body, format="json")


def mode_of(account: Account) -> str:
    return Account.objects.get(pk=account.pk).daily_invoicing


def audit_rows(account: Account):
    return AuditEvent.objects.filter(
        action="account.update_financials", object_type="resellers.account", object_id=account.pk
    )


@pytest.mark.parametrize("mode", ["all", "disabled", "prepaid_only"])
def test_provider_staff_sets_the_mode(world, api, mode):
    response = put(api(world.staff), world.a.pk, {"mode": mode})

    assert response.status_code == 200, response.content
    assert response.json() == {"id": world.a.pk, "mode": mode}
    assert mode_of(world.a) == mode


def test_the_change_is_audited_with_who_and_what(world, api):
    put(api(world.staff), world.a.pk, {"mode": "all"})

    row = audit_rows(world.a).get()
    assert row.actor == world.staff
    assert row.details == {"daily_invoicing": "all"}
    detail = api(world.alpha).get(f"/api/v1/resellers/{world.a.pk}/").json()
    assert detail["financials"]["daily_invoicing"] == "all"


def test_a_reseller_cannot_change_its_own(world, api):
    response = put(api(world.alpha), world.a.pk, {"mode": "all"})

    assert response.status_code == 403
    assert "provider staff" in response.json()["detail"]
    assert mode_of(world.a) == "prepaid_only"
    assert not audit_rows(world.a).exists()


def test_a_reseller_gets_403_even_with_a_bad_mode_or_its_current_one(world, api):
    client = api(world.alpha)
    assert put(client, world.a.pk, {"mode": "weekly"}).status_code == 403
    assert put(client, world.a.pk, {"mode": "prepaid_only"}).status_code == 403
    assert not audit_rows(world.a).exists()


@pytest.mark.parametrize("who", ["alpha", "alpha_customer", "referral"])
def test_another_tenants_reseller_answers_404_first(world, api, who):
    response = put(api(getattr(world, who)), world.b.pk, {"mode": "bogus"})

    assert response.status_code == 404
    assert mode_of(world.b) == "prepaid_only"
    assert not audit_rows(world.b).exists()


def test_a_customer_or_unknown_id_answers_404(world, api):
    staff = api(world.staff)
    assert put(staff, world.a1.pk, {"mode": "all"}).status_code == 404
    assert put(staff, 987654, {"mode": "all"}).status_code == 404
    assert Account.objects.get(pk=world.a1.pk).daily_invoicing == "prepaid_only"


@pytest.mark.parametrize("body", [{"mode": "weekly"}, {"mode": ""}, {}, {"daily_invoicing": "all"}])
def test_bad_mode_answers_400_naming_mode(world, api, body):
    response = put(api(world.staff), world.a.pk, body)

    assert response.status_code == 400
    assert list(response.json()) == ["mode"]
    assert mode_of(world.a) == "prepaid_only"
    assert not audit_rows(world.a).exists()


def test_referral_reseller_accepts_only_disabled(world, api):
    staff = api(world.staff)

    refused = put(staff, world.r.pk, {"mode": "all"})
    accepted = put(staff, world.r.pk, {"mode": "disabled"})

    assert refused.status_code == 400
    assert refused.json() == {"mode": ["Daily invoicing does not apply to referral resellers."]}
    assert accepted.status_code == 200
    assert mode_of(world.r) == "disabled"


def test_anonymous_answers_401(world, api):
    response = put(api(), world.a.pk, {"mode": "all"})
    assert response.status_code == 401
    assert mode_of(world.a) == "prepaid_only"


def test_only_put_is_allowed(world, api):
    staff = api(world.staff)
    url = f"/api/v1/resellers/{world.a.pk}/daily-invoicing/"
    assert staff.get(url).status_code == 405
    assert staff.post(url, {"mode": "all"}, format="json").status_code == 405
