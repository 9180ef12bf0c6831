"""Confirming an admin import: the job it starts, run by a REAL Celery
worker, its page, status and CSV files, through Django's test client."""

import re

import pytest

from rest_bulk_ext.jobs.models import BulkJob
from tests.jobs.support import wait_for_job
from tests.testapp.models import Account

from .conftest import IMPORT, account_numbers, csv_file, form, staff_with
from .test_pages import preview_of, stored_uploads

pytestmark = pytest.mark.django_db(transaction=True)


def confirm(client, preview_url):
    response = client.post(preview_url + "confirm/")
    assert response.status_code == 302, response.content.decode()[:2000]
    match = re.fullmatch(rf"{IMPORT}jobs/([0-9a-f-]{{36}})/", response["Location"])
    assert match, response["Location"]
    return match.group(1), response["Location"]


def test_confirm_starts_a_job_as_the_staff_user_and_its_rows_land(client, clerk, tenant, celery_worker, jobs_settings):
    client.force_login(clerk)
    rows = [["a-1", "Ann", tenant.pk], ["a-2", "bad", tenant.pk], ["a-3", "Cy", tenant.pk]]
    url, _html = preview_of(client, form(csv_file(rows)))

    task_id, job_url = confirm(client, url)

    job = BulkJob.objects.get(task_id=task_id)
    assert (job.owner, job.operation_type, job.total_items) == (clerk, "bulk_create", 3)
    assert job.view_path == "tests.admin_import.views.AccountImportViewSet"
    # The request a client would send: the routed path and host.
    assert job.http_method == "POST" and job.request_info["path"] == "/import-api/accounts/bulk/"
    assert job.request_info["initkwargs"]["basename"] == "import-account"
    assert "dry_run" not in job.options and job.options["atomic"] is False
    assert stored_uploads() == []  # the preview's copy is gone; the job has its own
    job = wait_for_job(task_id, celery_worker)
    assert (job.state, job.success_count, job.error_count) == ("SUCCESS", 2, 1), job.failure_detail
    assert account_numbers() == ["a-1", "a-3"]

    page = client.get(job_url).content.decode()
    assert 'class="rbe-count-success">2<' in page and 'class="rbe-count-failed">1<' in page
    assert f'href="{job_url}errors.csv"' in page and f'href="{job_url}results.csv"' in page
    status = client.get(job_url + "status/").json()
    assert status["state"] == "SUCCESS" and status["progress"]["percentage"] == 100.0
    errors = b"".join(client.get(job_url + "errors.csv").streaming_content).decode().splitlines()
    assert errors[0] == "number,name,tenant,error" and errors[1].startswith(f"a-2,bad,{tenant.pk},")
    assert "This name is refused." in errors[1] and len(errors) == 2
    results = b"".join(client.get(job_url + "results.csv").streaming_content).decode().splitlines()
    assert [line.split(",")[2] for line in results[1:]] == ["created", "failed", "created"]


def test_an_upsert_import_updates_and_creates(client, manager, tenant, celery_worker, jobs_settings):
    Account.objects.create(number="a-1", name="Old", tenant=tenant)
    client.force_login(manager)
    url, _html = preview_of(
        client, form(csv_file([["a-1", "New", tenant.pk], ["a-2", "Bo", tenant.pk]]), target="upsert:number")
    )

    task_id, job_url = confirm(client, url)

    job = wait_for_job(task_id, celery_worker)
    assert (job.state, job.operation_type, job.success_count) == ("SUCCESS", "bulk_upsert", 2), job.failure_detail
    assert dict(Account.objects.values_list("number", "name")) == {"a-1": "New", "a-2": "Bo"}
    page = client.get(job_url).content.decode()
    assert "errors.csv" not in page and "results.csv" in page  # no errors, no errors.csv


def test_a_second_confirm_of_the_same_preview_starts_nothing(client, clerk, tenant, celery_worker, jobs_settings):
    client.force_login(clerk)
    url, _html = preview_of(client, form(csv_file([["a-1", "Ann", tenant.pk]])))
    task_id, _job_url = confirm(client, url)

    again = client.post(url + "confirm/", follow=True)

    assert "expired or was already confirmed" in again.content.decode()
    assert list(BulkJob.objects.values_list("task_id", flat=True)) == [task_id]
    wait_for_job(task_id, celery_worker)
    assert account_numbers() == ["a-1"]


def test_a_staff_user_who_lost_the_add_permission_cannot_confirm(client, clerk, tenant, celery_worker, jobs_settings):
    client.force_login(clerk)
    url, _html = preview_of(client, form(csv_file([["a-1", "Ann", tenant.pk]])))
    clerk.user_permissions.clear()

    assert client.post(url + "confirm/").status_code == 403
    assert not BulkJob.objects.exists() and account_numbers() == []


def test_another_users_import_job_is_not_found(client, clerk, tenant, celery_worker, jobs_settings):
    client.force_login(clerk)
    url, _html = preview_of(client, form(csv_file([["a-1", "Ann", tenant.pk]])))
    task_id, job_url = confirm(client, url)
    wait_for_job(task_id, celery_worker)
    other = staff_with("other", "add_account")
    client.force_login(other)

    for suffix in ("", "status/", "errors.csv", "results.csv"):
        assert client.get(job_url + suffix).status_code == 404


def test_two_confirms_that_race_past_the_session_start_one_job(client, clerk, tenant, celery_worker, jobs_settings):
    from django.core.files.base import ContentFile

    from rest_bulk_ext.admin_import import previews
    from rest_bulk_ext.jobs.payloads import get_payload_storage

    client.force_login(clerk)
    url, _html = preview_of(client, form(csv_file([["a-1", "Ann", tenant.pk]])))
    record = dict(client.session[previews.SESSION_KEY][url.rstrip("/").rsplit("/", 1)[1]])
    storage = get_payload_storage()
    with storage.open(record["name"], "rb") as handle:
        content = handle.read()
    task_id, job_url = confirm(client, url)
    # The second click read the session, and the file, before the first one
    # dropped them.
    session = client.session
    session[previews.SESSION_KEY] = {record["token"]: record}
    session.save()
    assert storage.save(record["name"], ContentFile(content)) == record["name"]

    again_id, again_url = confirm(client, url)

    assert (again_id, again_url) == (task_id, job_url)
    assert BulkJob.objects.count() == 1
    wait_for_job(task_id, celery_worker)
    assert account_numbers() == ["a-1"]
