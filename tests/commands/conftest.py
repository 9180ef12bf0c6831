"""Fixtures of the management command tests: two users, each owning an
account, and files to import."""

import json
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User

from tests.builders import make_account

from .support import CSV_COLUMNS, csv_text


@pytest.fixture
def people(db):
    alice = User.objects.create_user("alice")
    bob = User.objects.create_user("bob")
    return SimpleNamespace(
        alice=alice,
        bob=bob,
        alice_account=make_account("ACC-A", owner=alice),
        bob_account=make_account("ACC-B", owner=bob),
    )


@pytest.fixture
def write_csv(tmp_path):
    """``write_csv(rows, name="txns.csv")``: a CSV file of ``rows`` (dicts of
    ``txn_data``'s columns); its path as a string."""

    def write(rows, name="txns.csv", columns=CSV_COLUMNS):
        path = tmp_path / name
        path.write_text(csv_text(rows, columns), encoding="utf-8")
        return str(path)

    return write


@pytest.fixture
def write_ndjson(tmp_path):
    def write(rows, name="txns.ndjson"):
        path = tmp_path / name
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        return str(path)

    return write
