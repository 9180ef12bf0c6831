"""``bulk_import --background``: a job like the API's 202, run by a real worker."""

import io

import pytest
from django.core.management import CommandError, call_command

from rest_bulk_ext.jobs.models import BulkJob
from tests.builders import txn_data
from tests.jobs.support import wait_for_job
from tests.testapp.models import Txn

from .support import TXNS

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.commands.urls")]


def test_background_queues_a_job_of_the_user_that_a_worker_runs(people, write_csv, celery_worker, jobs_settings):
    rows = [txn_data(people.alice_account, n) for n in range(3)]
    rows[1]["amount"] = "lots"
    path = write_csv(rows)
    out = io.StringIO()

    call_command(
        "bulk_import", TXNS, path, user="alice", background=True, atomic=False, stdout=out, stderr=io.StringIO()
    )

    job = BulkJob.objects.get()
    assert out.getvalue() == (
        f"Queued job {job.task_id} for 3 items.\nStatus: /api/bulk-operations/{job.task_id}/status/\n"
    )
    assert (job.owner, job.operation_type, job.payload_format) == (people.alice, "bulk_create", "csv")
    # The request of the viewset's route in the URLconf, as a client's.
    assert (job.view_path, job.http_method) == (TXNS, "POST")
    assert job.request_info["path"] == "/shell/txns/bulk/"
    assert job.request_info["initkwargs"]["basename"] == "shell-txn"
    job = wait_for_job(job.task_id, worker=celery_worker)
    assert (job.state, job.success_count, job.error_count) == ("SUCCESS", 2, 1)
    assert sorted(Txn.objects.values_list("ref", flat=True)) == ["ref-0", "ref-2"]


def test_background_without_a_user_is_refused_and_queues_nothing(people, write_csv):
    path = write_csv([txn_data(people.alice_account, 0)])

    with pytest.raises(CommandError) as raised:
        call_command("bulk_import", TXNS, path, background=True, stdout=io.StringIO(), stderr=io.StringIO())

    assert raised.value.returncode == 1
    assert "Background bulk jobs belong to a user" in str(raised.value)
    assert "Run it as a user with --user NAME." in str(raised.value)
    assert not BulkJob.objects.exists()
    assert not Txn.objects.exists()
