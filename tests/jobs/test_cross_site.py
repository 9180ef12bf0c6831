"""A GET or HEAD never starts a job cross-site (API.md 4.5): with session
authentication a GET that would start an export passes Django's CSRF check
as a POST does, and HEAD never starts one. Real session logins through
``APIClient(enforce_csrf_checks=True)``, as a browser's requests arrive."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from rest_bulk_ext.jobs.models import BulkJob
from tests.testapp.models import JobRecord

pytestmark = pytest.mark.django_db

RECORDS_URL = "/jobs-test/records/bulk/"
# A CSRF secret as Django sets it in the cookie (32 alphanumerics); the
# unmasked secret is also a valid X-CSRFToken.
TOKEN = "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6"


@pytest.fixture
def browser(jobs_settings):
    """A session-authenticated client whose requests get Django's CSRF check."""
    user = get_user_model().objects.create_user("carol", password="pw")
    JobRecord.objects.bulk_create([JobRecord(seq=n, label="x", owner=user) for n in range(5)])
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username="carol", password="pw")
    client.cookies["csrftoken"] = TOKEN
    return client


@pytest.mark.parametrize("query", ["?async=true", "?async=true&export_format=csv"])
def test_a_session_get_that_would_start_an_export_without_the_token_is_a_403_and_starts_nothing(browser, query):
    response = browser.get(RECORDS_URL + query)

    assert response.status_code == 403, response.content
    assert response.json()["detail"].startswith("CSRF Failed")
    assert BulkJob.objects.count() == 0


def test_a_session_get_at_the_threshold_without_the_token_is_a_403(browser, jobs_settings):
    jobs_settings.REST_FRAMEWORK_EXTENSIONS = {**jobs_settings.REST_FRAMEWORK_EXTENSIONS, "BULK_ASYNC_THRESHOLD": 5}

    response = browser.get(RECORDS_URL)

    assert response.status_code == 403, response.content
    assert BulkJob.objects.count() == 0


def test_a_session_get_with_the_token_starts_the_export(browser, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = browser.get(RECORDS_URL + "?async=true", HTTP_X_CSRFTOKEN=TOKEN)

    assert response.status_code == 202, response.content
    assert BulkJob.objects.get().task_id == response.data["task_id"]


def test_a_session_get_answered_inline_needs_no_token(browser):
    response = browser.get(RECORDS_URL)

    assert response.status_code == 200, response.content
    assert response.data["count"] == 5
    assert BulkJob.objects.count() == 0


@pytest.mark.parametrize("token", [None, TOKEN], ids=["without-token", "with-token"])
def test_head_never_starts_a_job(browser, token):
    headers = {"HTTP_X_CSRFTOKEN": token} if token else {}

    response = browser.head(RECORDS_URL + "?async=true", **headers)

    assert response.status_code == 400
    assert BulkJob.objects.count() == 0


def test_head_never_starts_a_job_with_other_authentication(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = client.head(RECORDS_URL + "?async=true")

    assert response.status_code == 400
    assert BulkJob.objects.count() == 0


def test_a_get_authenticated_otherwise_starts_an_export_as_before(client, django_capture_on_commit_callbacks):
    # Basic/token authentication is not sent by a browser on its own.
    with django_capture_on_commit_callbacks(execute=False):
        response = client.get(RECORDS_URL + "?async=true")

    assert response.status_code == 202, response.content
    assert BulkJob.objects.count() == 1
