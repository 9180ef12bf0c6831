"""What a serializer can declare but a bulk write cannot write: a
many-to-many value is an item error; a field that is not a model field, or
an upsert key the serializer cannot write, is a configuration error."""

import pytest

from rest_bulk_ext.engine import run_bulk_operation
from tests.builders import txn_data
from tests.engine.support import items_of, make_ctx
from tests.testapp.models import Note
from tests.testapp.serializers import NoteSerializer

pytestmark = pytest.mark.django_db


def test_a_many_to_many_value_is_an_item_error(account):
    from tests.testapp.models import Tag

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
