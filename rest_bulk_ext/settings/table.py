"""
The settings of ``REST_FRAMEWORK_EXTENSIONS``: one table, grouped by area.

Each entry holds a key's default, its validator and its one-line doc; the
settings object (``__init__.py``), the system check E001 (``checks.py``),
the run-time checks (``validated()``) and the test that keeps
``docs/settings.md`` complete all read this table, so a key's rules live
here only.

Names are ``BULK_<AREA>_<THING>``: one family shares one word order
(``BULK_RETRY_BACKOFF_MAX`` beside ``BULK_JOB_RETRY_BACKOFF_MAX``).
``DEFAULT_BULK_OPERATION_*`` keep drf-extensions' spelling, whose users set
the header name already. A renamed key lists its old names in ``renamed``:
they are still read, with a ``DeprecationWarning`` and the check W004.

Adding a setting: one ``Setting(...)`` line in its area (and its row in
``docs/settings.md``, which a test asks for).
"""

from dataclasses import dataclass, field
from typing import Any

from .validators import Validator, boolean, duration, integer, number, redis_url, text


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    validator: Validator
    doc: str
    # Old names, still read (a project setting one gets a warning).
    renamed: tuple[str, ...] = ()
    # The default as docs/settings.md shows it, where repr() would not read well.
    shown_default: str | None = None

    @property
    def doc_default(self) -> str:
        return self.shown_default if self.shown_default is not None else repr(self.default)


@dataclass(frozen=True)
class Area:
    title: str
    settings: tuple[Setting, ...] = field(default_factory=tuple)


AREAS: tuple[Area, ...] = (
    Area(
        "List route (queryset-level PATCH/DELETE)",
        (
            Setting(
                "DEFAULT_BULK_OPERATION_HEADER_NAME",
                "X-BULK-OPERATION",
                text(optional=True),
                "Header every list-route PATCH/DELETE must carry; None turns the guard off.",
            ),
            Setting(
                "DEFAULT_BULK_OPERATION_MAX_ROWS",
                None,
                integer(0, optional=True),
                "Refuse (400) a list-route operation that would touch more rows; None: no limit.",
            ),
            Setting(
                "BULK_STRICT_QUERY_PARAMS",
                True,
                boolean(),
                "Refuse (400) a query parameter that would not narrow the rows (and /bulk/'s unknown ones).",
            ),
        ),
    ),
    Area(
        "/bulk/ input",
        (
            Setting(
                "BULK_ASYNC_THRESHOLD",
                100,
                integer(0, optional=True),
                "Requests with at least this many items run as a background job; None: always inline.",
            ),
            Setting("BULK_MAX_ITEMS", 100_000, integer(1), "More items in one request: 413.", shown_default="100_000"),
            Setting(
                "BULK_UPLOAD_MAX_SIZE",
                10 * 1024 * 1024,
                integer(1),
                "Bytes; a larger CSV, NDJSON or XLSX upload: 413.",
                renamed=("BULK_CSV_MAX_FILE_SIZE",),
                shown_default="10 * 1024 * 1024",
            ),
            Setting("BULK_ATOMIC", True, boolean(), "Default write mode; ?atomic= overrides it per request."),
            Setting(
                "BULK_IDEMPOTENCY_TTL",
                86400,
                integer(1),
                "Seconds an Idempotency-Key is remembered, inline and background alike.",
            ),
            Setting(
                "BULK_IDEMPOTENCY_RESERVATION_TIMEOUT",
                900,
                integer(1),
                "Seconds after which the key of a request that never answered is free again.",
            ),
        ),
    ),
    Area(
        "Engine speed",
        (
            Setting(
                "BULK_CHUNK_SIZE",
                1000,
                integer(1),
                "Items per chunk: the unit of validation, of writing and (non-atomic) of transaction.",
                renamed=("BULK_BATCH_SIZE",),
            ),
            Setting(
                "BULK_POSTGRES_COPY_MIN_ROWS",
                100,
                integer(1, optional=True),
                "PostgreSQL: a chunk inserting at least this many rows streams them with COPY; None: never.",
            ),
            Setting(
                "BULK_PAUSE_GC",
                False,
                boolean(),
                "Pause Python's garbage collector (process-wide) while a chunk runs: 10-15 % faster.",
            ),
            Setting(
                "BULK_FAST_VALIDATION",
                True,
                boolean(),
                "Validate with the per-chunk copies of DRF's validation loop while they match DRF's.",
            ),
        ),
    ),
    Area(
        "Write retries (deadlocks, serialization failures, lock timeouts)",
        (
            Setting(
                "BULK_RETRY_LIMIT",
                5,
                integer(0),
                "Retries of a write after a transient database error; 0: none.",
                renamed=("BULK_RETRY_ATTEMPTS",),
            ),
            Setting(
                "BULK_RETRY_BACKOFF",
                0.05,
                number(0),
                "Seconds; retry n first waits a random time up to BULK_RETRY_BACKOFF * 2**n.",
            ),
            Setting(
                "BULK_RETRY_BACKOFF_MAX",
                1.0,
                number(0),
                "Seconds; the longest wait before a retry.",
                renamed=("BULK_RETRY_MAX_BACKOFF",),
            ),
            Setting(
                "BULK_RETRY_CLIENT_WAIT",
                1,
                integer(0),
                "Seconds in the Retry-After of the 409/503 answered when the retries run out.",
                renamed=("BULK_RETRY_AFTER",),
            ),
        ),
    ),
    Area(
        "Jobs",
        (
            Setting(
                "BULK_JOB_STORAGE",
                "default",
                text(),
                "STORAGES alias for job files (payloads, result files, exports), shared by web and workers.",
                renamed=("BULK_PAYLOAD_STORAGE",),
            ),
            Setting(
                "BULK_DOWNLOAD_REDIRECT",
                True,
                boolean(),
                "An export's download answers 302 to the storage's signed URL where it signs one.",
            ),
            Setting(
                "BULK_CSV_ESCAPE_FORMULAS",
                True,
                boolean(),
                "Files the library writes prefix a cell a spreadsheet would run as a formula with '.",
            ),
            Setting(
                "BULK_MAX_ACTIVE_JOBS_PER_USER",
                10,
                integer(1, optional=True),
                "A user's PENDING + PROGRESS jobs; one more: 429. None: no cap.",
            ),
            Setting(
                "BULK_JOB_CLIENT_WAIT",
                30,
                integer(0),
                "Seconds in the Retry-After of that 429 and of the job routes' 503s.",
                renamed=("BULK_JOB_RETRY_AFTER",),
            ),
            Setting(
                "BULK_JOB_RETRY_LIMIT",
                12,
                integer(0),
                "Retries of a job message after transient database errors, within the window.",
                renamed=("BULK_JOB_MAX_RETRIES",),
            ),
            Setting(
                "BULK_JOB_RETRY_WINDOW",
                15 * 60,
                duration(optional=True),
                "Seconds (or a timedelta) a job keeps retrying; None: only BULK_JOB_RETRY_LIMIT limits.",
                shown_default="900",
            ),
            Setting(
                "BULK_JOB_RETRY_BACKOFF",
                2,
                number(0),
                "Seconds before a job's first retry, doubling each time.",
            ),
            Setting("BULK_JOB_RETRY_BACKOFF_MAX", 120, number(0), "Seconds; the longest wait before a job's retry."),
            Setting(
                "BULK_JOB_STALE_AFTER",
                2 * 60,
                duration(optional=True),
                "Seconds (or a timedelta) without a heartbeat before the sweeper looks at a PROGRESS job.",
                shown_default="120",
            ),
            Setting(
                "BULK_JOB_PENDING_TIMEOUT",
                2 * 60,
                duration(optional=True),
                "Seconds (or a timedelta) after which the sweeper sends a PENDING job again.",
                shown_default="120",
            ),
            Setting(
                "BULK_JOB_START_LIMIT",
                5,
                integer(1, optional=True),
                "Starts of a job (deliveries to a worker) after which the sweeper fails it; None: no limit.",
                renamed=("BULK_JOB_MAX_ATTEMPTS",),
            ),
            Setting(
                "BULK_JOB_CHUNK_CONCURRENCY",
                4,
                integer(1),
                "Chunks of one non-atomic job run at once, on any workers; 1: one worker runs the whole job.",
            ),
            Setting(
                "BULK_JOB_RETENTION",
                7 * 24 * 3600,
                duration(optional=True),
                "Finished jobs and expired idempotency records older than this are purged; None: keep jobs.",
                shown_default="7 * 24 * 3600",
            ),
            Setting(
                "BULK_RESULT_MAX_IDS",
                10_000,
                integer(0),
                "Longest id list in a job's result (all in results.csv).",
                shown_default="10_000",
            ),
            Setting(
                "BULK_RESULT_MAX_ERRORS",
                1000,
                integer(0),
                "Most item errors in a job's result (all in errors.csv).",
            ),
        ),
    ),
    Area(
        "Progress",
        (
            Setting(
                "BULK_REDIS_URL",
                None,
                redis_url(),
                "Redis for jobs' live progress; None: Django's default cache.",
            ),
            Setting(
                "BULK_PROGRESS_TTL",
                86400,
                integer(1),
                "Seconds a finished job's live progress is kept.",
                renamed=("BULK_RESULT_TTL",),
            ),
        ),
    ),
)

SETTINGS: dict[str, Setting] = {setting.name: setting for area in AREAS for setting in area.settings}
# Old name -> new name.
RENAMED: dict[str, str] = {old: setting.name for setting in SETTINGS.values() for old in setting.renamed}
DEFAULTS: dict[str, Any] = {name: setting.default for name, setting in SETTINGS.items()}
