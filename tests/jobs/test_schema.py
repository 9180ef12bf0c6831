"""The job endpoints in generated schemas, and the app's migration."""

import importlib

import pytest
from django.core.management import call_command
from django.urls import include, path

# The job URLs alone, under the prefix the tests use.
urlpatterns = [path("api/", include("rest_bulk_ext.urls"))]

JOB_PATHS = {
    "/api/bulk-operations/": {"get"},
    "/api/bulk-operations/{task_id}/": {"get", "delete"},
    "/api/bulk-operations/{task_id}/status/": {"get"},
    "/api/bulk-operations/{task_id}/errors.csv": {"get"},
    "/api/bulk-operations/{task_id}/results.csv": {"get"},
}


def test_drfs_schema_generator_documents_the_job_endpoints():
    from rest_framework.schemas.openapi import SchemaGenerator

    schema = SchemaGenerator(urlconf=__name__).get_schema(request=None, public=True)

    for path, methods in JOB_PATHS.items():
        assert set(schema["paths"][path]) == methods, path
    status = schema["components"]["schemas"]["BulkJobStatus"]
    assert set(status["properties"]) == {"task_id", "state", "status", "progress", "result"}


def test_drf_spectacular_documents_the_job_endpoints(settings):
    pytest.importorskip("drf_spectacular")
    from drf_spectacular.generators import SchemaGenerator

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}
    schema = SchemaGenerator(urlconf=__name__).get_schema(request=None, public=True)

    for path, methods in JOB_PATHS.items():
        assert set(schema["paths"][path]) == methods, path
    listing = schema["paths"]["/api/bulk-operations/"]["get"]["responses"]["200"]
    assert "PaginatedBulkJobList" in str(listing)


@pytest.mark.django_db
def test_the_migrations_match_the_models(settings):
    # --nomigrations hides every migration module; look at the real ones.
    settings.MIGRATION_MODULES = {}
    call_command("makemigrations", "rest_bulk_ext", "--check", "--dry-run", verbosity=0)


def test_the_migration_depends_only_on_the_user_model():
    from django.conf import settings

    migration = importlib.import_module("rest_bulk_ext.migrations.0001_initial").Migration

    assert [str(dep[0]) for dep in migration.dependencies] == [settings.AUTH_USER_MODEL.split(".")[0]]
