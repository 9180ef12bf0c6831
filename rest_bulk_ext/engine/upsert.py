"""Upsert: insert, or update the row an item's ``unique_fields`` name."""

from django.core.exceptions import ImproperlyConfigured

from .errors import non_field_key
from .lookups import permission_error
from .operations import Operation
from .seen_keys import SeenKeys
from .uniqueness import duplicate_message, instance_value, key_value
from .validation import ChunkValidator
from .writes import insert_objects


class UpsertOperation(Operation):
    """Insert, or update the row whose ``unique_fields`` match (only inside
    ``ctx.queryset``; a match outside it is an item error)."""

    OUTSIDE_MESSAGE = "A row with these values exists but cannot be updated through this endpoint."

    def __init__(self, ctx):
        super().__init__(ctx)
        if not ctx.unique_fields:
            raise ImproperlyConfigured("bulk_upsert needs BulkContext.unique_fields.")
        self.seen = SeenKeys()
        self.fold = self.uniqueness.fold_case

    def sources(self, serializer, names):
        sources = []
        for name in names:
            field = serializer.fields.get(name)
            if field is None or field.read_only:
                raise ImproperlyConfigured(
                    f"Upsert field {name!r} is not a writable field of {self.ctx.serializer_class.__name__}."
                )
            sources.append(field.source)
        return sources

    def prepare(self, rows):
        validator = ChunkValidator(self.ctx, partial=False)
        self.uniqueness.adopt(validator.unique_sets)
        validator.prefetch(rows)
        names = tuple(self.ctx.unique_fields)
        sources = self.sources(validator.serializer, names)
        keyed = {}
        for row in rows:
            values = [validator.field_value(name, row.item.data) for name in names]
            if any(value is None for value in values):
                continue  # full validation reports the missing or invalid value
            key = tuple(key_value(value, self.fold) for value in values)
            first = self.seen.get(key)
            if first is not None:
                row.fail({non_field_key(): [duplicate_message(first)]})
                continue
            self.seen[key] = row.item.index
            keyed[row] = (key, values)
        self.match_existing(keyed, sources)
        validator.validate(rows)
        # A new key was just looked up over the whole table and an existing
        # one is the row's own: the conflict target needs no second query.
        self.uniqueness.check(rows, known_sources=sources)
        if self.ctx.update_fields is None:
            update_sources = None
        else:
            update_sources = self.sources(validator.serializer, self.ctx.update_fields)
        self.written = {}
        for row in rows:
            if row.errors is not None:
                continue
            if row.instance is None:
                self.build_new(row)
                continue
            fields = self.apply_changes(row)
            if fields is None:
                continue
            if update_sources is None:
                fields = [f for f in fields if f.name not in sources]
            else:
                fields = [self.model_field(name) for name in update_sources]
            self.written[row] = [f for f in fields if f is not None]

    def match_existing(self, keyed, sources):
        """Attach the stored row each key names: one query inside
        ``ctx.queryset`` and, for keys not found there, one over the whole
        table to tell new keys from rows of another scope."""
        if not keyed:
            return
        filters = {
            f"{source}__in": {key_value(values[i], False) for _key, values in keyed.values()}
            for i, source in enumerate(sources)
        }

        def key_of(obj_values):
            return tuple(key_value(value, self.fold) for value in obj_values)

        inside = {}
        for obj in self.ctx.queryset.filter(**filters).order_by():
            inside[key_of(instance_value(obj, source) for source in sources)] = obj
        missing = [(key, values) for key, values in keyed.values() if key not in inside]
        outside = set()
        # An unfiltered queryset is the whole table: a key it lacks is new.
        if missing and self.ctx.queryset.query.where:
            filters = {
                f"{source}__in": {key_value(values[i], False) for _key, values in missing}
                for i, source in enumerate(sources)
            }
            base = self.model._base_manager.using(self.using).filter(**filters).order_by().values_list(*sources)
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
        new = [row for row in rows if row.old_pk is None]
        existing = [row for row in rows if row.old_pk is not None]
        if new:
            insert_objects(self.model, [row.instance for row in new], self.using)
        if existing:
            self.update_instances(existing, self.written.__getitem__)
        for row in new:
            row.pk, row.outcome = row.instance.pk, "created"
        for row in existing:
            row.pk, row.outcome = row.instance.pk, "updated"
