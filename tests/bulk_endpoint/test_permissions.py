"""Tenancy and permissions at ``{list}/bulk/``: rows outside ``get_queryset()``
are "not found" and untouched; permission classes and object permissions
apply per request and per row."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User

from tests.builders import make_account, make_txns, txn_data
from tests.testapp.models import Txn

SCOPED = "/items/scoped-txns/bulk/"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline")]


@pytest.fixture
def alice(db):
    user = User.objects.create_user("alice")
    return user, make_account("A-1", owner=user), make_txns(make_account("A-2", owner=user), 2)


@pytest.fixture
def bob_rows(db):
    bob = User.objects.create_user("bob")
    return make_txns(make_account("B-1", owner=bob, tenant_name="other"), 2, start=50)


def test_anonymous_users_are_refused_by_the_views_permission_classes(api_client, alice):
    response = api_client.patch(SCOPED, [{"id": alice[2][0].pk, "amount": "1.00"}], format="json")
    assert response.status_code == 403


def test_ids_outside_the_queryset_are_not_found_and_untouched(api_client, alice, bob_rows):
    user, _, rows = alice
    api_client.force_authenticate(user)
    body = [{"id": rows[0].pk, "amount": "9.00"}, {"id": bob_rows[0].pk, "amount": "9.00"}]
    response = api_client.patch(SCOPED + "?atomic=false", body, format="json")
    assert response.status_code == 200, response.data
    assert response.data["updated_ids"] == [rows[0].pk]
    assert [e["index"] for e in response.data["errors"]] == [1]
    bob_rows[0].refresh_from_db()
    assert bob_rows[0].amount == Decimal("50.50")


def test_deleting_another_tenants_ids_deletes_nothing_of_theirs(api_client, alice, bob_rows):
    user, _, rows = alice
    api_client.force_authenticate(user)
    response = api_client.delete(SCOPED + "?atomic=false", [bob_rows[0].pk, rows[1].pk], format="json")
    assert response.data["deleted_ids"] == [rows[1].pk]
    assert Txn.objects.filter(pk__in=[row.pk for row in bob_rows]).count() == 2


def test_a_tenant_cannot_create_rows_on_another_tenants_account(api_client, alice, bob_rows):
    user, own_account, _ = alice
    api_client.force_authenticate(user)
    body = [txn_data(own_account, 31), txn_data(bob_rows[0].account, 32)]
    response = api_client.post(SCOPED, body, format="json")
    assert response.status_code == 400
    assert [(e["index"], list(e["errors"])) for e in response.data["errors"]] == [(1, ["account"])]
    assert not Txn.objects.filter(ref__in=["ref-31", "ref-32"]).exists()


def test_an_upsert_never_updates_another_tenants_row(api_client, alice, bob_rows):
    user, own_account, _ = alice
    api_client.force_authenticate(user)
    item = txn_data(own_account, 70, ref=bob_rows[0].ref)
    response = api_client.patch(SCOPED + "?unique_fields=ref", [item], format="json")
    assert response.status_code == 400
    assert "cannot be updated through this endpoint" in response.data["errors"][0]["error"]
    bob_rows[0].refresh_from_db()
    assert bob_rows[0].account.owner.username == "bob"
    assert bob_rows[0].amount == Decimal("50.50")


def test_a_retrieve_returns_only_rows_inside_the_queryset(api_client, alice, bob_rows):
    user, _, rows = alice
    api_client.force_authenticate(user)
    ids = ",".join(str(row.pk) for row in rows + bob_rows)
    response = api_client.get(SCOPED, {"ids": ids})
    assert [row["id"] for row in response.data["results"]] == [row.pk for row in rows]


def test_an_object_permission_denial_is_an_item_error_and_atomic_mode_writes_nothing(api_client, db):
    free, locked = make_txns(make_account(), 2)
    Txn.objects.filter(pk=locked.pk).update(ref="locked-1")
    api_client.force_authenticate(User.objects.create_user("erin"))
    body = [{"id": free.pk, "amount": "3.00"}, {"id": locked.pk, "amount": "3.00"}]
    response = api_client.patch("/items/locked-txns/bulk/", body, format="json")
    assert response.status_code == 400
    assert [e["index"] for e in response.data["errors"]] == [1]
    assert "Locked rows" in response.data["errors"][0]["error"]
    assert set(Txn.objects.values_list("amount", flat=True)) == {Decimal("0.50"), Decimal("1.50")}

    response = api_client.delete("/items/locked-txns/bulk/?atomic=false", [free.pk, locked.pk], format="json")
    assert response.data["deleted_ids"] == [free.pk]
    assert list(Txn.objects.values_list("ref", flat=True)) == ["locked-1"]


def test_bulk_check_object_permissions_false_skips_the_per_row_check(api_client, db):
    [row] = make_txns(make_account(), 1, ref="locked-2")
    response = api_client.patch("/items/unchecked-txns/bulk/", [{"id": row.pk, "amount": "3.00"}], format="json")
    assert response.status_code == 200, response.data
    row.refresh_from_db()
    assert row.amount == Decimal("3.00")


def grant(user, *codenames):
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="tests", codename__in=codenames))
    return User.objects.get(pk=user.pk)  # drop the permission cache


def test_django_model_permissions_map_each_method(api_client, db):
    account = make_account()
    [row] = make_txns(account, 1)
    user = User.objects.create_user("carol")
    api_client.force_authenticate(user)
    url = "/items/perm-txns/bulk/"
    assert api_client.post(url, [txn_data(account, 5)], format="json").status_code == 403
    assert api_client.patch(url, [{"id": row.pk, "amount": "2"}], format="json").status_code == 403
    assert api_client.delete(url, [row.pk], format="json").status_code == 403
    api_client.force_authenticate(grant(user, "change_txn"))
    assert api_client.patch(url, [{"id": row.pk, "amount": "2"}], format="json").status_code == 200
    assert Txn.objects.count() == 1


def test_an_upsert_needs_the_add_permission_as_well(api_client, db):
    account = make_account()
    user = grant(User.objects.create_user("dave"), "change_txn")
    api_client.force_authenticate(user)
    url = "/items/perm-txns/bulk/?unique_fields=ref"
    response = api_client.patch(url, [txn_data(account, 5)], format="json")
    assert response.status_code == 403
    assert "add permission" in response.data["detail"]
    assert Txn.objects.count() == 0
    api_client.force_authenticate(grant(user, "add_txn"))
    assert api_client.patch(url, [txn_data(account, 5)], format="json").status_code == 200
    assert Txn.objects.count() == 1


def test_serializers_get_the_views_context_with_the_request(api_client, alice):
    # OwnedAccountField reads context["request"].user: a missing context
    # would be a server error, a wrong user an "account" error.
    user, own_account, _ = alice
    api_client.force_authenticate(user)
    response = api_client.post(SCOPED, [txn_data(own_account, 31)], format="json")
    assert response.status_code == 201, response.data
