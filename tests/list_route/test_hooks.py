"""Hooks of the queryset-level operations, and database errors from the write."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.builders import client_for
from tests.list_route.support import BULK, patch
from tests.list_route.views import HookedMemberViewSet
from tests.testapp.models import Member


@pytest.fixture
def calls():
    HookedMemberViewSet.calls.clear()
    yield HookedMemberViewSet.calls
    HookedMemberViewSet.calls.clear()


def statuses():
    return dict(Member.objects.values_list("username", "status"))


# --- hooks ------------------------------------------------------------------


def test_pre_save_bulk_may_add_columns_to_the_update(alice_client, world, calls):
    response = patch(alice_client, "/qs/hooked-members/?email__endswith=yahoo.com", {"score": 2}, **BULK)

    assert response.status_code == 204
    assert Member.objects.get(username="amy").nickname == "hooked"


def test_post_save_bulk_sees_rows_the_update_moved_out_of_the_filter(alice_client, world, calls):
    Member.objects.filter(username="amy").update(status="archived")

    response = patch(alice_client, "/qs/hooked-members/?status=draft", {"status": "published"}, **BULK)

    assert response.status_code == 204
    assert calls == [("post_save_bulk", [("abe", "published"), ("ann", "published")])]


@pytest.mark.parametrize("when", ["pre", "post"])
def test_an_exception_in_an_update_hook_rolls_the_write_back(alice_client, world, calls, when):
    response = patch(alice_client, f"/qs/hooked-members/?fail={when}", {"status": "published"}, **BULK)

    assert response.status_code == 403
    assert set(statuses().values()) == {"draft"}


def test_post_delete_bulk_gets_the_deleted_keys(alice_client, world, calls):
    response = alice_client.delete("/qs/hooked-members/?email__endswith=gmail.com", **BULK)

    assert response.status_code == 204
    assert calls == [("post_delete_bulk", 0, sorted([world.ann.pk, world.abe.pk]))]


@pytest.mark.parametrize("when", ["pre", "post"])
def test_an_exception_in_a_delete_hook_rolls_the_delete_back(alice_client, world, calls, when):
    response = alice_client.delete(f"/qs/hooked-members/?fail={when}", **BULK)

    assert response.status_code == 403
    assert Member.objects.count() == 4


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_pinning_rows_for_a_post_hook_costs_the_same_queries_for_10_and_200_rows(world, calls, method):
    counts = []
    for n in (10, 200):
        Member.objects.filter(organization=world.acme).delete()
        Member.objects.bulk_create(
            Member(organization=world.acme, username=f"u{n}-{i}", email=f"{i}@gmail.com") for i in range(n)
        )
        client = client_for(world.alice)
        with CaptureQueriesContext(connection) as queries:
            if method == "patch":
                response = patch(client, "/qs/hooked-members/", {"status": "published"}, **BULK)
            else:
                response = client.delete("/qs/hooked-members/", **BULK)
        assert response.status_code == 204
        assert response["X-Bulk-Affected-Rows"] == str(n)
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- database errors ----------------------------------------------------------


def test_a_value_too_long_for_the_column_is_a_400_where_the_database_checks_it(alice_client, world):
    response = patch(alice_client, "/qs/members/", {"display_name": "x" * 30}, **BULK)

    if connection.vendor == "sqlite":
        # SQLite does not enforce VARCHAR lengths (documented in caveats).
        assert response.status_code == 204
    else:
        assert response.status_code == 400
        assert set(response.json()) == {"detail"}
        assert set(Member.objects.values_list("nickname", flat=True)) == {""}


def test_an_integer_out_of_range_is_a_400(alice_client, world):
    response = patch(alice_client, "/qs/members/", {"team_id": 2**70}, **BULK)

    assert response.status_code == 400
    assert set(response.json()) == {"detail"}
    assert set(Member.objects.values_list("team_id", flat=True)) == {None}


def test_a_unique_violation_is_a_409_and_writes_nothing(alice_client, world):
    response = patch(alice_client, "/qs/members/?email__endswith=gmail.com", {"username": "twin"}, **BULK)

    assert response.status_code == 409
    assert set(response.json()) == {"detail"}
    assert not Member.objects.filter(username="twin").exists()


@pytest.mark.django_db(transaction=True)
def test_a_foreign_key_violation_is_a_409_and_writes_nothing(alice_client, world):
    # Deferred constraints (PostgreSQL, SQLite) fail at COMMIT, MariaDB at the
    # UPDATE: both end as a 409 because the error is translated outside the
    # transaction.
    response = patch(alice_client, "/qs/members/", {"team_id": 987654}, **BULK)

    assert response.status_code == 409
    assert set(response.json()) == {"detail"}
    assert set(Member.objects.values_list("team_id", flat=True)) == {None}


def test_a_row_inserted_between_the_count_and_the_write_cannot_slip_past_expected_rows(alice_client, world, calls):
    response = patch(
        alice_client, "/qs/hooked-members/?sneak=1", {"status": "published"},
        HTTP_X_BULK_EXPECTED_ROWS="3", **BULK,
    )

    assert response.status_code == 412
    assert response.json()["affected_rows"] == 4
    assert set(statuses().values()) == {"draft"}
    assert not Member.objects.filter(username="sneaky").exists()
