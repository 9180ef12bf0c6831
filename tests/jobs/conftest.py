"""Fixtures shared by the job tests (the worker, Redis and settings fixtures
are in ``tests/jobs/support.py``, a plugin of the root conftest)."""

import pytest
from django.contrib.auth import get_user_model


@pytest.fixture
def user():
    return get_user_model().objects.create_user("alice", password="pw")


@pytest.fixture
def client(api_client, user):
    api_client.force_authenticate(user)
    return api_client
