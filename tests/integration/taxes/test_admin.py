"""The admin writes tax configuration through the services: same checks, same audit rows."""

import pytest

from billing.taxes.models import TaxRule
from resellers.models import AuditEvent, User


@pytest.fixture
def superuser(provider):
    return User.objects.create_superuser(username="root", password="pw", account=provider)


@pytest.fixture
def admin_client_for_staff(client, superuser):
    client.force_login(superuser)
    return client


def test_admin_adds_a_rule_through_the_service(admin_client_for_staff, provider, superuser):
    url = "/admin/taxes/taxrule/add/"
    form = {"owner": provider.pk, "jurisdiction": "us-ca", "tax_category": "*", "method": "builtin"}
    response = admin_client_for_staff.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = TaxRule.objects.get(owner=provider)
    assert rule.jurisdiction == "US-CA"
    assert AuditEvent.objects.filter(
        action="tax_rule.create", object_id=str(rule.pk), actor=superuser
    ).exists()

    again = admin_client_for_staff.post(url, form)
    assert again.status_code == 200  # the form shows the service's message
    assert "already a rule for US-CA" in again.content.decode()
    bad = admin_client_for_staff.post(url, form | {"jurisdiction": "California"})
    assert "country-region" in bad.content.decode()


@pytest.mark.parametrize("model", ["taxrule", "taxrate", "taxengineaccount", "taxprofile"])
def test_admin_pages_open(admin_client_for_staff, model):
    for page in ("", "add/"):
        assert admin_client_for_staff.get(f"/admin/taxes/{model}/{page}").status_code == 200
