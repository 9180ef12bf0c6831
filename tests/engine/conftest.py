"""Fixtures shared by the engine tests."""

import pytest

from tests.testapp.models import Account, Tenant


@pytest.fixture
def tenant():
    return Tenant.objects.create(name="acme")


@pytest.fixture
def account(tenant):
    return Account.objects.create(tenant=tenant, name="main", number="A-1")


@pytest.fixture
def other_account():
    other = Tenant.objects.create(name="other")
    return Account.objects.create(tenant=other, name="theirs", number="B-1")
