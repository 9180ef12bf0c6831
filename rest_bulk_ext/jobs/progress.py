"""
Live progress of a job: a Redis hash with a TTL at ``BULK_REDIS_URL``, or
Django's default cache when that setting is ``None`` (the embedded default,
good for one process; use Redis or a shared cache with several workers).

``ProgressRecorder.set_progress(current, total, message)`` writes at most
every ``MIN_ITEMS`` items or ``MIN_SECONDS`` seconds, never per item; the
final state of a job lives in its database record, so a Redis flush loses
nothing but the live numbers.
"""

import time

from django.core.cache import cache

from ..settings import extensions_api_settings

KEY_PREFIX = "rest_bulk_ext:job:"
FIELDS = ("current", "total", "message")

_redis_clients = {}


def progress_key(task_id):
    return f"{KEY_PREFIX}{task_id}"


def get_redis(url):
    """One client (and so one connection pool) per URL and process."""
    client = _redis_clients.get(url)
    if client is None:
        import redis

        client = _redis_clients[url] = redis.Redis.from_url(url, decode_responses=True)
    return client


class RedisProgressStore:
    def __init__(self, url, ttl):
        self.client, self.ttl = get_redis(url), ttl

    def write(self, task_id, values):
        key = progress_key(task_id)
        pipe = self.client.pipeline(transaction=False)
        pipe.hset(key, mapping={name: str(value) for name, value in values.items()})
        pipe.expire(key, self.ttl)
        pipe.execute()

    def read(self, task_id):
        values = self.client.hgetall(progress_key(task_id))
        if not values:
            return None
        return {
            "current": int(values.get("current") or 0),
            "total": int(values.get("total") or 0),
            "message": values.get("message", ""),
        }


class CacheProgressStore:
    def __init__(self, ttl):
        self.ttl = ttl

    def write(self, task_id, values):
        cache.set(progress_key(task_id), dict(values), self.ttl)

    def read(self, task_id):
        return cache.get(progress_key(task_id))


def get_progress_store():
    """The store named by the settings, read now (``override_settings``)."""
    url = extensions_api_settings.BULK_REDIS_URL
    ttl = extensions_api_settings.BULK_PROGRESS_TTL
    return RedisProgressStore(url, ttl) if url else CacheProgressStore(ttl)


def read_progress(task_id):
    """The live progress of a job, or ``None`` (never written, expired,
    flushed, or the store cannot be reached)."""
    try:
        return get_progress_store().read(task_id)
    except Exception:  # a status answer must not depend on Redis being up
        return None


class ProgressRecorder:
    """Throttled progress writer of one job.

    ``writes`` counts the store writes (the benchmark reports it). A store
    that fails is logged by the caller's logger once and then ignored: a job
    never fails because progress could not be shown.
    """

    MIN_ITEMS = 500
    MIN_SECONDS = 0.5

    def __init__(self, task_id, total, store=None):
        self.task_id, self.total = task_id, total
        self.store = store or get_progress_store()
        self.writes = 0
        self.failed = False
        # The last ``current`` written (None before the first write).
        self.last_current = None
        self._last_time = 0.0

    def set_progress(self, current, total=None, message="", force=False):
        total = self.total if total is None else total
        now = time.monotonic()
        if not force and self.last_current is not None:
            if current - self.last_current < self.MIN_ITEMS and now - self._last_time < self.MIN_SECONDS:
                return False
        self.last_current, self._last_time = current, now
        try:
            self.store.write(self.task_id, {"current": current, "total": total or 0, "message": message})
        except Exception:
            self.failed = True
            return False
        self.writes += 1
        return True

    __call__ = set_progress
