"""A create chunk's insert: every new object comes back with its primary key.

``insert_objects`` picks the statement by database:

- PostgreSQL copies a large chunk in (``db/pg_copy.py``); SQLite ≥ 3.35
  runs its own ``INSERT … RETURNING`` with values prepared once per column
  (``db/sqlite_create.py``); elsewhere ``bulk_create``'s ``INSERT …
  RETURNING`` (PostgreSQL, MariaDB ≥ 10.5) returns the keys;
- keys set before the insert (UUID defaults, natural keys) are known anyway;
- elsewhere (MySQL) the rows are re-selected by a unique field of the model
  whose values the chunk sets, in one query; a model without such a field is
  inserted one row per statement, which is slow but exact. Auto-increment
  arithmetic (``LAST_INSERT_ID()`` + n) is not used: InnoDB's default
  interleaved lock mode does not guarantee consecutive keys.

``insert_skipping_stored`` is the insert of a create whose serializer checks
a unique set: a row a concurrent request stored since the check is skipped,
not an error of the whole chunk.
"""

from django.db import IntegrityError, connections, transaction

from ..uniqueness import key_value
from .errors import is_unique_violation
from .pg_copy import copy_create, uses_copy
from .sqlite_create import sqlite_create, uses_sqlite_insert
from .upsert_insert import insert_new_rows, supports_converging_insert


def _auto_pk(model):
    pk = model._meta.pk
    return pk in model._meta.db_returning_fields


def _recovery_field(model, objs):
    """A unique, non-key field every object sets: re-select keys by it."""
    for field in model._meta.concrete_fields:
        if field.unique and not field.primary_key:
            if all(getattr(obj, field.attname) is not None for obj in objs):
                return field
    return None


def insert_objects(model, objs, using):
    """``bulk_create`` ``objs``; afterwards every object has its pk."""
    connection = connections[using]
    manager = model._base_manager.using(using)
    auto = _auto_pk(model)
    if auto:
        for obj in objs:
            # A retried half of a failed chunk must not keep keys from the
            # rolled-back attempt.
            obj.pk = None
            obj._state.adding = True
    if uses_copy(connection, len(objs)) and copy_create(connection, model, objs):
        return
    if uses_sqlite_insert(connection, model) and sqlite_create(connection, model, objs):
        return
    if not auto or connection.features.can_return_rows_from_bulk_insert:
        manager.bulk_create(objs)
        return
    field = _recovery_field(model, objs)
    if field is None:
        _insert_one_by_one(model, objs, using)
        return
    manager.bulk_create(objs)
    fold = connection.vendor == "mysql"
    values = [getattr(obj, field.attname) for obj in objs]
    found = {
        key_value(value, fold): pk
        for value, pk in manager.filter(**{f"{field.attname}__in": values}).order_by().values_list(field.attname, "pk")
    }
    for obj, value in zip(objs, values):
        obj.pk = found.get(key_value(value, fold))
        obj._state.adding = False


def _insert_one_by_one(model, objs, using):
    meta = model._meta
    fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.pk]
    returning = meta.db_returning_fields
    manager = model._base_manager.using(using)
    for obj in objs:
        rows = manager._insert([obj], fields=fields, returning_fields=returning, using=using)
        for value, field in zip(rows[0], returning):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = using


def insert_skipping_stored(model, objs, key_fields, fold, using):
    """Insert ``objs`` (a create's new rows, in the caller's order) and
    return the objects skipped because a stored row holds one of their
    unique values (stored by a concurrent request since the chunk was
    checked). On PostgreSQL (after a plain insert refused for a unique
    value) and MariaDB ≥ 10.5 this is the upsert's converging insert
    (``db/upsert_insert.py``), the objects matched back by
    ``key_fields`` (a unique set every object sets, ``fold``: compared
    case-folded). Elsewhere ``insert_objects``, where such a clash is an
    ``IntegrityError`` for ``write_narrowed`` to recheck: SQLite (its
    writers take turns, so only a row stored between a non-atomic chunk's
    check and its write can clash, and its own insert is the faster), MySQL
    (no ``INSERT … RETURNING``), a model with a parent table, or no
    ``key_fields``."""
    connection = connections[using]
    if (
        not key_fields
        or connection.vendor == "sqlite"
        or not connection.features.can_return_rows_from_bulk_insert
        or model._meta.parents
        or not supports_converging_insert(connection)
    ):
        insert_objects(model, objs, using)
        return []
    if connection.vendor == "postgresql":
        # The plain insert first, in a savepoint: without a clash it is the
        # faster (no speculative insertion, no rows to match back; 1,000
        # rows by COPY: 15 ms against 20). A clash waits for the concurrent
        # insert to commit, fails, and the converging insert runs instead;
        # the savepoint's rollback releases any request waiting on the rows
        # tried. Not on MariaDB: a failed duplicate check keeps its gap locks.
        try:
            with transaction.atomic(using=using):
                insert_objects(model, objs, using)
            return []
        except IntegrityError as exc:
            if not is_unique_violation(exc):
                raise
    return insert_new_rows(model, objs, key_fields, fold, using)
