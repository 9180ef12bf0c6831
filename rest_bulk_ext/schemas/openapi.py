"""
The bulk routes in DRF's own OpenAPI generator.

``BulkOpenAPIMixin`` is mixed into the project's ``DEFAULT_SCHEMA_CLASS``
(``rest_framework.schemas.openapi.AutoSchema`` or a subclass) by
``BulkSchema``; operations other than the bulk ones are left to it.
"""

from rest_framework import serializers

from . import content


class BulkOpenAPIMixin:
    def bulk_route(self):
        return content.bulk_route(self.view)

    def get_operation(self, path, method):
        operation = super().get_operation(path, method)
        route = self.bulk_route()
        if route is not None:
            extra = content.list_route_parameters() if route == "list" else content.item_route_parameters(method)
            known = {(p["name"].lower(), p["in"]) for p in operation["parameters"]}
            operation["parameters"] += [p for p in extra if (p["name"].lower(), p["in"]) not in known]
            if not operation.get("description"):
                operation["description"] = (
                    content.list_route_description(method) if route == "list"
                    else content.item_route_description(method)
                )
        return operation

    def get_operation_id(self, path, method):
        route = self.bulk_route()
        if route is None:
            return super().get_operation_id(path, method)
        name = self.get_operation_id_base(path, method, "list")
        if route == "list":
            verb = "Update" if method == "PATCH" else "Destroy"
            return f"bulk{verb}{name}ByFilter"
        return self._to_camel_case(content.ITEM_OPERATIONS[method]) + name

    def allows_filters(self, path, method):
        route = self.bulk_route()
        if route == "list" or (route == "item" and method == "GET"):
            return getattr(self.view, "filter_backends", None) is not None
        if route == "item":
            return False
        return super().allows_filters(path, method)

    def get_filter_parameters(self, path, method):
        if self.bulk_route() is None:
            return super().get_filter_parameters(path, method)
        if not self.allows_filters(path, method):
            return []
        parameters = []
        for backend in self.view.filter_backends:
            # django-filter 25.1+ dropped this method; skip instead of crashing.
            get_parameters = getattr(backend(), "get_schema_operation_parameters", None)
            if get_parameters is not None:
                parameters += get_parameters(self.view)
        return parameters

    def get_pagination_parameters(self, path, method):
        if self.bulk_route() is not None:
            return []
        return super().get_pagination_parameters(path, method)

    def get_components(self, path, method):
        route = self.bulk_route()
        if route is None:
            return super().get_components(path, method)
        serializer = self.get_request_serializer(path, method)
        if not isinstance(serializer, serializers.Serializer):
            return {}
        name = self.get_component_name(serializer)
        components = {name: self.map_serializer(serializer)}
        if method == "PATCH":
            components[self.patched_component_name(serializer)] = self.map_partial_serializer(serializer)
        return components

    def patched_component_name(self, serializer):
        return "Patched" + self.get_component_name(serializer)

    def map_partial_serializer(self, serializer):
        """The serializer's component with no required field (a PATCH body)."""
        schema = dict(self.map_serializer(serializer))
        schema.pop("required", None)
        return schema

    def bulk_item_reference(self, path, method):
        serializer = self.get_request_serializer(path, method)
        if not isinstance(serializer, serializers.Serializer):
            return {"type": "object"}
        if method == "PATCH":
            return {"$ref": f"#/components/schemas/{self.patched_component_name(serializer)}"}
        return self.get_reference(serializer)

    def bulk_item_component(self, path, method):
        """The serializer's component itself (partial for PATCH), which
        PATCH/PUT items inline (``content.identified_item_schema``)."""
        serializer = self.get_request_serializer(path, method)
        if not isinstance(serializer, serializers.Serializer):
            return {}
        return self.map_partial_serializer(serializer) if method == "PATCH" else self.map_serializer(serializer)

    def get_request_body(self, path, method):
        route = self.bulk_route()
        if route is None:
            return super().get_request_body(path, method)
        if route == "list":
            if method != "PATCH":
                return {}
            schema = self.bulk_item_reference(path, method)
            return {"required": True, "content": {ct: {"schema": schema} for ct in self.map_parsers(path, method)}}
        if method == "GET":
            return {}
        schemas = content.item_request_schemas(
            self.view, method, self.bulk_item_reference(path, method), self.bulk_item_component(path, method)
        )
        return content.item_request_body(schemas, method)

    def get_responses(self, path, method):
        job_route = content.job_route(self.view)
        if job_route is not None:
            return self.get_job_responses(path, method, job_route)
        route = self.bulk_route()
        if route is None:
            return super().get_responses(path, method)
        if route == "list":
            responses = content.list_route_responses(method)
        else:
            responses = content.item_route_responses(method, self.bulk_item_reference(path, "GET"))
        media_types = self.map_renderers(path, method)
        rendered = {}
        for code, (description, schema, headers) in responses.items():
            response = {"description": description}
            if schema is not None:
                response["content"] = {ct: {"schema": schema} for ct in media_types}
            if headers:
                response["headers"] = headers
            rendered[code] = response
        return rendered

    def get_job_responses(self, path, method, job_route):
        """A job endpoint's real answers: a cancel is 202 with the status body
        (not DRF's default 204), 409 once the job ended, 404 for a job that is
        not the user's."""
        if method == "DELETE":
            success = dict(super().get_responses(path, "GET")["200"])
            success["description"] = content.CANCELLED_DESCRIPTION
            responses = {"202": success}
        else:
            responses = super().get_responses(path, method)
        for code, (description, schema, _headers) in content.job_route_responses(job_route, method).items():
            responses[code] = {"description": description, "content": {"application/json": {"schema": schema}}}
        if job_route == "download":
            redirect = {"description": content.EXPORT_REDIRECT_DESCRIPTION, "headers": content.EXPORT_REDIRECT_HEADERS}
            responses["302"] = redirect
        return responses
