"""
Start a background bulk job from the HTTP action: admit it, store the
payload, record the job, enqueue the Celery task after commit, answer 202.
"""

import copy
import logging
import uuid

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.http import QueryDict
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from ..engine.types import Operation
from ..settings import extensions_api_settings
from .admission import check_admission
from .exceptions import BulkJobQueueUnavailable, HeadNeverStartsJob
from .idempotency import get_idempotency_key
from .payloads import delete_payload, save_payload
from .replay import describe_view

logger = logging.getLogger(__name__)

STATUS_URL_NAME = "bulk-operation-status"
JOB_TASK = "rest_bulk_ext.run_bulk_job"
# The broker's own error (hosts, ports) goes to the log, not to the owner.
QUEUE_FAILURE = gettext_lazy(
    "The job could not be queued: the message broker could not be reached. Nothing was run; start it again."
)


def status_url(task_id):
    """The status URL of a job, as ``reverse`` gives it (a path)."""
    try:
        return reverse(STATUS_URL_NAME, kwargs={"task_id": task_id})
    except NoReverseMatch as exc:
        raise ImproperlyConfigured(
            "Background bulk jobs need the job URLs: add path('api/', include('rest_bulk_ext.urls')) "
            "(without a namespace) to your URLconf."
        ) from exc


def operation_label(operation_type):
    return operation_type.removeprefix("bulk_")


def accepted_body(job):
    """The 202 body of a background request (docs/bulk-endpoint.md)."""
    body = {
        "message": _("Bulk {operation} task started for {count} items").format(
            operation=operation_label(job.operation_type), count=job.total_items
        ),
        "task_id": job.task_id,
        "total_items": job.total_items,
        "status_url": status_url(job.task_id),
    }
    if job.operation_type == Operation.GET:
        body["is_async"] = True
    return body


def accepted_response(job):
    body = accepted_body(job)
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["status_url"]})


def send_job(job_id, task_id):
    """Put the job's message on the broker (raises when it cannot). By the
    task's registered name: jobs never import ``tasks.py``."""
    from celery import current_app  # an optional extra: imported when a job is sent

    current_app.send_task(JOB_TASK, args=[job_id], task_id=task_id)


def enqueue_job(job_id, task_id):
    """Send the task after the commit of an outer transaction.

    There the client already has its 202 by the time the message is sent
    (the request's transaction commits after the view returned), so a
    broker that cannot be reached marks the job ``FAILURE`` and removes its
    payload instead of leaving it ``PENDING`` forever (docs/jobs.md).
    """
    from .models import BulkJob, BulkJobState

    try:
        send_job(job_id, task_id)
    except Exception:  # kombu and redis raise many types for "broker down"
        logger.exception("rest_bulk_ext: could not enqueue bulk job %s", task_id)
        job = BulkJob.objects.filter(pk=job_id).first()
        BulkJob.objects.filter(pk=job_id, state=BulkJobState.PENDING).update(
            state=BulkJobState.FAILURE,
            failure_detail=QUEUE_FAILURE,
            finished_at=timezone.now(),
        )
        if job is not None:
            delete_payload(job.payload_name)


def enqueue_now(job):
    """Send the task of a just-committed job inside the request: a broker
    that cannot be reached removes the record and the payload and answers
    503 with ``Retry-After`` (docs/jobs.md)."""
    from .models import BulkJob

    try:
        send_job(job.pk, job.task_id)
    except Exception as exc:  # kombu and redis raise many types for "broker down"
        logger.warning("rest_bulk_ext: could not enqueue bulk job %s; answering 503", job.task_id, exc_info=True)
        BulkJob.objects.filter(pk=job.pk).delete()
        delete_payload(job.payload_name)
        raise BulkJobQueueUnavailable() from exc


def check_cross_site_start(request):
    """A safe method starts a job only as an unsafe one may (API.md 4.5).

    Django's CSRF check lets ``GET`` and ``HEAD`` through, so a cross-site
    image could start exports in a logged-in user's name. Under session
    authentication, a ``GET`` that would start a job is checked as a
    ``POST`` (the ``X-CSRFToken`` header, or 403 and nothing started);
    ``HEAD`` never starts one (400). Token and basic authentication are not
    sent by browsers on their own and are left as they are."""
    if request.method == "HEAD":
        raise HeadNeverStartsJob()
    if request.method not in SAFE_METHODS:
        return
    authenticator = getattr(request, "successful_authenticator", None)
    if not isinstance(authenticator, SessionAuthentication):
        return
    as_unsafe = copy.copy(request._request)
    as_unsafe.method = "POST"
    # A GET's body is no form: the token can only come in the header.
    as_unsafe.POST = QueryDict()
    # Set by the CSRF check that already let the GET through.
    as_unsafe.csrf_processing_done = False
    authenticator.enforce_csrf(as_unsafe)


def storable_columns(columns):
    """The CSV column names as the job record can hold them.

    The record keeps them for the header of errors.csv only (the worker
    reads the stored upload itself, so the job runs as the inline request
    would). PostgreSQL's ``jsonb`` cannot store U+0000: a NUL is kept as
    U+FFFD, the character that stands for one that cannot be shown."""
    return [str(name).replace("\x00", "\ufffd") for name in columns]


def start_bulk_job(view, bulk_request):
    """Record a job for ``bulk_request`` as the view's user and answer 202
    with ``Location: <status_url>``.

    The task is sent once the record is committed, with a task id chosen
    here: right away (a broker that is down is a 503 and nothing is kept),
    or with ``transaction.on_commit`` inside an outer transaction, so a
    rolled-back request never starts a job and a started job always finds
    its record. A user with ``BULK_MAX_ACTIVE_JOBS_PER_USER`` active jobs
    gets a 429 (``admission``). A repeated ``Idempotency-Key`` is answered
    before this runs (``jobs.idempotency``), with this job's 202.
    """
    from .models import BulkJob

    request = view.request
    user = request.user
    if not (user and user.is_authenticated):
        raise NotAuthenticated(
            _(
                "Background bulk jobs belong to a user: authenticate, or send fewer items than "
                "BULK_ASYNC_THRESHOLD to run the operation inline."
            )
        )
    check_cross_site_start(request)
    # An informational copy: the key itself is reserved and its answer (this
    # 202) replayed by jobs.idempotency, as for an inline request.
    key = get_idempotency_key(request)

    task_id = str(uuid.uuid4())
    status_url(task_id)  # fail on a missing URLconf before storing anything
    check_admission(user)  # a cheap refusal before the payload is copied
    # Without an outer transaction the message is sent here, after the
    # record committed, and a broker that is down is a 503; inside one it
    # can only be sent when that transaction commits (enqueue_job).
    in_outer_transaction = connection.in_atomic_block
    # A payload the storage cannot take is removed by save_payload (503).
    payload_name, columns = save_payload(task_id, bulk_request)
    options = dict(bulk_request.options or {})
    try:
        with transaction.atomic():
            check_admission(user, lock=True)
            job = BulkJob.objects.create(
                task_id=task_id,
                owner=user,
                operation_type=bulk_request.operation,
                total_items=bulk_request.total_items or 0,
                payload_format=bulk_request.payload_format,
                payload_name=payload_name,
                payload_columns=storable_columns(columns),
                options=options,
                atomic=bool(options.get("atomic", True)),
                chunk_concurrency=min(extensions_api_settings.BULK_JOB_CHUNK_CONCURRENCY, 32767),
                idempotency_key=key,
                **describe_view(view),
            )
            if in_outer_transaction:
                transaction.on_commit(lambda: enqueue_job(job.pk, task_id))
    except BaseException:
        delete_payload(payload_name)
        raise
    if not in_outer_transaction:
        enqueue_now(job)
    return accepted_response(job)
