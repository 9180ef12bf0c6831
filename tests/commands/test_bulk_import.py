"""``manage.py bulk_import`` through ``call_command``: rows in the database,
the exit status, the summary and errors.csv."""

import csv
import io
import os
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.builders import txn_data
from tests.models_items import Txn

from .support import OWN_TXNS, TXNS

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.commands.urls")]


def run(*args, **options):
    """``(stdout, stderr, returncode)`` of ``bulk_import``; a ``CommandError``
    gives its ``returncode`` and its message on stderr, as ``manage.py`` does."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("bulk_import", *args, stdout=out, stderr=err, **options)
    except CommandError as exc:
        err.write(f"CommandError: {exc}\n")
        return out.getvalue(), err.getvalue(), exc.returncode
    return out.getvalue(), err.getvalue(), 0


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def test_import_creates_the_rows_and_exits_zero(people, write_csv):
    path = write_csv([txn_data(people.alice_account, n) for n in range(3)])

    out, err, code = run(TXNS, path)

    assert code == 0
    assert sorted(Txn.objects.values_list("ref", flat=True)) == ["ref-0", "ref-1", "ref-2"]
    assert Txn.objects.get(ref="ref-1").amount == Decimal("1.50")
    assert out == "3 items: 3 created, 0 updated, 0 failed.\n"
    assert "Processed 3 of 3 rows (100%)" in err
    assert not os.path.exists(path.replace(".csv", ".errors.csv"))


def test_a_failed_item_goes_to_errors_csv_and_exits_three(people, write_csv):
    rows = [txn_data(people.alice_account, 0), txn_data(people.alice_account, 1, amount="lots")]
    path = write_csv(rows)

    out, err, code = run(TXNS, path, atomic=False)

    assert code == 3
    assert list(Txn.objects.values_list("ref", flat=True)) == ["ref-0"]
    errors_csv = path.replace(".csv", ".errors.csv")
    assert out == f"2 items: 1 created, 0 updated, 1 failed.\nerrors.csv: {errors_csv}\n"
    assert "CommandError: 1 of 2 items failed." in err
    assert read_csv(errors_csv) == [
        ["ref", "account", "amount", "occurred_at", "email", "kind", "description", "error"],
        [
            "ref-1",
            str(people.alice_account.pk),
            "lots",
            rows[1]["occurred_at"],
            "user1@example.com",
            "debit",
            "row 1",
            "amount: A valid number is required.",
        ],
    ]


def test_an_atomic_import_with_a_failed_item_writes_nothing(people, write_csv, tmp_path):
    path = write_csv([txn_data(people.alice_account, 0), txn_data(people.alice_account, 1, email="nope")])
    target = str(tmp_path / "elsewhere.csv")

    out, _err, code = run(TXNS, path, atomic=True, errors_csv=target)

    assert code == 3
    assert Txn.objects.count() == 0
    assert "2 items: 0 created, 0 updated, 1 failed." in out
    assert "The import is atomic: nothing is written while any item fails" in out
    assert [row[0] for row in read_csv(target)] == ["ref", "ref-1"]
    assert read_csv(target)[1][-1] == "email: Enter a valid email address."


def test_dry_run_writes_nothing_and_reports_what_would_happen(people, write_csv):
    Txn.objects.create(**{**txn_data(people.alice_account, 0), "account": people.alice_account})
    path = write_csv([txn_data(people.alice_account, n, description="new") for n in range(3)])

    out, err, code = run(TXNS, path, upsert="ref", dry_run=True)

    assert code == 0
    assert out == "Dry run, nothing written: 3 items; 2 would be created, 1 would be updated, 0 failed.\n"
    assert "Checked 3 of 3 rows (100%)" in err
    assert list(Txn.objects.values_list("ref", "description")) == [("ref-0", "row 0")]


def test_dry_run_with_a_failed_item_exits_three_and_writes_nothing(people, write_csv):
    path = write_csv([txn_data(people.alice_account, 0), txn_data(people.alice_account, 1, kind="gift")])

    out, _err, code = run(TXNS, path, dry_run=True, atomic=False)

    assert code == 3
    assert out.startswith("Dry run, nothing written: 2 items; 1 would be created, 0 would be updated, 1 failed.")
    assert Txn.objects.count() == 0


def test_upsert_updates_only_the_update_fields(people, write_csv):
    Txn.objects.create(**{**txn_data(people.alice_account, 0), "account": people.alice_account})
    rows = [txn_data(people.alice_account, 0, amount="99.00", description="changed"), txn_data(people.alice_account, 1)]
    path = write_csv(rows)

    out, _err, code = run(TXNS, path, "--upsert", "ref", "--update-fields", "description")

    assert code == 0
    assert out == "2 items: 1 created, 1 updated, 0 failed.\n"
    kept = Txn.objects.get(ref="ref-0")
    assert (kept.amount, kept.description) == (Decimal("0.50"), "changed")
    assert Txn.objects.filter(ref="ref-1").exists()


def test_an_upsert_on_a_field_the_view_does_not_allow_is_refused(people, write_csv):
    path = write_csv([txn_data(people.alice_account, 0)])

    _out, err, code = run(TXNS, path, upsert=["email"])

    assert code == 1
    assert "The import was refused (400), nothing written:\n--upsert: " in err
    assert Txn.objects.count() == 0


def test_update_fields_without_upsert_is_refused(people, write_csv):
    path = write_csv([txn_data(people.alice_account, 0)])

    _out, err, code = run(TXNS, path, update_fields="description")

    assert code == 1
    assert "--update-fields applies to an upsert" in err
    assert Txn.objects.count() == 0


def test_ndjson_files_are_imported(people, write_ndjson):
    path = write_ndjson([txn_data(people.alice_account, n) for n in range(2)])

    out, _err, code = run(TXNS, path)

    assert code == 0
    assert out == "2 items: 2 created, 0 updated, 0 failed.\n"
    assert Txn.objects.count() == 2


def test_a_file_the_api_refuses_is_refused_with_its_message(people, tmp_path):
    path = tmp_path / "txns.txt"
    path.write_text("ref\nx\n")

    _out, err, code = run(TXNS, str(path))

    assert code == 1
    assert "FILE: Only .csv, .xlsx, .ndjson and .jsonl files are accepted, not 'txns.txt'." in err


def test_a_missing_file_is_a_command_error(people, tmp_path):
    _out, err, code = run(TXNS, str(tmp_path / "nowhere.csv"))

    assert code == 1
    assert "Cannot read" in err and "No such file or directory" in err


def test_the_view_permissions_apply_to_the_shell(people, write_csv):
    path = write_csv([txn_data(people.alice_account, 0)])

    _out, err, code = run(OWN_TXNS, path)

    assert code == 1
    assert "The import was refused (403), nothing written:\nAuthentication credentials were not provided." in err
    assert Txn.objects.count() == 0


def test_a_user_cannot_import_into_another_users_account(people, write_csv):
    """The serializer's related field is scoped to the requesting user's
    accounts (``ScopedTxnSerializer``): the shell user is that user."""
    path = write_csv([txn_data(people.alice_account, 0), txn_data(people.bob_account, 1)])

    out, _err, code = run(OWN_TXNS, path, user="bob", atomic=False)

    assert code == 3
    assert out.startswith("2 items: 1 created, 0 updated, 1 failed.")
    assert list(Txn.objects.values_list("ref", "account__owner__username")) == [("ref-1", "bob")]


def test_an_unknown_user_or_viewset_is_a_command_error(people, write_csv):
    path = write_csv([txn_data(people.alice_account, 0)])

    assert "No user with username 'carol'." in run(TXNS, path, user="carol")[1]
    assert "has no BulkOperationsMixin" in run("tests.commands.views.NotBulkViewSet", path)[1]
    assert "Cannot import the viewset" in run("tests.commands.views.Nothing", path)[1]
    assert Txn.objects.count() == 0


@override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_CHUNK_SIZE": 2})
def test_progress_lines_follow_the_chunks(people, write_csv):
    path = write_csv([txn_data(people.alice_account, n) for n in range(5)])

    _out, err, code = run(TXNS, path)

    assert code == 0
    lines = err.splitlines()
    # The job's throttle: the first chunk, then the last numbers.
    assert lines[0] == "Processed 2 of 5 rows (40%)"
    assert lines[-1] == "Processed 5 of 5 rows (100%)"


def test_the_shell_runs_inline_above_the_async_threshold(people, write_csv):
    path = write_csv([txn_data(people.alice_account, n) for n in range(3)])

    with override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_ASYNC_THRESHOLD": 2}):
        out, _err, code = run(TXNS, path)

    assert code == 0
    assert out == "3 items: 3 created, 0 updated, 0 failed.\n"


def test_the_command_runs_the_queries_of_the_api_request(people, write_csv, tmp_path):
    """The same request: the command's queries are the upload's through the API."""
    rows = [txn_data(people.alice_account, n) for n in range(4)]
    path = write_csv(rows)
    with CaptureQueriesContext(connection) as shell:
        assert run(TXNS, path, user="alice", atomic=False)[2] == 0
    Txn.objects.all().delete()
    client = APIClient()
    client.force_authenticate(people.alice)
    with open(path, "rb") as file, CaptureQueriesContext(connection) as api:
        response = client.post("/shell/txns/bulk/?atomic=false", {"file": file}, format="multipart")
    assert response.status_code == 201, response.data
    # The command looks its user up first; the rest is the API's.
    assert len(shell) == len(api) + 1
    assert Txn.objects.count() == 4


def test_delimiter_and_encoding_go_with_the_upload_as_its_form_fields(people, write_csv):
    from .views import FormFieldsTxnViewSet

    FormFieldsTxnViewSet.seen_fields = []
    path = write_csv([txn_data(people.alice_account, 0)])

    _out, _err, code = run("tests.commands.views.FormFieldsTxnViewSet", path, delimiter=",", encoding="utf-8")

    assert code == 0
    assert FormFieldsTxnViewSet.seen_fields == [{"delimiter": ",", "encoding": "utf-8"}]
    assert Txn.objects.count() == 1
