"""One job, many workers (API.md 5.1): the same payload run by one worker
(``BULK_JOB_CHUNK_CONCURRENCY`` 1) and spread over two REAL worker
processes gives the same result, item by item."""

import datetime

import pytest
from django.db import connection

from rest_bulk_ext.jobs.exports import job_files
from rest_bulk_ext.jobs.models import BulkJobChunk
from rest_bulk_ext.jobs.payloads import get_payload_storage
from rest_bulk_ext.jobs.spread import part_name
from tests.builders import make_account, txn_data
from tests.jobs.spread_support import logs, outcome_of, run_job, two_workers  # noqa: F401
from tests.testapp.models import Txn, UUIDItem

# SQLite runs every job on one worker (jobs/spread.py: one write lock);
# tests/jobs/test_worker.py checks that it is planned serial.

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.jobs.urls_spread"),
    pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite jobs are not spread"),
]

TXNS = "/spread/txns/bulk/?atomic=false"
UNCHECKED_TXNS = "/spread/unchecked-txns/bulk/?atomic=false"
ITEMS = "/spread/uuid-items/bulk/?atomic=false&unique_fields=name"


def txn_describer():
    refs = dict(Txn.objects.values_list("pk", "ref"))

    def describe(pk):
        return refs.get(int(pk), f"missing {pk}")

    return describe


def stored_txns():
    return sorted(Txn.objects.values_list("ref", "amount", "email", "description", "occurred_at"))


def serial_then_spread(client, settings, url, body, workers, reset, describe_factory, stored, method="post"):
    """Run ``body`` serially, note what a user sees, ``reset()``, run it
    spread; return both observations and the spread job."""
    serial = run_job(client, settings, url, body, workers, concurrency=1, method=method)
    assert serial.spread_plan is None
    seen_serial = outcome_of(client, serial, describe_factory()), stored()
    reset()
    spread = run_job(client, settings, url, body, workers, concurrency=4, method=method)
    seen_spread = outcome_of(client, spread, describe_factory()), stored()
    return seen_serial, seen_spread, spread


def mixed_txn_items(account):
    """200 items (10 chunks of 20): invalid items, keys repeated across
    chunk boundaries in both directions, a duplicate whose first item is
    invalid, a key differing only in case and spaces, and two slow items
    that make chunk 0 and chunk 3 finish after the chunks behind them."""
    body = [txn_data(account, n) for n in range(200)]
    body[3]["description"] = "slow 3"  # chunk 0 ends last
    body[5]["ref"] = body[25]["ref"] = "dup-a"  # later item in a chunk that finishes first
    body[45]["ref"] = body[70]["ref"] = "dup-b"  # later item in a chunk that finishes later
    body[61]["description"] = "slow 61"
    body[90]["email"] = "not an email"
    body[90]["ref"] = body[130]["ref"] = "dup-c"  # the first is invalid: the second is written
    body[150]["ref"] = body[151]["ref"] = body[189]["ref"] = "dup-d"  # three, in and across chunks
    body[160]["ref"], body[175]["ref"] = "Case-E", " case-e "  # one key for some databases only
    body[110]["occurred_at"] = body[12]["occurred_at"]  # unique together, across chunks
    body[120]["description"] = "forbidden words"
    body[140]["account"] = 10**9  # no such account
    body[199]["amount"] = "lots"
    return body


def test_a_spread_create_gives_the_serial_result_item_by_item(client, jobs_settings, two_workers):
    account = make_account()
    before = set(Txn.objects.values_list("pk", flat=True))
    body = mixed_txn_items(account)

    def reset():
        Txn.objects.exclude(pk__in=before).delete()

    serial, spread, job = serial_then_spread(
        client, jobs_settings, TXNS, body, two_workers, reset, txn_describer, stored_txns
    )

    assert job.spread_plan["chunks"] == 10, logs(two_workers)
    # Both runs' errors include the repeated keys, the invalid items and
    # the clash; the spread run deferred every item sharing a key.
    assert job.spread_plan["deferred"] >= 11
    assert spread == serial
    outcome, _rows = spread
    failed = {int(row[0]) for row in outcome["results.csv"] if row[2] == "failed"}
    assert {25, 70, 90, 151, 189, 110, 120, 140, 199} <= failed
    assert 130 not in failed and 5 not in failed
    messages = {error["index"]: error["error"] for error in job.errors}
    assert "Duplicate of item 5" in messages[25] and "Duplicate of item 150" in messages[189]
    # Chunk 1 committed before chunk 0 (its rows have the smaller ids): the
    # later item of "dup-a" ran first, and still lost to the earlier one.
    ids = dict(Txn.objects.values_list("ref", "pk"))
    assert ids["ref-21"] < ids["ref-1"], logs(two_workers)
    assert ids["dup-a"] > ids["ref-21"]


def test_a_database_error_narrowed_to_one_item_is_the_serial_one(client, jobs_settings, two_workers):
    account = make_account()
    Txn.objects.create(**{**stored_txn(account, 500), "ref": "taken"})
    before = set(Txn.objects.values_list("pk", flat=True))
    body = [txn_data(account, n) for n in range(100)]
    body[33]["ref"] = "taken"  # only the database knows this one
    body[47]["ref"] = body[88]["ref"] = "twice"  # and this one, across chunks
    body[64]["occurred_at"] = txn_data(account, 500)["occurred_at"]  # the stored row's pair

    def reset():
        Txn.objects.exclude(pk__in=before).delete()

    serial, spread, job = serial_then_spread(
        client, jobs_settings, UNCHECKED_TXNS, body, two_workers, reset, txn_describer, stored_txns
    )

    assert job.spread_plan["chunks"] == 5
    assert spread == serial
    assert sorted(error["index"] for error in job.errors) == [33, 64, 88]


def stored_txn(account, n):
    data = txn_data(account, n)
    data["account"] = account
    data["occurred_at"] = datetime.datetime.fromisoformat(data["occurred_at"])
    return data


def test_a_spread_upsert_keeps_the_created_and_updated_split(client, jobs_settings, two_workers):
    def reset():
        UUIDItem.objects.all().delete()
        UUIDItem.objects.bulk_create([UUIDItem(name=f"item-{n}", quantity=-1) for n in range(0, 120, 3)])

    reset()
    body = [{"name": f"item-{n}", "quantity": n} for n in range(120)]
    body[10]["quantity"] = -5  # invalid: its key still counts as seen
    body[75] = {"name": "item-10", "quantity": 75}
    body[30] = {"name": " ITEM-31", "quantity": 30}  # not item-31 for the database
    body[44] = {"name": "item-60", "quantity": 44}  # item-60 exists: the later item fails
    body[99]["quantity"] = "many"

    def describe_factory():
        names = {str(pk): name for pk, name in UUIDItem.objects.values_list("pk", "name")}
        return lambda pk: names.get(str(pk), f"missing {pk}")

    def stored():
        return sorted(UUIDItem.objects.values_list("name", "quantity"))

    serial, spread, job = serial_then_spread(
        client, jobs_settings, ITEMS, body, two_workers, reset, describe_factory, stored, method="patch"
    )

    assert job.spread_plan["chunks"] == 6 and job.spread_plan["deferred"] >= 4
    assert spread == serial
    outcome, _rows = spread
    assert outcome["ids"]["created_ids"] and outcome["ids"]["updated_ids"]
    # By index: 10 invalid, 44 updates item-60, 60 repeats item-60, 75
    # repeats the key of the invalid item 10 (an upsert registers a key
    # before validating the item, as the serial run does).
    assert [row[2] for row in outcome["results.csv"] if row[0] in ("10", "44", "60", "75")] == [
        "failed", "updated", "failed", "failed",
    ]  # fmt: skip


def test_a_spread_job_writes_no_chunk_twice_and_counts_every_chunk(client, jobs_settings, two_workers):
    account = make_account()
    body = [txn_data(account, n) for n in range(300)]

    job = run_job(client, jobs_settings, TXNS, body, two_workers, concurrency=3)

    assert (job.state, job.success_count, job.error_count) == ("SUCCESS", 300, 0)
    # Its chunk files went when it ended, once: the purge finds none left.
    assert job.spread_plan == {"chunks": 15, "size": 20, "deferred": 0, "removed": True}
    assert job_files(job) == []
    storage = get_payload_storage()
    assert not any(storage.exists(part_name(job, number)) for number in range(15))
    numbers = sorted(BulkJobChunk.objects.filter(job_id=job.pk).values_list("number", flat=True))
    assert numbers == list(range(15))
    assert Txn.objects.count() == 300
    status = client.get(f"/api/bulk-operations/{job.task_id}/").data
    assert status["progress"]["current"] == status["progress"]["total"] == 300
    # Both workers ran chunks of it.
    for worker in two_workers:
        assert "run_bulk_job" in worker.log(), logs(two_workers)
