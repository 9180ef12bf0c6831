import datetime
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.exceptions import PermissionDenied

from rest_bulk_ext.engine import run_bulk_operation
from tests.builders import make_bare_txns, txn_data
from tests.engine.support import count_queries, items_of, lock_queries, make_ctx
from tests.testapp.models import Account, CodeItem, Note, Txn, UUIDItem
from tests.testapp.serializers import CodeItemSerializer, NoteSerializer, UUIDItemSerializer

pytestmark = pytest.mark.django_db


def test_partial_update_writes_per_row_values_of_every_field_kind(account, other_account):
    txns = make_bare_txns(account, 3)
    when = datetime.datetime(2027, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.timezone.utc)
    datas = [
        {"id": txns[0].pk, "amount": "1234567890.12", "description": ""},
        {"id": txns[1].pk, "occurred_at": when.isoformat(), "account": other_account.pk},
        {"id": txns[2].pk, "email": "new@example.com", "kind": "credit", "amount": "0.01"},
    ]

    result = run_bulk_operation(make_ctx("bulk_update"), items_of(datas))

    assert result.errors == []
    assert result.updated_ids == [t.pk for t in txns]
    first, second, third = Txn.objects.order_by("pk")
    assert first.amount == Decimal("1234567890.12") and first.description == ""
    assert second.occurred_at == when and second.account_id == other_account.pk
    assert third.email == "new@example.com" and third.kind == "credit" and third.amount == Decimal("0.01")
    # untouched fields keep their values
    assert first.ref == "ref-0" and second.amount == Decimal("1") and third.ref == "ref-2"


def test_update_writes_nulls_and_auto_now_fields(account):
    note = Note.objects.create(account=account, text="a")
    before = note.updated_at

    result = run_bulk_operation(
        make_ctx("bulk_update", Note.objects.all(), NoteSerializer), items_of([{"id": note.pk, "account": None}])
    )

    note.refresh_from_db()
    assert result.updated_ids == [note.pk]
    assert note.account_id is None and note.text == "a"
    assert note.updated_at > before


def test_update_of_an_unknown_id_or_a_wrong_type_is_an_item_error(account):
    txns = make_bare_txns(account, 2)
    datas = [{"id": txns[0].pk, "description": "ok"}, {"id": 987654, "description": "x"}, {"id": "abc"}, {"description": "no id"}]

    result = run_bulk_operation(make_ctx("bulk_update", atomic=False), items_of(datas))

    assert {e["index"]: e["errors"] for e in result.errors} == {
        1: {"id": ["Not found."]},
        2: {"id": ["Incorrect type. Expected a valid identifier, received str."]},
        3: {"id": ["This field is required."]},
    }
    assert Txn.objects.get(pk=txns[0].pk).description == "ok"


def test_update_never_touches_a_row_outside_the_queryset(account, other_account):
    mine = make_bare_txns(account, 1)[0]
    theirs = make_bare_txns(other_account, 1, start=10)[0]
    ctx = make_ctx("bulk_update", Txn.objects.filter(account__tenant=account.tenant), atomic=False)

    result = run_bulk_operation(ctx, items_of([{"id": theirs.pk, "description": "hacked"}, {"id": mine.pk, "description": "mine"}]))

    assert result.errors[0]["errors"] == {"id": ["Not found."]}
    assert Txn.objects.get(pk=theirs.pk).description == ""
    assert Txn.objects.get(pk=mine.pk).description == "mine"


def test_two_items_setting_the_same_new_unique_value_fail_on_the_later_one(account):
    txns = make_bare_txns(account, 2)
    datas = [{"id": txns[0].pk, "ref": "same"}, {"id": txns[1].pk, "ref": "same"}]

    result = run_bulk_operation(make_ctx("bulk_update", atomic=False), items_of(datas))

    assert result.updated_ids == [txns[0].pk]
    assert result.errors[0]["index"] == 1
    assert result.errors[0]["errors"] == {"ref": ["Duplicate of item 0 in this request."]}


def test_the_same_id_twice_is_an_error_on_the_later_item(account):
    txn = make_bare_txns(account, 1)[0]

    result = run_bulk_operation(
        make_ctx("bulk_update", batch_size=1), items_of([{"id": txn.pk, "description": "a"}, {"id": txn.pk, "description": "b"}])
    )

    assert result.errors == [
        {
            "index": 1,
            "errors": {"id": ["Duplicate of item 0 in this request."]},
            "error": "id: Duplicate of item 0 in this request.",
            "data": {"id": txn.pk, "description": "b"},
        }
    ]
    assert Txn.objects.get().description == ""


def test_update_validate_sees_the_row_being_updated(account):
    txn = make_bare_txns(account, 1)[0]  # amount 0, kind debit

    result = run_bulk_operation(make_ctx("bulk_update"), items_of([{"id": txn.pk, "kind": "credit"}]))

    assert result.errors[0]["errors"] == {"amount": ["Credit amounts must be positive."]}


def test_update_keeping_its_own_unique_values_is_not_a_conflict_but_taking_anothers_is(account):
    txns = make_bare_txns(account, 3)
    datas = [
        {"id": txns[0].pk, "ref": "ref-0", "occurred_at": txns[0].occurred_at.isoformat()},
        {"id": txns[1].pk, "ref": "ref-2"},
        {"id": txns[2].pk, "ref": "ref-0"},
    ]

    result = run_bulk_operation(make_ctx("bulk_update", atomic=False), items_of(datas))

    assert result.updated_ids == [txns[0].pk]
    assert {e["index"]: e["errors"] for e in result.errors} == {
        1: {"ref": ["txn with this ref already exists."]},
        2: {"ref": ["txn with this ref already exists."]},
    }

    result = run_bulk_operation(
        make_ctx("bulk_update"), items_of([{"id": txns[1].pk, "occurred_at": txns[0].occurred_at.isoformat()}])
    )

    assert result.errors[0]["errors"] == {"non_field_errors": ["The fields account, occurred_at must make a unique set."]}


def test_object_permission_denial_is_an_item_error(account):
    txns = make_bare_txns(account, 2)

    def check(obj):
        if obj.pk == txns[1].pk:
            raise PermissionDenied()

    ctx = make_ctx("bulk_update", atomic=False, check_object_permission=check)
    result = run_bulk_operation(ctx, items_of([{"id": t.pk, "description": "x"} for t in txns]))

    assert result.updated_ids == [txns[0].pk]
    assert result.errors[0]["errors"] == {"non_field_errors": ["You do not have permission to perform this action."]}
    assert Txn.objects.get(pk=txns[1].pk).description == ""


def test_replace_requires_every_field_and_writes_them(account):
    txn = make_bare_txns(account, 1)[0]
    full = txn_data(account, 5, id=txn.pk)
    partial = {"id": txn.pk, "description": "only this"}

    bad = run_bulk_operation(make_ctx("bulk_replace"), items_of([partial]))
    good = run_bulk_operation(make_ctx("bulk_replace"), items_of([full]))

    assert set(bad.errors[0]["errors"]) == {"ref", "account", "amount", "occurred_at", "email"}
    assert good.updated_ids == [txn.pk]
    txn.refresh_from_db()
    assert (txn.ref, txn.amount, txn.email) == ("ref-5", Decimal("5.50"), "user5@example.com")


def test_update_with_uuid_primary_keys(account):
    items = [UUIDItem.objects.create(name=f"u{i}") for i in range(2)]
    datas = [{"id": str(items[0].pk), "quantity": 7}, {"id": str(items[1].pk), "name": "renamed"}, {"id": "not-a-uuid"}]

    result = run_bulk_operation(make_ctx("bulk_update", UUIDItem.objects.all(), UUIDItemSerializer, atomic=False), items_of(datas))

    assert result.updated_ids == [items[0].pk, items[1].pk]
    assert result.errors[0]["index"] == 2
    assert UUIDItem.objects.get(pk=items[0].pk).quantity == 7
    assert UUIDItem.objects.get(pk=items[1].pk).name == "renamed"


def test_update_with_string_primary_keys_and_a_refused_key_change():
    CodeItem.objects.create(code="A", label="a")
    CodeItem.objects.create(code="B", label="b")
    datas = [{"code": "A", "label": "new a", "quantity": 3}, {"code": "B", "label": "new b"}]
    ctx = make_ctx("bulk_update", CodeItem.objects.all(), CodeItemSerializer, lookup_field="code", lookup_key="code")

    result = run_bulk_operation(ctx, items_of(datas))

    assert result.updated_ids == ["A", "B"]
    assert dict(CodeItem.objects.values_list("code", "label")) == {"A": "new a", "B": "new b"}

    ctx = make_ctx("bulk_update", CodeItem.objects.all(), CodeItemSerializer, lookup_field="pk", lookup_key="id")
    result = run_bulk_operation(ctx, items_of([{"id": "A", "code": "Z"}]))

    assert result.errors[0]["errors"] == {"code": ["The primary key cannot be changed by a bulk update."]}
    assert CodeItem.objects.filter(code="Z").count() == 0


def test_rows_setting_different_fields_are_written_in_one_statement_per_field_set(account):
    txns = make_bare_txns(account, 4)
    datas = [
        {"id": txns[0].pk, "description": "a"},
        {"id": txns[1].pk, "amount": "9.00"},
        {"id": txns[2].pk, "description": "c"},
        {"id": txns[3].pk, "amount": "8.00"},
    ]

    result, queries = count_queries(lambda: run_bulk_operation(make_ctx("bulk_update"), items_of(datas)))

    assert result.success_count == 4
    # lookup + key-order lock + 2 UPDATEs (no related or unique fields sent)
    assert queries == 3 + lock_queries()
    assert list(Txn.objects.order_by("pk").values_list("description", "amount")) == [
        ("a", Decimal("0")),
        ("", Decimal("9.00")),
        ("c", Decimal("2")),
        ("", Decimal("8.00")),
    ]


def test_update_query_count_does_not_grow_with_the_number_of_items(account):
    txns = make_bare_txns(account, 220)

    def update(rows):
        datas = [
            {
                "id": t.pk,
                "amount": f"{t.pk}.25",
                "account": account.pk,
                "ref": f"new-{t.pk}",
                "occurred_at": (t.occurred_at + datetime.timedelta(days=1)).isoformat(),
            }
            for t in rows
        ]
        return count_queries(lambda: run_bulk_operation(make_ctx("bulk_update"), items_of(datas)))

    small, small_queries = update(txns[:20])
    large, large_queries = update(txns[20:])

    assert small.success_count == 20 and large.success_count == 200
    # lookup, related account, ref, (account, occurred_at), key-order lock, UPDATE
    assert small_queries == large_queries == 5 + lock_queries()
    assert Txn.objects.get(pk=txns[150].pk).amount == Decimal(f"{txns[150].pk}.25")


def test_update_queries_grow_by_a_fixed_number_per_chunk(account):
    txns = make_bare_txns(account, 30)
    datas = [{"id": t.pk, "description": f"d{t.pk}"} for t in txns]

    result, queries = count_queries(lambda: run_bulk_operation(make_ctx("bulk_update", batch_size=10), items_of(datas)))

    assert result.success_count == 30
    assert queries == (2 + lock_queries()) * 3
    assert Txn.objects.get(pk=txns[29].pk).description == f"d{txns[29].pk}"


def test_update_falls_back_to_bulk_update_for_an_expression_value(account):
    from django.db.models import F

    from rest_bulk_ext.engine.db.update import update_rows

    txn = make_bare_txns(account, 1)[0]
    txn.amount = F("amount") + 1
    update_rows(Txn, [Txn._meta.get_field("amount")], [(txn.pk, txn)], connection.alias)

    assert Txn.objects.get().amount == Decimal("1")


def test_an_account_fk_update_to_a_foreign_tenants_account_is_refused(account, other_account):
    from tests.testapp.serializers import TxnSerializer

    class Scoped(TxnSerializer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["account"].queryset = Account.objects.filter(tenant=account.tenant)

    txn = make_bare_txns(account, 1)[0]
    result = run_bulk_operation(make_ctx("bulk_update", serializer_class=Scoped), items_of([{"id": txn.pk, "account": other_account.pk}]))

    assert result.errors[0]["errors"] == {"account": [f'Invalid pk "{other_account.pk}" - object does not exist.']}
    assert Txn.objects.get().account_id == account.pk


def test_update_mixes_nulls_and_values_in_one_statement(account, other_account):
    first, second, third = (Note.objects.create(account=account, text=str(i)) for i in range(3))
    datas = [{"id": first.pk, "account": None}, {"id": second.pk, "account": other_account.pk}, {"id": third.pk, "account": None}]

    result, queries = count_queries(
        lambda: run_bulk_operation(make_ctx("bulk_update", Note.objects.all(), NoteSerializer), items_of(datas))
    )

    assert result.success_count == 3
    assert queries == 3 + lock_queries()  # lookup, related accounts, key-order lock, UPDATE
    assert list(Note.objects.order_by("pk").values_list("account_id", flat=True)) == [None, other_account.pk, None]


def test_an_update_item_that_is_not_an_object_is_an_item_error(account):
    result = run_bulk_operation(make_ctx("bulk_update"), items_of([[1, 2]]))

    assert result.errors[0]["errors"] == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}
