"""The job admin through Django's test client (the browser test is
tests/admin/test_job_admin_browser.py): list, filters, search, detail, links, cancel,
read-only records."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from rest_bulk_ext.jobs.models import BulkJob, BulkJobChunk

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/rest_bulk_ext/bulkjob/"


def make_job(owner, state="SUCCESS", operation="bulk_create", **fields):
    now = timezone.now()
    defaults = dict(
        task_id=str(uuid.uuid4()),
        owner=owner,
        operation_type=operation,
        state=state,
        total_items=10,
        view_path="tests.jobs.views.JobRecordViewSet",
        action="bulk",
        http_method="POST",
        options={"atomic": False},
        created_at=now,
    )
    if state in ("SUCCESS", "FAILURE", "REVOKED"):
        defaults.update(started_at=now, finished_at=now + timedelta(seconds=75))
    defaults.update(fields)
    job = BulkJob.objects.create(**defaults)
    return job


@pytest.fixture
def admin_user():
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture
def alice():
    return get_user_model().objects.create_user("alice", password="pw")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_the_list_shows_each_job_with_its_bar_counts_and_duration(admin_client, alice):
    done = make_job(alice, success_count=8, error_count=2)
    running = make_job(alice, state="PROGRESS", operation="bulk_update", started_at=timezone.now())

    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    html = response.content.decode()
    assert done.task_id in html and running.task_id in html
    assert f'data-status-url="/api/bulk-operations/{running.task_id}/status/"' in html
    assert 'data-state="SUCCESS"' in html and 'style="width: 100.00%"' in html
    assert "1 min 15 s" in html
    assert "job_progress.js" in html
    assert ">alice<" in html


def test_filters_and_search(admin_client, alice, admin_user):
    done = make_job(alice)
    failed = make_job(admin_user, state="FAILURE", operation="bulk_delete")

    by_state = admin_client.get(CHANGELIST, {"state__exact": "FAILURE"}).content.decode()
    by_operation = admin_client.get(CHANGELIST, {"operation_type": "bulk_create"}).content.decode()
    by_owner = admin_client.get(CHANGELIST, {"owner__id__exact": alice.pk}).content.decode()
    by_search = admin_client.get(CHANGELIST, {"q": failed.task_id[:13]}).content.decode()

    assert failed.task_id in by_state and done.task_id not in by_state
    assert done.task_id in by_operation and failed.task_id not in by_operation
    assert done.task_id in by_owner and failed.task_id not in by_owner
    assert failed.task_id in by_search and done.task_id not in by_search


def test_the_detail_page_shows_options_errors_and_working_csv_links(admin_client, alice):
    job = make_job(
        alice,
        success_count=1,
        error_count=1,
        options={"atomic": False, "unique_fields": ["ref"]},
        errors=[{"index": 1, "errors": {"label": ["bad"]}, "error": "label: This label is refused.", "data": {}}],
    )
    BulkJobChunk.objects.create(
        job=job,
        number=0,
        success_count=1,
        outcomes=[[0, 41, "created"], [1, None, "failed"]],
        errors=[{"index": 1, "error": "label: This label is refused.", "data": {"seq": 2, "label": "bad"}}],
    )

    response = admin_client.get(f"{CHANGELIST}{job.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "&quot;unique_fields&quot;" in html or '"unique_fields"' in html
    assert "label: This label is refused." in html
    errors_url = f"/api/bulk-operations/{job.task_id}/errors.csv"
    results_url = f"/api/bulk-operations/{job.task_id}/results.csv"
    assert f'href="{errors_url}"' in html and f'href="{results_url}"' in html
    assert "Cancel job" not in html  # finished
    # The superuser is not the owner, and the links still work for them.
    results = admin_client.get(results_url)
    assert results.status_code == 200
    assert b"".join(results.streaming_content).decode().splitlines() == [
        "index,id,outcome", "0,41,created", "1,,failed",
    ]  # fmt: skip
    errors = admin_client.get(errors_url)
    assert errors.status_code == 200
    assert "This label is refused." in b"".join(errors.streaming_content).decode()


def test_an_export_download_link_only_when_the_url_exists(admin_client, alice):
    from django.urls import NoReverseMatch, reverse

    job = make_job(alice, operation="bulk_get", result={"operation_type": "bulk_get", "count": 3, "download_url": "x"})
    html = admin_client.get(f"{CHANGELIST}{job.pk}/change/").content.decode()
    try:
        url = reverse("bulk-operation-download", kwargs={"task_id": job.task_id})
    except NoReverseMatch:
        assert "export file" not in html
    else:
        assert f'href="{url}"' in html


def test_records_are_read_only(admin_client, alice):
    job = make_job(alice)

    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    assert admin_client.post(f"{CHANGELIST}{job.pk}/delete/").status_code == 403
    response = admin_client.post(f"{CHANGELIST}{job.pk}/change/", {"state": "FAILURE", "total_items": 1})
    assert response.status_code == 403
    changelist = admin_client.get(CHANGELIST).content.decode()
    assert "delete_selected" not in changelist
    job.refresh_from_db()
    assert (job.state, job.total_items) == ("SUCCESS", 10)


def test_the_cancel_action_cancels_running_jobs_and_leaves_finished_ones(admin_client, alice):
    running = make_job(alice, state="PROGRESS")
    pending = make_job(alice, state="PENDING")
    done = make_job(alice)

    response = admin_client.post(
        CHANGELIST,
        {"action": "cancel_jobs", "_selected_action": [running.pk, pending.pk, done.pk]},
        follow=True,
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Cancelled 2 jobs." in html and "1 job had already finished" in html
    states = dict(BulkJob.objects.values_list("pk", "state"))
    assert states == {running.pk: "REVOKED", pending.pk: "REVOKED", done.pk: "SUCCESS"}


def test_the_cancel_button_of_a_running_job(admin_client, alice):
    running = make_job(alice, state="PROGRESS")
    page = admin_client.get(f"{CHANGELIST}{running.pk}/change/").content.decode()
    cancel_url = f"{CHANGELIST}{running.pk}/cancel/"
    assert f'action="{cancel_url}"' in page

    assert admin_client.get(cancel_url).status_code == 405
    assert admin_client.post(f"{CHANGELIST}not-a-number/cancel/").status_code == 404
    assert admin_client.post(f"{CHANGELIST}999999/cancel/").status_code == 404
    response = admin_client.post(cancel_url, follow=True)

    assert response.status_code == 200
    assert "Cancelled 1 job." in response.content.decode()
    running.refresh_from_db()
    assert running.state == "REVOKED" and running.finished_at is not None


def test_staff_without_the_change_permission_cannot_cancel(client, alice):
    from django.contrib.auth.models import Permission

    staff = get_user_model().objects.create_user("staff", password="pw", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_bulkjob"))
    client.force_login(staff)
    running = make_job(alice, state="PROGRESS")

    assert client.get(CHANGELIST).status_code == 200
    assert client.post(f"{CHANGELIST}{running.pk}/cancel/").status_code == 403
    client.post(CHANGELIST, {"action": "cancel_jobs", "_selected_action": [running.pk]})
    running.refresh_from_db()
    assert running.state == "PROGRESS"


def test_the_list_costs_the_same_queries_for_3_or_30_jobs(admin_client, alice, admin_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(3):
        make_job(alice if n % 2 else admin_user)
    admin_client.get(CHANGELIST)  # warm the session and content types
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(CHANGELIST).status_code == 200
    for n in range(27):
        make_job(alice if n % 2 else admin_user, state="FAILURE", error_count=1)
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(CHANGELIST).status_code == 200

    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_list_names_operations_and_shows_short_ids_and_compact_times(admin_client, alice):
    export = make_job(alice, operation="bulk_get")
    upsert = make_job(alice, operation="bulk_upsert")

    html = admin_client.get(CHANGELIST).content.decode()

    assert '<td class="field-operation">Export</td>' in html
    assert '<td class="field-operation">Upsert</td>' in html
    assert ">bulk_upsert<" not in html and ">bulk_get<" not in html
    for job in (export, upsert):
        assert f'<span title="{job.task_id}">{job.task_id[:8]}</span>' in html
    assert timezone.localtime(upsert.created_at).strftime("%b %-d, %H:%M") in html
    filters = admin_client.get(CHANGELIST).content.decode().split('id="changelist-filter"')[1]
    assert "?operation_type=bulk_upsert" in filters and ">Upsert</a>" in filters


def test_a_job_without_errors_links_results_csv_but_no_errors_csv(admin_client, alice):
    clean = make_job(alice, success_count=10)
    failed = make_job(alice, success_count=9, error_count=1)

    clean_page = admin_client.get(f"{CHANGELIST}{clean.pk}/change/").content.decode()
    failed_page = admin_client.get(f"{CHANGELIST}{failed.pk}/change/").content.decode()

    assert f"/api/bulk-operations/{clean.task_id}/results.csv" in clean_page
    assert "errors.csv" not in clean_page
    assert f"/api/bulk-operations/{failed.task_id}/errors.csv" in failed_page


def test_times_of_another_year_show_the_date(alice):
    from rest_bulk_ext.admin import short_time

    now = timezone.now()
    assert str(short_time(now - timedelta(days=800), now=now)).endswith(
        f">{timezone.localtime(now - timedelta(days=800)).strftime('%Y-%m-%d')}</span>"
    )
    assert short_time(None) == "-"
