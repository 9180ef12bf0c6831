import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from .items_fixtures import INLINE

pytest_plugins = ["tests.conftest_jobs"]


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def inline():
    """Per-item bulk requests run inline, whatever their size (the tests of
    the background path set their own threshold)."""
    with override_settings(REST_FRAMEWORK_EXTENSIONS=INLINE):
        yield
