"""The per-chunk unique checks and upsert key lookups with each column's
values as one typed array (PostgreSQL, ``engine/db/key_filter.py``): the
same errors as the ``IN`` lists everywhere else, at chunk sizes above
``MIN_VALUES``."""

import datetime
import uuid

import pytest
from django.db import connection, models
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from rest_bulk_ext.engine import run_bulk_operation
from rest_bulk_ext.engine.db.key_filter import MIN_VALUES, filter_tuples, filter_values, typed_array
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
        selects = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
        # the refs as one text array, the candidates' exact (account,
        # occurred_at) tuples as two arrays, each joined through unnest
        unnests = [sql for sql in selects if "IN (SELECT * FROM unnest(" in sql]
        assert len(unnests) == 2
        assert any("::text[]" in sql for sql in unnests)
        assert any("::bigint[]" in sql and "::timestamptz[]" in sql for sql in unnests)


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
    ("field", "values", "cast"),
    [
        (models.CharField(max_length=10), ["v1", "it's \"quoted\", {braced}"], "text[]"),
        (models.EmailField(), ["a@example.com"], "text[]"),
        (models.DateTimeField(), [BASE_TIME, BASE_TIME.astimezone(datetime.timezone(datetime.timedelta(hours=5)))], "timestamptz[]"),
        (models.DateField(), [datetime.date(2026, 1, 2)], "date[]"),
        (models.UUIDField(), [uuid.uuid4()], "uuid[]"),
        (models.BigIntegerField(), [1, 2**63 - 1], "bigint[]"),
        (Txn._meta.get_field("account"), [1, 2], "bigint[]"),
        (models.BigIntegerField(), [2**63], None),  # beyond the column: Django's path decides
        (models.DateTimeField(), [datetime.datetime(2026, 1, 1)], None),  # naive: Django makes it aware
        (models.BooleanField(), [True, False], None),
        (models.DecimalField(max_digits=5, decimal_places=2), [1, 2], None),
        (models.GenericIPAddressField(), ["10.0.0.1"], None),  # an inet column, not text
        (models.JSONField(), [{"a": 1}], None),
        (_ShoutingCharField(max_length=10), ["v"], None),  # adapts values its own way
    ],
)
def test_only_plain_columns_become_typed_arrays_and_only_on_postgresql(field, values, cast):
    result = typed_array(field, values, connection)

    if connection.vendor != "postgresql" or cast is None:
        assert result is None
    else:
        assert result.cast == cast


def test_few_values_keep_the_in_list():
    sql = str(filter_values(Txn.objects.all(), "ref", {f"r{i}" for i in range(MIN_VALUES - 1)}).query)
    assert "unnest" not in sql and " IN (" in sql


def test_a_stored_string_with_array_syntax_in_it_is_found(account):
    tricky = ['a"b', "c,d", "{e}", "f\\g", "h i", "NULL", ""]
    datas = [txn_data(account, i) for i in range(N)]
    for i, ref in enumerate(tricky):
        make_bare_txns(account, 1, start=2000 + i)
        Txn.objects.filter(ref=f"ref-{2000 + i}").update(ref=ref)
        datas[i]["ref"] = ref

    result = run_bulk_operation(make_ctx("bulk_create", atomic=False), items_of(datas))

    refused = {e["index"] for e in result.errors if e["errors"] == UNIQUE_REF}
    assert refused == {i for i, ref in enumerate(tricky) if ref}  # "" is refused by the field itself


@pytest.mark.skipif(connection.vendor != "postgresql", reason="typed arrays are PostgreSQL's")
def test_lookups_probe_the_index_on_a_table_grown_inside_the_transaction(account):
    # 30,000 rows the planner has never counted (they are uncommitted, as in
    # a large request's or job's transaction): given the array's 1,000
    # elements it would hash them and scan the whole table; the scalar
    # subquery keeps it to index probes (module docstring).
    Txn.objects.bulk_create(
        [
            Txn(
                ref=f"ref-{n}",
                account=account,
                amount=n,
                occurred_at=BASE_TIME + datetime.timedelta(minutes=n),
                email="u@example.com",
            )
            for n in range(30_000)
        ],
        batch_size=2_000,
    )
    keys = range(29_500, 30_500)  # half stored
    refs = filter_values(Txn.objects.all(), "ref", [f"ref-{n}" for n in keys])
    pairs = filter_tuples(
        Txn.objects.all(),
        ["account", "occurred_at"],
        [(account.pk, BASE_TIME + datetime.timedelta(minutes=n)) for n in keys],
    )

    for queryset in (refs, pairs):
        plan = queryset.explain()
        assert "unnest" in str(queryset.query)
        assert "Seq Scan on tests_txn" not in plan, plan
        assert "Index" in plan, plan
        assert queryset.count() == 500
