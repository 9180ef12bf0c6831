"""``{list}/bulk/`` end to end through DRF's router: create, update, replace,
upsert and delete from JSON, with the result body of docs/bulk-endpoint.md."""

from decimal import Decimal

import pytest
from django.test import override_settings

from tests.builders import INLINE, make_txns, txn_data
from tests.testapp.models import CodeItem, Txn, UUIDItem

URL = "/items/txns/bulk/"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline")]


def test_post_creates_every_item_and_answers_201_with_their_ids(api_client, account):
    response = api_client.post(URL, [txn_data(account, 1), txn_data(account, 2)], format="json")
    assert response.status_code == 201, response.data
    rows = list(Txn.objects.order_by("id"))
    assert [row.ref for row in rows] == ["ref-1", "ref-2"]
    assert response.data == {
        "task_id": None,
        "total_items": 2,
        "operation_type": "bulk_create",
        "success_count": 2,
        "error_count": 0,
        "errors": [],
        "created_ids": [row.pk for row in rows],
        "updated_ids": [],
        "deleted_ids": [],
    }


def test_post_accepts_one_object(api_client, account):
    response = api_client.post(URL, txn_data(account, 1), format="json")
    assert response.status_code == 201, response.data
    assert response.data["created_ids"] == [Txn.objects.get().pk]


def test_an_invalid_item_in_atomic_mode_writes_nothing_and_lists_every_error(api_client, account):
    items = [txn_data(account, 1), txn_data(account, 2, amount="x"), txn_data(account, 3, email="nope")]
    response = api_client.post(URL, items, format="json")
    assert response.status_code == 400
    assert Txn.objects.count() == 0
    assert response.data["success_count"] == 0
    assert [(e["index"], list(e["errors"])) for e in response.data["errors"]] == [(1, ["amount"]), (2, ["email"])]
    assert response.data["errors"][0]["data"]["amount"] == "x"
    assert response.data["created_ids"] == []


def test_atomic_false_writes_the_valid_items_and_reports_the_others(api_client, account):
    items = [txn_data(account, 1), txn_data(account, 2, amount="x"), txn_data(account, 3)]
    response = api_client.post(URL + "?atomic=false", items, format="json")
    assert response.status_code == 201, response.data
    assert sorted(Txn.objects.values_list("ref", flat=True)) == ["ref-1", "ref-3"]
    assert response.data["success_count"] == 2
    assert [e["index"] for e in response.data["errors"]] == [1]


def test_atomic_false_with_no_valid_item_answers_400(api_client, account):
    response = api_client.post(URL + "?atomic=false", [txn_data(account, 1, amount="x")], format="json")
    assert response.status_code == 400
    assert response.data["error_count"] == 1
    assert Txn.objects.count() == 0


@override_settings(REST_FRAMEWORK_EXTENSIONS={**INLINE, "BULK_ATOMIC": False})
def test_the_bulk_atomic_setting_is_the_default_mode(api_client, account):
    items = [txn_data(account, 1), txn_data(account, 2, amount="x")]
    assert api_client.post(URL, items, format="json").status_code == 201
    assert Txn.objects.count() == 1


def test_serializer_validate_methods_apply_to_each_item(api_client, account):
    items = [txn_data(account, 1, description="forbidden words"), txn_data(account, 2, kind="credit", amount="-1")]
    response = api_client.post(URL, items, format="json")
    assert response.status_code == 400
    assert response.data["errors"][0]["errors"] == {"description": ["Descriptions may not contain 'forbidden'."]}
    assert response.data["errors"][1]["errors"] == {"amount": ["Credit amounts must be positive."]}


def test_patch_updates_only_the_sent_fields_of_each_row(api_client, account):
    first, second = make_txns(account, 2)
    body = [{"id": first.pk, "amount": "99.00"}, {"id": second.pk, "description": "changed"}]
    response = api_client.patch(URL, body, format="json")
    assert response.status_code == 200, response.data
    assert response.data["updated_ids"] == [first.pk, second.pk]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.amount, first.description) == (Decimal("99.00"), "row 0")
    assert (second.amount, second.description) == (Decimal("1.50"), "changed")


def test_put_replaces_rows_and_requires_every_field(api_client, account):
    first, second = make_txns(account, 2)
    body = [{**txn_data(account, 5), "id": first.pk}, {"id": second.pk, "amount": "1.00"}]
    response = api_client.put(URL, body, format="json")
    assert response.status_code == 400
    assert response.data["errors"][0]["index"] == 1
    assert "ref" in response.data["errors"][0]["errors"]
    first.refresh_from_db()
    assert first.ref == "ref-0"

    response = api_client.put(URL, body[:1], format="json")
    assert response.status_code == 200, response.data
    first.refresh_from_db()
    assert (first.ref, first.amount) == ("ref-5", Decimal("5.50"))


def test_delete_removes_the_listed_rows_only(api_client, account):
    rows = make_txns(account, 3)
    response = api_client.delete(URL, [rows[0].pk, rows[2].pk], format="json")
    assert response.status_code == 200, response.data
    assert response.data["deleted_ids"] == [rows[0].pk, rows[2].pk]
    assert list(Txn.objects.values_list("pk", flat=True)) == [rows[1].pk]


def test_an_unknown_id_is_an_item_error_and_atomic_mode_keeps_every_row(api_client, account):
    rows = make_txns(account, 2)
    response = api_client.delete(URL, [rows[0].pk, 999999], format="json")
    assert response.status_code == 400
    assert response.data["errors"][0]["index"] == 1
    assert Txn.objects.count() == 2


def test_upsert_by_query_string_inserts_new_rows_and_updates_existing_ones(api_client, account):
    [existing] = make_txns(account, 1)
    body = [txn_data(account, 0, amount="42.00"), txn_data(account, 7)]
    response = api_client.patch(URL + "?unique_fields=ref", body, format="json")
    assert response.status_code == 200, response.data
    assert response.data["operation_type"] == "bulk_upsert"
    created = Txn.objects.get(ref="ref-7")
    assert response.data["updated_ids"] == [existing.pk]
    assert response.data["created_ids"] == [created.pk]
    existing.refresh_from_db()
    assert existing.amount == Decimal("42.00")


def test_upsert_by_body_with_update_fields_changes_only_those_fields(api_client, account):
    [existing] = make_txns(account, 1)
    item = txn_data(account, 0, amount="42.00", description="new text")
    body = {"data": [item], "unique_fields": ["ref"], "update_fields": ["amount"]}
    response = api_client.put(URL, body, format="json")
    assert response.status_code == 200, response.data
    existing.refresh_from_db()
    assert (existing.amount, existing.description) == (Decimal("42.00"), "row 0")


def test_upsert_on_a_unique_pair_accepts_its_fields_in_any_order(api_client, account):
    [existing] = make_txns(account, 1)
    item = txn_data(account, 0, ref="ref-renamed")
    response = api_client.patch(URL + "?unique_fields=occurred_at,account", [item], format="json")
    assert response.status_code == 200, response.data
    assert response.data["updated_ids"] == [existing.pk]
    existing.refresh_from_db()
    assert existing.ref == "ref-renamed"


def test_the_same_id_twice_is_an_error_on_the_later_item(api_client, account):
    [row] = make_txns(account, 1)
    body = [{"id": row.pk, "amount": "1.00"}, {"id": row.pk, "amount": "2.00"}]
    response = api_client.patch(URL, body, format="json")
    assert response.status_code == 400
    assert [e["index"] for e in response.data["errors"]] == [1]
    row.refresh_from_db()
    assert row.amount == Decimal("0.50")


def test_the_same_unique_key_twice_is_an_error_on_the_later_item(api_client, account):
    body = [txn_data(account, 1), txn_data(account, 2, ref="ref-1")]
    response = api_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert [(e["index"], list(e["errors"])) for e in response.data["errors"]] == [(1, ["ref"])]
    assert Txn.objects.count() == 0


def test_the_same_unique_key_twice_in_an_upsert_is_an_error_on_the_later_item(api_client, account):
    body = [txn_data(account, 1), txn_data(account, 2, ref="ref-1")]
    response = api_client.patch(URL + "?unique_fields=ref&atomic=false", body, format="json")
    assert [e["index"] for e in response.data["errors"]] == [1]
    assert list(Txn.objects.values_list("ref", "amount")) == [("ref-1", Decimal("1.50"))]


def test_uuid_primary_keys_work_for_every_write(api_client):
    response = api_client.post("/items/uuid-items/bulk/", [{"name": "a"}, {"name": "b"}], format="json")
    assert response.status_code == 201, response.data
    ids = response.data["created_ids"]
    assert sorted(ids) == sorted(str(pk) for pk in UUIDItem.objects.values_list("pk", flat=True))
    response = api_client.patch("/items/uuid-items/bulk/", [{"id": ids[0], "quantity": 5}], format="json")
    assert response.status_code == 200, response.data
    assert UUIDItem.objects.get(pk=ids[0]).quantity == 5
    response = api_client.delete("/items/uuid-items/bulk/", [ids[1]], format="json")
    assert response.status_code == 200, response.data
    assert list(UUIDItem.objects.values_list("name", flat=True)) == ["a"]


def test_a_malformed_uuid_is_an_item_error_not_a_server_error(api_client):
    response = api_client.delete("/items/uuid-items/bulk/", ["not-a-uuid"], format="json")
    assert response.status_code == 400
    assert response.data["errors"][0]["index"] == 0


def test_string_primary_keys_work_for_every_write(api_client):
    url = "/items/code-items/bulk/"
    response = api_client.post(url, [{"code": "A1", "label": "a"}, {"code": "B2", "label": "b"}], format="json")
    assert response.status_code == 201, response.data
    assert response.data["created_ids"] == ["A1", "B2"]
    response = api_client.put(url, [{"code": "A1", "label": "new", "quantity": 3}], format="json")
    assert response.status_code == 200, response.data
    assert CodeItem.objects.get(pk="A1").label == "new"
    response = api_client.delete(url, ["B2"], format="json")
    assert response.status_code == 200, response.data
    assert list(CodeItem.objects.values_list("code", flat=True)) == ["A1"]


def test_the_model_unique_sets_are_the_targets_when_the_view_names_none(api_client, account):
    [row] = make_txns(account, 1)
    response = api_client.patch("/items/model-unique-txns/bulk/?unique_fields=ref", [txn_data(account, 0)], format="json")
    assert response.status_code == 200, response.data
    assert response.data["updated_ids"] == [row.pk]


def test_patch_validation_sees_the_stored_row_as_the_serializer_instance(api_client, account):
    [row] = make_txns(account, 1, kind="credit")
    response = api_client.patch(URL, [{"id": row.pk, "amount": "-1.00"}], format="json")
    assert response.status_code == 400
    assert response.data["errors"][0]["errors"] == {"amount": ["Credit amounts must be positive."]}
    row.refresh_from_db()
    assert row.amount == Decimal("0.50")


def test_the_same_id_twice_in_a_delete_is_an_error_on_the_later_item(api_client, account):
    rows = make_txns(account, 2)
    response = api_client.delete(URL + "?atomic=false", [rows[0].pk, rows[1].pk, rows[0].pk], format="json")
    assert [e["index"] for e in response.data["errors"]] == [2]
    assert response.data["deleted_ids"] == [rows[0].pk, rows[1].pk]
    assert Txn.objects.count() == 0
