"""The insert of an upsert: one statement that lets the database decide,
once, whether a key is new.

Two requests that both looked a key up and found it missing must not both
insert it (one would fail on the unique index). The insert skips a row whose
unique values are already stored, and says which rows it inserted:

- PostgreSQL, SQLite ≥ 3.35::

      INSERT … VALUES … ON CONFLICT DO NOTHING RETURNING pk, key…

  A row not returned was skipped. (PostgreSQL waits for a concurrent,
  uncommitted insert of the same key and skips the row once it commits.)
  On SQLite the values are prepared once per column, as a create's are
  (``sqlite_create.py``), and a chunk goes in as one statement up to the
  connection's variable limit.

- MariaDB ≥ 10.5::

      INSERT … VALUES … ON DUPLICATE KEY UPDATE pk = IF((@rbe_dup := pk) IS NULL, pk, pk)
      RETURNING pk, key…, (CAST(@rbe_dup AS BINARY) <=> CAST(pk AS BINARY))

  The update clause changes nothing; it only records, per row, the primary
  key of the stored row it met, so the last returned column is true for a
  skipped row (the returned values are then the stored row's). Rows are
  matched to the input by their key values, never by position.

No conflict target is named: a row skipped because of *another* unique set
than the upsert's key is found out by the caller (no stored row has its
key) and reported as the conflict it is. Callers sort the rows by key first,
so two inserts wait for each other's keys in the same order.
"""

import sqlite3

from django.db import connections
from django.db.models import AutoField
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery

from ..uniqueness import key_value
from .pg_copy import copy_insert, db_rows, uses_copy
from .sqlite_create import _db_rows as sqlite_db_rows, insert_values, uses_sqlite_insert

MARIADB_FLAG = "@rbe_dup"


def supports_converging_insert(connection):
    """True where ``insert_new_rows`` works (see the module docstring)."""
    if connection.vendor == "postgresql":
        return True
    if connection.vendor == "sqlite":
        return sqlite3.sqlite_version_info >= (3, 35)
    return connection.vendor == "mysql" and connection.mysql_is_mariadb and connection.mysql_version >= (10, 5)


def insert_new_rows(model, objs, key_fields, fold, using):
    """Insert ``objs`` unless a stored row has one of their unique values;
    return the objects that were skipped. Inserted objects get their
    primary key (and other database-returned values)."""
    if not objs:
        return []
    connection = connections[using]
    meta = model._meta
    if meta.pk in meta.db_returning_fields:
        for obj in objs:
            # A write retried in halves must not keep keys of the attempt
            # that was rolled back.
            obj.pk = None
            obj._state.adding = True
    queryset = model._base_manager.using(using).all()
    queryset._prepare_for_bulk_create(objs)
    fields = [f for f in meta.concrete_fields if not f.generated]
    with_pk = [obj for obj in objs if obj._is_pk_set()]
    without_pk = [obj for obj in objs if not obj._is_pk_set()]
    skipped = []
    for group, group_fields in (
        (with_pk, fields),
        (without_pk, [f for f in fields if not isinstance(f, AutoField)]),
    ):
        if not group:
            continue
        if uses_copy(connection, len(group)):
            values = db_rows(connection, group_fields, group)
            if values is not None:
                returning = _returning(meta, key_fields)
                rows = copy_insert(connection, model, group_fields, values, returning, skip_conflicts=True)
                skipped += _match(connection, model, group, returning, key_fields, fold, rows)
                continue
        if uses_sqlite_insert(connection, model):
            # The values prepared once per column, as a create's are
            # (``sqlite_create``), in as few statements as the connection's
            # variable limit allows: Django's insert compiler prepares each
            # value on its own and splits at 999 parameters.
            values = sqlite_db_rows(connection, group_fields, group)
            if values is not None:
                returning = _returning(meta, key_fields)
                rows = insert_values(
                    connection, model, group_fields, values, returning, on_conflict="ON CONFLICT DO NOTHING"
                )
                skipped += _match(connection, model, group, returning, key_fields, fold, rows)
                continue
        batch = max(1, connection.ops.bulk_batch_size(group_fields, group))
        for start in range(0, len(group), batch):
            skipped += _insert_batch(connection, model, group[start : start + batch], group_fields, key_fields, fold)
    return skipped


def _returning(meta, key_fields):
    returning = list(meta.db_returning_fields)
    if meta.pk not in returning:
        returning.insert(0, meta.pk)
    return returning + [field for field in key_fields if field not in returning]


def _insert_batch(connection, model, objs, fields, key_fields, fold):
    meta = model._meta
    returning = _returning(meta, key_fields)
    mariadb = connection.vendor == "mysql"
    query = InsertQuery(model, on_conflict=None if mariadb else OnConflict.IGNORE)
    query.insert_values(fields, objs, raw=False)
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = returning
    [(sql, params)] = compiler.as_sql()
    if mariadb:
        sql, params = _mariadb_sql(connection, sql, params, meta)
    with connection.cursor() as cursor:
        if mariadb:
            cursor.execute(f"SET {MARIADB_FLAG} = NULL")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return _match(connection, model, objs, returning, key_fields, fold, rows)



def _match(connection, model, objs, returning, key_fields, fold, rows):
    """Give each inserted object its returned values (matched by key);
    return the objects the insert skipped."""
    meta = model._meta
    mariadb = connection.vendor == "mysql"
    columns = [field.get_col(meta.db_table) for field in returning]
    converters = [
        connection.ops.get_db_converters(column) + column.get_db_converters(connection) for column in columns
    ]
    key_positions = [returning.index(field) for field in key_fields]

    def convert(row):
        values = list(row[: len(columns)])
        for i, (value, column) in enumerate(zip(values, columns)):
            for converter in converters[i]:
                value = converter(value, column, connection)
            values[i] = value
        return values

    def obj_key(obj):
        return tuple(key_value(getattr(obj, field.attname), fold) for field in key_fields)

    def set_returned(obj, values):
        for field, value in zip(returning, values):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = connection.alias

    inserted = {}
    for row in rows:
        if mariadb and row[-1]:
            continue  # the stored row a skipped input row met
        values = convert(row)
        inserted[tuple(key_value(values[i], fold) for i in key_positions)] = values
    skipped = []
    for obj in objs:
        values = inserted.get(obj_key(obj))
        if values is None:
            skipped.append(obj)
        else:
            set_returned(obj, values)
    return skipped


def _mariadb_sql(connection, sql, params, meta):
    """Turn ``INSERT … RETURNING …`` into the no-op ``ON DUPLICATE KEY
    UPDATE`` that flags skipped rows (module docstring)."""
    pk = connection.ops.quote_name(meta.pk.column)
    head, marker, returning = sql.rpartition(" RETURNING ")
    if not marker:
        raise RuntimeError("The MariaDB insert has no RETURNING clause.")
    update = f" ON DUPLICATE KEY UPDATE {pk} = IF(({MARIADB_FLAG} := {pk}) IS NULL, {pk}, {pk})"
    table = connection.ops.quote_name(meta.db_table)
    # Compared as bytes: the variable keeps the type of an earlier
    # statement's key on the same connection (an integer, say), and a text
    # key compared with it as a number is an error in strict mode.
    flag = f", (CAST({MARIADB_FLAG} AS BINARY) <=> CAST({table}.{pk} AS BINARY))"
    return f"{head}{update}{marker}{returning}{flag}", params
