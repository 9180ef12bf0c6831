"""Protected deletes, case-insensitive collations, bulk GET serialization."""

import pytest
from django.db import connection

from rest_bulk_ext.engine import run_bulk_operation
from rest_bulk_ext.exceptions import BulkConstraintConflict
from tests.builders import make_bare_txns, txn_data
from tests.engine.support import count_queries, items_of, lock_queries, make_ctx
from tests.models_items import Note, Receipt, Txn
from tests.serializers_items import NoteSerializer

pytestmark = pytest.mark.django_db


def notes(account, n):
    return [Note.objects.create(account=account, text=f"n{i}") for i in range(n)]


def note_ctx(**kwargs):
    return make_ctx("bulk_delete", Note.objects.all(), NoteSerializer, **kwargs)


def test_a_protected_row_in_non_atomic_mode_fails_alone_and_the_others_are_deleted(account):
    rows = notes(account, 4)
    Receipt.objects.create(note=rows[2])

    result = run_bulk_operation(note_ctx(atomic=False), items_of([n.pk for n in rows]))

    assert result.deleted_ids == [rows[0].pk, rows[1].pk, rows[3].pk]
    assert [e["index"] for e in result.errors] == [2]
    assert "protected" in result.errors[0]["error"].lower()
    assert list(Note.objects.values_list("pk", flat=True)) == [rows[2].pk]


def test_a_protected_row_in_atomic_mode_is_a_409_and_nothing_is_deleted(account):
    rows = notes(account, 2)
    Receipt.objects.create(note=rows[1])

    with pytest.raises(BulkConstraintConflict):
        run_bulk_operation(note_ctx(), items_of([n.pk for n in rows]))

    assert Note.objects.count() == 2


def test_a_delete_through_the_collector_keeps_a_fixed_number_of_queries_per_chunk(account):
    rows = notes(account, 30)

    result, queries = count_queries(lambda: run_bulk_operation(note_ctx(batch_size=10), items_of([n.pk for n in rows])))

    assert len(result.deleted_ids) == 30
    # lookup, the collector's select of the rows, its protect check, the
    # tags through-table DELETE, the DELETE (+ the key-order lock)
    assert queries == (5 + lock_queries()) * 3


def test_unique_values_compare_as_the_database_collation_does(account):
    make_bare_txns(account, 1)  # ref-0
    data = txn_data(account, 5, ref="REF-0")

    result = run_bulk_operation(make_ctx("bulk_create"), items_of([data]))

    if connection.vendor == "mysql":
        # utf8mb4_unicode_ci: "REF-0" and "ref-0" are the same key.
        assert result.errors[0]["errors"] == {"ref": ["txn with this ref already exists."]}
    else:
        assert result.errors == [] and Txn.objects.filter(ref="REF-0").exists()


def test_a_many_to_many_value_is_an_item_error(account):
    from tests.models_items import Tag

    class TaggedNoteSerializer(NoteSerializer):
        class Meta(NoteSerializer.Meta):
            fields = ["id", "account", "text", "tags"]

    tag = Tag.objects.create(name="t")
    datas = [{"text": "a", "tags": [tag.pk]}, {"text": "b", "tags": []}]

    result = run_bulk_operation(
        make_ctx("bulk_create", Note.objects.all(), TaggedNoteSerializer, atomic=False), items_of(datas)
    )

    assert result.errors[0]["errors"] == {
        "tags": ["Bulk operations cannot write many-to-many fields; set them with a separate request."]
    }
    assert result.errors[1]["index"] == 1
    assert not Note.objects.exists()


def test_a_serializer_returning_a_non_model_field_is_a_configuration_error(account):
    from django.core.exceptions import ImproperlyConfigured
    from rest_framework import serializers

    class ExtraNoteSerializer(NoteSerializer):
        confirm = serializers.BooleanField(write_only=True)

        class Meta(NoteSerializer.Meta):
            fields = ["id", "account", "text", "confirm"]

    with pytest.raises(ImproperlyConfigured, match="confirm"):
        run_bulk_operation(
            make_ctx("bulk_create", Note.objects.all(), ExtraNoteSerializer), items_of([{"text": "a", "confirm": True}])
        )
    assert not Note.objects.exists()


def test_an_upsert_on_a_field_the_serializer_cannot_write_is_a_configuration_error(account):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="'id'"):
        run_bulk_operation(make_ctx("bulk_upsert", unique_fields=("id",)), items_of([txn_data(account, 0)]))


def test_upsert_checks_object_permissions_on_the_rows_it_would_update(account):
    from rest_framework.exceptions import PermissionDenied

    existing = make_bare_txns(account, 1)[0]

    def check(obj):
        raise PermissionDenied("Read only.")

    ctx = make_ctx("bulk_upsert", unique_fields=("ref",), atomic=False, check_object_permission=check)
    result = run_bulk_operation(ctx, items_of([txn_data(account, 0, description="x"), txn_data(account, 1)]))

    assert result.errors[0]["index"] == 0 and result.errors[0]["errors"] == {"non_field_errors": ["Read only."]}
    existing.refresh_from_db()
    assert existing.description == ""
    assert len(result.created_ids) == 1


def test_an_update_item_that_is_not_an_object_is_an_item_error(account):
    result = run_bulk_operation(make_ctx("bulk_update"), items_of([[1, 2]]))

    assert result.errors[0]["errors"] == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}


def test_a_unique_validator_the_engine_cannot_batch_still_runs_per_item(account):
    from rest_framework.validators import UniqueValidator

    from tests.serializers_items import TxnSerializer

    class CaseInsensitiveRef(TxnSerializer):
        class Meta(TxnSerializer.Meta):
            extra_kwargs = {"ref": {"validators": [UniqueValidator(Txn.objects.all(), lookup="iexact")]}}

    make_bare_txns(account, 1)

    result = run_bulk_operation(
        make_ctx("bulk_create", serializer_class=CaseInsensitiveRef), items_of([txn_data(account, 5, ref="REF-0")])
    )

    assert result.errors[0]["errors"] == {"ref": ["This field must be unique."]}
