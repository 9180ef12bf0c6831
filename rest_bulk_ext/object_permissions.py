"""
Object permissions for bulk writes (the list route and ``/bulk/``).

A single-object PATCH or DELETE runs ``check_object_permissions`` on the
object. A bulk write touches many objects at once, so every target row is
read (in chunks, one query for the whole set) and checked before the write;
the first denial raises and nothing is written.

The rows are read only when a permission class implements
``has_object_permission``: with ``IsAuthenticated`` or
``DjangoModelPermissions`` a bulk write costs no extra query.
"""

from rest_framework.permissions import BasePermission


def implements_object_permission(permission):
    """True when ``permission`` overrides ``BasePermission.has_object_permission``.

    Composed permissions (``IsAuthenticated & IsOwner``) always count: their
    operands are only known to the composite.
    """
    method = getattr(type(permission), "has_object_permission", None)
    return method is not None and method is not BasePermission.has_object_permission


def needs_object_permission_checks(permissions):
    return any(implements_object_permission(permission) for permission in permissions)


def check_each_object(view, request, queryset, chunk_size):
    """Call ``view.check_object_permissions(request, obj)`` for every row of
    ``queryset``; raises ``PermissionDenied`` (or ``NotAuthenticated``) on the
    first denial."""
    for obj in queryset.iterator(chunk_size=chunk_size):
        view.check_object_permissions(request, obj)
