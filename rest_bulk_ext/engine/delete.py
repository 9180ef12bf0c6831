"""Delete by id: one ``DELETE … RETURNING`` per chunk where it can be."""

from django.db import connections, transaction
from django.db.models import Q

from .db.delete_rows import can_delete_directly, delete_pks, delete_returning, supports_delete_returning
from .db.errors import api_error_for, transient_error_kind
from .db.id_filter import filter_in
from .db.locking import lock_before_delete, lock_pks
from .db.narrowing import NARROWABLE_ERRORS, write_narrowed
from .item_state import ItemState
from .lookups import NOT_FOUND, RowFinder
from .processors import ChunkProcessor
from .soft_delete import delete_through_queryset, deletes_through_queryset
from .uniqueness import key_value
from .versions import fail_stale, version_condition_sql, version_filter


class DeleteProcessor(ChunkProcessor):
    """Delete by id. Where the database has ``DELETE … RETURNING`` and no
    object permission, cascade or signal is involved, one statement per
    chunk both finds and deletes the rows; otherwise a lookup, then the
    delete."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.finder = RowFinder(ctx, key_from_data=False)
        self.fold = self.uniqueness.fold_case
        self.through_queryset = deletes_through_queryset(ctx)
        self.direct = (
            not self.through_queryset
            and ctx.check_object_permission is None
            and supports_delete_returning(connections[self.using])
            and can_delete_directly(self.model._base_manager.using(self.using).all(), self.using)
        )

    def prepare_chunk(self, items, write=True):
        if write and self.direct:
            return [ItemState(item) for item in items]  # found and deleted in one statement
        return super().prepare_chunk(items, write)

    def write_chunk(self, number, rows, write, narrow):
        if not (write and self.direct):
            return super().write_chunk(number, rows, write, narrow)
        if self.versions is not None:
            self.versions.read(rows)
        wanted = self.finder.lookup_values(rows)
        if wanted:
            queryset = self.direct_queryset(wanted)
            recheck = self.recheck_condition(wanted)
            attname = "pk" if self.ctx.lookup_field == "pk" else self.finder.model_field.attname
            lock_before_delete(queryset)
            if narrow:
                try:
                    with transaction.atomic(using=self.using):
                        found = delete_returning(queryset, attname, self.using, recheck)
                except NARROWABLE_ERRORS as exc:
                    if transient_error_kind(exc) or api_error_for(exc) is None:
                        raise
                    # The database refused a row: find them, then delete
                    # in halves so only the offending rows fail.
                    self.finder.resolve(wanted, self.finder.fetch(set(wanted.values()), True), True)
                    write_narrowed([row for row in wanted if row.errors is None], self.write, self.using)
                    return self.chunk_result(number, rows)
            else:
                found = delete_returning(queryset, attname, self.using, recheck)
            if self.fold:
                found = {key_value(value, True): pk for value, pk in found.items()}
            stale = self.stale_keys(wanted, found)
            for row, value in wanted.items():
                # Unfolded, a key is the value itself (never a model instance here).
                key = key_value(value, True) if self.fold else value
                pk = found.get(key)
                if pk is not None:
                    row.pk, row.outcome = pk, "deleted"
                elif key in stale:
                    fail_stale(row, self.versions.name)
                else:
                    row.fail({self.ctx.lookup_key: [NOT_FOUND]})
        return self.chunk_result(number, rows)

    def direct_queryset(self, wanted):
        """The rows to delete: by lookup value and, for the items that carry
        a version, by (lookup value, version) in the same ``WHERE``."""
        field = self.finder.model_field
        versioned = {value: row.version for row, value in wanted.items() if row.version is not None}
        if not versioned:
            return filter_in(self.ctx.queryset, self.ctx.lookup_field, field, set(wanted.values()), self.using)
        plain = {value for row, value in wanted.items() if row.version is None}
        condition = version_filter(self.versions, field, versioned.items())
        if plain:
            condition = Q(condition) | Q(**{f"{self.ctx.lookup_field}__in": plain})
        return self.ctx.queryset.filter(condition)

    def recheck_condition(self, wanted):
        """On PostgreSQL, the version condition again on the ``DELETE``'s
        own rows (``writes.delete_returning``); else ``None``."""
        if self.versions is None or connections[self.using].vendor != "postgresql":
            return None
        versioned = [(value, row.version) for row, value in wanted.items() if row.version is not None]
        if not versioned:
            return None
        sql, params = version_condition_sql(self.versions, self.finder.model_field, versioned, self.using)
        plain = [value for row, value in wanted.items() if row.version is None]
        if plain:
            # Unversioned items of the chunk are not rechecked.
            connection = connections[self.using]
            quote = connection.ops.quote_name
            column = f"{quote(self.model._meta.db_table)}.{quote(self.finder.model_field.column)}"
            sql = f"({sql} OR {column} = ANY(%s))"
            params = (*params, [self.finder.model_field.get_db_prep_value(v, connection) for v in plain])
        return sql, params

    def stale_keys(self, wanted, found):
        """Among the versioned items the ``DELETE`` did not remove, the keys
        still in ``get_queryset()``: their version differed. One query, only
        when there are such items."""
        if self.versions is None:
            return set()
        missing = {
            value for row, value in wanted.items()
            if row.version is not None and key_value(value, self.fold) not in found
        }  # fmt: skip
        if not missing:
            return set()
        name = "pk" if self.ctx.lookup_field == "pk" else self.finder.model_field.attname
        present = self.ctx.queryset.filter(**{f"{self.ctx.lookup_field}__in": missing}).order_by()
        return {key_value(value, self.fold) for value in present.values_list(name, flat=True)}

    def prepare(self, rows):
        # A version is compared with the stored row's: fetch the rows, not
        # only their keys (the same one query).
        self.finder.attach(rows, only_pks=self.versions is None)
        if self.versions is not None:
            self.versions.read(rows)
            self.versions.check_stored(rows)

    def write(self, rows):
        pks = [row.old_pk for row in rows]
        versions = self.versions
        locked = lock_pks(self.model, pks, self.using, read=versions.attname if versions else None)
        condition = None
        if versions is not None:
            rows, condition = self.fresh_rows(rows, locked)
            pks = [row.old_pk for row in rows]
        if self.through_queryset:
            count = delete_through_queryset(self.ctx.queryset, pks, condition)
        else:
            count = delete_pks(self.model, pks, self.using, condition)
        if condition is not None and locked is None and count != len(pks):
            rows = self.settle_unlocked(rows)
        for row in rows:
            row.pk, row.outcome = row.old_pk, "deleted"

    def fresh_rows(self, rows, locked):
        """The rows to delete and the ``(pk, version)`` condition the
        ``DELETE`` checks. Where the rows were locked (PostgreSQL,
        MySQL/MariaDB) with their versions, a row whose version differs
        fails as stale here; on SQLite (no row locks, no extra read) the
        ``DELETE``'s count tells whether ``settle_unlocked`` must look."""
        versions = self.versions
        fresh = []
        for row in rows:
            if locked is not None and row.version is not None and locked.get(row.old_pk) != row.version:
                fail_stale(row, versions.name)
            else:
                fresh.append(row)
        checked = [(row.old_pk, row.version) for row in fresh if row.version is not None]
        if not checked:
            return fresh, None
        condition = Q(version_filter(versions, self.model._meta.pk, checked))
        plain = [row.old_pk for row in fresh if row.version is None]
        if plain:
            condition |= Q(pk__in=plain)
        return fresh, condition

    def settle_unlocked(self, rows):
        """SQLite, after a ``DELETE`` that removed fewer rows than asked (or
        a queryset ``delete()`` that does not say): a versioned row still in
        ``get_queryset()`` was not deleted, its version differed. One query,
        only then; the database's write lock is held, so nothing changed
        since the ``DELETE``."""
        versioned = [row.old_pk for row in rows if row.version is not None]
        remaining = set(self.ctx.queryset.filter(pk__in=versioned).order_by().values_list("pk", flat=True))
        deleted = []
        for row in rows:
            if row.old_pk in remaining:
                fail_stale(row, self.versions.name)
            else:
                deleted.append(row)
        return deleted
