"""Delete by id: one ``DELETE … RETURNING`` per chunk where it can be."""

from django.db import connections, transaction

from .db.any_array import filter_in
from .db.errors import api_error_for, transient_error_kind
from .db.insert_delete import (
    NARROWABLE_ERRORS,
    can_delete_directly,
    delete_pks,
    delete_returning,
    supports_delete_returning,
    write_narrowed,
)
from .db.locking import lock_before_delete, lock_pks
from .lookups import NOT_FOUND, RowFinder
from .operations import Operation
from .rows import Row
from .soft_delete import delete_through_queryset, deletes_through_queryset
from .uniqueness import key_value


class DeleteOperation(Operation):
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
            return [Row(item) for item in items]  # found and deleted in one statement
        return super().prepare_chunk(items, write)

    def write_chunk(self, number, rows, write, narrow):
        if not (write and self.direct):
            return super().write_chunk(number, rows, write, narrow)
        wanted = self.finder.lookup_values(rows)
        if wanted:
            queryset = filter_in(
                self.ctx.queryset, self.ctx.lookup_field, self.finder.model_field, set(wanted.values()), self.using
            )
            attname = "pk" if self.ctx.lookup_field == "pk" else self.finder.model_field.attname
            lock_before_delete(queryset)
            if narrow:
                try:
                    with transaction.atomic(using=self.using):
                        found = delete_returning(queryset, attname, self.using)
                except NARROWABLE_ERRORS as exc:
                    if transient_error_kind(exc) or api_error_for(exc) is None:
                        raise
                    # The database refused a row: find them, then delete
                    # in halves so only the offending rows fail.
                    self.finder.resolve(wanted, self.finder.fetch(set(wanted.values()), True), True)
                    write_narrowed([row for row in wanted if row.errors is None], self.write, self.using)
                    return self.chunk_result(number, rows)
            else:
                found = delete_returning(queryset, attname, self.using)
            found = {key_value(value, self.fold): pk for value, pk in found.items()}
            for row, value in wanted.items():
                pk = found.get(key_value(value, self.fold))
                if pk is None:
                    row.fail({self.ctx.lookup_key: [NOT_FOUND]})
                else:
                    row.pk, row.outcome = pk, "deleted"
        return self.chunk_result(number, rows)

    def prepare(self, rows):
        self.finder.attach(rows, only_pks=True)

    def write(self, rows):
        pks = [row.old_pk for row in rows]
        lock_pks(self.model, pks, self.using)
        if self.through_queryset:
            delete_through_queryset(self.ctx.queryset, pks)
        else:
            delete_pks(self.model, pks, self.using)
        for row in rows:
            row.pk, row.outcome = row.old_pk, "deleted"
