"""The per-chunk unique checks with each set's keys as one array parameter
(PostgreSQL, ``engine/db/any_array.py::prepared_array``): the same errors as
the short ``IN`` lists everywhere else, at chunk sizes above ``MIN_VALUES``."""

import datetime
import uuid

import pytest
from django.db import connection, models
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from rest_bulk_ext.engine import run_bulk_operation
from rest_bulk_ext.engine.db.any_array import MIN_VALUES, prepared_array
from tests.builders import BASE_TIME, make_bare_txns, txn_data
from tests.engine.support import items_of, make_ctx
from tests.models_items import Txn, UUIDItem
from tests.serializers_items import UUIDItemSerializer

pytestmark = pytest.mark.django_db

N = MIN_VALUES + 30
UNIQUE_REF = {"ref": ["txn with this ref already exists."]}
UNIQUE_PAIR = {"non_field_errors": ["The fields account, occurred_at must make a unique set."]}


def test_many_new_rows_clashing_with_stored_ones_are_refused_the_others_written(account):
    make_bare_txns(account, 3, start=1000)  # refs ref-1000..1002, times BASE + 1000..1002 min
    datas = [txn_data(account, i) for i in range(N)]
    datas[5]["ref"] = "ref-1001"  # a stored ref
    datas[9]["occurred_at"] = (BASE_TIME + datetime.timedelta(minutes=1002)).isoformat()  # a stored pair
    datas[12]["ref"] = datas[3]["ref"]  # twice in the request

    with CaptureQueriesContext(connection) as captured:
        result = run_bulk_operation(make_ctx("bulk_create", atomic=False), items_of(datas))

    assert {e["index"]: e["errors"] for e in result.errors} == {
        5: UNIQUE_REF,
        9: UNIQUE_PAIR,
        12: {"ref": ["Duplicate of item 3 in this request."]},
    }
    assert Txn.objects.count() == 3 + N - 3
    assert not Txn.objects.filter(occurred_at=BASE_TIME + datetime.timedelta(minutes=9)).exists()
    if connection.vendor == "postgresql":
        arrays = [q for q in captured.captured_queries if q["sql"].startswith("SELECT") and "= ANY(" in q["sql"]]
        # ref = ANY(…) for the ref set, occurred_at = ANY(…) for the pair (its
        # one account stays a short IN list)
        assert len(arrays) == 2


@override_settings(TIME_ZONE="Asia/Kolkata")
def test_a_stored_instant_sent_in_another_offset_is_the_same_key(account):
    make_bare_txns(account, 2, start=500)
    first, second = (BASE_TIME + datetime.timedelta(minutes=minutes) for minutes in (500, 501))
    datas = [txn_data(account, i) for i in range(N)]
    # stored instants, written at +05:30 and at -03:00
    datas[7]["occurred_at"] = first.astimezone(datetime.timezone(datetime.timedelta(hours=5, minutes=30))).isoformat()
    datas[8]["occurred_at"] = second.astimezone(datetime.timezone(datetime.timedelta(hours=-3))).isoformat()

    result = run_bulk_operation(make_ctx("bulk_create", atomic=False), items_of(datas))

    assert {e["index"]: e["errors"] for e in result.errors} == {7: UNIQUE_PAIR, 8: UNIQUE_PAIR}
    assert Txn.objects.filter(occurred_at__in=[first, second]).count() == 2


def test_many_updates_taking_other_rows_refs_are_refused_keeping_their_own_is_not(account):
    stored = make_bare_txns(account, N)
    datas = [{"id": t.pk, "ref": f"new-{i}"} for i, t in enumerate(stored)]
    datas[4]["ref"] = stored[20].ref  # another stored row's ref
    datas[6]["ref"] = stored[6].ref  # its own ref: unchanged, no conflict
    datas[20]["ref"] = stored[4].ref  # swapping with item 4: row 4 still holds it when checked

    result = run_bulk_operation(make_ctx("bulk_update", atomic=False), items_of(datas))

    assert {e["index"]: e["errors"] for e in result.errors} == {4: UNIQUE_REF, 20: UNIQUE_REF}
    refs = dict(Txn.objects.values_list("pk", "ref"))
    assert refs[stored[6].pk] == stored[6].ref and refs[stored[10].pk] == "new-10"
    assert refs[stored[4].pk] == stored[4].ref and refs[stored[20].pk] == stored[20].ref


def test_uuid_keyed_rows_with_many_names_find_the_stored_name():
    UUIDItem.objects.create(name="taken")
    datas = [{"name": f"n{i}"} for i in range(N)]
    datas[11]["name"] = "taken"

    result = run_bulk_operation(
        make_ctx("bulk_create", queryset=UUIDItem.objects.all(), serializer_class=UUIDItemSerializer, atomic=False),
        items_of(datas),
    )

    assert [(e["index"], e["errors"]) for e in result.errors] == [(11, {"name": ["uuid item with this name already exists."]})]
    assert UUIDItem.objects.count() == N


class _ShoutingCharField(models.CharField):
    """A subclass that adapts values its own way: never sent as an array."""

    def get_prep_value(self, value):
        return super().get_prep_value(value).upper()


@pytest.mark.parametrize(
    ("field", "values", "array"),
    [
        (models.CharField(max_length=10), [f"v{i}" for i in range(MIN_VALUES)], True),
        (models.DateTimeField(), [BASE_TIME + datetime.timedelta(seconds=i) for i in range(MIN_VALUES)], True),
        (models.UUIDField(), [uuid.uuid4() for _ in range(MIN_VALUES)], True),
        (models.CharField(max_length=10), [f"v{i}" for i in range(MIN_VALUES - 1)], False),  # too few
        (models.BooleanField(), [True, False] * MIN_VALUES, False),  # bool is not an int to PostgreSQL
        (models.DecimalField(max_digits=5, decimal_places=2), list(range(MIN_VALUES)), False),
        (models.JSONField(), [{"a": i} for i in range(MIN_VALUES)], False),
    ],
)
def test_only_plain_types_become_arrays_and_only_on_postgresql(field, values, array):
    result = prepared_array(field, values, connection)

    if connection.vendor != "postgresql" or not array:
        assert result is None
    else:
        assert result is not None and len(result) == len(values)


def test_a_custom_field_adapts_its_values_before_they_are_sent():
    values = [f"v{i}" for i in range(MIN_VALUES)]

    result = prepared_array(_ShoutingCharField(max_length=10), values, connection)

    if connection.vendor == "postgresql":
        assert result == [value.upper() for value in values]
    else:
        assert result is None


@pytest.mark.parametrize("unique_fields", [("ref",), ("account", "occurred_at")])
def test_a_many_key_upsert_matches_stored_keys_and_refuses_rows_outside_its_scope(account, other_account, unique_fields):
    mine = make_bare_txns(account, N // 2)
    theirs = make_bare_txns(other_account, 2, start=5000)
    datas = [txn_data(account, i, description=f"up {i}") for i in range(N)]
    # a key that only another tenant's row holds
    datas[-1].update(ref=theirs[0].ref, account=other_account.pk, occurred_at=theirs[0].occurred_at.isoformat())
    ctx = make_ctx(
        "bulk_upsert", Txn.objects.filter(account__tenant=account.tenant), unique_fields=unique_fields, atomic=False
    )

    with CaptureQueriesContext(connection) as captured:
        result = run_bulk_operation(ctx, items_of(datas))

    assert [(e["index"], e["errors"]) for e in result.errors] == [
        (N - 1, {"non_field_errors": ["A row with these values exists but cannot be updated through this endpoint."]})
    ]
    assert sorted(result.updated_ids) == [t.pk for t in mine]
    assert len(result.created_ids) == N - len(mine) - 1
    assert Txn.objects.filter(account=account, description__startswith="up ").count() == N - 1
    assert Txn.objects.get(pk=theirs[0].pk).description == ""
    if connection.vendor == "postgresql":
        selects = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
        assert any("= ANY(" in sql for sql in selects)
