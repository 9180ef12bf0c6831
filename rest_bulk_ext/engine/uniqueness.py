"""The meaning of DRF's ``UniqueValidator`` and ``UniqueTogetherValidator``,
checked for a whole chunk.

DRF runs one ``exists()`` query per item and validator. The engine removes
those validators from the chunk's serializer and, after validation, checks
each unique set with one query for the chunk against the validator's own
queryset (excluding the row an item updates), plus the items seen earlier in
the same request: the same value twice is an error on the later item.
"""

from operator import itemgetter

from django.core.exceptions import FieldDoesNotExist
from django.db import connections
from django.db.models import Model
from rest_framework.validators import UniqueTogetherValidator, UniqueValidator

from .db.key_filter import filter_tuples
from .db.sqlite_keys import filter_prepared
from .errors import non_field_key
from .seen_keys import SeenKeys


def duplicate_message(first_index):
    return f"Duplicate of item {first_index} in this request."


def key_value(value, fold_case):
    """A comparable form of an attribute value: related objects by pk, and
    strings case-folded where the database compares them so (MySQL's
    default ``_ci`` collations)."""
    if isinstance(value, Model):
        return value.pk
    if fold_case and isinstance(value, str):
        return value.casefold()
    return value


def sort_key(key):
    """A key's place in the insert order: each part by its type's name,
    then its value, so keys mixing ``None``, numbers and text still
    compare. Two requests inserting the same keys in this order wait for
    each other's rows in one order, never in a cycle (docs/concurrency.md)."""
    return tuple([(type(part).__name__, part) for part in key])


def in_key_order(rows, key_of):
    """``rows`` sorted by ``sort_key(key_of(row))``; in their own order when
    two keys cannot be compared (values of a type without an order)."""
    keys = [key_of(row) for row in rows]
    order = range(len(keys))
    try:
        # Keys of one type per part (the usual case) compare as they are,
        # in the order ``sort_key`` gives them, at a third of the cost.
        order = sorted(order, key=keys.__getitem__)
    except TypeError:
        try:
            order = sorted(order, key=lambda position: sort_key(keys[position]))
        except TypeError:
            pass
    return [rows[position] for position in order]


def instance_value(instance, source):
    """A stored row's value for ``source``, by key for a foreign key so
    reading it costs no query."""
    try:
        field = instance._meta.get_field(source)
    except FieldDoesNotExist:
        return getattr(instance, source, None)
    if field.many_to_one or field.one_to_one:
        return getattr(instance, field.attname)
    return getattr(instance, source, None)


class _UniqueSet:
    """One unique set: its sources, its queryset and the keys seen so far."""

    def __init__(self, error_key, sources, queryset, message):
        self.error_key = error_key
        self.sources = tuple(sources)
        self.queryset = queryset
        self.message = str(message)
        self.seen = SeenKeys()

    def values(self, row):
        """The row's values for this set, from its validated data or, when
        a partial update leaves them out, from the row being updated."""
        values = []
        for source in self.sources:
            if source in row.attrs:
                values.append(row.attrs[source])
            elif row.instance is not None and row.instance.pk is not None:
                values.append(instance_value(row.instance, source))
            else:
                return None
        return values

    def changed(self, row):
        """DRF skips the check on an update that leaves the set unchanged."""
        instance = row.instance
        if instance is None or instance.pk is None:
            return True
        return any(
            source in row.attrs and key_value(row.attrs[source], False) != instance_value(instance, source)
            for source in self.sources
        )

    def missing(self, row):
        return None

    def fail_stored(self, rows, fold_case):
        """Fail each row whose values in this set a stored row other than
        its own holds, with the set's message (the serializer's); one query."""
        candidates = []
        for row in rows:
            if row.errors is not None:
                continue
            values = self.values(row)
            if values is None or any(value is None for value in values):
                continue
            candidates.append((row, tuple([key_value(value, fold_case) for value in values]), values))
        existing = self.existing(candidates, fold_case) if candidates else None
        for row, key, _values in candidates if existing else ():
            if any(pk != row.old_pk for pk in existing.get(key, ())):
                row.fail({self.error_key: [self.message]})

    def check(self, rows, fold_case, query=True, deferred=None):
        # Runs for every row and unique set of a chunk: kept to plain loops.
        candidates = []
        sources = self.sources
        seen = self.seen
        # A tuple of the values in one C call (a single source: the value).
        get_values = itemgetter(*sources) if sources else (lambda attrs: ())
        single = len(sources) == 1
        for row in rows:
            if row.errors is not None:
                continue
            instance = row.instance
            if instance is None or instance.pk is None:
                attrs = row.attrs
                try:
                    values = (get_values(attrs),) if single else get_values(attrs)
                except KeyError:
                    # Not every source was sent: required (unique together
                    # on create) or nothing to check.
                    missing = self.missing(row)
                    if missing:
                        row.fail(missing)
                    continue
            else:
                # A row that keeps its stored values cannot newly conflict;
                # an item taking them finds the stored row in its own query.
                if not self.changed(row):
                    continue
                values = self.values(row)
            # ``key_value`` inlined: this runs for every row and set.
            key = []
            for value in values:
                if value is None:
                    break
                if isinstance(value, Model):
                    value = value.pk
                elif fold_case and isinstance(value, str):
                    value = value.casefold()
                key.append(value)
            if len(key) != len(values):  # a None value: nothing to check
                continue
            key = tuple(key)
            first = seen.first_or_add(key, row.item.index)
            if first is not None:
                row.fail({self.error_key: [duplicate_message(first)]})
                continue
            candidates.append((row, key, values))
        if not candidates or not query:
            return
        existing = self.existing(candidates, fold_case)
        if not existing:
            return
        for row, key, _values in candidates:
            pks = existing.get(key)
            if pks is None:
                continue
            own_pk = row.instance.pk if row.instance is not None else None
            if any(pk != own_pk for pk in pks):
                if deferred is not None and own_pk is None:
                    # An upsert's new row: the stored row may be the one its
                    # key names, inserted since the key was looked up.
                    deferred.append((row, frozenset(pks), {self.error_key: [self.message]}))
                    continue
                row.fail({self.error_key: [self.message]})

    def existing(self, candidates, fold_case):
        """``{key: [pk, ...]}`` of stored rows sharing a key with a candidate,
        in one query (``db/key_filter.py``: the candidates' tuples, or
        ``source__in`` per source; matched exactly here). The model's
        default ordering is dropped: it can steer the planner away from the
        unique index to the primary key."""
        if fold_case:
            # The query needs the values as sent, not case-folded.
            keys = [tuple([key_value(value, False) for value in values]) for _row, _key, values in candidates]
        else:
            keys = [key for _row, key, _values in candidates]
        # On PostgreSQL one array parameter per source, not 1,000
        # placeholders; on SQLite values prepared per column.
        queryset = filter_prepared(self.queryset, self.sources, keys)
        if queryset is None:
            queryset = filter_tuples(self.queryset, self.sources, keys)
        wanted = {key for _row, key, _values in candidates}
        found = {}
        for pk, *values in queryset.order_by().values_list("pk", *self.sources):
            key = tuple([key_value(value, fold_case) for value in values])
            if key in wanted:
                found.setdefault(key, []).append(pk)
        return found


class _TogetherSet(_UniqueSet):
    def __init__(self, validator, serializer):
        sources = [serializer.fields[name].source for name in validator.fields]
        message = validator.message.format(field_names=", ".join(validator.fields))
        super().__init__(non_field_key(), sources, validator.queryset, message)
        self.field_names = tuple(validator.fields)
        self.missing_message = str(validator.missing_message)

    def missing(self, row):
        # UniqueTogetherValidator makes its fields required on create.
        if row.instance is not None and row.instance.pk is not None:
            return None
        missing = {
            name: [self.missing_message]
            for name, source in zip(self.field_names, self.sources)
            if source not in row.attrs
        }
        return missing or None


def take_unique_validators(serializer):
    """Remove the validators the engine checks per chunk from ``serializer``
    (one instance, built for the chunk) and return them as unique sets.

    Validators the engine cannot batch stay and run per item: a
    ``UniqueValidator`` with a lookup other than ``exact``, a conditional
    ``UniqueTogetherValidator``, or one with ``nulls_distinct=False``.
    """
    sets = []
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        kept = []
        for validator in field.validators:
            if type(validator) is UniqueValidator and validator.lookup == "exact" and len(field.source_attrs) == 1:
                sets.append(_UniqueSet(name, field.source_attrs, validator.queryset, validator.message))
            else:
                kept.append(validator)
        if len(kept) != len(field.validators):
            field.validators = kept
    kept = []
    for validator in serializer.validators:
        if (
            type(validator) is UniqueTogetherValidator
            and validator.condition is None
            and not validator.condition_fields
            and validator.nulls_distinct is not False
            and all(
                name in serializer.fields and "." not in serializer.fields[name].source for name in validator.fields
            )
        ):
            sets.append(_TogetherSet(validator, serializer))
        else:
            kept.append(validator)
    serializer.validators = kept
    return sets


class UniquenessChecker:
    """The unique sets of one run, with the keys seen across its chunks."""

    def __init__(self, using):
        self.sets = None
        self.fold_case = connections[using].vendor == "mysql"

    def adopt(self, sets):
        """Keep the first chunk's sets (and their seen keys) for the run;
        later chunks' serializers have the same validators."""
        if self.sets is None:
            self.sets = sets

    def check(self, rows, known_sources=None, deferred=None):
        """Check every unique set. ``known_sources``: the sources of a set
        the caller has already looked up in the whole table (an upsert's
        conflict target), checked only for duplicates in the request.
        ``deferred``: a list that receives ``(row, conflicting pks, error)``
        for a new row that clashes with stored rows, instead of failing it
        (the caller decides)."""
        for unique_set in self.sets or ():
            query = known_sources is None or set(unique_set.sources) != set(known_sources)
            unique_set.check(rows, self.fold_case, query=query, deferred=deferred)

    def insert_order(self, rows):
        """New rows in the order they are inserted: by their key in each
        unique set, the first set first (the serializer's field validators,
        then its unique-together validators). Requests through one
        serializer insert clashing rows in one order, so they wait for each
        other instead of deadlocking."""
        sets = self.sets
        if not sets:
            return list(rows)
        sources = [source for unique_set in sets for source in unique_set.sources]
        fold = self.fold_case

        def key_of(row):
            # ``key_value`` inlined: this runs for every new row.
            attrs, key = row.attrs, []
            for source in sources:
                value = attrs.get(source)
                if isinstance(value, Model):
                    value = value.pk
                elif fold and isinstance(value, str):
                    value = value.casefold()
                key.append(value)
            return tuple(key)

        return in_key_order(rows, key_of)

    def fail_stored(self, rows):
        """Fail each row that clashes with a stored row in a unique set with
        that set's message, as the serializer's validator would have (the
        row was stored by a concurrent request after the check); return
        the rows that did not fail. One query per set."""
        for unique_set in self.sets or ():
            unique_set.fail_stored(rows, self.fold_case)
        return [row for row in rows if row.errors is None]
