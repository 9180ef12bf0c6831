"""How a chunk is checked and written: the shared steps, create, update and
replace (upsert and delete have their own modules).

Queries per chunk, whatever its size (see docs/engine.md):

- create: 1 per related field + 1 per unique set + the insert;
- update / replace: 1 lookup + 1 per related field + 1 per unique set +
  1 ``UPDATE`` per set of written fields;
- upsert (``upsert.py``): 1-2 key lookups + related + unique + insert +
  update;
- delete (``delete.py``): 1 ``DELETE … RETURNING``, or 1 lookup + the
  ``DELETE``.
"""

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import IntegrityError, connections, transaction

from .db.create_insert import insert_objects, insert_skipping_stored
from .db.direct_rows import insert_direct_rows, row_plan
from .db.errors import is_unique_violation
from .db.locking import lock_pks
from .db.narrowing import write_narrowed
from .db.update import Versioned, update_rows
from .instances import build_instance, instance_plan
from .item_state import ItemState
from .lookups import RowFinder
from .types import ChunkResult
from .uniqueness import UniquenessChecker
from .validation import ChunkValidator
from .versions import VersionCheck

M2M_MESSAGE = "Bulk operations cannot write many-to-many fields; set them with a separate request."
PK_CHANGE_MESSAGE = "The primary key cannot be changed by a bulk update."


class ChunkProcessor:
    """Checks and writes one chunk. Subclasses fill ``prepare`` and ``write``.

    One instance serves a whole run, so what it remembers across chunks
    (ids and unique values seen) catches duplicates across chunk boundaries.
    """

    def __init__(self, ctx):
        self.ctx = ctx
        self.model = ctx.model
        self.using = ctx.queryset.db
        self.uniqueness = UniquenessChecker(self.using)
        self._fields = {}
        self._m2m_names = {}
        self._instance_plans = {}
        self.versions = VersionCheck.for_context(ctx)

    def process(self, number, items, write, narrow):
        return self.write_chunk(number, self.prepare_chunk(items, write), write, narrow)

    def prepare_chunk(self, items, write=True):
        """The chunk's rows, looked up and validated: reads only, so a
        non-atomic run does it before its write transaction takes locks."""
        rows = [ItemState(item) for item in items]
        self.prepare(rows)
        return rows

    def write_chunk(self, number, rows, write, narrow):
        """Write the valid rows (when ``write``); the ``ChunkResult``."""
        valid = [row for row in rows if row.errors is None]
        if write and valid:
            if narrow:
                write_narrowed(valid, self.write, self.using, recheck=self.recheck_refused)
            else:
                self.write(valid)
        return self.chunk_result(number, rows)

    def chunk_result(self, number, rows):
        result = ChunkResult(number=number)
        ids = {"created": result.created_ids, "updated": result.updated_ids, "deleted": result.deleted_ids}
        errors, outcomes = result.errors, result.outcomes
        succeeded = 0
        for row in rows:
            if row.errors is not None:
                errors.append(row.error_entry())
                outcomes.append((row.item.index, row.pk, "failed"))
            elif row.outcome is not None:
                succeeded += 1
                ids[row.outcome].append(row.pk)
                outcomes.append((row.item.index, row.pk, row.outcome))
        result.success_count = succeeded
        return result

    def prepare(self, rows):
        """Look up, validate and check the chunk's rows; a row that fails
        gets ``row.errors``, one that passes is ready for ``write``."""
        raise NotImplementedError

    def write(self, rows):
        """Write the valid rows and set ``row.pk`` and ``row.outcome`` last,
        so a write retried in halves leaves no stale outcome behind."""
        raise NotImplementedError

    def recheck_refused(self, rows):
        """The database refused a narrowed write of ``rows`` with a
        constraint error: fail the rows whose unique values a concurrent
        request stored since the check, with the serializer's own message
        (never the database's text), and return the others to write again.
        One query per unique set. Override to explain other constraints."""
        return self.uniqueness.fail_stored(rows)

    def forget_from(self, index):
        """Forget the keys and ids remembered for items from ``index`` on,
        before a chunk is tried again (its own items are not duplicates of
        themselves)."""
        memories = [unique_set.seen for unique_set in self.uniqueness.sets or ()]
        finder = getattr(self, "finder", None)
        if finder is not None:
            memories.append(finder.seen)
        if getattr(self, "seen", None) is not None:
            memories.append(self.seen)
        for seen in memories:
            seen.forget_from(index)

    # Shared steps ---------------------------------------------------------

    def validate(self, rows, partial):
        validator = ChunkValidator(self.ctx, partial)
        self.uniqueness.adopt(validator.unique_sets)
        validator.prefetch(rows)
        validator.validate(rows)
        self.uniqueness.check(rows)
        return validator

    def model_field(self, name):
        """The concrete model field an attribute writes; ``None`` for a
        many-to-many field. Anything else is a serializer/model mismatch."""
        if name not in self._fields:
            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:
                field = None
            if field is not None and field.many_to_many:
                self._fields[name] = None
            elif field is None or not field.concrete:
                raise ImproperlyConfigured(
                    f"{self.ctx.serializer_class.__name__} returns {name!r}, which is not a field of "
                    f"{self.model.__name__}; bulk writes set model fields directly (no save(), no "
                    "serializer.create()/update()). Make it read-only or remove it from the bulk serializer."
                )
            else:
                self._fields[name] = field
        return self._fields[name]

    def m2m_errors(self, row):
        # The items of a chunk mostly set the same fields: decide per set.
        attr_names = tuple(row.attrs)
        names = self._m2m_names.get(attr_names)
        if names is None:
            names = self._m2m_names[attr_names] = [name for name in attr_names if self.model_field(name) is None]
        if names:
            row.fail({name: [M2M_MESSAGE] for name in names})
            return True
        return False

    def build_new(self, row):
        if self.m2m_errors(row):
            return
        attrs = row.attrs
        names = tuple(attrs)
        try:
            plan = self._instance_plans[names]
        except KeyError:
            plan = self._instance_plans[names] = instance_plan(self.model, names)
        row.instance = self.model(**attrs) if plan is None else build_instance(self.model, plan, attrs)

    def apply_changes(self, row):
        """Set the validated values on the existing row; the written fields."""
        if self.m2m_errors(row):
            return None
        pk_name = self.model._meta.pk.name
        if pk_name in row.attrs and row.attrs[pk_name] != row.old_pk:
            row.fail({pk_name: [PK_CHANGE_MESSAGE]})
            return None
        fields = []
        for name, value in row.attrs.items():
            field = self.model_field(name)
            setattr(row.instance, name, value)
            if not field.primary_key:
                fields.append(field)
        return fields

    def update_instances(self, rows, fields_of):
        """One fast ``UPDATE`` per set of written fields (``auto_now``
        fields included, as ``save()`` would), after locking the rows in
        key order (``db/locking.py``) and writing them in that order. With
        a version field, a row the ``UPDATE`` did not touch fails as stale
        (and is left out of ``rows``' outcomes by the caller)."""
        rows = sorted(rows, key=lambda row: row.old_pk)
        versions = self.versions
        locked = lock_pks(
            self.model, [row.old_pk for row in rows], self.using, read=versions.attname if versions else None
        )
        auto_now = [f for f in self.model._meta.concrete_fields if getattr(f, "auto_now", False)]
        groups = {}
        for row in rows:
            fields = list(fields_of(row))
            for field in auto_now:
                field.pre_save(row.instance, add=False)
                if field not in fields:
                    fields.append(field)
            groups.setdefault(tuple(fields), []).append(row)
        for fields, group in groups.items():
            pairs = [(row.old_pk, row.instance) for row in group]
            if versions is None:
                update_rows(self.model, list(fields), pairs, self.using)
                continue
            expected = versions.expected(group)
            version = Versioned(versions.field, versions.increment, expected, locked)
            touched = update_rows(self.model, list(fields), pairs, self.using, version=version)
            versions.fail_untouched(group, touched)


class CreateProcessor(ChunkProcessor):
    def __init__(self, ctx):
        super().__init__(ctx)
        self._match_sets = None
        self._row_plans = {}

    def prepare(self, rows):
        self.validate(rows, partial=False)
        for row in rows:
            if row.errors is None and not self.m2m_errors(row) and self.row_plan(row) is None:
                self.build_new(row)

    def row_plan(self, row):
        """How ``db/direct_rows.py`` writes the row without an instance, or
        ``None`` (the instance is built in ``prepare``)."""
        names = tuple(row.attrs)
        try:
            return self._row_plans[names]
        except KeyError:
            plan = self._row_plans[names] = row_plan(self.model, names)
            return plan

    def write(self, rows):
        """Insert the rows in key order (``UniquenessChecker.insert_order``).
        In non-atomic mode a row whose unique value a concurrent request
        stored since the check is skipped and fails with the serializer's
        message; in atomic mode the whole run fails (nothing would be kept
        anyway), so its insert needs no savepoint and no skipping. Ids and
        outcomes stay on each row, so the result keeps the items' order."""
        # A write tried again in halves skips rows an earlier try failed.
        rows = self.uniqueness.insert_order([row for row in rows if row.errors is None])
        if self.write_direct(rows):
            return
        for row in rows:
            if row.instance is None:
                self.build_new(row)  # a chunk the direct insert left
        if self.ctx.atomic:
            insert_objects(self.model, [row.instance for row in rows], self.using)
            skipped = None
        else:
            skipped = insert_skipping_stored(
                self.model, [row.instance for row in rows], self.match_fields(rows), self.uniqueness.fold_case,
                self.using,
            )  # fmt: skip
        if skipped:
            skipped_ids = {id(obj) for obj in skipped}
            unexplained = self.uniqueness.fail_stored([row for row in rows if id(row.instance) in skipped_ids])
            if unexplained:
                # A constraint the serializer does not check (or a row its
                # validator's queryset leaves out): the database's own
                # error, narrowed or a 409 like any refused write.
                insert_objects(self.model, [row.instance for row in unexplained], self.using)
        for row in rows:
            if row.errors is None:
                row.pk, row.outcome = row.instance.pk, "created"

    def write_direct(self, rows):
        """Insert rows that need no instance (``db/direct_rows.py``); False
        when nothing was written and the instance path must. In non-atomic
        mode on PostgreSQL a chunk with unique sets is tried in a savepoint,
        as ``insert_skipping_stored`` tries its plain insert: a row stored
        by a concurrent request since the check sends the chunk to the
        instance path, which skips it."""
        if not rows or any(row.instance is not None for row in rows):
            return False
        plans = [self.row_plan(row) for row in rows]
        if any(plan is None for plan in plans):
            return False
        connection = connections[self.using]
        if self.ctx.atomic or connection.vendor != "postgresql" or not self.uniqueness.sets:
            pks = insert_direct_rows(connection, self.model, plans, [row.attrs for row in rows])
        else:
            try:
                with transaction.atomic(using=self.using):
                    pks = insert_direct_rows(connection, self.model, plans, [row.attrs for row in rows])
            except IntegrityError as exc:
                if not is_unique_violation(exc):
                    raise
                pks = None
        if pks is None:
            return False
        for row, pk in zip(rows, pks):
            row.pk, row.outcome = pk, "created"
        return True

    def match_fields(self, rows):
        """The model fields of the first unique set that every row sets
        (no ``None``), by which the inserted rows are matched back to the
        items; ``None`` when there is none."""
        if self._match_sets is None:
            self._match_sets = []
            for unique_set in self.uniqueness.sets or ():
                try:
                    fields = [self.model._meta.get_field(source) for source in unique_set.sources]
                except FieldDoesNotExist:
                    continue
                if all(field.concrete and not field.many_to_many for field in fields):
                    self._match_sets.append(fields)
        for fields in self._match_sets:
            attnames = [field.attname for field in fields]
            if all(getattr(row.instance, attname) is not None for row in rows for attname in attnames):
                return fields
        return None


class UpdateProcessor(ChunkProcessor):
    partial = True

    def __init__(self, ctx):
        super().__init__(ctx)
        self.finder = RowFinder(ctx, key_from_data=True)

    def prepare(self, rows):
        self.finder.attach(rows)
        if self.versions is not None:
            self.versions.read(rows)
            self.versions.check_stored(rows)
        self.validate(rows, partial=self.partial)
        self.written = {}
        for row in rows:
            if row.errors is None:
                if self.versions is not None:
                    self.versions.drop_from_attrs(row)
                fields = self.apply_changes(row)
                if fields is not None:
                    self.written[row] = fields

    def write(self, rows):
        self.update_instances(rows, self.written.__getitem__)
        for row in rows:
            if row.errors is None:
                row.pk, row.outcome = row.instance.pk, "updated"


class ReplaceProcessor(UpdateProcessor):
    partial = False
