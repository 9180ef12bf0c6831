"""Validate a chunk's items with ONE serializer instance.

Building a serializer deep-copies its fields; doing that per item is most of
DRF's cost for ``many=True``. The engine builds one instance per chunk,
resolves its related fields for the whole chunk (``related.py``), removes
the unique validators it checks per chunk (``uniqueness.py``) and calls
``run_validation(data)`` per item, with ``.instance`` set to the row being
updated so ``validate()`` sees it, and ``.partial`` for a partial update.
With ``BULK_FAST_VALIDATION`` on (the default) the chunk's serializer also
gets the per-chunk copies of DRF's validation loop (``fast_validation.py``).
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.fields import DateTimeField

from ..compat import drf_copies_match
from ..settings import extensions_api_settings
from .fast_validation import fast_run_validation, speed_up
from .related import batchable_related_fields, prefetch_related
from .uniqueness import take_unique_validators


def build_chunk_serializer(ctx, partial):
    """The chunk's serializer. Called once per chunk."""
    serializer_class = ctx.serializer_class
    if serializer_class is None:
        raise ImproperlyConfigured("BulkContext.serializer_class is required for bulk writes.")
    serializer = serializer_class(context=ctx.serializer_context, partial=partial)
    # ``many=True`` serializer classes hand back a ListSerializer.
    if not hasattr(serializer, "fields"):
        raise ImproperlyConfigured(f"{serializer_class.__name__} must be a Serializer, not a ListSerializer.")
    # The fields are bound now; a plain dict of them iterates in C, where
    # DRF's BindingDict goes through collections.abc once per field and
    # item (a tenth of the validation time).
    serializer.__dict__["fields"] = dict(serializer.fields)
    pin_datetime_timezones(serializer)
    return serializer


def pin_datetime_timezones(serializer):
    """Give each ``DateTimeField`` without its own ``default_timezone`` the
    timezone active now. DRF looks it up per value (an asgiref ``Local``
    read); the answer is the same for the whole chunk."""
    current = timezone.get_current_timezone() if settings.USE_TZ else None
    for field in serializer.fields.values():
        if (
            isinstance(field, DateTimeField)
            and type(field).default_timezone is DateTimeField.default_timezone
            and not hasattr(field, "timezone")
        ):
            field.timezone = current


def fast_validation_enabled():
    """Whether chunks use the copies of DRF's validation loop
    (``fast_validation.py``): ``BULK_FAST_VALIDATION`` is on and the
    installed DRF is one whose methods the copies were checked against."""
    return bool(extensions_api_settings.BULK_FAST_VALIDATION) and drf_copies_match()


class ChunkValidator:
    """Validates one chunk's rows; returns the unique sets it removed."""

    def __init__(self, ctx, partial):
        self.serializer = build_chunk_serializer(ctx, partial)
        self.unique_sets = take_unique_validators(self.serializer)
        self.related_fields = batchable_related_fields(self.serializer)
        self.fast = fast_validation_enabled()
        if self.fast:
            speed_up(self.serializer)
        self._run_validation = {}

    def prefetch(self, rows):
        prefetch_related(self.related_fields, [row.item.data for row in rows if row.errors is None])

    def field_value(self, name, data):
        """One field's internal value (upsert keys), or ``None`` if invalid."""
        field = self.serializer.fields.get(name)
        if field is None or not isinstance(data, dict) or field.field_name not in data:
            return None
        run_validation = self._run_validation.get(name)
        if run_validation is None:
            run_validation = self._run_validation[name] = (
                fast_run_validation(field) if self.fast else field.run_validation
            )
        try:
            return run_validation(data[field.field_name])
        except ValidationError:
            return None

    def validate(self, rows):
        serializer = self.serializer
        for row in rows:
            if row.errors is not None:
                continue
            serializer.instance = row.instance
            serializer.initial_data = row.item.data
            try:
                row.attrs = serializer.run_validation(row.item.data)
            except ValidationError as exc:
                row.fail(exc.detail)
        serializer.instance = None
