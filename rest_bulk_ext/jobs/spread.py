"""
One non-atomic job, many workers: its chunks run as separate Celery tasks.

The first worker to run the job (the ``run_bulk_job`` task, slot 0) *plans*
it once:

- it reads the payload as the serial run would (``BulkRequest.iter_items``:
  same indexes, CSV lines and reader errors) and stores each chunk's items
  as a small JSON file next to the payload (``part-<n>``), so a chunk task
  reads one chunk and never the whole payload;
- it computes each item's *keys*: the ids an update, replace or delete
  names, the unique values a create or upsert sets (every unique set of
  the serializer and every unique constraint of the model it writes),
  normalised more coarsely than the engine compares them (``canonical``);
- every item sharing a key with another item is *deferred* (whole groups,
  the first item included), the list stored as ``deferred``.

Every other item's keys are unique in the payload, so its outcome cannot
depend on any other item: chunks run in any order, on any worker, several
at a time. The deferred items run last, in item order, in one serial *tail*
through the same engine, whose rules for duplicates (``SeenKeys``: of two
items with one key the later fails, an invalid earlier item registers its
key or not as the serial run decides) apply to them exactly: they are the
only items their keys concern. Coarser keys only defer more items.

Runners: the job's task and ``chunk_concurrency - 1`` tasks
``rest_bulk_ext.run_bulk_job_chunks`` (slots 1..). A slot runs at most once
at a time (a lease on ``slot-<s>``, the job's own lease for slot 0), so no
more than ``chunk_concurrency`` chunks of the job run at once. A slot takes
the next chunk that has no ``BulkJobChunk`` row and whose lease
(``chunk-<n>``) is free, runs it, and goes on. A chunk lands exactly once:
its row (unique job and number) is written in the chunk's transaction. The
slot that finds every chunk committed takes the ``tail`` lease, runs the
tail (rows numbered from ``chunks`` on) and the caller finalises the job.

A job this module cannot plan exactly runs serially instead (its plan says
``{"serial": reason}``): a model related to itself, an update, replace or
upsert that may write another unique column (two items could swap values:
who wins depends on the order), a unique column the serializer computes;
and any job on SQLite, whose one write lock lets one chunk write at a time.
"""

import json
import logging
import time
from array import array
from decimal import Decimal, InvalidOperation
from uuid import UUID

from django.core.exceptions import FieldDoesNotExist
from django.core.files.base import ContentFile
from django.db import IntegrityError, connections, transaction
from rest_framework.relations import ManyRelatedField, RelatedField

from ..engine.types import Item, Operation
from ..engine.uniqueness import take_unique_validators
from ..exceptions import BulkCancelled
from .leases import acquire_job_lease, job_is_leased
from .models import BulkJob, BulkJobChunk, BulkJobState
from .payloads import PAYLOAD_DIRECTORY, delete_payload, get_payload_storage, save_file
from .replay import load_bulk_request

logger = logging.getLogger(__name__)

SLOT_TASK = "rest_bulk_ext.run_bulk_job_chunks"
WRITES = (Operation.CREATE, Operation.UPDATE, Operation.REPLACE, Operation.UPSERT, Operation.DELETE)
# How often a slot looks for newly published chunks while the plan is written.
PLAN_POLL_SECONDS = 0.2
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "on"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "off"})


class ChunkAlreadyCommitted(Exception):
    """Another worker committed this chunk of the same job first."""


class JobEnded(Exception):
    """The job ended (failed in another slot) while this slot ran."""


def wanted(job):
    """Whether ``job`` is run as chunk tasks: a non-atomic write allowed
    more than one chunk at once, not planned as serial."""
    plan = job.spread_plan or {}
    return (
        not job.atomic and job.operation_type in WRITES and (job.chunk_concurrency or 1) > 1 and not plan.get("serial")
    )


def part_name(job, number):
    return f"{PAYLOAD_DIRECTORY}/{job.task_id}.part-{number}.json"


def deferred_name(job):
    return f"{PAYLOAD_DIRECTORY}/{job.task_id}.deferred.json"


def file_names(job):
    """The storage names of a spread job's chunk files and deferred list
    (none once ``discard_files`` removed them)."""
    plan = job.spread_plan or {}
    if plan.get("removed") or (plan.get("chunks") is None and plan.get("size") is None):
        return []
    # A plan still being written lists the parts published so far (and the
    # one being written).
    count = plan["chunks"] if plan.get("chunks") is not None else plan.get("ready", 0) + 1
    return [*(part_name(job, number) for number in range(count)), deferred_name(job)]


def discard_files(job):
    """Remove a spread job's chunk files when it ends, once: the plan is
    marked ``removed`` under the job's row lock first, so the slots ending
    a job together, and later the purge (``exports.job_files``), find
    nothing left to delete: one owner per file deletion."""
    with transaction.atomic():
        row = BulkJob.objects.select_for_update().only("spread_plan").filter(pk=job.pk).first()
        plan = (row.spread_plan if row is not None else None) or {}
        names = file_names(row) if row is not None else []
        if names:
            BulkJob.objects.filter(pk=job.pk).update(spread_plan={**plan, "removed": True})
    if names:
        job.spread_plan = {**plan, "removed": True}
    for name in names:
        delete_payload(name)


def _save(name, value):
    get_payload_storage().delete(name)  # a plan written again replaces its files
    stored = save_file(name, ContentFile(json.dumps(value, separators=(",", ":"), default=str).encode()))
    if stored != name:  # pragma: no cover - a storage that renames on save
        raise RuntimeError(f"the payload storage stored {name} as {stored}")


def _load(name):
    with get_payload_storage().open(name, "rb") as handle:
        return json.load(handle)


# Planning ----------------------------------------------------------------


def canonical(value):
    """A form of ``value`` that two values the engine could take for one
    key share: numbers by value, text stripped and case-folded, UUIDs by
    their digits, booleans as ``1``/``0``, dates in UTC. Coarser than any
    database comparison, so it may join keys that differ (those items are
    only deferred to the tail), never split keys that are equal."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, UUID):
        return value.hex
    if hasattr(value, "pk") and hasattr(value, "_meta"):
        return canonical(value.pk)
    if hasattr(value, "isoformat"):
        if getattr(value, "tzinfo", None) is not None and hasattr(value, "astimezone"):
            from datetime import timezone

            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, (int, float, Decimal)):
        return _number(str(value)) or str(value)
    if isinstance(value, str):
        text = value.strip().casefold()
        if text in TRUE_WORDS:
            return "1"
        if text in FALSE_WORDS:
            return "0"
        number = _number(text)
        if number is not None:
            return number
        digits = text.removeprefix("urn:uuid:").strip("{}").replace("-", "")
        if len(digits) == 32 and all(char in "0123456789abcdef" for char in digits):
            return digits
        return text
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return str(value)


def _number(text):
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite():
        return None
    if number == number.to_integral_value():
        return str(int(number))
    return str(number.normalize())


class KeyReader:
    """Reads an item's keys: ``(set number, canonical values)`` per set."""

    def __init__(self, ctx, operation):
        self.ctx = ctx
        self.operation = operation
        self.sets = []  # serializer field names of each key set
        self.fields = {}
        self.serial = None

    def plan(self):
        """Decide the key sets; ``self.serial`` says why the job cannot be
        spread exactly (then no sets)."""
        ctx, model = self.ctx, self.ctx.model
        if any(getattr(field, "related_model", None) is model for field in model._meta.get_fields()):
            self.serial = "the model is related to itself"
            return
        if self.operation == Operation.DELETE:
            return
        serializer = ctx.serializer_class(context=ctx.serializer_context)
        self.fields = dict(serializer.fields)
        unique_sets = []
        for unique_set in take_unique_validators(serializer):
            names = getattr(unique_set, "field_names", None) or (unique_set.error_key,)
            unique_sets.append(tuple(names))
        by_source = {}
        for name, field in self.fields.items():
            if not field.read_only and "." not in (field.source or ""):
                by_source.setdefault(field.source, name)
        for model_set in model_unique_sets(model):
            names = []
            for field_name in model_set:
                model_field = model._meta.get_field(field_name)
                name = by_source.get(model_field.name) or by_source.get(model_field.attname)
                if name is not None:
                    names.append(name)
                elif not (model_field.has_default() or model_field.null or getattr(model_field, "auto_created", False)):
                    if not _is_auto(model_field):
                        self.serial = f"the unique field {model_field.name!r} is set outside the serializer's fields"
                        return
            if names:
                unique_sets.append(tuple(names))
        if self.operation == Operation.CREATE:
            self.sets = _distinct(unique_sets)
            return
        if self.operation == Operation.UPSERT:
            target = tuple(ctx.unique_fields or ())
            others = [names for names in unique_sets if set(names) != set(target)]
            if others:
                self.serial = "an upsert may change another unique column"
                return
            self.sets = [target]
            return
        # Update, replace: the lookup key; another unique column written by
        # two items could swap values between rows.
        pk_names = {name for name, field in self.fields.items() if field.source == model._meta.pk.name}
        # The primary key cannot be changed by an update (the engine refuses it).
        if [names for names in unique_sets if not set(names) <= pk_names]:
            self.serial = "an update may change a unique column"

    def has_keys(self):
        """Whether items have keys at all (else nothing is ever deferred)."""
        return self.operation != Operation.CREATE or bool(self.sets)

    def keys(self, item):
        data = item.data
        if self.operation in (Operation.UPDATE, Operation.REPLACE, Operation.DELETE):
            if isinstance(data, dict):
                raw = data.get(self.ctx.lookup_key)
            else:
                raw = data if self.operation == Operation.DELETE else None
            key = canonical(raw)
            return [] if key is None else [(0, (key,))]
        if not isinstance(data, dict):
            return []
        keys = []
        for number, names in enumerate(self.sets, start=1):
            values = []
            for name in names:
                value = self.value(name, data)
                if value is None:
                    break
                values.append(value)
            else:
                keys.append((number, tuple(values)))
        return keys

    def value(self, name, data):
        field = self.fields.get(name)
        if field is None or name not in data:
            return None
        raw = data[name]
        if raw is None or isinstance(field, (RelatedField, ManyRelatedField)):
            return canonical(raw)
        try:
            # The field's own parsing (a date's time zone, trimmed text),
            # without the validators (a unique one would query).
            return canonical(field.to_internal_value(raw))
        except Exception:  # a value the field refuses fails in the run itself
            return canonical(raw)


def _is_auto(model_field):
    return model_field.get_internal_type() in ("AutoField", "BigAutoField", "SmallAutoField")


def _distinct(sets):
    seen, kept = set(), []
    for names in sets:
        if frozenset(names) not in seen:
            seen.add(frozenset(names))
            kept.append(names)
    return kept


def model_unique_sets(model):
    """The field names of each unconditional unique constraint of ``model``
    (unique fields, ``unique_together``, ``UniqueConstraint``s on fields)."""
    from django.db.models import UniqueConstraint

    sets = [(field.name,) for field in model._meta.concrete_fields if field.unique]
    sets += [tuple(names) for names in model._meta.unique_together]
    for constraint in model._meta.constraints:
        if isinstance(constraint, UniqueConstraint) and constraint.fields and constraint.condition is None:
            if not constraint.expressions:
                sets.append(tuple(constraint.fields))
    kept = []
    for names in sets:
        try:
            [model._meta.get_field(name) for name in names]
        except FieldDoesNotExist:
            continue
        kept.append(names)
    return kept


def make_plan(job, view, heartbeat, should_stop, started):
    """Plan ``job`` (module docstring): write its chunk files and deferred
    list, return the plan. ``{"serial": reason}`` when it cannot be spread.

    A job whose items have no keys (a create without unique columns) can
    defer nothing: its plan is published as it grows (``{"size": n,
    "ready": chunks written}``) and ``started()`` called at once, so the
    other slots run chunks while this one still reads the payload. A plan
    begun by a worker that died keeps the files it had published."""
    ctx = view.get_bulk_context(job.operation_type, dict(job.options or {}))
    if ctx.dry_run:
        return {"serial": "a dry run"}
    if connections[ctx.queryset.db].vendor == "sqlite":
        # One writer at a time: chunks run side by side would only wait
        # for each other's write lock, after a plan that costs a pass.
        return {"serial": "SQLite writes one transaction at a time"}
    reader = KeyReader(ctx, job.operation_type)
    reader.plan()
    if reader.serial:
        logger.info("rest_bulk_ext: bulk job %s runs on one worker: %s", job.task_id, reader.serial)
        return {"serial": reader.serial}
    size = ctx.batch_size
    streaming = not reader.has_keys()
    earlier = job.spread_plan or {}
    ready = earlier.get("ready", 0) if streaming and earlier.get("size") == size else 0
    if streaming:
        publish(job, {"size": size, "ready": ready})
        started()
    began = time.monotonic()
    hashes, owners = array("q"), array("q")
    number, part = 0, []
    with load_bulk_request(job, view) as bulk_request:
        for position, item in enumerate(bulk_request.iter_items(ctx)):
            if item.index != position and not streaming:
                delete_files_upto(job, number)
                return {"serial": "the items are not numbered by position"}
            for key in reader.keys(item):
                hashes.append(hash(key))
                owners.append(item.index)
            part.append([item.index, item.data, item.line, item.errors])
            if len(part) == size:
                if number >= ready:
                    _save(part_name(job, number), part)
                number, part = number + 1, []
                if streaming and number > ready:
                    publish(job, {"size": size, "ready": number})
                heartbeat.touch()
                should_stop()
    if part:
        _save(part_name(job, number), part)
        number += 1
    deferred = deferred_indexes(hashes, owners)
    _save(deferred_name(job), deferred)
    logger.info(
        "rest_bulk_ext: bulk job %s planned: %s chunks of %s, %s items deferred, in %.1f s",
        job.task_id, number, size, len(deferred), time.monotonic() - began,
    )  # fmt: skip
    return {"chunks": number, "size": size, "deferred": len(deferred)}


def publish(job, plan):
    BulkJob.objects.filter(pk=job.pk).update(spread_plan=plan)
    job.spread_plan = plan


def delete_files_upto(job, count):
    for number in range(count):
        delete_payload(part_name(job, number))


def deferred_indexes(hashes, owners):
    """The sorted indexes of items that share a key hash with another item
    (a hash collision defers two more items: harmless).

    A million-row plan holds a hash per key (two unique sets: two million);
    sorting them all as Python ints would take about 80 MB on top of the
    worker. So a first pass counts the hashes per slot of a byte table of
    about eight slots per hash (16 MB for two million; a count stops at 2),
    and only the hashes whose slot was hit twice, about one in eight when
    keys are unique, are sorted to find the real repeats."""
    if not hashes:
        return []
    mask = (1 << max(16, min(26, (len(hashes) * 8).bit_length()))) - 1
    counts = bytearray(mask + 1)
    for value in hashes:
        slot = value & mask
        if counts[slot] < 2:
            counts[slot] += 1
    candidates = sorted(value for value in hashes if counts[value & mask] > 1)
    del counts
    shared = {candidates[i] for i in range(1, len(candidates)) if candidates[i] == candidates[i - 1]}
    del candidates
    if not shared:
        return []
    return sorted({owners[i] for i in range(len(hashes)) if hashes[i] in shared})


# Running -----------------------------------------------------------------


def send_slots(job):
    """Send the tasks of slots 1.. (each exits at once while its slot runs);
    no more than the job has chunks, once the plan knows them."""
    from celery import current_app  # an optional extra: only workers get here

    chunks = (job.spread_plan or {}).get("chunks")
    slots = job.chunk_concurrency or 1
    if chunks is not None:
        slots = min(slots, max(1, chunks))
    for slot in range(1, slots):
        current_app.send_task(SLOT_TASK, args=[job.pk, slot])


def stop_check(job):
    """``should_stop`` of a slot: a cancel stops it (``BulkCancelled``); a
    job another slot ended stops it quietly (``JobEnded``)."""

    def should_stop():
        state = BulkJob.objects.filter(pk=job.pk).values_list("state", flat=True).first()
        if state == BulkJobState.REVOKED:
            raise BulkCancelled()
        if state != BulkJobState.PROGRESS:
            raise JobEnded()
        return False

    return should_stop


class Slot:
    """One runner of a spread job's chunks (``run_chunks``)."""

    def __init__(self, job, view, recorder, heartbeat, record_chunk):
        self.job, self.view = job, view
        self.recorder, self.heartbeat = recorder, heartbeat
        self.record_chunk = record_chunk
        self.plan = job.spread_plan
        self.chunks, self.size = self.plan.get("chunks"), self.plan["size"]
        self.should_stop = stop_check(job)
        self._deferred = None

    @property
    def deferred(self):
        if self._deferred is None:
            self._deferred = set(_load(deferred_name(self.job))) if self.plan.get("deferred") else set()
        return self._deferred

    def committed(self, low=0, high=None):
        rows = BulkJobChunk.objects.filter(job_id=self.job.pk, number__gte=low)
        if high is not None:
            rows = rows.filter(number__lt=high)
        return set(rows.values_list("number", flat=True))

    def run(self):
        """Run every chunk this slot can take; return the held ``tail``
        lease once every chunk is committed and the tail has run (the
        caller finalises the job and releases it), else ``None``."""
        while self.chunks is None:
            # Slot 0 is still writing the plan: run the chunks it published.
            ready = self.plan.get("ready", 0)
            if not self.run_chunks(ready):
                if not job_is_leased(self.job.pk):
                    # The planning worker died: its message delivered again
                    # (or the sweeper, as no slot beats meanwhile) plans on
                    # and sends the slots again.
                    return None
                time.sleep(PLAN_POLL_SECONDS)
            self.should_stop()
            self.plan = BulkJob.objects.filter(pk=self.job.pk).values_list("spread_plan", flat=True).first() or {}
            if self.plan.get("serial") or not self.plan.get("size"):
                return None
            self.chunks = self.plan.get("chunks")
        self.job.spread_plan = self.plan
        self.run_chunks(self.chunks)
        # A cancel that came while the last chunk ran: recorded by the caller.
        self.should_stop()
        if len(self.committed(0, self.chunks)) < self.chunks:
            return None  # a chunk still runs elsewhere; its slot ends the job
        lease = acquire_job_lease(self.job.pk, part="tail")
        if lease is None:
            return None
        try:
            if not BulkJob.objects.filter(pk=self.job.pk, state=BulkJobState.PROGRESS).exists():
                self.should_stop()
                lease.release()
                return None
            self.run_tail()
        except BaseException:
            lease.release()
            raise
        return lease

    def run_chunks(self, count):
        """Run the chunks below ``count`` that no slot has committed or is
        running; whether this slot ran one."""
        done = self.committed(0, count)
        ran = False
        for number in range(count):
            if number in done:
                continue
            lease = acquire_job_lease(self.job.pk, part=f"chunk-{number}")
            if lease is None:
                continue  # another slot runs it
            with lease:
                if BulkJobChunk.objects.filter(job_id=self.job.pk, number=number).exists():
                    continue
                self.should_stop()
                self.run_chunk(number)
                ran = True
        return ran

    def items_of(self, number):
        try:
            entries = _load(part_name(self.job, number))
        except Exception:
            self.should_stop()  # files of a cancelled job are gone: stop
            raise
        return [Item(*entry) for entry in entries]

    def run_chunk(self, number):
        deferred = self.deferred
        items = [item for item in self.items_of(number) if item.index not in deferred]
        if not items:
            # Every item waits for the tail: the chunk is still done.
            try:
                with transaction.atomic():
                    BulkJobChunk.objects.create(job_id=self.job.pk, number=number, outcomes=[], errors=[])
            except IntegrityError:
                pass
        else:
            try:
                self.perform(items, lambda engine_number: number)
            except ChunkAlreadyCommitted:
                logger.info("rest_bulk_ext: chunk %s of bulk job %s was committed elsewhere", number, self.job.task_id)
        self.report()

    def run_tail(self):
        deferred = sorted(self.deferred)
        if not deferred:
            return
        base = self.chunks
        # A tail resumed after its worker died skips its committed chunks,
        # as a serial job resumes (docs/jobs.md).
        skip = len(self.committed(base))
        parts = sorted({index // self.size for index in deferred})
        wanted_indexes = set(deferred)

        def items():
            for number in parts:
                for item in self.items_of(number):
                    if item.index in wanted_indexes:
                        yield item

        self.perform(items(), lambda engine_number: base + engine_number, skip=skip, total=len(deferred))
        self.report()

    def perform(self, items, number_of, skip=0, total=None):
        job, view = self.job, self.view

        def on_chunk(chunk):
            chunk.number = number_of(chunk.number)
            self.record_chunk(chunk)

        bulk_request = view.bulk_request_class(
            operation=job.operation_type,
            payload_format="items",
            items=items,
            options=dict(job.options or {}),
            total_items=total if total is not None else len(items),
        )
        view.perform_bulk_operation(
            bulk_request,
            job=job,
            skip_chunks=skip,
            on_chunk=on_chunk,
            should_stop=self.should_stop,
            progress=lambda *args, **kwargs: self.heartbeat.touch(),
        )

    def report(self):
        """Live progress: the items of the committed chunks, all slots."""
        self.heartbeat.touch()
        total = self.job.total_items
        rows = BulkJobChunk.objects.filter(job_id=self.job.pk, number__gte=0).count()
        chunks = self.chunks if self.chunks is not None else rows
        deferred = self.plan.get("deferred") or 0
        done = min(total, min(rows, chunks) * self.size) - deferred
        if rows > chunks:
            done += min(deferred, (rows - chunks) * self.size)
        self.recorder.set_progress(max(0, min(done, total)), total, "Processed chunk")
