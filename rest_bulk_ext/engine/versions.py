"""Per-row optimistic concurrency (``bulk_version_field`` on the view).

An update, replace, upsert-update or delete item may carry the version
field with the value the client read. The row is written only if its
stored value is still that one, and the check is part of the write
statement itself (``… WHERE pk = … AND version = …``, joined on pk and
version in ``engine/db/update.py``, ``(pk, version) IN (…)`` for deletes), so no
concurrent writer slips between check and write. Rows the statement did
not touch fail with code ``stale``.

Two readings tell ``stale`` from "Not found.": the chunk's lookup (the
stored value already differs: stale at once, nothing written, the same in
a dry run) and the write (the row matched the lookup but a concurrent
writer changed it before the write locked it).

An integer version is incremented by the write itself (``version =
version + 1``); a timestamp version (``updated_at``) is compared, and set
as the model sets it (an ``auto_now`` field gets ``now()``).
"""

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import BooleanField, DateField, Expression, IntegerField

# ASCII digits only: int() would also read "٣" or "3_000".
_INTEGER = re.compile(r"[+-]?[0-9]+")
# Longer than any integer column holds; int() of a longer text costs more.
MAX_INTEGER_DIGITS = 40

STALE_CODE = "stale"
STALE_MESSAGE = "This row was changed since you read it."
REQUIRED_MESSAGE = "This field is required."


class VersionCheck:
    """The view's version field for one run; ``None`` from ``for_context``
    when the view has none."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.field = ctx.model._meta.get_field(ctx.version_field)
        self.name = ctx.version_field
        self.attname = self.field.attname
        self.increment = isinstance(self.field, IntegerField) and not isinstance(self.field, BooleanField)
        self.required = ctx.require_version

    @classmethod
    def for_context(cls, ctx):
        return cls(ctx) if ctx.version_field else None

    def read(self, rows, required=None):
        """Set ``row.version`` from each item; a missing value fails the
        item when the view requires it (``required``: only the rows for
        which it is true), an unreadable one always."""
        for row in rows:
            if row.errors is not None:
                continue
            data = row.item.data
            raw = data.get(self.name) if isinstance(data, dict) else None
            if raw is None or raw == "":
                if self.required and (required is None or required(row)):
                    row.fail({self.name: [REQUIRED_MESSAGE]})
                continue
            value = self.parse(raw)
            if value is None:
                row.fail({self.name: [f"Not a valid {self.name} value."]})
                continue
            row.version = value

    def parse(self, raw):
        """The stored type's value of ``raw``, or ``None`` when it cannot be
        one. An integer version is an integer exactly, never rounded into a
        match: a JSON integer, or the digits of a CSV cell (``3.9``,
        ``1e400``, ``"3x"``, ``true`` are refused from either), within the
        column's range."""
        if isinstance(raw, (bool, dict, list)):
            return None
        if self.increment:
            return self.parse_integer(raw)
        try:
            return self.field.to_python(raw)
        except (DjangoValidationError, TypeError, ValueError, OverflowError):
            return None

    def parse_integer(self, raw):
        if isinstance(raw, str):
            text = raw.strip()
            if not _INTEGER.fullmatch(text) or len(text) > MAX_INTEGER_DIGITS:
                return None
            raw = int(text)
        if not isinstance(raw, int):
            return None  # a float, even 3.0: the client sends what it read
        try:
            self.field.run_validators(raw)  # the column's range on this database
        except DjangoValidationError:
            return None
        return raw

    def stored(self, row):
        return getattr(row.instance, self.attname)

    def check_stored(self, rows):
        """Fail as stale the rows whose looked-up value already differs."""
        for row in rows:
            if row.errors is None and row.version is not None and row.instance is not None:
                if self.stored(row) != row.version:
                    fail_stale(row, self.name)

    def drop_from_attrs(self, row):
        """The item's version is the value compared, never a value to write."""
        if row.attrs is not None:
            row.attrs.pop(self.name, None)
            row.attrs.pop(self.attname, None)

    def expected(self, rows):
        """``{old pk: version}`` of the rows that carry one."""
        return {row.old_pk: row.version for row in rows if row.version is not None}

    def fail_untouched(self, rows, touched):
        """Rows whose version the write checked but did not touch: stale."""
        for row in rows:
            if row.version is not None and row.old_pk not in touched:
                fail_stale(row, self.name)


def fail_stale(row, name):
    row.fail({name: [STALE_MESSAGE]}, code=STALE_CODE)


def is_timestamp(field):
    return isinstance(field, DateField)


class VersionMatches(Expression):
    """``(pk, version) IN (…)``: the rows whose stored version is the one
    given for their key. PostgreSQL gets two array parameters (the
    statement does not grow with the rows); SQLite a ``VALUES`` list;
    MySQL/MariaDB a row-constructor list."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, pk, version, pairs, pk_field, version_field):
        super().__init__()
        self.pk, self.version = pk, version
        self.pairs = pairs
        self.pk_field, self.version_field = pk_field, version_field  # the key may be any lookup field

    def get_source_expressions(self):
        return [self.pk, self.version]

    def set_source_expressions(self, exprs):
        self.pk, self.version = exprs

    def as_sql(self, compiler, connection):
        pk_sql, pk_params = compiler.compile(self.pk)
        version_sql, version_params = compiler.compile(self.version)
        lhs = f"({pk_sql}, {version_sql})"
        pks = [self.pk_field.get_db_prep_value(pk, connection) for pk, _v in self.pairs]
        versions = [self.version_field.get_db_prep_value(v, connection) for _pk, v in self.pairs]
        params = [*pk_params, *version_params]
        if not self.pairs:
            return "1 = 0", params
        if connection.vendor == "postgresql":
            pk_cast = self.pk_field.cast_db_type(connection)
            version_cast = self.version_field.cast_db_type(connection)
            sql = f"{lhs} IN (SELECT unnest(%s::{pk_cast}[]), unnest(%s::{version_cast}[]))"
            return sql, (*params, pks, versions)
        rows = ", ".join(["(%s, %s)"] * len(self.pairs))
        flat = [value for pair in zip(pks, versions) for value in pair]
        if connection.vendor == "sqlite":
            return f"{lhs} IN (VALUES {rows})", (*params, *flat)
        return f"{lhs} IN ({rows})", (*params, *flat)


def version_filter(check, key_field, pairs):
    """A ``filter()`` argument keeping the rows of ``pairs`` (``(key,
    version)``, ``key`` a value of ``key_field``) whose stored version still
    matches."""
    from django.db.models import F

    key = "pk" if key_field.primary_key else key_field.attname
    return VersionMatches(F(key), F(check.attname), list(pairs), key_field, check.field)


def version_condition_sql(check, key_field, pairs, using):
    """``version_filter`` as ``(sql, params)`` on the model's table itself,
    for a statement whose target row must be rechecked: PostgreSQL
    re-evaluates a ``DELETE``'s own ``WHERE`` on a row a concurrent
    transaction changed, not a subquery's."""
    from django.db import connections
    from django.db.models.sql import Query

    query = Query(check.ctx.model)
    expression = version_filter(check, key_field, pairs).resolve_expression(query)
    return expression.as_sql(query.get_compiler(using), connections[using])
