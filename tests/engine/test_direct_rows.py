"""``engine/db/direct_rows.py``: a create's rows written straight from the
validated data store what the instance path stores, and anything a model
instance could change keeps the instance path."""

import datetime

import pytest
from django.db import connection
from django.db.models.signals import post_init
from django.utils import timezone
from rest_framework import serializers

from rest_bulk_ext.engine import processors, run_bulk_operation
from rest_bulk_ext.engine.db.direct_rows import insert_direct_rows, row_plan
from tests.builders import txn_data
from tests.engine.support import items_of, make_ctx
from tests.testapp.models import Account, Note, Tenant, Txn, UUIDItem

pytestmark = pytest.mark.django_db

COLUMNS = ["account_id", "amount", "occurred_at", "email", "kind", "description"]
# Above BULK_POSTGRES_COPY_MIN_ROWS: PostgreSQL writes the chunk by COPY.
N = 150


def create(datas, serializer_class=None, queryset=None):
    kwargs = {} if serializer_class is None else {"serializer_class": serializer_class, "queryset": queryset}
    result = run_bulk_operation(make_ctx("bulk_create", **kwargs), items_of(datas))
    assert result.errors == [] and result.success_count == len(datas), result.errors
    return result


def test_the_direct_path_stores_what_the_instance_path_stores(account, other_account, monkeypatch):
    # Every second item leaves out ``kind`` and ``description``: defaults.
    def datas(prefix, to):
        return [
            txn_data(to, n, ref=f"{prefix}-{n}")
            if n % 2
            else {k: v for k, v in txn_data(to, n, ref=f"{prefix}-{n}").items() if k not in ("kind", "description")}
            for n in range(N)
        ]

    direct = create(datas("direct", account))
    monkeypatch.setattr(processors, "row_plan", lambda model, names: None)
    built = create(datas("built", other_account))

    def stored(ids, to):
        rows = Txn.objects.filter(pk__in=ids, account=to).order_by("pk").values_list("ref", *COLUMNS[1:])
        return [(ref.split("-", 1)[1], *rest) for ref, *rest in rows]

    assert stored(direct.created_ids, account) == stored(built.created_ids, other_account)
    assert len(stored(direct.created_ids, account)) == N
    # The ids answer in the items' order, each the key of its own item.
    refs = dict(Txn.objects.filter(pk__in=direct.created_ids).values_list("pk", "ref"))
    assert [refs[pk] for pk in direct.created_ids] == [f"direct-{n}" for n in range(N)]


def test_auto_now_defaults_and_a_null_foreign_key_without_instances(account):
    class NoteSerializer(serializers.ModelSerializer):
        class Meta:
            model = Note
            fields = ["text", "account"]

    assert row_plan(Note, ("text", "account")) is not None
    before = timezone.now()
    datas = [{"text": f"n{n}", "account": account.pk if n % 2 else None} for n in range(N)]
    result = create(datas, NoteSerializer, Note.objects.all())
    notes = list(Note.objects.filter(pk__in=result.created_ids).order_by("pk"))
    assert [(note.text, note.account_id) for note in notes] == [(d["text"], d["account"]) for d in datas]
    assert all(before <= note.updated_at <= timezone.now() for note in notes)


def test_a_model_an_instance_would_notice_keeps_the_instance_path(account):
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=Txn)
    try:
        assert row_plan(Txn, tuple(txn_data(account, 0))) is None
        create([txn_data(account, n) for n in range(N)])
    finally:
        post_init.disconnect(receiver, sender=Txn)
    # The constructor ran for each new row, as before.
    assert len([obj for obj in seen if obj.ref.startswith("ref-")]) >= N
    assert Txn.objects.count() == N


def test_no_plan_for_a_key_the_database_does_not_return_or_a_name_that_is_no_field():
    assert row_plan(UUIDItem, ("name", "quantity")) is None
    assert row_plan(Txn, ("ref", "account", "not_a_field")) is None
    assert row_plan(Txn, ("id", "ref")) is None


def test_an_unsaved_related_object_leaves_the_chunk_to_the_instance_path(account):
    names = tuple(txn_data(account, 0))
    plan = row_plan(Txn, names)
    attrs = {
        "ref": "r",
        "account": Account(tenant=Tenant.objects.create(name="unsaved"), name="a", number="9"),
        "amount": 1,
        "occurred_at": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        "email": "a@example.com",
        "kind": "debit",
        "description": "",
    }
    assert insert_direct_rows(connection, Txn, [plan] * N, [attrs] * N) is None
    assert not Txn.objects.exists()
