"""Login, logout and where each kind of user lands."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_login(client, world):
    for url in ("/", "/billing/", f"/billing/resellers/{world.r1.pk}/", "/account/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login") + "?next=")


def test_login_page_renders(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content


@pytest.mark.parametrize(
    ("username", "landing"),
    [
        ("staff", "/billing/"),
        ("reseller1", "/dashboard/"),
        ("referral1", "/account/"),
        ("customer1", "/account/"),
    ],
)
def test_login_lands_on_the_right_page(client, world, username, landing):
    response = client.post(reverse("login"), {"username": username, "password": "pw"}, follow=True)
    assert response.redirect_chain[-1][0] == landing
    assert response.status_code == 200


def test_login_honours_next(client, world):
    url = f"/billing/resellers/{world.r1.pk}/"
    response = client.post(
        reverse("login") + f"?next={url}",
        {"username": "staff", "password": "pw", "next": url},
    )
    assert response.status_code == 302
    assert response.url == url


def test_wrong_password_shows_the_form_again(client, world):
    response = client.post(reverse("login"), {"username": "staff", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_logout_ends_the_session(client, world):
    client.force_login(world.staff)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get("/billing/").status_code == 302
