"""Every panel page answers 200 for the right user and 404 for another tenant; the provider's
pages answer 403 to a reseller or customer user for its own account (the tenant check first)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _url(world, name, key=None):
    """("reseller_detail", "r2") -> /billing/resellers/<r2's id>/; document keys name world.docs."""
    if key is None:
        return reverse(name)
    obj = getattr(world.docs, key, None) or getattr(world, key)
    return reverse(name, args=[obj.pk])


OK_PAGES = [
    # provider staff: everything
    ("staff", "billing", None),
    ("staff", "reseller_list", None),
    ("staff", "customer_list", None),
    ("staff", "reseller_detail", "r1"),
    ("staff", "reseller_detail", "r2"),
    ("staff", "reseller_detail", "ref"),
    ("staff", "reseller_edit", "r1"),
    ("staff", "reseller_edit", "ref"),
    ("staff", "customer_detail", "c1"),
    ("staff", "customer_detail", "refc"),
    ("staff", "document_detail", "r2_inv"),
    ("staff", "document_detail", "c1_inv"),
    ("staff", "document_detail", "refc_inv"),
    # a resale reseller: its account, its customers and their documents
    ("r1_user", "account", None),
    ("r1_user", "own_customer_list", None),
    ("r1_user", "own_customer_detail", "c1"),
    ("r1_user", "document_detail", "r1_inv1"),
    ("r1_user", "document_detail", "r1_cm"),
    ("r1_user", "document_detail", "c1_inv"),
    ("r2_user", "account", None),
    ("r2_user", "own_customer_detail", "c2"),
    ("r2_user", "document_detail", "c2_inv"),
    # a referral reseller: its account and its customers' details
    ("ref_user", "account", None),
    ("ref_user", "own_customer_list", None),
    ("ref_user", "own_customer_detail", "refc"),
    # customers: their own account and documents
    ("c1_user", "account", None),
    ("c1_user", "document_detail", "c1_inv"),
    ("refc_user", "account", None),
    ("refc_user", "document_detail", "refc_inv"),
]

NOT_FOUND = [
    # reseller1 guessing reseller2's pages
    ("r1_user", "reseller_detail", "r2"),
    ("r1_user", "reseller_edit", "r2"),
    ("r1_user", "customer_detail", "c2"),
    ("r1_user", "own_customer_detail", "c2"),
    ("r1_user", "own_customer_detail", "refc"),
    ("r1_user", "document_detail", "r2_inv"),
    ("r1_user", "document_detail", "c2_inv"),
    ("r1_user", "document_detail", "refc_inv"),
    ("r2_user", "reseller_detail", "r1"),
    ("r2_user", "own_customer_detail", "c1"),
    ("r2_user", "document_detail", "r1_inv1"),
    ("r2_user", "document_detail", "c1_inv"),
    # a referral reseller never sees its customers' documents
    ("ref_user", "document_detail", "refc_inv"),
    ("ref_user", "own_customer_detail", "c1"),
    ("ref_user", "reseller_detail", "r1"),
    # customers see nothing of others, nor their reseller's documents
    ("c1_user", "own_customer_list", None),
    ("c1_user", "own_customer_detail", "c2"),
    ("c1_user", "own_customer_detail", "c1"),
    ("c1_user", "customer_detail", "c2"),
    ("c1_user", "reseller_detail", "r1"),
    ("c1_user", "document_detail", "r1_inv1"),
    ("c1_user", "document_detail", "c2_inv"),
    ("c2_user", "document_detail", "c1_inv"),
    ("refc_user", "reseller_detail", "ref"),
    ("refc_user", "document_detail", "r1_inv1"),
]

FORBIDDEN = [
    # the provider's pages, opened by a reseller or customer user on what it may otherwise see
    ("r1_user", "billing", None),
    ("r1_user", "reseller_list", None),
    ("r1_user", "customer_list", None),
    ("r1_user", "reseller_detail", "r1"),
    ("r1_user", "reseller_edit", "r1"),
    ("r1_user", "customer_detail", "c1"),
    ("ref_user", "reseller_edit", "ref"),
    ("ref_user", "customer_detail", "refc"),
    ("c1_user", "billing", None),
]


@pytest.mark.parametrize(("who", "name", "key"), OK_PAGES)
def test_page_answers_200_to_the_right_user(client, world, who, name, key):
    client.force_login(getattr(world, who))
    assert client.get(_url(world, name, key)).status_code == 200


@pytest.mark.parametrize(("who", "name", "key"), NOT_FOUND)
def test_another_tenants_page_answers_404(client, world, who, name, key):
    client.force_login(getattr(world, who))
    response = client.get(_url(world, name, key))
    assert response.status_code == 404
    assert b"Not found" in response.content


@pytest.mark.parametrize(("who", "name", "key"), FORBIDDEN)
def test_provider_pages_answer_403_to_other_users(client, world, who, name, key):
    client.force_login(getattr(world, who))
    assert client.get(_url(world, name, key)).status_code == 403


def test_guessed_ids_that_do_not_exist_answer_404(client, world):
    client.force_login(world.staff)
    assert client.get(reverse("reseller_detail", args=[999999])).status_code == 404
    assert client.get(reverse("reseller_detail", args=[world.c1.pk])).status_code == 404
    assert client.get(reverse("customer_detail", args=[world.r1.pk])).status_code == 404
    assert client.get(reverse("document_detail", args=[999999])).status_code == 404


def test_a_reseller_never_sees_another_tenants_names_in_its_lists(client, world):
    client.force_login(world.r1_user)
    html = client.get(reverse("own_customer_list")).content.decode()
    assert world.c1.name in html
    assert world.c2.name not in html and world.refc.name not in html
    html = client.get(reverse("own_customer_list"), {"q": "Two"}).content.decode()
    assert world.c2.name not in html
    page = client.get(reverse("account")).content.decode()
    assert world.c2.name not in page and world.r2.name not in page
    assert f"/documents/{world.docs.r2_inv.pk}/" not in page
