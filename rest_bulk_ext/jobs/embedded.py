"""
An in-process Celery worker: jobs run in a daemon thread of the web process.

For development and small deployments (the example project's default): with
``CELERY_BROKER_URL = "memory://"`` and ``BULK_REDIS_URL = None`` (Django's
cache holds progress) a project needs no Redis and no separate worker::

    # in an AppConfig.ready() of your project (see docs/jobs.md)
    from rest_bulk_ext.jobs.embedded import start_embedded_worker
    start_embedded_worker(app)

The ``memory://`` broker lives in one process, so jobs are lost when it
stops and several web processes do not share them: use Redis and
``celery -A proj worker`` in production (docs/jobs.md).
"""

import logging
import os
import socket
import threading

logger = logging.getLogger(__name__)

START_TIMEOUT = 30
STOP_TIMEOUT = 30

_lock = threading.Lock()
_running = {}


def _controller_class():
    from celery.worker import WorkController

    class EmbeddedWorkController(WorkController):
        """Sets ``ready_event`` once the consumer takes messages."""

        def __init__(self, *args, ready_event, **kwargs):
            self.ready_event = ready_event
            super().__init__(*args, **kwargs)

        def on_consumer_ready(self, consumer):
            self.ready_event.set()

    return EmbeddedWorkController


class EmbeddedWorker:
    """The thread of an embedded worker and its state."""

    def __init__(self, app):
        self.app = app
        self.ready = threading.Event()
        self.controller = None
        self.error = None
        self.thread = None

    def run(self, options):
        try:
            # The worker learns its tasks when it starts: register ours on
            # every app first, whatever the app's autodiscovery covers.
            from .. import tasks  # noqa: F401

            # Celery's Django fixup calls django.setup() here; in this thread
            # it waits until the web process has finished loading its apps.
            self.app.loader.import_default_modules()
            self.controller = _controller_class()(app=self.app, ready_event=self.ready, **options)
            self.controller.start()
        except Exception as exc:
            self.error = exc
            logger.exception("rest_bulk_ext: the embedded Celery worker stopped")
            self.ready.set()


def start_embedded_worker(app=None, *, queues=None, loglevel="WARNING"):
    """Start a solo-pool worker for ``app`` (default: Celery's current app)
    in a daemon thread, once per app and process, and return it.

    Safe to call from ``AppConfig.ready()``: the worker is built in its own
    thread once Django has loaded. Called later, it returns when the worker
    takes messages. Under Django's autoreloader call it in the serving child
    only (``os.environ.get("RUN_MAIN") == "true"``, or with ``--noreload``), or
    the watcher process would run jobs too.
    """
    from celery import current_app
    from django.apps import apps

    app = app or current_app._get_current_object()
    with _lock:
        worker = _running.get(id(app))
        if worker is not None:
            return worker
        app.set_current()
        worker = _running[id(app)] = EmbeddedWorker(app)
        options = {
            "hostname": f"rest-bulk-ext-embedded-{os.getpid()}@{socket.gethostname()}",
            "pool": "solo",
            "concurrency": 1,
            "loglevel": loglevel,
            "queues": queues,
            "without_heartbeat": True,
            "without_mingle": True,
            "without_gossip": True,
        }
        worker.thread = threading.Thread(
            target=worker.run, args=(options,), name="rest-bulk-ext-worker", daemon=True
        )
        worker.thread.start()
    if apps.ready:
        if not worker.ready.wait(START_TIMEOUT) or worker.error is not None:
            stop_embedded_worker(app)
            raise RuntimeError(f"The embedded Celery worker did not start: {worker.error or 'timeout'}")
    logger.info("rest_bulk_ext: embedded Celery worker started for app %s", app.main)
    return worker


def stop_embedded_worker(app=None):
    """Stop the embedded worker of ``app`` after its current task."""
    from celery import current_app
    from celery.worker import state

    app = app or current_app._get_current_object()
    with _lock:
        worker = _running.pop(id(app), None)
    if worker is None or worker.thread is None:
        return
    # What Celery's own embedded test worker does: the consumer loop checks
    # this flag and shuts the worker down cleanly.
    state.should_terminate = 0
    try:
        worker.thread.join(STOP_TIMEOUT)
    finally:
        state.should_terminate = None
