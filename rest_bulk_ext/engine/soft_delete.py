"""
When a per-item DELETE must go through ``QuerySet.delete()``.

The delete operation's fast paths (``DELETE … RETURNING``, a raw
``DELETE``) remove rows from the table. A model whose default manager or
queryset overrides ``delete()`` — a soft-delete queryset that sets
``deleted_at``, django-safedelete — means something else by deleting, and
the list route (``queryset.delete()``) already honours it; ``/bulk/`` must
too.
"""

from django.db.models import QuerySet


def overrides_delete(queryset):
    """True when ``queryset``'s class (the view's ``get_queryset()``) or the
    model's default manager's queryset class defines its own ``delete()``."""
    if type(queryset).delete is not QuerySet.delete:
        return True
    default_queryset = queryset.model._default_manager.get_queryset()
    return type(default_queryset).delete is not QuerySet.delete


def deletes_through_queryset(ctx):
    """The view's ``bulk_delete_through_queryset`` (``ctx.delete_through_queryset``)
    when it says, else whether ``delete()`` is overridden."""
    if ctx.delete_through_queryset is not None:
        return bool(ctx.delete_through_queryset)
    return overrides_delete(ctx.queryset)


def delete_through_queryset(queryset, pks, condition=None):
    """Delete ``pks`` with the view's queryset's own ``delete()`` (on the
    rows of ``get_queryset()`` only); ``condition``: a further ``filter()``
    argument (a version check). Returns ``None``: what an overridden
    ``delete()`` returns is its own."""
    queryset = queryset.filter(pk__in=pks)
    if condition is not None:
        queryset = queryset.filter(condition)
    queryset.delete()
    return None
