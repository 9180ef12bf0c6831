"""New model instances for created rows: the instance ``Model(**attrs)``
builds, through Django's positional constructor.

``Model.__init__`` with keyword arguments walks every field, pops each
keyword and falls back to the default one field at a time; with positional
arguments (the path ``QuerySet`` iteration uses) it only sets attributes. A
chunk's items mostly send the same field names, so the engine works out once
per set of names which value each concrete field takes — the sent value, the
field's default, or, for a related object, the field's descriptor — and
builds each instance from that plan. Measured on a 20,000-item create, the
constructor's share fell by about half (docs/benchmarks.md).

The plan is used only for a model that keeps Django's ``__init__`` and for
names that are all concrete fields; anything else (a property set through
the constructor, an overridden ``__init__``) takes ``Model(**attrs)``.
"""

from django.db import DEFAULT_DB_ALIAS, router
from django.db.models import DEFERRED, ForeignKey, Model

VALUE = 0  # the sent value, positionally
DEFAULT = 1  # field.get_default(), as Model(**attrs) calls it for a name not sent
RELATED = 2  # a related object: set through the field's descriptor, after the constructor
SKIPPED = 3  # a generated column: Model(**attrs) never sets it
FOREIGN_KEY = 4  # a many-to-one object: its key positionally, then cached (see _set_foreign_key)


def instance_plan(model, names):
    """``[(kind, name, field), …]`` in concrete-field order for items sending
    ``names``, or ``None`` where ``Model(**attrs)`` must be used."""
    if model.__init__ is not Model.__init__:
        return None
    sent = set(names)
    plan = []
    for field in model._meta.concrete_fields:
        if getattr(field, "generated", False):
            if field.name in sent:
                return None
            plan.append((SKIPPED, field.name, field))
        elif field.name in sent:
            plan.append((_related_kind(field), field.name, field))
            sent.discard(field.name)
        elif field.attname in sent:
            plan.append((VALUE, field.attname, field))
            sent.discard(field.attname)
        else:
            plan.append((DEFAULT, field.name, field))
    return None if sent else plan


def _related_kind(field):
    if not field.is_relation:
        return VALUE
    if type(field) is ForeignKey and len(field.related_fields) == 1 and not router.routers:
        return FOREIGN_KEY
    return RELATED if field.many_to_one or field.one_to_one else VALUE


def build_instance(model, plan, attrs):
    """``model(**attrs)`` built from ``plan`` (``instance_plan``)."""
    args = []
    related = None
    for kind, name, field in plan:
        if kind == VALUE:
            args.append(attrs[name])
        elif kind == DEFAULT:
            args.append(field.get_default())
        else:
            args.append(DEFERRED)
            if kind != SKIPPED:
                related = related or []
                related.append((kind, name, field))
    instance = model(*args)
    if related:
        for kind, name, field in related:
            if kind != FOREIGN_KEY or not _set_foreign_key(instance, field, attrs[name]):
                # The descriptor type-checks, caches the object and sets the
                # key, as the keyword constructor does.
                setattr(instance, name, attrs[name])
    return instance


def _set_foreign_key(instance, field, value):
    """What ``ForwardManyToOneDescriptor.__set__`` does on a new instance
    without database routers (``_related_kind``), minus its generic
    paths: key, database and cache. False leaves it to the descriptor
    (which raises the keyword constructor's errors)."""
    if value is None:
        setattr(instance, field.attname, None)
    elif isinstance(value, field.remote_field.model._meta.concrete_model):
        setattr(instance, field.attname, getattr(value, field.related_fields[0][1].attname))
        # router.db_for_write(…, instance=value) with no routers:
        instance._state.db = value._state.db or DEFAULT_DB_ALIAS
        if value._state.db is None:
            value._state.db = instance._state.db
    else:
        return False
    field.set_cached_value(instance, value)
    return True
