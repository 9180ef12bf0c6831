"""Unique values checked a chunk at a time (engine/uniqueness.py): compared as
the database's collation compares them, and the validators it cannot batch
still run per item."""

import pytest
from django.db import connection

from rest_bulk_ext.engine import run_bulk_operation
from tests.builders import make_bare_txns, txn_data
from tests.engine.support import items_of, make_ctx
from tests.testapp.models import Txn

pytestmark = pytest.mark.django_db


def test_unique_values_compare_as_the_database_collation_does(account):
    make_bare_txns(account, 1)  # ref-0
    data = txn_data(account, 5, ref="REF-0")

    result = run_bulk_operation(make_ctx("bulk_create"), items_of([data]))

    if connection.vendor == "mysql":
        # utf8mb4_unicode_ci: "REF-0" and "ref-0" are the same key.
        assert result.errors[0]["errors"] == {"ref": ["txn with this ref already exists."]}
    else:
        assert result.errors == [] and Txn.objects.filter(ref="REF-0").exists()


def test_a_unique_validator_the_engine_cannot_batch_still_runs_per_item(account):
    from rest_framework.validators import UniqueValidator

    from tests.testapp.serializers import TxnSerializer

    class CaseInsensitiveRef(TxnSerializer):
        class Meta(TxnSerializer.Meta):
            extra_kwargs = {"ref": {"validators": [UniqueValidator(Txn.objects.all(), lookup="iexact")]}}

    make_bare_txns(account, 1)

    result = run_bulk_operation(
        make_ctx("bulk_create", serializer_class=CaseInsensitiveRef), items_of([txn_data(account, 5, ref="REF-0")])
    )

    assert result.errors[0]["errors"] == {"ref": ["This field must be unique."]}
