"""django-filter 25.1+ no longer describes its query parameters to DRF's own
schema generator; this subclass does, so /api/schema/ works (docs/schema.md).
With drf-spectacular you do not need it."""

from django_filters.rest_framework import DjangoFilterBackend


class SchemaDjangoFilterBackend(DjangoFilterBackend):
    def get_schema_operation_parameters(self, view):
        try:
            queryset = view.get_queryset()
        except Exception:  # get_queryset() may need a real request
            queryset = None
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return []
        return [
            {"name": name, "in": "query", "required": bool(f.extra.get("required")), "schema": {"type": "string"}}
            for name, f in filterset_class.base_filters.items()
        ]
