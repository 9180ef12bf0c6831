"""Support of the job fault tests: a TCP proxy that makes the database
really unreachable for a worker (never the shared server itself), and
workers started with their own settings."""

import json
import os
import socket
import threading
import time

from tests.jobs.support import WorkerProcess


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``target``. ``cut()`` drops every live
    connection and refuses new ones (the server is gone, as a client sees
    it); ``restore()`` listens again on the same port."""

    def __init__(self, target_host, target_port):
        self.target = (target_host, int(target_port))
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets = set()
        self._listener = None
        self._stop = None

    def start(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        stop = threading.Event()
        self._listener, self._stop = listener, stop
        threading.Thread(target=self._accept, args=(listener, stop), daemon=True).start()
        return self

    def _accept(self, listener, stop):
        while not stop.is_set():
            try:
                client, _address = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()
        listener.close()

    def _pump(self, source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                self._drop(sock)

    def _drop(self, sock):
        with self._lock:
            self._sockets.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def cut(self):
        if self._stop is not None:
            self._stop.set()
            self._stop = None
            time.sleep(0.3)  # the accept loop closes the listener
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            self._drop(sock)

    def restore(self):
        if self._stop is None:
            self.start()

    close = cut


def worker_env(settings, extensions=None, **extra):
    """The environment of a worker on this run's test database (as the
    ``celery_worker`` fixture builds it), with ``extensions`` as settings."""
    from django.db import connection

    from tests.jobs.support import VISIBILITY_TIMEOUT

    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="tests.jobs.faults_settings",
        RBE_WORKER_USES_TEST_DB="1",
        RBE_BULK_REDIS_URL=settings.JOBS_PROGRESS_REDIS_URL,
        RBE_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
        RBE_MEDIA_ROOT=str(settings.MEDIA_ROOT),
        RBE_JOBS_FAULTS_EXTENSIONS=json.dumps(extensions or {}),
        PYTHONUNBUFFERED="1",
    )
    if connection.vendor == "sqlite":
        env["RBE_SQLITE_TEST_NAME"] = str(connection.settings_dict["NAME"])
    env.update({key: str(value) for key, value in extra.items()})
    return env


def start_worker(settings, log_dir, extensions=None, **extra):
    worker = WorkerProcess(worker_env(settings, extensions, **extra), settings.CELERY_TASK_DEFAULT_QUEUE, log_dir)
    return worker.start()


def rss_kb(pid, field="VmRSS"):
    """A process' resident memory (``VmRSS``) or its peak (``VmHWM``), kB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise LookupError(field)


class SqliteOutage:
    """SQLite has no server to cut off: an exclusive lock held by another
    connection makes every statement of the worker fail with "database is
    locked" (an ``OperationalError``, as a lost server would) until
    ``restore()``."""

    def __init__(self, path):
        self.path, self.holder = path, None

    def cut(self):
        import sqlite3

        self.holder = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self.holder.execute("BEGIN EXCLUSIVE")

    def restore(self):
        if self.holder is not None:
            self.holder.execute("ROLLBACK")
            self.holder.close()
            self.holder = None

    close = restore


def database_outage():
    """``(outage, worker_env_extra)``: what cuts the worker off its test
    database (a ``TcpProxy`` in front of the server, or a SQLite lock)."""
    from django.db import connection

    if connection.vendor == "sqlite":
        return SqliteOutage(str(connection.settings_dict["NAME"])), {}
    port = connection.settings_dict["PORT"] or (5432 if connection.vendor == "postgresql" else 3306)
    proxy = TcpProxy(connection.settings_dict["HOST"] or "127.0.0.1", port).start()
    variable = "RBE_PG_PORT" if connection.vendor == "postgresql" else "RBE_MYSQL_PORT"
    return proxy, {variable: proxy.port}
