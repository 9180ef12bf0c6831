"""A NUL (U+0000), which PostgreSQL's text and jsonb cannot hold, in what a
job stores of its request: the ``Idempotency-Key`` and the CSV column
names. The key is a 400 with nothing stored; a column name gets the answer
the inline request gets (the record keeps the NUL as U+FFFD). The 500 was
PostgreSQL's; the answers are the same on every database."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rest_bulk_ext.jobs.models import BulkIdempotencyRecord, BulkJob
from rest_bulk_ext.jobs.runner import run_job
from tests.testapp.models import JobRecord

pytestmark = pytest.mark.django_db

RECORDS_URL = "/jobs-test/records/bulk/"


def items(count):
    return [{"seq": n, "label": "ok"} for n in range(count)]


@pytest.mark.parametrize("query", ["", "?async=true"], ids=["inline", "job"])
@pytest.mark.parametrize("key", ["abc\x00def", "\x00", "tab\there"])
def test_an_idempotency_key_with_a_control_character_is_a_400_and_nothing_is_stored(client, jobs_settings, query, key):
    response = client.post(RECORDS_URL + query, items(3), format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 400, response.content
    assert response.json() == {
        "detail": "The Idempotency-Key header contains a control character; send printable characters only."
    }
    assert BulkIdempotencyRecord.objects.count() == 0
    assert BulkJob.objects.count() == 0
    assert JobRecord.objects.count() == 0


def test_a_printable_idempotency_key_still_works(client):
    first = client.post(RECORDS_URL, items(3), format="json", HTTP_IDEMPOTENCY_KEY="order 42/é")
    again = client.post(RECORDS_URL, items(3), format="json", HTTP_IDEMPOTENCY_KEY="order 42/é")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert JobRecord.objects.count() == 3


def csv_with_nul_column(rows):
    body = "seq,la\x00bel\n" + "".join(f"{n},ok\n" for n in range(rows))
    return SimpleUploadedFile("records.csv", body.encode(), content_type="text/csv")


def test_a_nul_in_a_csv_column_name_gets_the_inline_answer_as_a_job(
    client, jobs_settings, django_capture_on_commit_callbacks
):
    inline = client.post(RECORDS_URL, {"file": csv_with_nul_column(5)}, format="multipart")
    assert inline.status_code == 201, inline.content
    JobRecord.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(RECORDS_URL + "?async=true", {"file": csv_with_nul_column(5)}, format="multipart")

    assert response.status_code == 202, response.content
    job = BulkJob.objects.get(task_id=response.data["task_id"])
    assert job.payload_columns == ["seq", "la\ufffdbel"]
    run_job(job.pk)
    job.refresh_from_db()
    assert (job.state, job.success_count) == ("SUCCESS", 5)
    assert sorted(JobRecord.objects.values_list("seq", flat=True)) == [0, 1, 2, 3, 4]
