"""An upsert takes one object, not only a list, as POST does (the
django-bulk-drf README's ``PATCH /bulk/?unique_fields=a,b`` request)."""

from decimal import Decimal

import pytest

from tests.builders import make_txns, txn_data
from tests.testapp.models import Txn

URL = "/items/txns/bulk/"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline")]


def test_one_object_on_a_unique_pair_updates_the_stored_row(api_client, account):
    [existing, other] = make_txns(account, 2)
    item = txn_data(account, 0, amount="42.00", ref="ref-renamed")
    response = api_client.patch(URL + "?unique_fields=account,occurred_at", item, format="json")
    assert response.status_code == 200, response.data
    assert response.data["operation_type"] == "bulk_upsert"
    assert (response.data["total_items"], response.data["updated_ids"], response.data["created_ids"]) == (
        1,
        [existing.pk],
        [],
    )
    existing.refresh_from_db()
    assert (existing.ref, existing.amount) == ("ref-renamed", Decimal("42.00"))
    other.refresh_from_db()
    assert other.ref == "ref-1"


@pytest.mark.parametrize("method", ["patch", "put"])
def test_one_new_object_is_created(api_client, account, method):
    response = getattr(api_client, method)(URL + "?unique_fields=ref", txn_data(account, 5), format="json")
    assert response.status_code == 200, response.data
    assert response.data["created_ids"] == [Txn.objects.get(ref="ref-5").pk]


def test_an_invalid_single_object_is_item_zero_and_writes_nothing(api_client, account):
    response = api_client.patch(URL + "?unique_fields=ref", txn_data(account, 5, amount="x"), format="json")
    assert response.status_code == 400
    assert [(e["index"], list(e["errors"])) for e in response.data["errors"]] == [(0, ["amount"])]
    assert not Txn.objects.exists()


def test_one_object_without_unique_fields_is_still_refused(api_client, account):
    [existing] = make_txns(account, 1)
    response = api_client.patch(URL, {"id": existing.pk, "amount": "1.00"}, format="json")
    assert response.status_code == 400
    assert response.data["non_field_errors"][0].startswith("Expected a list of items, or an object with the keys")


def test_an_object_with_an_envelope_key_is_read_as_the_envelope(api_client, account):
    body = dict(txn_data(account, 5), update_fields=["amount"])
    response = api_client.patch(URL + "?unique_fields=ref", body, format="json")
    assert response.status_code == 400
    assert "Unknown keys" in response.data["non_field_errors"][0]
    assert not Txn.objects.exists()
