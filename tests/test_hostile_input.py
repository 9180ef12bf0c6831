"""Hostile and careless input at ``{list}/bulk/`` and on the list route:
never a 500, always a DRF JSON body, linear cost, nothing written outside
non-atomic mode's valid items (docs/security.md)."""

import io
import json
import time
import uuid

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from rest_bulk_ext.engine.errors import MAX_ECHOED_KEYS, MAX_ECHOED_TEXT
from rest_bulk_ext.jobs.models import BulkIdempotencyRecord, BulkJob, BulkJobChunk
from rest_bulk_ext.jobs.result_files import iter_errors_csv

from .builders import make_account, make_txns, txn_data
from .list_route.support import BULK
from .models_items import CodeItem, Txn
from .models_queryset import Member

URL = "/items/txns/bulk/"
HUGE = 2**70  # beyond every integer column

pytestmark = pytest.mark.usefixtures("inline")


@pytest.fixture
def user(db):
    return User.objects.create_user("hostile")


@pytest.fixture
def client(user):
    # A 500 must show as a 500, not as an exception in the test.
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


@pytest.fixture
def account(db):
    return make_account()


def assert_json(response, status):
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return response.json()


def amounts():
    return dict(Txn.objects.values_list("ref", "amount"))


# --- ids and foreign keys beyond 64 bits -------------------------------------


def test_an_id_beyond_64_bits_is_an_item_error_in_non_atomic_mode(client, account):
    (txn,) = make_txns(account, 1)
    body = [{"id": HUGE, "amount": "1.00"}, {"id": txn.pk, "amount": "7.00"}]
    result = assert_json(client.patch(URL + "?atomic=false", body, format="json"), 200)
    assert result["errors"][0]["errors"] == {"id": ["Not found."]}
    assert result["updated_ids"] == [txn.pk]
    assert str(Txn.objects.get().amount) == "7.00"


def test_deleting_an_id_beyond_64_bits_is_an_item_error(client, account):
    (txn,) = make_txns(account, 1)
    result = assert_json(client.delete(URL + "?atomic=false", [HUGE, txn.pk], format="json"), 200)
    assert result["errors"][0]["errors"] == {"id": ["Not found."]}
    assert not Txn.objects.exists()


@pytest.mark.parametrize("atomic", ["true", "false"])
def test_a_foreign_key_beyond_64_bits_is_an_item_error(client, account, atomic):
    body = [{**txn_data(account, 1), "account": HUGE}, txn_data(account, 2)]
    response = client.post(f"{URL}?atomic={atomic}", body, format="json")
    result = assert_json(response, 400 if atomic == "true" else 201)
    assert "does not exist" in result["errors"][0]["errors"]["account"][0]
    assert sorted(amounts()) == ([] if atomic == "true" else ["ref-2"])


# --- {"filters": ...} ---------------------------------------------------------


def retrieve(client, body):
    return client.generic("GET", URL, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("lookup,value", [("contains", "1"), ("icontains", "1"), ("range", [1, 2])])
def test_a_lookup_a_foreign_key_does_not_support_is_a_400(client, account, lookup, value):
    result = assert_json(retrieve(client, {"filters": {"account": {lookup: value}}}), 400)
    assert f"Lookup '{lookup}' is not allowed on 'account'" in result["filters"]["account"][0]


def test_a_nul_character_in_a_filter_value_is_a_400(client, account):
    make_txns(account, 1)
    for filters in ({"ref": "a\x00b"}, {"ref": {"in": ["x", "a\x00"]}}, {"ref": {"contains": "\x00"}}):
        result = assert_json(retrieve(client, {"filters": filters}), 400)
        assert "Null characters are not allowed." in json.dumps(result)


def test_a_nul_character_in_a_string_id_names_no_row(client, db):
    result = assert_json(client.delete("/items/code-items/bulk/?atomic=false", ["a\x00b"], format="json"), 400)
    assert result["errors"][0]["errors"] == {"code": ["Not found."]}


# --- failed items echoed safely -------------------------------------------------


def test_infinity_in_a_failed_item_is_echoed_as_text_and_the_valid_rows_stay(client, account):
    body = '[{"ref": "bad", "amount": 1e400}, %s]' % json.dumps(txn_data(account, 2))
    response = client.post(URL + "?atomic=false", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    result = assert_json(response, 201)
    assert result["errors"][0]["data"] == {"ref": "bad", "amount": "Infinity"}
    assert sorted(amounts()) == ["ref-2"]
    # The answer could be stored for the key, and is replayed.
    assert BulkIdempotencyRecord.objects.get().status_code == 201
    again = client.post(URL + "?atomic=false", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    assert assert_json(again, 201) == result
    assert again["Idempotent-Replayed"] == "true"


def test_a_nul_character_in_a_failed_item_is_replaced_and_stored(client, account):
    body = [txn_data(account, 1, kind="de\x00bit", description="x\x00y"), txn_data(account, 2)]
    response = client.post(URL + "?atomic=false", body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    result = assert_json(response, 201)
    data = result["errors"][0]["data"]
    assert data["kind"] == "de\ufffdbit" and data["description"] == "x\ufffdy"
    assert "\x00" not in json.dumps(result["errors"][0]["errors"], ensure_ascii=False)
    again = client.post(URL + "?atomic=false", body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert again["Idempotent-Replayed"] == "true"
    assert sorted(amounts()) == ["ref-2"]


def test_a_failed_item_with_40000_keys_is_echoed_capped(client, account):
    item = {f"k{n}": n for n in range(40_000)}
    item.update(ref="bad", amount="x" * 50_000)
    started = time.monotonic()
    response = client.post(URL + "?atomic=false", [item, txn_data(account, 2)], format="json")
    assert time.monotonic() - started < 10
    data = assert_json(response, 201)["errors"][0]["data"]
    assert len(data) == MAX_ECHOED_KEYS + 1  # and the marker saying how many more
    assert data["\u2026"] == f"{40_002 - MAX_ECHOED_KEYS} more keys"


def test_a_long_value_in_a_failed_item_is_cut(client, account):
    response = client.post(URL + "?atomic=false", [txn_data(account, 1, amount="9" * 50_000)], format="json")
    data = assert_json(response, 400)["errors"][0]["data"]
    assert data["amount"] == "9" * MAX_ECHOED_TEXT + "\u2026"


# --- bodies the parser cannot take ----------------------------------------------

DEEP = "[" * 10_000 + "]" * 10_000


@pytest.mark.parametrize("method", ["post", "patch", "put", "delete"])
def test_json_nested_10000_levels_is_a_400_at_bulk(client, account, method):
    response = getattr(client, method)(URL, DEEP, content_type="application/json")
    assert "nested too deeply" in assert_json(response, 400)["detail"]
    assert not Txn.objects.exists()


def test_json_nested_10000_levels_is_a_400_on_the_list_route(alice_client, world):
    response = alice_client.patch("/qs/members/", DEEP, content_type="application/json", **BULK)
    assert "nested too deeply" in assert_json(response, 400)["detail"]
    assert not Member.objects.filter(nickname__gt="").exists()


def test_an_oversized_list_route_patch_is_a_413_json(alice_client, world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = alice_client.patch("/qs/members/", {"display_name": "x" * 5000}, format="json", **BULK)
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in assert_json(response, 413)["detail"]
    assert not Member.objects.filter(nickname__gt="").exists()


def test_too_many_multipart_fields_is_a_400_json(client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    data = {f"f{n}": "1" for n in range(10)}
    data["file"] = SimpleUploadedFile("a.csv", b"ref\nx\n")
    response = client.post(URL, data, format="multipart")
    assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" in assert_json(response, 400)["detail"]


def test_too_many_multipart_files_is_a_400_json(client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    data = {f"file{n}": SimpleUploadedFile(f"a{n}.csv", b"ref\nx\n") for n in range(5)}
    response = client.post(URL, data, format="multipart")
    assert "DATA_UPLOAD_MAX_NUMBER_FILES" in assert_json(response, 400)["detail"]


# --- quadratic inputs -------------------------------------------------------------


def test_a_csv_header_with_80000_duplicate_names_is_refused_quickly_and_briefly(client):
    header = ",".join(f"c{n % 80_000}" for n in range(160_000))
    upload = SimpleUploadedFile("t.csv", (header + "\n" + "," * 159_999 + "\n").encode())
    started = time.monotonic()
    response = client.post(URL, {"file": upload}, format="multipart")
    elapsed = time.monotonic() - started
    messages = assert_json(response, 400)["file"]
    assert elapsed < 5, elapsed  # 37 s before the fix
    duplicates = next(message for message in messages if "duplicate column names" in message)
    assert duplicates.endswith("and 79980 more.")
    assert len(duplicates) < 1000


def test_errors_csv_of_an_item_with_40000_keys_is_linear(user):
    job = BulkJob.objects.create(
        task_id=str(uuid.uuid4()), owner=user, operation_type="bulk_update", state="SUCCESS",
        view_path="tests.views_items.TxnViewSet", action="bulk", http_method="PATCH",
    )
    wide = {f"k{n}": n for n in range(40_000)}
    BulkJobChunk.objects.create(
        job=job, number=0, outcomes=[[0, None, "failed"], [1, None, "failed"]],
        errors=[{"index": 0, "error": "bad", "data": wide}, {"index": 1, "error": "bad", "data": {"k1": 1}}],
    )
    started = time.monotonic()
    lines = "".join(iter_errors_csv(job)).splitlines()
    assert time.monotonic() - started < 3  # 12.6 s before the fix
    assert len(lines) == 3
    assert lines[0].split(",")[:2] == ["k0", "k1"] and lines[0].endswith(",error")
    assert lines[2].split(",")[:2] == ["", "1"]


# --- CSV files the library writes -------------------------------------------------


def test_errors_csv_cells_that_start_a_formula_are_escaped_but_numbers_are_kept(user, settings):
    job = BulkJob.objects.create(
        task_id=str(uuid.uuid4()), owner=user, operation_type="bulk_create", state="SUCCESS",
        view_path="tests.views_items.TxnViewSet", action="bulk", http_method="POST",
    )
    data = {
        "ref": '=HYPERLINK("http://evil","x")', "kind": "+cmd|' /C calc'!A0", "email": "@SUM(1+1)",
        "description": "-2+3", "amount": "-25.75", "tab": "\tx", "cr": "\rx", "plain": "hello", "n": -3,
        "@head": "1e5",
    }
    # The columns of an upload, in its order (a JSON column may reorder keys).
    job.payload_columns = list(data)
    job.save()
    BulkJobChunk.objects.create(
        job=job, number=0, outcomes=[[0, None, "failed"]], errors=[{"index": 0, "error": "=1+1", "data": data}],
    )

    import csv

    rows = list(csv.reader(io.StringIO("".join(iter_errors_csv(job)))))
    assert rows[0] == ["ref", "kind", "email", "description", "amount", "tab", "cr", "plain", "n", "'@head", "error"]
    assert rows[1] == [
        "'=HYPERLINK(\"http://evil\",\"x\")", "'+cmd|' /C calc'!A0", "'@SUM(1+1)", "'-2+3", "-25.75",
        "'\tx", "'\rx", "hello", "-3", "1e5", "'=1+1",
    ]
    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_CSV_ESCAPE_FORMULAS": False}
    rows = list(csv.reader(io.StringIO("".join(iter_errors_csv(job)))))
    assert rows[1][0] == '=HYPERLINK("http://evil","x")'


# --- values the database cannot hold ----------------------------------------------


@pytest.mark.parametrize("atomic", ["true", "false"])
def test_a_value_the_database_cannot_hold_is_an_item_error_on_every_database(client, atomic):
    """The serializer lets an integer past 64 bits through; every database
    refuses it. Non-atomic: an item error and the other item written;
    atomic: a 400 and nothing written. Never a 500."""
    body = [{"code": "a", "label": "ok", "quantity": HUGE}, {"code": "b", "label": "ok", "quantity": 2}]
    response = client.post(f"/sec/loose-code-items/bulk/?atomic={atomic}", body, format="json")
    if atomic == "true":
        assert_json(response, 400)
        assert not CodeItem.objects.exists()
    else:
        result = assert_json(response, 201)
        assert [error["index"] for error in result["errors"]] == [0]
        assert result["errors"][0]["data"]["quantity"] == HUGE
        assert list(CodeItem.objects.values_list("code", flat=True)) == ["b"]


def test_a_job_stores_failed_items_with_nul_and_infinity_and_keeps_its_valid_rows(
    user, client, account, jobs_settings, django_capture_on_commit_callbacks
):
    """The chunk record of a job holds the failed items (made safe), so the
    job ends SUCCESS with its valid rows, and errors.csv can be downloaded."""
    from rest_bulk_ext.jobs.runner import run_job

    body = '[{"ref": "inf", "amount": 1e400}, {"ref": "nul\\u0000", "amount": "x"}, %s]' % json.dumps(
        txn_data(account, 3)
    )
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(URL + "?async=true&atomic=false", body, content_type="application/json")
    job = BulkJob.objects.get(task_id=assert_json(response, 202)["task_id"])
    run_job(job.pk)
    job.refresh_from_db()
    assert job.state == "SUCCESS", job.failure_detail
    assert (job.success_count, job.error_count) == (1, 2)
    assert sorted(amounts()) == ["ref-3"]
    errors = b"".join(client.get(f"/api/bulk-operations/{job.task_id}/errors.csv").streaming_content).decode()
    assert "Infinity" in errors and "nul\ufffd" in errors
