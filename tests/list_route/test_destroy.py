"""Queryset-level bulk DELETE on the list route (``ListDestroyModelMixin``)."""

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from tests.builders import client_for
from tests.list_route.support import BULK, HEADER_REQUIRED
from tests.testapp.models import Contract, Member, Organization, Project, Task


def usernames():
    return set(Member.objects.values_list("username", flat=True))


def test_delete_removes_exactly_the_rows_the_filter_matches(alice_client, world):
    response = alice_client.delete("/qs/members/?email__endswith=gmail.com", **BULK)

    assert response.status_code == 204
    assert response.content == b""
    assert response["X-Bulk-Affected-Rows"] == "2"
    assert usernames() == {"amy", "gus"}


def test_delete_never_touches_rows_outside_get_queryset(alice_client, world):
    response = alice_client.delete("/qs/members/", **BULK)

    assert response["X-Bulk-Affected-Rows"] == "3"
    assert usernames() == {"gus"}


def test_bulk_destroy_without_header_writes_nothing(alice_client, world):
    response = alice_client.delete("/qs/members/")

    assert response.status_code == 400
    assert response.json() == HEADER_REQUIRED
    assert len(usernames()) == 4


def test_bulk_destroy_with_a_false_header_writes_nothing(alice_client, world):
    response = alice_client.delete("/qs/members/", HTTP_X_BULK_OPERATION="false")

    assert response.status_code == 400
    assert len(usernames()) == 4


def test_delete_dry_run_answers_the_count_and_deletes_nothing(alice_client, world):
    response = alice_client.delete("/qs/members/?email__endswith=gmail.com", HTTP_X_BULK_DRY_RUN="yes", **BULK)

    assert response.status_code == 200
    assert response.json() == {"affected_rows": 2}
    assert len(usernames()) == 4


def test_delete_with_the_wrong_expected_rows_is_a_412_and_deletes_nothing(alice_client, world):
    response = alice_client.delete("/qs/members/", HTTP_X_BULK_EXPECTED_ROWS="2", **BULK)

    assert response.status_code == 412
    assert response.json()["affected_rows"] == 3
    assert len(usernames()) == 4


def test_delete_with_the_right_expected_rows_deletes(alice_client, world):
    response = alice_client.delete("/qs/members/", HTTP_X_BULK_EXPECTED_ROWS="3", **BULK)

    assert response.status_code == 204
    assert usernames() == {"gus"}


@override_settings(REST_FRAMEWORK_EXTENSIONS={"DEFAULT_BULK_OPERATION_MAX_ROWS": 1})
def test_delete_over_the_row_limit_is_a_400_and_deletes_nothing(alice_client, world):
    response = alice_client.delete("/qs/members/?email__endswith=gmail.com", **BULK)

    assert response.status_code == 400
    assert "affect 2 rows, more than the 1 allowed" in response.json()["detail"]
    assert len(usernames()) == 4


@pytest.fixture
def projects(world):
    one = Project.objects.create(organization=world.acme, name="one")
    two = Project.objects.create(organization=world.acme, name="two")
    theirs = Project.objects.create(organization=world.globex, name="one")
    for project in (one, two, theirs):
        Task.objects.create(project=project, title="a")
        Task.objects.create(project=project, title="b")
    return one, two, theirs


def test_cascaded_rows_are_deleted_but_not_counted(alice_client, projects):
    response = alice_client.delete("/qs/projects/", **BULK)

    assert response.status_code == 204
    assert response["X-Bulk-Affected-Rows"] == "2"
    assert list(Project.objects.values_list("organization__name", flat=True)) == ["globex"]
    assert Task.objects.count() == 2


def test_a_protected_row_is_a_409_and_deletes_nothing(alice_client, projects):
    Contract.objects.create(project=projects[1])

    response = alice_client.delete("/qs/projects/", **BULK)

    assert response.status_code == 409
    assert response.json()["detail"].startswith("Cannot delete some instances of model 'Project'")
    assert Project.objects.count() == 3
    assert Task.objects.count() == 6


def test_delete_query_count_does_not_grow_with_the_number_of_rows(world):
    counts = []
    for n in (10, 10_000):
        org = Organization.objects.create(name=f"org{n}")
        user = User.objects.create_user(f"user{n}")
        org.staff.add(user)
        Member.objects.bulk_create(
            Member(organization=org, username=f"u{n}-{i}", email=f"u{n}-{i}@gmail.com") for i in range(n)
        )
        with CaptureQueriesContext(connection) as queries:
            response = client_for(user).delete(
                "/qs/members/?email__endswith=gmail.com", HTTP_X_BULK_EXPECTED_ROWS=str(n), **BULK
            )
        assert response.status_code == 204
        assert response["X-Bulk-Affected-Rows"] == str(n)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_one_delete_statement_does_the_write(alice_client, world):
    with CaptureQueriesContext(connection) as queries:
        alice_client.delete("/qs/members/?email__endswith=gmail.com", **BULK)

    statements = [q["sql"].split()[0].upper() for q in queries]
    assert statements.count("DELETE") == 1
    assert "SELECT" not in statements[statements.index("DELETE"):]
