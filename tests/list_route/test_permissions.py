"""Routing, model permissions and object permissions of the queryset-level operations."""

import re

from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from rest_framework.test import APIClient

import rest_bulk_ext.bulk_operations.mixins as drf_extensions_path
import rest_bulk_ext.mixins as public_path
from rest_bulk_ext.list_route.mixins import ListDestroyModelMixin, ListUpdateModelMixin, add_list_route_action
from tests.builders import client_for, make_member
from tests.list_route.support import BULK, patch
from tests.testapp.models import Member


def test_mixins_import_from_both_paths():
    assert public_path.ListUpdateModelMixin is drf_extensions_path.ListUpdateModelMixin is ListUpdateModelMixin
    assert public_path.ListDestroyModelMixin is drf_extensions_path.ListDestroyModelMixin is ListDestroyModelMixin


# --- routing ----------------------------------------------------------------


def test_router_list_route_maps_patch_and_delete_to_the_bulk_actions():
    actions = resolve("/qs/members/").func.actions

    assert actions["patch"] == "bulk_update"
    assert actions["delete"] == "bulk_destroy"
    assert actions["get"] == "list"


def test_router_detail_route_keeps_drfs_actions():
    actions = resolve("/qs/members/1/").func.actions

    assert actions["patch"] == "partial_update"
    assert actions["delete"] == "destroy"


def test_an_explicit_mapping_is_never_overridden():
    actions = {"get": "list", "delete": "purge"}

    assert add_list_route_action(actions, {}, "delete", "bulk_destroy") == actions
    assert add_list_route_action({"get": "retrieve"}, {}, "patch", "bulk_update") == {"get": "retrieve"}
    assert add_list_route_action({"get": "list"}, {"detail": True}, "patch", "bulk_update") == {"get": "list"}


def test_detail_patch_and_delete_behave_as_drfs(alice_client, world):
    patched = patch(alice_client, f"/qs/members/{world.ann.pk}/", {"is_active": False})
    deleted = alice_client.delete(f"/qs/members/{world.abe.pk}/")

    assert patched.status_code == 200
    assert patched.json()["is_active"] is False
    assert deleted.status_code == 204
    assert set(Member.objects.values_list("username", "is_active")) == {
        ("ann", False), ("amy", True), ("gus", True),
    }


def test_list_and_create_still_work(alice_client, world):
    listed = alice_client.get("/qs/members/?email__endswith=gmail.com")
    created = alice_client.post("/qs/members/", {"username": "ada", "email": "ada@gmail.com"}, format="json")

    assert [m["username"] for m in listed.json()] == ["ann", "abe"]
    assert created.status_code == 201
    assert Member.objects.get(username="ada").organization == world.acme
    assert "Allow" in listed.headers and "PATCH" in listed["Allow"] and "DELETE" in listed["Allow"]


# --- DjangoModelPermissions -------------------------------------------------


def grant(user, codename):
    user.user_permissions.add(Permission.objects.get(codename=codename))


def test_model_permissions_map_patch_to_change(world):
    client = client_for(world.alice)
    refused = patch(client, "/qs/perm-members/", {"is_active": False}, **BULK)
    grant(world.alice, "change_member")
    client = client_for(type(world.alice).objects.get(pk=world.alice.pk))
    allowed = patch(client, "/qs/perm-members/", {"is_active": False}, **BULK)

    assert refused.status_code == 403
    assert allowed.status_code == 204
    assert Member.objects.filter(is_active=False).count() == 3


def test_model_permissions_map_delete_to_delete(world):
    grant(world.alice, "change_member")
    client = client_for(type(world.alice).objects.get(pk=world.alice.pk))
    refused = client.delete("/qs/perm-members/", **BULK)
    grant(world.alice, "delete_member")
    client = client_for(type(world.alice).objects.get(pk=world.alice.pk))
    allowed = client.delete("/qs/perm-members/", **BULK)

    assert refused.status_code == 403
    assert allowed.status_code == 204
    assert Member.objects.count() == 1


def test_anonymous_users_are_refused_by_permission_classes(world):
    response = APIClient().patch("/qs/perm-members/", {"is_active": False}, format="json", **BULK)

    assert response.status_code == 403
    assert Member.objects.filter(is_active=False).count() == 0


# --- object permissions -----------------------------------------------------


def test_one_row_the_user_may_not_touch_refuses_the_whole_update(alice_client, world):
    make_member(world.acme, "zed", "zed@gmail.com", owner=world.bob)

    response = patch(alice_client, "/qs/owned-members/", {"is_active": False}, **BULK)

    assert response.status_code == 403
    assert Member.objects.filter(is_active=False).count() == 0


def test_one_row_the_user_may_not_touch_refuses_the_whole_delete(alice_client, world):
    make_member(world.acme, "zed", "zed@gmail.com", owner=world.bob)

    response = alice_client.delete("/qs/owned-members/", **BULK)

    assert response.status_code == 403
    assert Member.objects.count() == 5


def test_dry_run_checks_object_permissions_too(alice_client, world):
    make_member(world.acme, "zed", "zed@gmail.com", owner=world.bob)

    response = alice_client.delete("/qs/owned-members/", HTTP_X_BULK_DRY_RUN="1", **BULK)

    assert response.status_code == 403


def test_rows_the_user_owns_are_written(alice_client, world):
    make_member(world.acme, "zed", "zed@gmail.com", owner=world.bob)

    response = patch(alice_client, "/qs/owned-members/?email__endswith=yahoo.com", {"is_active": False}, **BULK)

    assert response.status_code == 204
    assert list(Member.objects.filter(is_active=False).values_list("username", flat=True)) == ["amy"]


def test_bulk_check_object_permissions_false_opts_out(alice_client, world):
    make_member(world.acme, "zed", "zed@gmail.com", owner=world.bob)

    response = patch(alice_client, "/qs/unchecked-members/", {"is_active": False}, **BULK)

    assert response.status_code == 204
    assert response["X-Bulk-Affected-Rows"] == "4"


def test_object_permission_checks_cost_the_same_queries_for_10_and_200_rows(world):
    counts = []
    for n in (10, 200):
        Member.objects.filter(organization=world.acme).delete()
        Member.objects.bulk_create(
            Member(organization=world.acme, owner=world.alice, username=f"u{n}-{i}", email=f"{i}@gmail.com")
            for i in range(n)
        )
        with CaptureQueriesContext(connection) as queries:
            response = patch(client_for(world.alice), "/qs/owned-members/", {"is_active": False}, **BULK)
        assert response.status_code == 204
        assert response["X-Bulk-Affected-Rows"] == str(n)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_views_without_object_permissions_read_no_rows_before_the_write(alice_client, world):
    with CaptureQueriesContext(connection) as queries:
        patch(alice_client, "/qs/members/", {"is_active": False}, **BULK)

    # Locking the rows in key order before the write (docs/concurrency.md)
    # reads their keys only: a plain SELECT on MariaDB, then FOR UPDATE.
    keys_only = re.compile(r"^SELECT [`\"]tests_member[`\"]\.[`\"]id[`\"]( AS [`\"]pk[`\"])? FROM")
    member_selects = [
        q for q in queries
        if q["sql"].upper().startswith("SELECT") and "tests_member" in q["sql"] and not keys_only.match(q["sql"])
    ]
    assert member_selects == []


def test_a_viewset_with_every_bulk_mixin_routes_each_one():
    list_actions = resolve("/qs-schema/members/").func.actions
    item_actions = resolve("/qs-schema/members/bulk/").func.actions

    assert (list_actions["patch"], list_actions["delete"]) == ("bulk_update", "bulk_destroy")
    assert set(item_actions.values()) == {"bulk"}
    assert set(item_actions) >= {"get", "post", "put", "patch", "delete"}
