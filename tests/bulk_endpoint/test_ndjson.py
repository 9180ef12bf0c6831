"""Streamed NDJSON input at ``{list}/bulk/``: a raw ``application/x-ndjson``
(or ``application/jsonl``) body or a multipart ``.ndjson``/``.jsonl`` file."""

import io
import json
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from rest_bulk_ext.bulk_endpoint.ndjson_input import inspect_ndjson, ndjson_items, spool
from tests.builders import INLINE, make_txns, txn_data
from tests.models_items import Txn

URL = "/items/txns/bulk/"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline")]


def lines(values):
    return "".join(json.dumps(value) + "\n" for value in values).encode()


def send(api_client, method, body, url=URL, content_type="application/x-ndjson"):
    return api_client.generic(method, url, body, content_type=content_type)


@pytest.mark.parametrize("content_type", ["application/x-ndjson", "application/jsonl", "application/jsonl; charset=utf-8"])
def test_an_ndjson_body_creates_the_rows(api_client, account, content_type):
    response = send(api_client, "POST", lines([txn_data(account, 1), txn_data(account, 2)]), content_type=content_type)
    assert response.status_code == 201, response.data
    assert response.data["created_ids"] == list(Txn.objects.order_by("id").values_list("id", flat=True))
    assert Txn.objects.count() == 2


def test_types_nulls_and_blank_lines_survive_and_errors_carry_the_line(api_client, account):
    body = lines([txn_data(account, 1)]) + b"\n   \n" + lines([txn_data(account, 2, amount=None)])
    response = send(api_client, "POST", body + b"\r\n")
    assert response.status_code == 400
    [error] = response.data["errors"]
    assert (error["index"], error["line"], list(error["errors"])) == (1, 4, ["amount"])
    assert not Txn.objects.exists()


@pytest.mark.parametrize("name", ["rows.ndjson", "ROWS.JSONL"])
def test_a_multipart_ndjson_file_upserts_with_form_options(api_client, account, name):
    [existing] = make_txns(account, 1)
    body = lines([txn_data(account, 0, amount="9.00"), txn_data(account, 3)])
    data = {"file": SimpleUploadedFile(name, body), "unique_fields": "ref"}
    response = api_client.patch(URL, data, format="multipart")
    assert response.status_code == 200, response.data
    assert response.data["updated_ids"] == [existing.pk]
    assert response.data["created_ids"] == [Txn.objects.get(ref="ref-3").pk]


def test_patch_and_delete_by_ndjson(api_client, account):
    rows = make_txns(account, 3)
    response = send(api_client, "PATCH", lines([{"id": rows[0].pk, "description": "x"}]))
    assert response.status_code == 200, response.data
    assert Txn.objects.get(pk=rows[0].pk).description == "x"
    response = send(api_client, "DELETE", lines([rows[1].pk, rows[2].pk]))
    assert response.status_code == 200, response.data
    assert list(Txn.objects.values_list("pk", flat=True)) == [rows[0].pk]


@pytest.mark.parametrize(
    "body, message",
    [
        (b'{"ref": "a"}\n{"ref": \n', "Line 2 is not valid JSON"),
        (b'{"ref": "a"}\n\n[1, 2]\n', "Line 3: expected an object, got array."),
        (b"\n\n", "The file has no items"),
        (b'{"ref": "\xff"}\n', "Line 1 is not UTF-8 text."),
    ],
)
def test_a_malformed_file_is_refused_whole_with_line_numbers(api_client, account, body, message):
    response = send(api_client, "POST", lines([txn_data(account, 1)]) * 0 + body)
    assert response.status_code == 400
    assert response.data["file"][0].startswith(message), response.data
    assert not Txn.objects.exists()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=500)
def test_a_body_over_django_memory_limit_is_streamed_not_refused(api_client, account):
    body = lines([txn_data(account, n) for n in range(20)])
    assert len(body) > 2000
    response = send(api_client, "POST", body)
    assert response.status_code == 201, response.data
    assert Txn.objects.count() == 20


@override_settings(REST_FRAMEWORK_EXTENSIONS={**INLINE, "BULK_UPLOAD_MAX_SIZE": 300})
def test_a_body_over_the_file_size_limit_is_a_413(api_client, account):
    response = send(api_client, "POST", lines([txn_data(account, n) for n in range(5)]))
    assert response.status_code == 413
    assert "BULK_UPLOAD_MAX_SIZE" in response.data["detail"]
    assert not Txn.objects.exists()


@override_settings(REST_FRAMEWORK_EXTENSIONS={**INLINE, "BULK_MAX_ITEMS": 2})
def test_more_lines_than_bulk_max_items_is_a_413(api_client, account):
    response = send(api_client, "POST", lines([txn_data(account, n) for n in range(3)]))
    assert response.status_code == 413
    assert not Txn.objects.exists()


def test_an_idempotency_key_replays_an_ndjson_request(api_client, account, django_user_model):
    api_client.force_authenticate(django_user_model.objects.create_user("alice", password="pw"))
    body = lines([txn_data(account, 1)])
    first = api_client.generic("POST", URL, body, content_type="application/x-ndjson", HTTP_IDEMPOTENCY_KEY="k1")
    again = api_client.generic("POST", URL, body, content_type="application/x-ndjson", HTTP_IDEMPOTENCY_KEY="k1")
    other = api_client.generic(
        "POST", URL, lines([txn_data(account, 2)]), content_type="application/x-ndjson", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 422)
    assert again.data == first.data
    assert Txn.objects.count() == 1


class Lines(io.RawIOBase):
    """A read-once stream of ``count`` NDJSON lines, generated as read."""

    def __init__(self, count):
        self.remaining = count
        self.buffer = b""

    def readable(self):
        return True

    def read(self, size=-1):
        while len(self.buffer) < size and self.remaining:
            self.buffer += b'{"ref": "r-%d", "amount": "1.00", "description": "%s"}\n' % (self.remaining, b"x" * 60)
            self.remaining -= 1
        chunk, self.buffer = self.buffer[:size], self.buffer[size:]
        return chunk


@override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_UPLOAD_MAX_SIZE": None})
def test_spooling_counting_and_reading_keep_memory_flat():
    count = 200_000  # about 20 MB of lines
    file = None
    tracemalloc.start()
    try:
        file, size = spool(Lines(count))
        assert size > 18_000_000
        assert inspect_ndjson(file, operation="bulk_create") == count
        assert sum(1 for _ in ndjson_items(file)) == count
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        if file is not None:
            file.close()
    assert peak < 4_000_000, peak
