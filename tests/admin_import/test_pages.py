"""The admin import through Django's test client, up to the confirm: the
button, the form, permissions, and a preview that writes nothing (the jobs a
confirm starts are in test_jobs.py)."""

import re

import pytest
from django.test import override_settings

from rest_bulk_ext.admin_import import previews
from rest_bulk_ext.jobs.models import BulkJob
from rest_bulk_ext.jobs.payloads import get_payload_storage

from ..models_items import Account
from .conftest import ADMIN, IMPORT, account_numbers, csv_file, form

pytestmark = pytest.mark.django_db


def preview_of(client, data):
    """POST the form; return the preview page (following the redirect)."""
    response = client.post(IMPORT, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert re.fullmatch(rf"{IMPORT}[0-9a-f]{{32}}/", response["Location"])
    page = client.get(response["Location"])
    assert page.status_code == 200
    return response["Location"], page.content.decode()


def stored_uploads():
    storage = get_payload_storage()
    try:
        return storage.listdir(previews.PREVIEW_DIRECTORY)[1]
    except FileNotFoundError:
        return []


def count_of(html, name):
    return int(re.search(rf'class="rbe-count-{name}">(\d+)<', html).group(1))


def test_the_changelist_has_an_import_button_for_staff_who_may_add(client, clerk, viewer):
    client.force_login(clerk)
    assert f'href="{IMPORT}"' in client.get(ADMIN).content.decode()
    client.force_login(viewer)
    assert client.get(ADMIN).status_code == 200
    assert f'href="{IMPORT}"' not in client.get(ADMIN).content.decode()


def test_staff_without_the_add_permission_is_refused_and_nothing_is_written(client, viewer, tenant):
    client.force_login(viewer)

    assert client.get(IMPORT).status_code == 403
    response = client.post(IMPORT, form(csv_file([["a-1", "Ann", tenant.pk]])))

    assert response.status_code == 403
    assert account_numbers() == [] and stored_uploads() == []


def test_the_form_offers_an_upsert_only_with_the_change_permission(client, clerk, manager, tenant):
    client.force_login(clerk)
    page = client.get(IMPORT).content.decode()
    assert 'value="create"' in page and "upsert:" not in page
    # Posting the choice anyway is refused by the form: not one of its choices.
    response = client.post(IMPORT, form(csv_file([["a-1", "Ann", tenant.pk]]), target="upsert:number"))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()

    client.force_login(manager)
    page = client.get(IMPORT).content.decode()
    assert 'value="upsert:number"' in page
    assert 'value="upsert:id"' not in page  # the primary key is not offered
    assert account_numbers() == []


def test_a_preview_counts_rows_shows_the_first_errors_and_writes_nothing(client, clerk, tenant):
    client.force_login(clerk)
    rows = [["a-1", "Ann", tenant.pk], ["a-2", "bad", tenant.pk], ["a-3", "Cy", tenant.pk], ["a-4", "Di", 999999]]

    _url, html = preview_of(client, form(csv_file(rows)))

    assert (count_of(html, "total"), count_of(html, "created"), count_of(html, "updated"), count_of(html, "failed")) == (
        4, 2, 0, 2,
    )  # fmt: skip
    # Lines are the file's (the header is line 1), with the values sent.
    assert re.search(r"<td>3</td><td>name: This name is refused.</td><td><code>number=a-2, name=bad, tenant=\d+", html)
    assert re.search(r"<td>5</td><td>tenant: [^<]*999999", html)
    assert 'id="rbe-confirm-form"' in html
    assert "Nothing has been written yet." in html
    assert account_numbers() == [] and not BulkJob.objects.exists()
    assert len(stored_uploads()) == 1  # kept for the confirm


def test_an_upsert_preview_sorts_rows_into_created_and_updated(client, manager, tenant):
    Account.objects.create(number="a-1", name="Old", tenant=tenant)
    client.force_login(manager)
    rows = [["a-1", "Ann", tenant.pk], ["a-2", "Bo", tenant.pk]]

    _url, html = preview_of(client, form(csv_file(rows), target="upsert:number"))

    assert (count_of(html, "created"), count_of(html, "updated"), count_of(html, "failed")) == (1, 1, 0)
    assert "create or update rows matching on number" in html
    assert list(Account.objects.values_list("number", "name")) == [("a-1", "Old")]


def test_rows_outside_the_viewsets_queryset_are_not_updated_by_the_preview(client, manager, tenant):
    Account.objects.create(number="hidden-1", name="Secret", tenant=tenant)
    client.force_login(manager)

    _url, html = preview_of(client, form(csv_file([["hidden-1", "Mine", tenant.pk]]), target="upsert:number"))

    # The viewset's get_queryset() does not see it: an insert, which the
    # unique number refuses, never an update of the hidden row.
    assert count_of(html, "updated") == 0
    assert Account.objects.get(number="hidden-1").name == "Secret"


def test_an_atomic_preview_with_a_failing_row_offers_no_confirm(client, clerk, tenant):
    client.force_login(clerk)
    rows = [["a-1", "Ann", tenant.pk], ["a-2", "bad", tenant.pk]]

    _url, html = preview_of(client, form(csv_file(rows), atomic=True))

    assert count_of(html, "failed") == 1 and count_of(html, "created") == 0
    assert 'id="rbe-confirm-form"' not in html
    assert "All or nothing: with a failing row nothing would be written." in html


def test_a_file_the_viewset_refuses_is_an_error_on_the_form_and_nothing_is_kept(client, clerk):
    client.force_login(clerk)
    upload = csv_file([["a-1", "Ann", 1]], name="accounts.txt")

    response = client.post(IMPORT, form(upload))

    assert response.status_code == 200
    html = response.content.decode()
    assert "The file was not accepted:" in html and "Only .csv" in html and "accounts.txt" in html
    assert stored_uploads() == [] and account_numbers() == []


def test_an_upload_over_the_size_limit_is_refused_on_the_form(client, clerk, tenant):
    client.force_login(clerk)
    rows = [[f"a-{n}", "x" * 50, tenant.pk] for n in range(50)]
    with override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_UPLOAD_MAX_SIZE": 500}):
        response = client.post(IMPORT, form(csv_file(rows)))

    assert response.status_code == 200
    assert "The file was not accepted:" in response.content.decode()
    assert stored_uploads() == [] and account_numbers() == []


def test_a_large_files_preview_is_a_dry_run_job_and_its_page_shows_the_bar(client, clerk, tenant, jobs_redis):
    client.force_login(clerk)
    rows = [[f"a-{n}", "Ann", tenant.pk] for n in range(12)]
    with override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_ASYNC_THRESHOLD": 10}):
        _url, html = preview_of(client, form(csv_file(rows)))

    job = BulkJob.objects.get()
    assert job.options.get("dry_run") is True and job.owner.username == "clerk"
    assert "Checking the file" in html
    assert f'data-status-url="{IMPORT}jobs/{job.task_id}/status/"' in html
    assert 'id="rbe-confirm-form"' not in html
    assert account_numbers() == []


def test_an_unknown_or_another_sessions_preview_sends_back_to_the_form(client, clerk, tenant):
    client.force_login(clerk)
    url, _html = preview_of(client, form(csv_file([["a-1", "Ann", tenant.pk]])))
    other = client.__class__()
    other.force_login(clerk)

    response = other.get(url)
    assert response.status_code == 302 and response["Location"] == IMPORT
    assert other.post(url + "confirm/").status_code == 302
    assert client.get(url + "confirm/").status_code == 405
    assert not BulkJob.objects.exists()


def test_abandoned_uploads_older_than_a_day_are_removed(client, clerk, tenant):
    from datetime import timedelta

    from django.utils import timezone

    client.force_login(clerk)
    preview_of(client, form(csv_file([["a-1", "Ann", tenant.pk]])))
    assert len(stored_uploads()) == 1

    assert previews.discard_abandoned_uploads(now=timezone.now() + timedelta(hours=1)) == 0
    assert previews.discard_abandoned_uploads(now=timezone.now() + timedelta(hours=25)) == 1
    assert stored_uploads() == []


def test_an_ndjson_file_is_previewed_with_its_line_numbers(client, clerk, tenant):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(clerk)
    body = "\n".join(
        [
            f'{{"number": "n-1", "name": "Ann", "tenant": {tenant.pk}}}',
            f'{{"number": "n-2", "name": "bad", "tenant": {tenant.pk}}}',
        ]
    )
    upload = SimpleUploadedFile("accounts.ndjson", body.encode(), content_type="application/x-ndjson")

    _url, html = preview_of(client, form(upload))

    assert (count_of(html, "total"), count_of(html, "created"), count_of(html, "failed")) == (2, 1, 1)
    assert "<td>2</td><td>name: This name is refused.</td>" in html
    assert account_numbers() == []


def test_a_storage_that_cannot_take_the_upload_is_an_error_on_the_form(client, clerk, tenant, settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.STORAGES = {
        **settings.STORAGES,
        "broken": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(blocker)}},
    }
    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_JOB_STORAGE": "broken"}
    client.force_login(clerk)

    response = client.post(IMPORT, form(csv_file([["a-1", "Ann", tenant.pk]])))

    assert response.status_code == 200
    html = response.content.decode()
    assert "The file could not be stored right now; try again in a moment." in html
    assert str(tmp_path) not in html
    assert account_numbers() == [] and not BulkJob.objects.exists()


def test_a_preview_whose_file_is_gone_asks_for_the_file_again(client, clerk, tenant):
    client.force_login(clerk)
    url, _html = preview_of(client, form(csv_file([["a-1", "Ann", tenant.pk]])))
    for name in stored_uploads():
        get_payload_storage().delete(f"{previews.PREVIEW_DIRECTORY}/{name}")

    response = client.post(url + "confirm/", follow=True)

    assert response.redirect_chain[-1][0] == IMPORT
    assert "file is gone; upload the file again" in response.content.decode()
    assert not BulkJob.objects.exists() and account_numbers() == []
    assert client.get(url).status_code == 302  # the preview is forgotten too


def test_a_previews_queries_do_not_grow_with_the_rows(client, clerk, tenant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(clerk)
    preview_of(client, form(csv_file([["w-1", "Ann", tenant.pk]])))  # session and content types warm

    def queries_for(count, prefix):
        rows = [[f"{prefix}-{n}", "Ann", tenant.pk] for n in range(count)]
        with CaptureQueriesContext(connection) as queries:
            assert client.post(IMPORT, form(csv_file(rows))).status_code == 302
        return len(queries.captured_queries)

    assert queries_for(60, "many") == queries_for(3, "few")
    assert account_numbers() == []
