"""Logins for the sign-in tests: two reseller users of different resellers and a provider staff
user, password `pw` each."""

import pytest

from tests import factories as f


@pytest.fixture
def alice(reseller_a):
    user = f.user(account=reseller_a, username="alice")
    user.email = "alice@alpha.example"
    user.save(update_fields=["email"])
    return user


@pytest.fixture
def bob(reseller_b):
    return f.user(account=reseller_b, username="bob")


@pytest.fixture
def staff(provider_user):
    return provider_user
