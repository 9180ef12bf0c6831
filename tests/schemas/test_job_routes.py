"""The job routes in generated schemas, by DRF's generator and by
drf-spectacular: every route with its methods, and the answers they really
give (cancel 202/409, 404 for someone else's job)."""

import pytest
from django.urls import include, path

urlpatterns = [path("api/", include("rest_bulk_ext.urls"))]

JOB_PATHS = {
    "/api/bulk-operations/": {"get"},
    "/api/bulk-operations/{task_id}/": {"get", "delete"},
    "/api/bulk-operations/{task_id}/status/": {"get"},
    "/api/bulk-operations/{task_id}/errors.csv": {"get"},
    "/api/bulk-operations/{task_id}/results.csv": {"get"},
}

EXPECTED = {
    ("/api/bulk-operations/", "get"): {"200", "401", "403", "404"},
    ("/api/bulk-operations/{task_id}/", "get"): {"200", "401", "403", "404"},
    ("/api/bulk-operations/{task_id}/", "delete"): {"202", "401", "403", "404", "409"},
    ("/api/bulk-operations/{task_id}/status/", "get"): {"200", "401", "403", "404"},
    ("/api/bulk-operations/{task_id}/errors.csv", "get"): {"200", "401", "403", "404"},
    ("/api/bulk-operations/{task_id}/results.csv", "get"): {"200", "401", "403", "404"},
    ("/api/bulk-operations/{task_id}/download", "get"): {"200", "302", "401", "403", "404", "409"},
}


def drf_schema():
    from rest_framework.schemas.openapi import SchemaGenerator

    return SchemaGenerator(urlconf=__name__).get_schema(request=None, public=True)


def spectacular_schema(settings):
    pytest.importorskip("drf_spectacular")
    from drf_spectacular.generators import SchemaGenerator

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}
    return SchemaGenerator(urlconf=__name__).get_schema(request=None, public=True)


@pytest.mark.parametrize("generator", ["drf", "spectacular"])
def test_the_job_routes_document_their_real_status_codes(settings, generator):
    schema = drf_schema() if generator == "drf" else spectacular_schema(settings)
    for (route, method), codes in EXPECTED.items():
        assert set(schema["paths"][route][method]["responses"]) == codes, (route, method)
    cancel = schema["paths"]["/api/bulk-operations/{task_id}/"]["delete"]["responses"]["202"]
    assert cancel["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/BulkJobStatus"}
    assert "204" not in schema["paths"]["/api/bulk-operations/{task_id}/"]["delete"]["responses"]


@pytest.mark.parametrize("generator", ["drf", "spectacular"])
def test_the_export_download_is_documented_with_its_file_types(settings, generator):
    schema = drf_schema() if generator == "drf" else spectacular_schema(settings)
    success = schema["paths"]["/api/bulk-operations/{task_id}/download"]["get"]["responses"]["200"]
    assert {"text/csv", "application/x-ndjson"} <= set(success["content"])
    redirect = schema["paths"]["/api/bulk-operations/{task_id}/download"]["get"]["responses"]["302"]
    assert "content" not in redirect and "signed" in redirect["description"]


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
