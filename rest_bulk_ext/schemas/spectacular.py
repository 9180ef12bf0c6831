"""
The bulk routes in drf-spectacular (the optional ``spectacular`` extra).

``BulkSpectacularMixin`` is mixed into the project's ``DEFAULT_SCHEMA_CLASS``
(``drf_spectacular.openapi.AutoSchema`` or a subclass) by ``BulkSchema``.
This module is imported only then, so drf-spectacular stays optional.
``@extend_schema`` on a bulk view still wins: it subclasses this schema.
"""

import copy

from drf_spectacular.settings import spectacular_settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from . import content


class BulkSpectacularMixin:
    def bulk_route(self):
        return content.bulk_route(self.view)

    def get_operation_id(self):
        route = self.bulk_route()
        if route is None:
            return super().get_operation_id()
        tokens = [token.replace("-", "_") for token in self._tokenize_path()] or ["root"]
        if route == "list":
            action = "bulk_update_by_filter" if self.method == "PATCH" else "bulk_destroy_by_filter"
        else:
            action = content.ITEM_OPERATIONS[self.method].removeprefix("bulk_")
        if spectacular_settings.OPERATION_ID_METHOD_POSITION == "PRE":
            return "_".join([action, *tokens])
        return "_".join([*tokens, action])

    def get_description(self):
        description = super().get_description()
        route = self.bulk_route()
        if description or route is None:
            return description
        if route == "list":
            return content.list_route_description(self.method)
        return content.item_route_description(self.method)

    def bulk_responses(self):
        if self.bulk_route() == "list":
            return content.list_route_responses(self.method)
        return content.item_route_responses(self.method, self.bulk_item_reference("response", partial=False))

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        route = self.bulk_route()
        if route is None:
            return parameters
        raw = content.list_route_parameters() if route == "list" else content.item_route_parameters(self.method)
        bulk_parameters = [
            OpenApiParameter(
                name=p["name"], type=p["schema"], location=p["in"], required=p["required"],
                description=p["description"],
            )
            for p in raw
        ]
        for code, (_description, _schema, headers) in self.bulk_responses().items():
            for name, header in headers.items():
                bulk_parameters.append(OpenApiParameter(
                    name=name, type=header["schema"], location=OpenApiParameter.HEADER,
                    description=header["description"], response=[code],
                ))
        # The view's own (@extend_schema) parameters come last, so they win.
        return bulk_parameters + list(parameters)

    def get_filter_backends(self):
        route = self.bulk_route()
        if route == "list" or (route == "item" and self.method == "GET"):
            return getattr(self.view, "filter_backends", [])
        if route == "item":
            return []
        return super().get_filter_backends()

    def bulk_item_component(self, direction, partial):
        """drf-spectacular's resolved component of the serializer (partial
        for PATCH), or ``None``."""
        serializer = self._get_serializer()
        if not isinstance(serializer, serializers.Serializer):
            return None
        if partial:
            serializer = copy.copy(serializer)
            serializer.partial = True
        return self.resolve_serializer(serializer, direction)

    def bulk_item_reference(self, direction, partial):
        component = self.bulk_item_component(direction, partial)
        return component.ref if component else {"type": "object"}

    def get_request_serializer(self):
        route = self.bulk_route()
        if route != "item":
            return super().get_request_serializer()
        component = self.bulk_item_component("request", partial=self.method == "PATCH")
        item_ref = component.ref if component else {"type": "object"}
        return content.item_request_schemas(self.view, self.method, item_ref, component.schema if component else {})

    def _get_request_body(self, direction="request"):
        # Built here, not by drf-spectacular: it documents bodies for
        # PUT/PATCH/POST only (the per-item DELETE takes a JSON array of ids),
        # and the upload media types go apart (content.item_request_body).
        if self.bulk_route() == "item" and self.method in ("POST", "PUT", "PATCH", "DELETE"):
            schemas = self.get_request_serializer()
            if isinstance(schemas, dict) and "application/json" in schemas:  # not an @extend_schema(request=...)
                return content.item_request_body(schemas, self.method)
        return super()._get_request_body(direction)

    def get_response_serializers(self):
        job_route = content.job_route(self.view)
        if job_route in ("job", "download"):
            return self.job_response_serializers(job_route)
        if self.bulk_route() is None:
            return super().get_response_serializers()
        return {
            code: OpenApiResponse(response=schema, description=description)
            for code, (description, schema, _headers) in self.bulk_responses().items()
        }

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction == "response" and content.job_route(self.view) == "list":
            # The paginated 200 stays drf-spectacular's; add the refusals.
            for code, (description, schema, _headers) in content.job_route_responses("list", self.method).items():
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(response=schema, description=description), code
                )
        return responses

    def job_response_serializers(self, job_route):
        """A job endpoint's real answers: a cancel is 202 with the status body
        (not drf-spectacular's default 204), 409 once the job ended, 404 for
        a job that is not the user's."""
        serializer = super().get_response_serializers()
        if self.method == "DELETE":
            responses = {"202": OpenApiResponse(response=serializer, description=content.CANCELLED_DESCRIPTION)}
        elif job_route == "download":
            # The file itself, in the media type the renderers list (CSV or NDJSON).
            responses = {
                "200": OpenApiResponse(response=OpenApiTypes.BINARY, description=content.EXPORT_DESCRIPTION),
                "302": OpenApiResponse(response=None, description=content.EXPORT_REDIRECT_DESCRIPTION),
            }
        else:
            responses = {"200": OpenApiResponse(response=serializer)}
        for code, (description, schema, _headers) in content.job_route_responses(job_route, self.method).items():
            responses[code] = OpenApiResponse(response=schema, description=description)
        return responses
