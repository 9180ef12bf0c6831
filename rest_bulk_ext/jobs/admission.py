"""
Admission: at most ``BULK_MAX_ACTIVE_JOBS_PER_USER`` jobs of a user are
``PENDING`` or ``PROGRESS`` at once; one more is a 429 with ``Retry-After``
and nothing is stored.

``check_admission`` runs twice: once before the payload is saved (cheap
refusal), and inside the transaction that records the job, after locking
the user's row (``SELECT ... FOR UPDATE`` on PostgreSQL and MariaDB), so
concurrent requests of one user are counted one after the other. SQLite
has no row locks: there, concurrent submissions can overshoot the cap by
the number of requests racing.
"""

from django.contrib.auth import get_user_model

from ..settings import extensions_api_settings
from .exceptions import TooManyActiveJobs
from .models import ACTIVE_STATES, BulkJob


def active_job_limit(user):
    """The cap for ``user`` (``None``: no cap). Reads the setting at call
    time; wrap it to give some users (staff, a plan) another cap."""
    return extensions_api_settings.BULK_MAX_ACTIVE_JOBS_PER_USER


def check_admission(user, *, lock=False):
    """Raise ``TooManyActiveJobs`` when ``user`` has no free job slot.
    ``lock``: serialize with the user's other submissions (call inside the
    transaction that records the job)."""
    limit = active_job_limit(user)
    if limit is None:
        return
    if lock:
        list(get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
    active = BulkJob.objects.filter(owner_id=user.pk, state__in=ACTIVE_STATES).count()
    if active >= limit:
        raise TooManyActiveJobs(limit)
