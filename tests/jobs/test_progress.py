"""Live progress: a Redis hash with a TTL, or Django's cache."""

import uuid

import pytest

from rest_bulk_ext.jobs.progress import (
    CacheProgressStore,
    ProgressRecorder,
    RedisProgressStore,
    get_progress_store,
    progress_key,
    read_progress,
)


def test_progress_is_a_redis_hash_that_expires_after_the_result_ttl(settings, progress_redis):
    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_REDIS_URL": settings.JOBS_PROGRESS_REDIS_URL, "BULK_PROGRESS_TTL": 120}
    task_id = str(uuid.uuid4())

    ProgressRecorder(task_id, 1000).set_progress(250, message="Processed chunk 1")

    assert isinstance(get_progress_store(), RedisProgressStore)
    assert progress_redis.hgetall(progress_key(task_id)) == {b"current": b"250", b"total": b"1000", b"message": b"Processed chunk 1"}
    assert 100 < progress_redis.ttl(progress_key(task_id)) <= 120
    assert read_progress(task_id) == {"current": 250, "total": 1000, "message": "Processed chunk 1"}
    progress_redis.delete(progress_key(task_id))


def test_per_item_progress_calls_write_only_every_few_hundred_items(settings, progress_redis):
    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_REDIS_URL": settings.JOBS_PROGRESS_REDIS_URL}
    task_id = str(uuid.uuid4())
    recorder = ProgressRecorder(task_id, 5000)

    for current in range(1, 5001):
        recorder.set_progress(current)

    assert recorder.writes <= 5000 // ProgressRecorder.MIN_ITEMS + 2
    assert read_progress(task_id)["current"] >= 4500
    progress_redis.delete(progress_key(task_id))


def test_without_a_redis_url_the_default_cache_holds_progress(settings):
    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_REDIS_URL": None}
    task_id = str(uuid.uuid4())

    ProgressRecorder(task_id, 10).set_progress(4, message="half")

    assert isinstance(get_progress_store(), CacheProgressStore)
    assert read_progress(task_id) == {"current": 4, "total": 10, "message": "half"}


def test_an_unreachable_store_neither_fails_the_job_nor_the_status(settings):
    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_REDIS_URL": "redis://127.0.0.1:1/0"}
    recorder = ProgressRecorder(str(uuid.uuid4()), 10)

    assert recorder.set_progress(5, force=True) is False
    assert recorder.failed is True
    assert read_progress("whatever") is None


@pytest.mark.parametrize("force", [True, False])
def test_the_first_write_is_never_throttled(settings, force):
    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_REDIS_URL": None}
    assert ProgressRecorder(str(uuid.uuid4()), 10).set_progress(1, force=force) is True
