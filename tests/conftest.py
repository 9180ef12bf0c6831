import os

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from rest_bulk_ext.settings import DEFAULTS

from .items_fixtures import INLINE

# RBE_POSTGRES_COPY_MIN_ROWS=1 runs every create/upsert insert on PostgreSQL
# through COPY (engine/db/copy.py), "none" never; as the default, so the
# tests' own override_settings keep it.
if os.environ.get("RBE_POSTGRES_COPY_MIN_ROWS"):
    _copy_min = os.environ["RBE_POSTGRES_COPY_MIN_ROWS"]
    DEFAULTS["BULK_POSTGRES_COPY_MIN_ROWS"] = None if _copy_min.lower() == "none" else int(_copy_min)

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
