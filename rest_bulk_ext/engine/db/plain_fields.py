"""Django's own field classes whose prepared database value, for a value of
the matching Python type, is that value itself.

The write and lookup paths that skip Django's per-value preparation
(``copy.py``'s COPY rows, ``sqlite_insert.py``'s ``INSERT``,
``key_arrays.py``'s lookup arrays) consult these sets. They hold exact
classes, never subclasses: a subclass may convert values its own way, so
its values always go through Django.
"""

from django.db import models

# A ``str`` is stored as itself.
TEXT_FIELDS = frozenset({models.CharField, models.TextField, models.EmailField, models.SlugField, models.URLField})

# An ``int`` (not a ``bool``) is stored as itself.
INTEGER_FIELDS = frozenset(
    {
        models.IntegerField,
        models.BigIntegerField,
        models.SmallIntegerField,
        models.PositiveIntegerField,
        models.PositiveBigIntegerField,
        models.PositiveSmallIntegerField,
        models.AutoField,
        models.BigAutoField,
        models.SmallAutoField,
    }
)


def as_is_table(**extra):
    """``{field class: (Python types stored as themselves)}``: the text and
    integer fields, plus ``extra`` (a database's own additions, by class
    name: ``BooleanField=(bool,)``)."""
    table = {cls: (str,) for cls in TEXT_FIELDS}
    table.update({cls: (int,) for cls in INTEGER_FIELDS})
    table.update({getattr(models, name): types for name, types in extra.items()})
    return table


class NeedsStatement(Exception):
    """A value is an expression (``Now()``, a database default) only a
    statement can evaluate: the caller falls back to Django's insert."""


def django_preparer(connection, field):
    """A function of an object giving ``field``'s database value the way
    Django's insert does (``pre_save``, then ``get_db_prep_save``)."""
    prepare = field.get_db_prep_save

    def prepared(obj):
        value = field.pre_save(obj, True)
        if hasattr(value, "resolve_expression"):
            raise NeedsStatement
        return prepare(value, connection)

    return prepared


def exact_type_preparer(field, types, fallback):
    """A function of an object giving ``field``'s value itself when it is
    ``None`` or of one of ``types`` (exact: a ``bool`` is not taken as an
    ``int``, a ``datetime`` not as a ``date``), else ``fallback(obj)``."""
    attname = field.attname

    def value_of(obj):
        value = getattr(obj, attname)
        if value is None or type(value) in types:
            return value
        return fallback(obj)

    return value_of
