import pytest

from tests import factories as f


@pytest.fixture
def provider(db):
    return f.provider()


@pytest.fixture
def provider_user(provider):
    return f.user(account=provider, username="staff")


@pytest.fixture
def reseller_a(provider):
    return f.reseller(parent=provider, name="Alpha Reseller")


@pytest.fixture
def reseller_b(provider):
    return f.reseller(parent=provider, name="Bravo Reseller")


@pytest.fixture
def referral_reseller(provider):
    return f.reseller(
        parent=provider,
        name="Referral Partner",
        model="referral",
        credit_terms="prepaid",
        credit_limit=0,
    )
