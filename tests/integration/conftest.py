"""Fixtures shared by integration suites."""

import pytest

from tests.integration.taxes.fake_engines import FakeAvaTax


@pytest.fixture
def avatax_installed(settings):
    """AvaTax installed (settings.TAX_ENGINES) and answered by a local stand-in; yields it.
    Fails the test if the stand-in saw a malformed request."""
    with FakeAvaTax() as fake:
        settings.TAX_ENGINES = {
            **(settings.TAX_ENGINES or {}),
            "avatax": {
                "url": fake.url,
                "account_id": fake.account_id,
                "license_key": fake.license_key,
                "company_code": "DEFAULT",
            },
        }
        settings.TAX_ENGINE_TIMEOUT_SECONDS = 2
        yield fake
    assert not fake.errors, fake.errors
