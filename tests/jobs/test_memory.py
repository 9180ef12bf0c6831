"""A long job's worker memory stays flat: errors and ids go to the chunk
rows as the job runs, not into lists held for the whole run (real worker,
its RSS read from /proc)."""

import sys

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rest_bulk_ext.jobs.progress import read_progress
from tests.jobs.faults import rss_kb
from tests.jobs.support import wait_for, wait_for_job
from tests.testapp.models import JobRecord

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

ROWS = 100_000
# Measured: about 12 MB after the 20 % mark whatever the job's length (the
# same for 250,000 rows: one-off allocations, not growth). With the ids and
# errors kept for the whole run (before issue 8) it was 44 MB at 100,000 rows.
MAX_GROWTH_KB = 24 * 1024


def test_worker_memory_stays_flat_from_20_percent_to_the_end_of_a_100000_row_job(
    client, celery_worker, jobs_settings, settings
):
    settings.REST_FRAMEWORK_EXTENSIONS = {**settings.REST_FRAMEWORK_EXTENSIONS, "BULK_MAX_ITEMS": ROWS}
    # Every other row is refused (its error keeps its data), the others created.
    body = "seq,label\n" + "".join(f"{n},{'bad' if n % 2 else 'ok'}\n" for n in range(ROWS))
    upload = SimpleUploadedFile("rows.csv", body.encode(), content_type="text/csv")
    pid = celery_worker.process.pid

    response = client.post("/jobs-test/records/bulk/?atomic=false", {"file": upload}, format="multipart")
    task_id = response.data["task_id"]
    wait_for(
        lambda: (read_progress(task_id) or {}).get("current", 0) >= ROWS // 5,
        timeout=120,
        interval=0.02,
        worker=celery_worker,
        what="20 % of the job",
    )
    at_20 = rss_kb(pid)
    job = wait_for_job(task_id, celery_worker, timeout=300)
    peak = rss_kb(pid, "VmHWM")

    assert job.state == "SUCCESS", job.failure_detail
    assert (job.success_count, job.error_count) == (ROWS // 2, ROWS // 2)
    assert JobRecord.objects.count() == ROWS // 2
    assert peak - at_20 < MAX_GROWTH_KB, f"worker grew {(peak - at_20) // 1024} MB after the 20 % mark"


def test_the_seen_keys_of_the_duplicate_checks_answer_as_a_dict_across_folds(monkeypatch):
    import random

    from rest_bulk_ext.engine.seen_keys import SeenKeys

    monkeypatch.setattr(SeenKeys, "YOUNG_LIMIT", 50)
    monkeypatch.setattr(SeenKeys, "FIRST_CAPACITY", 8)
    rng = random.Random(8)
    seen, expected = SeenKeys(), {}
    for index in range(20_000):
        key = (rng.randrange(15_000), "same text")
        if seen.get(key) is None:
            assert key not in expected
            seen[key] = expected[key] = index
        else:
            assert seen.get(key) == expected[key]
    assert len(seen) == len(expected)
    assert seen.get(("never", "seen")) is None


def test_the_seen_keys_forget_a_retried_chunk_across_folds(monkeypatch):
    from rest_bulk_ext.engine.seen_keys import SeenKeys

    monkeypatch.setattr(SeenKeys, "YOUNG_LIMIT", 50)
    monkeypatch.setattr(SeenKeys, "FIRST_CAPACITY", 8)
    seen = SeenKeys()
    for index in range(300):
        seen[(f"k{index}",)] = index
    # Items 120 on are tried again (some folded into the table, some young).
    seen.forget_from(120)
    assert len(seen) == 120
    assert [seen.get((f"k{index}",)) for index in (0, 119, 120, 180, 299)] == [0, 119, None, None, None]
    seen[("k150",)] = 150  # the retried chunk sees its own items anew
    assert seen.get(("k150",)) == 150 and seen.get(("k1",)) == 1


def test_the_seen_keys_of_200000_rows_take_a_fraction_of_a_dict():
    import tracemalloc

    from rest_bulk_ext.engine.seen_keys import SeenKeys

    def held_after_filling(seen):
        tracemalloc.start()
        try:
            for index in range(200_000):
                key = (f"REF{index:08d}",)  # made here, as a chunk's rows make them
                if seen.get(key) is None:
                    seen[key] = index
            return tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()

    compact, plain = SeenKeys(), {}
    compact_bytes = held_after_filling(compact)
    plain_bytes = held_after_filling(plain)

    # The table (12 bytes a slot) and the last 25,000 keys as they are,
    # against every key with its tuple and string in a dict.
    assert compact_bytes < plain_bytes / 2, (compact_bytes, plain_bytes)
    assert compact_bytes < 12 * 1024 * 1024
    assert compact.get(("REF00000010",)) == 10 and compact.get(("REF00199999",)) == 199_999
