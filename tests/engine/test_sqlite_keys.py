"""``engine/db/sqlite_keys.py``: the unique checks' lookup with values
prepared per column finds the rows Django's ``In`` lookup finds."""

import datetime

import pytest
from django.db import connection

from rest_bulk_ext.engine import run_bulk_operation
from rest_bulk_ext.engine.db.key_filter import filter_tuples
from rest_bulk_ext.engine.db.sqlite_keys import filter_prepared
from tests.builders import BASE_TIME, make_bare_txns, txn_data
from tests.engine.support import items_of, make_ctx
from tests.testapp.models import Txn

pytestmark = pytest.mark.django_db


def test_the_prepared_lookup_finds_what_djangos_finds(account, other_account):
    make_bare_txns(account, 80)
    stored = list(Txn.objects.values_list("ref", "account", "occurred_at"))
    berlin = datetime.timezone(datetime.timedelta(hours=1))
    # Half stored (one as the same instant in another offset), half not.
    keys = [(ref, account_pk, moment) for ref, account_pk, moment in stored[:40]]
    keys[0] = (keys[0][0], keys[0][1], keys[0][2].astimezone(berlin))
    keys += [(f"new-{n}", other_account.pk, BASE_TIME + datetime.timedelta(days=n)) for n in range(40)]
    for names, tuples in ((("ref",), [k[:1] for k in keys]), (("account", "occurred_at"), [k[1:] for k in keys])):
        queryset = filter_prepared(Txn.objects.all(), names, tuples)
        if connection.vendor != "sqlite":
            assert queryset is None
            continue
        expected = set(filter_tuples(Txn.objects.all(), names, tuples).values_list("pk", flat=True))
        assert set(queryset.values_list("pk", flat=True)) == expected
        assert len(expected) == 40


def test_a_create_meets_its_stored_duplicates_with_the_serializers_message(account):
    make_bare_txns(account, 60)
    taken = list(Txn.objects.order_by("pk").values_list("ref", flat=True))
    datas = [txn_data(account, 1000 + n, ref=taken[n] if n < 5 else f"fresh-{n}") for n in range(60)]
    result = run_bulk_operation(make_ctx("bulk_create"), items_of(datas))
    assert [(e["index"], e["errors"]) for e in result.errors] == [
        (n, {"ref": ["txn with this ref already exists."]}) for n in range(5)
    ]
