"""The view side of per-row optimistic concurrency (engine/versions.py).

Class attributes, read through hooks so a view can decide per request:

- ``bulk_version_field`` (default ``None``): the model field an update,
  replace, upsert-update or delete item at ``/bulk/`` carries with the value
  the client read; an integer version (incremented by every bulk write,
  the list route's queryset PATCH included) or a timestamp such as
  ``updated_at`` (compared; set as the model sets it).
- ``bulk_require_version`` (default ``False``): update and delete items
  without the field fail with ``required``.

No project-wide setting: the field is a property of the model a view
serves, so it lives on the view, like ``lookup_field``.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db.models import BooleanField, F, IntegerField


class BulkVersionMixin:
    bulk_version_field = None
    bulk_require_version = False

    def get_bulk_version_field(self) -> str | None:
        """The model field name holding the row version, or ``None``.
        Override to turn the check on or off per request."""
        return self.bulk_version_field

    def get_bulk_require_version(self) -> bool:
        """Whether update and delete items must carry the version.
        Override to require it only for some users or operations."""
        return bool(self.bulk_require_version)


def version_bump(model, name: str | None) -> dict:
    """``{attname: F(attname) + 1}`` for an integer version field, else
    ``{}`` (a timestamp version is set by ``auto_now`` or the serializer)."""
    if not name:
        return {}
    try:
        field = model._meta.get_field(name)
    except Exception as exc:
        raise ImproperlyConfigured(f"bulk_version_field {name!r} is not a field of {model.__name__}.") from exc
    if isinstance(field, IntegerField) and not isinstance(field, BooleanField):
        return {field.attname: F(field.attname) + 1}
    return {}
