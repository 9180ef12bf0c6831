"""Upsert: insert, or update the row an item's ``unique_fields`` name.

The keys are looked up first (to validate an update against its row and to
keep rows of another scope out), then new keys are inserted by one
statement that skips a key stored meanwhile (``db/upsert_insert.py``): a key a
concurrent request inserted after the lookup is updated instead, so
concurrent upserts of one new key create it once. See docs/concurrency.md.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connections

from .db.create_insert import insert_objects
from .db.key_filter import filter_tuples
from .db.upsert_insert import insert_new_rows, supports_converging_insert
from .errors import non_field_key
from .lookups import permission_error
from .processors import ChunkProcessor
from .seen_keys import SeenKeys
from .uniqueness import duplicate_message, instance_value, key_value, sort_key
from .validation import ChunkValidator


def unwritable_target_fields(serializer_fields, names):
    """The names in ``names`` that are not writable fields of the
    serializer: a conflict target's values come from the items, so a
    read-only field (the primary key of a ``ModelSerializer``) cannot be one."""
    wrong = []
    for name in names:
        field = serializer_fields.get(name)
        if field is None or field.read_only:
            wrong.append(name)
    return wrong


class UpsertProcessor(ChunkProcessor):
    """Insert, or update the row whose ``unique_fields`` match (only inside
    ``ctx.queryset``; a match outside it is an item error)."""

    OUTSIDE_MESSAGE = "A row with these values exists but cannot be updated through this endpoint."
    RACED_CONFLICT_MESSAGE = (
        "A row with one of these unique values was written by a concurrent request; nothing was written."
    )

    def __init__(self, ctx):
        super().__init__(ctx)
        if not ctx.unique_fields:
            raise ImproperlyConfigured("bulk_upsert needs BulkContext.unique_fields.")
        self.seen = SeenKeys()
        self.fold = self.uniqueness.fold_case

    def sources(self, serializer, names):
        # The HTTP side refuses such a target with a 400 before it gets
        # here (bulk_endpoint/targets.py, by the same function).
        wrong = unwritable_target_fields(serializer.fields, names)
        if wrong:
            raise ImproperlyConfigured(
                f"Upsert field {wrong[0]!r} is not a writable field of {self.ctx.serializer_class.__name__}."
            )
        return [serializer.fields[name].source for name in names]

    def prepare(self, rows):
        validator = ChunkValidator(self.ctx, partial=False)
        self.uniqueness.adopt(validator.unique_sets)
        validator.prefetch(rows)
        names = tuple(self.ctx.unique_fields)
        sources = self.sources(validator.serializer, names)
        keyed = {}
        field_value, fold = validator.field_value, self.fold
        for row in rows:
            values = [field_value(name, row.item.data) for name in names]
            if any([value is None for value in values]):
                continue  # full validation reports the missing or invalid value
            key = tuple([key_value(value, fold) for value in values])
            first = self.seen.get(key)
            if first is not None:
                row.fail({non_field_key(): [duplicate_message(first)]})
                continue
            self.seen[key] = row.item.index
            keyed[row] = (key, values)
        self.keyed, self.key_sources = keyed, sources
        self.match_existing(keyed, sources)
        if self.versions is not None:
            # Only an item that updates a stored row needs the version.
            self.versions.read(rows, required=lambda row: row.instance is not None)
            self.versions.check_stored(rows)
        validator.validate(rows)
        # A new key was just looked up over the whole table and an existing
        # one is the row's own: the conflict target needs no second query.
        deferred = []
        self.uniqueness.check(rows, known_sources=sources, deferred=deferred)
        self.settle_clashes(deferred)
        if self.ctx.update_fields is None:
            self.update_sources = None
        else:
            self.update_sources = self.sources(validator.serializer, self.ctx.update_fields)
        self.written = {}
        for row in rows:
            if row.errors is not None:
                continue
            if self.versions is not None:
                self.versions.drop_from_attrs(row)
            if row.instance is None:
                self.build_new(row)
            else:
                self.set_written_fields(row)

    def set_written_fields(self, row):
        """Apply the item to the stored row; remember the fields to write
        (the conflict target never, unless ``update_fields`` names it)."""
        fields = self.apply_changes(row)
        if fields is None:
            return
        if self.update_sources is None:
            fields = [f for f in fields if f.name not in self.key_sources]
        else:
            fields = [self.model_field(name) for name in self.update_sources]
        self.written[row] = [f for f in fields if f is not None]

    def match_existing(self, keyed, sources):
        """Attach the stored row each key names: one query inside
        ``ctx.queryset`` and, for keys not found there, one over the whole
        table to tell new keys from rows of another scope."""
        if not keyed:
            return

        def key_of(obj_values):
            return tuple(key_value(value, self.fold) for value in obj_values)

        inside = {}
        for obj in filter_keys(self.ctx.queryset, sources, keyed.values()).order_by():
            inside[key_of(instance_value(obj, source) for source in sources)] = obj
        missing = [(key, values) for key, values in keyed.values() if key not in inside]
        outside = set()
        # An unfiltered queryset is the whole table: a key it lacks is new.
        if missing and self.ctx.queryset.query.where:
            base = filter_keys(self.model._base_manager.using(self.using), sources, missing)
            base = base.order_by().values_list(*sources)
            outside = {key_of(values) for values in base} & {key for key, _values in missing}
        check = self.ctx.check_object_permission
        for row, (key, _values) in keyed.items():
            if key in outside:
                row.fail({non_field_key(): [self.OUTSIDE_MESSAGE]})
                continue
            obj = inside.get(key)
            if obj is None:
                continue
            denied = permission_error(check, obj)
            if denied:
                row.fail(denied)
                continue
            row.instance, row.old_pk = obj, obj.pk

    def write(self, rows):
        # A write tried again in halves skips rows an earlier try failed
        # (a raced key found outside the scope, say).
        rows = [row for row in rows if row.errors is None]
        new = [row for row in rows if row.old_pk is None]
        existing = [row for row in rows if row.old_pk is not None]
        if new and supports_converging_insert(connections[self.using]):
            new, raced = self.insert_new(new)
            existing += raced
        elif new:
            insert_objects(self.model, [row.instance for row in new], self.using)
        if existing:
            self.update_instances(existing, self.written.__getitem__)
        for row in new:
            row.pk, row.outcome = row.instance.pk, "created"
        for row in existing:
            if row.errors is None:
                row.pk, row.outcome = row.instance.pk, "updated"

    # Concurrency --------------------------------------------------------

    def recheck_refused(self, rows):
        """No recheck: a stored value may be the row an item's key names,
        which the next try updates (``settle_clashes``, ``adopt_raced``)."""
        return rows

    def key_order(self, row):
        """Rows are inserted in key order (``uniqueness.sort_key``, as a
        create's are), so two requests inserting the same keys wait for
        each other in one order (never in a cycle)."""
        return sort_key(self.keyed[row][0])

    def settle_clashes(self, deferred):
        """A new row whose other unique values are stored already: when the
        stored row is the one its key names (a concurrent request inserted
        it after the key lookup), the item updates it; otherwise the clash
        is the item's error. One query, only when there are clashes."""
        if not deferred:
            return
        clashing = {}
        for row, pks, error in deferred:
            if row.errors is None and row in self.keyed:
                clashing.setdefault(row, [set(), error])[0].update(pks)
            else:
                row.fail(error)
        for row in clashing:
            row.instance, row.old_pk = None, None
        self.match_existing({row: self.keyed[row] for row in clashing}, self.key_sources)
        for row, (pks, error) in clashing.items():
            if row.errors is None and (row.old_pk is None or pks != {row.old_pk}):
                row.instance, row.old_pk = None, None
                row.fail(error)

    def insert_new(self, rows):
        """Insert the new rows, skipping keys stored since the lookup;
        return ``(inserted rows, rows that update a raced row)``."""
        rows = sorted(rows, key=self.key_order)
        key_fields = [self.model._meta.get_field(source) for source in self.key_sources]
        skipped = insert_new_rows(self.model, [row.instance for row in rows], key_fields, self.fold, self.using)
        if not skipped:
            return rows, []
        skipped_ids = {id(obj) for obj in skipped}
        raced = [row for row in rows if id(row.instance) in skipped_ids]
        inserted = [row for row in rows if id(row.instance) not in skipped_ids]
        return inserted, self.adopt_raced(raced)

    def adopt_raced(self, rows):
        """Rows whose key a concurrent request stored after the lookup:
        look them up again and update them like any stored row (with the
        same scope and object-permission checks). A row the insert skipped
        for another unique set is a conflict, as a failed insert would be."""
        keyed = {row: self.keyed[row] for row in rows}
        new_instances = {row: row.instance for row in rows}
        for row in rows:
            row.instance, row.old_pk = None, None
        self.match_existing(keyed, self.key_sources)
        adopted, unmatched = [], []
        for row in rows:
            if row.errors is not None:
                continue
            if row.instance is None:
                unmatched.append(row)
                continue
            self.set_written_fields(row)
            if row.errors is None:
                adopted.append(row)
        if unmatched:
            # Tried again in halves (non-atomic mode), the rows are still new.
            for row in unmatched:
                row.instance = new_instances[row]
            raise IntegrityError(self.RACED_CONFLICT_MESSAGE)
        return adopted


def filter_keys(queryset, sources, keyed):
    """Rows that may hold a key of ``keyed`` (``(key, values)`` pairs), one
    array per source on PostgreSQL (``db/key_filter.py``); the caller
    matches exactly."""
    tuples = [tuple(key_value(value, False) for value in values) for _key, values in keyed]
    return filter_tuples(queryset, sources, tuples)
