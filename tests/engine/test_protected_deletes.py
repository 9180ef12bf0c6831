"""Deletes of rows that other rows protect (``on_delete=PROTECT``): through
Django's collector, one item fails alone or the chunk is a 409."""

import pytest

from rest_bulk_ext.engine import run_bulk_operation
from rest_bulk_ext.exceptions import BulkConstraintConflict
from tests.engine.support import count_queries, items_of, lock_queries, make_ctx
from tests.testapp.models import Note, Receipt
from tests.testapp.serializers import NoteSerializer

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
