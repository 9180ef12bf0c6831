"""
Start a background bulk job from the HTTP action: store the payload, record
the job, enqueue the Celery task after commit, answer 202.
"""

import logging
import uuid

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.response import Response

from .idempotency import get_idempotency_key
from .payloads import delete_payload, save_payload
from .view_rebuild import describe_view

logger = logging.getLogger(__name__)

STATUS_URL_NAME = "bulk-operation-status"


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
    """The 202 body of API.md 4.2."""
    body = {
        "message": _("Bulk {operation} task started for {count} items").format(
            operation=operation_label(job.operation_type), count=job.total_items
        ),
        "task_id": job.task_id,
        "total_items": job.total_items,
        "status_url": status_url(job.task_id),
    }
    if job.operation_type == "bulk_get":
        body["is_async"] = True
    return body


def accepted_response(job):
    body = accepted_body(job)
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["status_url"]})


def enqueue_job(job_id, task_id):
    """Send the task; runs after the job's record is committed.

    A broker that cannot be reached marks the job ``FAILURE`` instead of
    leaving it ``PENDING`` forever.
    """
    from ..tasks import run_bulk_job
    from .models import BulkJob, BulkJobState

    try:
        run_bulk_job.apply_async(args=[job_id], task_id=task_id)
    except Exception as exc:  # kombu and redis raise many types for "broker down"
        logger.exception("rest_bulk_ext: could not enqueue bulk job %s", task_id)
        BulkJob.objects.filter(pk=job_id, state=BulkJobState.PENDING).update(
            state=BulkJobState.FAILURE,
            failure_detail=f"The job could not be queued: {exc.__class__.__name__}: {exc}",
            finished_at=timezone.now(),
        )


def start_bulk_job(view, bulk_request):
    """Record a job for ``bulk_request`` as the view's user and answer 202
    with ``Location: <status_url>``.

    The task is sent with ``transaction.on_commit`` and a task id chosen
    here, so a rolled-back request never starts a job and a started job
    always finds its record. A repeated ``Idempotency-Key`` is answered
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
    # An informational copy: the key itself is reserved and its answer (this
    # 202) replayed by jobs.idempotency, as for an inline request.
    key = get_idempotency_key(request)

    task_id = str(uuid.uuid4())
    status_url(task_id)  # fail on a missing URLconf before storing anything
    payload_name, columns = save_payload(task_id, bulk_request)
    options = dict(bulk_request.options or {})
    try:
        with transaction.atomic():
            job = BulkJob.objects.create(
                task_id=task_id,
                owner=user,
                operation_type=bulk_request.operation,
                total_items=bulk_request.total_items or 0,
                payload_format=bulk_request.payload_format,
                payload_name=payload_name,
                payload_columns=columns,
                options=options,
                atomic=bool(options.get("atomic", True)),
                idempotency_key=key,
                **describe_view(view),
            )
            transaction.on_commit(lambda: enqueue_job(job.pk, task_id))
    except IntegrityError:
        delete_payload(payload_name)
        existing = BulkJob.objects.filter(owner=user, idempotency_key=key).first() if key else None
        if existing is None:
            raise
        # A concurrent request with the same key recorded its job first.
        return accepted_response(existing)
    except BaseException:
        delete_payload(payload_name)
        raise
    return accepted_response(job)
