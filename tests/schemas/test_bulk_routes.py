"""OpenAPI documentation of the bulk routes, by DRF's generator and by drf-spectacular."""

import warnings

import pytest
from django.conf import settings
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator as SpectacularGenerator
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ComponentRegistry
from drf_spectacular.utils import extend_schema
from drf_spectacular.validation import validate_schema
from rest_framework.schemas.inspectors import ViewInspector
from rest_framework.schemas.openapi import AutoSchema as DRFAutoSchema, SchemaGenerator as DRFGenerator

from rest_bulk_ext.schemas import BulkSchema, bulk_schema_class
from tests.list_route.urls import schema_urlpatterns
from tests.list_route.views import MemberViewSet, SchemaMemberViewSet

LIST = "/qs-schema/members/"
BULK_ITEMS = "/qs-schema/members/bulk/"
SPECTACULAR = {**settings.REST_FRAMEWORK, "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}


def drf_schema():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a duplicated operationId or component is a failure
        return DRFGenerator(patterns=schema_urlpatterns, title="test").get_schema(request=None, public=True)


def spectacular_schema():
    with override_settings(REST_FRAMEWORK=SPECTACULAR):
        schema = SpectacularGenerator(patterns=schema_urlpatterns, title="test").get_schema(request=None, public=True)
    validate_schema(schema)
    return schema


@pytest.fixture(params=["drf", "spectacular"])
def schema(request):
    return drf_schema() if request.param == "drf" else spectacular_schema()


def parameters(operation):
    return {(p["name"], p["in"]): p for p in operation.get("parameters", [])}


def component(schema, ref):
    return schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def json_body(operation):
    return operation["requestBody"]["content"]["application/json"]["schema"]


def response_body(operation, code):
    return operation["responses"][code]["content"]["application/json"]["schema"]


# --- list-route PATCH and DELETE --------------------------------------------------


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_list_route_bulk_methods_are_documented_with_their_headers(schema, method):
    operation = schema["paths"][LIST][method]
    params = parameters(operation)

    assert params[("X-BULK-OPERATION", "header")]["required"] is True
    assert params[("X-Bulk-Dry-Run", "header")].get("required", False) is False
    assert params[("X-Bulk-Expected-Rows", "header")]["schema"]["type"] == "integer"
    assert ("email", "query") in params and ("is_active", "query") in params
    assert {"204", "200", "400", "403", "409", "412"} <= set(operation["responses"])
    assert "X-Bulk-Affected-Rows" in operation["responses"]["204"]["headers"]
    assert "content" not in operation["responses"]["204"]
    assert response_body(operation, "200")["properties"]["affected_rows"]["type"] == "integer"
    assert set(response_body(operation, "412")["required"]) == {"detail", "affected_rows"}


def test_list_route_patch_body_is_the_serializer_with_every_field_optional(schema):
    body = component(schema, json_body(schema["paths"][LIST]["patch"]))

    assert "required" not in body
    assert {"email", "is_active", "status", "display_name"} <= set(body["properties"])


def test_list_route_delete_has_no_body(schema):
    assert "requestBody" not in schema["paths"][LIST]["delete"]


def test_detail_routes_stay_as_the_generator_documents_them(schema):
    detail = next(path for path in schema["paths"] if path.startswith(LIST + "{"))
    operation = schema["paths"][detail]["patch"]

    assert ("X-BULK-OPERATION", "header") not in parameters(operation)
    assert "200" in operation["responses"]


def test_operation_ids_are_unique(schema):
    ids = [op["operationId"] for path in schema["paths"].values() for op in path.values()]

    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("make_schema", [drf_schema, spectacular_schema])
def test_the_configured_guard_header_is_documented(make_schema):
    with override_settings(REST_FRAMEWORK_EXTENSIONS={"DEFAULT_BULK_OPERATION_HEADER_NAME": "X-Really"}):
        renamed = parameters(make_schema()["paths"][LIST]["patch"])
    with override_settings(REST_FRAMEWORK_EXTENSIONS={"DEFAULT_BULK_OPERATION_HEADER_NAME": None}):
        unguarded = parameters(make_schema()["paths"][LIST]["patch"])

    assert ("X-Really", "header") in renamed and ("X-BULK-OPERATION", "header") not in renamed
    assert not any(name.upper().startswith("X-BULK-OPERATION") for name, _ in unguarded)


# --- the per-item {list}/bulk/ route -------------------------------------------------


def test_bulk_create_takes_an_array_and_a_csv_upload_and_says_one_object_works(schema):
    operation = schema["paths"][BULK_ITEMS]["post"]
    body = json_body(operation)
    csv = operation["requestBody"]["x-bulk-uploads"]["multipart/form-data"]["schema"]

    assert body["type"] == "array" and "$ref" in body["items"]
    assert "one object" in operation["requestBody"]["description"]
    assert csv["properties"]["file"]["format"] == "binary"
    assert set(operation["responses"]) >= {"201", "202", "400", "413"}
    assert "created_ids" in response_body(operation, "201")["properties"]


@pytest.mark.parametrize("method", ["patch", "put"])
def test_bulk_update_and_replace_items_carry_their_id_and_may_upsert(schema, method):
    operation = schema["paths"][BULK_ITEMS][method]
    body = json_body(operation)
    description = operation["requestBody"]["description"]
    params = parameters(operation)

    assert body["type"] == "array"
    # The id is writable here (not the component's readOnly one) and required;
    # a PUT item also needs the serializer's required fields, a PATCH item not.
    assert body["items"]["properties"]["id"] == {"type": "integer"}
    assert body["items"]["required"][0] == "id"
    assert (body["items"]["required"] == ["id"]) == (method == "patch")
    assert "allOf" not in body["items"]
    assert "one object" in description and '{"data": [...], "unique_fields": [...]' in description
    assert ("unique_fields", "query") in params and ("update_fields", "query") in params
    assert ("Idempotency-Key", "header") in params
    assert "200" in operation["responses"]


@pytest.mark.parametrize("method", ["post", "patch", "put", "delete"])
def test_a_bulk_write_body_is_one_json_array_with_the_uploads_apart(schema, method):
    # openapi-python-client turns an array-or-object oneOf, or an array among
    # several media types, into `isinstance(body, list[Txn] ...)`, which raises
    # on every call: the JSON array is the one media type of `content`.
    request_body = schema["paths"][BULK_ITEMS][method]["requestBody"]
    body = json_body(schema["paths"][BULK_ITEMS][method])

    assert list(request_body["content"]) == ["application/json"]
    assert body["type"] == "array"
    assert not {"oneOf", "anyOf"} & set(body)
    assert set(request_body["x-bulk-uploads"]) == {"multipart/form-data", "application/x-ndjson", "application/jsonl"}
    assert "CSV upload" in request_body["description"]


def test_bulk_delete_takes_an_array_of_ids(schema):
    operation = schema["paths"][BULK_ITEMS]["delete"]

    assert json_body(operation)["items"] == {"type": "integer"}
    assert "deleted_ids" in response_body(operation, "200")["properties"]


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_every_bulk_method_documents_the_202_job_answer(schema, method):
    answer = schema["paths"][BULK_ITEMS][method]["responses"]["202"]

    assert "Location" in answer["headers"]
    assert {"task_id", "status_url"} <= set(answer["content"]["application/json"]["schema"]["properties"])


def test_bulk_get_documents_ids_filters_and_its_body(schema):
    operation = schema["paths"][BULK_ITEMS]["get"]
    body = response_body(operation, "200")

    assert ("ids", "query") in parameters(operation)
    assert ("email", "query") in parameters(operation)
    assert set(body["required"]) == {"count", "results", "is_async"}
    assert "$ref" in body["properties"]["results"]["items"]


# --- resolving the schema class ---------------------------------------------------


def test_the_schema_class_follows_default_schema_class_at_access_time():
    view = SchemaMemberViewSet()

    assert isinstance(view.schema, DRFAutoSchema)
    with override_settings(REST_FRAMEWORK=SPECTACULAR):
        assert isinstance(view.schema, SpectacularAutoSchema)


class PlainInspector(ViewInspector):
    pass


def test_an_inspector_that_is_no_openapi_autoschema_is_used_as_it_is():
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_SCHEMA_CLASS": PlainInspector}):
        assert type(SchemaMemberViewSet().schema) is PlainInspector


def test_a_schema_set_on_the_view_wins():
    class Custom(SchemaMemberViewSet):
        schema = DRFAutoSchema(tags=["custom"])

    assert type(Custom().schema) is DRFAutoSchema


def test_bulk_schema_is_what_the_mixins_declare():
    assert any(isinstance(vars(klass).get("schema"), BulkSchema) for klass in MemberViewSet.__mro__)


def test_extend_schema_on_a_bulk_action_keeps_the_bulk_documentation():
    with override_settings(REST_FRAMEWORK=SPECTACULAR):
        # Decorated while drf-spectacular is the DEFAULT_SCHEMA_CLASS, as in a
        # project using it. extend_schema_view() only knows DRF's method names,
        # so the bulk action is decorated where it is overridden (docs/schema.md).
        class Described(SchemaMemberViewSet):
            @extend_schema(description="Deactivate members in bulk.")
            def bulk_update(self, request, *args, **kwargs):
                return super().bulk_update(request, *args, **kwargs)

        generator = SpectacularGenerator(patterns=schema_urlpatterns)
        view = generator.create_view(Described.as_view({"get": "list"}, detail=False), "PATCH")
        operation = view.schema.get_operation(LIST, LIST, "", "PATCH", ComponentRegistry())

    assert operation["description"] == "Deactivate members in bulk."
    assert ("X-BULK-OPERATION", "header") in parameters(operation)
    assert "X-Bulk-Affected-Rows" in operation["responses"]["204"]["headers"]


def test_drf_generator_does_not_crash_on_a_bulk_route_whose_filter_backend_lacks_the_schema_hook():
    # MemberViewSet uses django-filter's own DjangoFilterBackend, which (25.1+)
    # no longer has get_schema_operation_parameters, and a get_queryset() that
    # needs a request.
    generator = DRFGenerator()
    for method in ("PATCH", "DELETE"):
        view = generator.create_view(MemberViewSet.as_view({"get": "list"}, detail=False), method)
        operation = view.schema.get_operation("/qs/members/", method)
        assert ("X-BULK-OPERATION", "header") in parameters(operation)


def test_a_view_schema_built_from_bulk_schema_class_keeps_the_bulk_documentation():
    class Tagged(SchemaMemberViewSet):
        schema = bulk_schema_class(DRFAutoSchema)(tags=["people"])

    view = DRFGenerator().create_view(Tagged.as_view({"get": "list"}, detail=False), "PATCH")
    operation = view.schema.get_operation(LIST, "PATCH")

    assert operation["tags"] == ["people"]
    assert operation["operationId"] == "bulkUpdateMembersByFilter"
    assert ("X-BULK-OPERATION", "header") in parameters(operation)


@pytest.mark.parametrize("method", ["get", "post", "patch", "put", "delete"])
def test_every_bulk_method_documents_the_job_refusals_it_can_answer(schema, method):
    responses = schema["paths"][BULK_ITEMS][method]["responses"]

    assert {"429", "503"} <= set(responses)


def test_a_bulk_create_documents_the_dry_run_answer(schema):
    responses = schema["paths"][BULK_ITEMS]["post"]["responses"]

    assert {"200", "201"} <= set(responses)
    assert "dry run" in responses["200"]["description"]
