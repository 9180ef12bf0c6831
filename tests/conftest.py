import pytest
from rest_framework.test import APIClient

pytest_plugins = ["tests.conftest_jobs"]


@pytest.fixture
def api_client():
    return APIClient()
