"""A list-route DELETE names its rows in the query string only: one with a
request body is a 400 and deletes nothing (the body would be ignored)."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.list_route.support import BULK
from tests.testapp.models import Member, Project, Task

BODY_REFUSED = {
    "detail": "A bulk DELETE takes no request body; nothing was deleted. Name the rows with query "
    "parameters (the view's filters), e.g. ?email=x, not in the body."
}


def usernames():
    return set(Member.objects.values_list("username", flat=True))


def deletes(queries):
    return [query["sql"] for query in queries if query["sql"].lstrip().upper().startswith("DELETE")]


@pytest.mark.parametrize(
    "body, content_type",
    [
        (json.dumps({"email": "x"}), "application/json"),
        (json.dumps([1, 2]), "application/json"),
        ("{}", "application/json"),
        ("email=x", "application/x-www-form-urlencoded"),
        ("x", "text/plain"),
    ],
)
def test_a_delete_with_a_body_is_a_400_and_deletes_nothing(alice_client, world, body, content_type):
    with CaptureQueriesContext(connection) as queries:
        response = alice_client.generic("DELETE", "/qs/members/", body, content_type=content_type, **BULK)

    assert response.status_code == 400, response.content
    assert response.json() == BODY_REFUSED
    assert deletes(queries) == []
    assert usernames() == {"ann", "abe", "amy", "gus"}


def test_a_delete_with_a_body_and_a_filter_deletes_nothing(alice_client, world):
    response = alice_client.generic(
        "DELETE", "/qs/members/?email__endswith=gmail.com", '{"email": "ann@gmail.com"}',
        content_type="application/json", **BULK,
    )  # fmt: skip

    assert response.status_code == 400
    assert len(usernames()) == 4


def test_a_chunked_delete_is_a_400_and_deletes_nothing(alice_client, world):
    response = alice_client.generic("DELETE", "/qs/members/", "", HTTP_TRANSFER_ENCODING="chunked", **BULK)

    assert response.status_code == 400
    assert response.json() == BODY_REFUSED
    assert len(usernames()) == 4


def test_a_dry_run_with_a_body_is_a_400_too(alice_client, world):
    response = alice_client.generic(
        "DELETE", "/qs/members/", '{"email": "x"}', content_type="application/json",
        HTTP_X_BULK_DRY_RUN="true", **BULK,
    )  # fmt: skip

    assert response.status_code == 400
    assert response.json() == BODY_REFUSED


def test_a_delete_with_a_body_deletes_no_cascaded_rows(alice_client, world):
    project = Project.objects.create(organization=world.acme, name="one")
    Task.objects.create(project=project, title="a")

    response = alice_client.generic("DELETE", "/qs/projects/", '{"name": "two"}', content_type="application/json", **BULK)

    assert response.status_code == 400
    assert (Project.objects.count(), Task.objects.count()) == (1, 1)


@pytest.mark.parametrize("extra", [{}, {"CONTENT_TYPE": "application/json"}, {"CONTENT_LENGTH": "0"}])
def test_a_delete_with_an_empty_body_still_deletes(alice_client, world, extra):
    with CaptureQueriesContext(connection) as queries:
        response = alice_client.generic("DELETE", "/qs/members/?email__endswith=gmail.com", "", **extra, **BULK)

    assert response.status_code == 204, response.content
    assert response["X-Bulk-Affected-Rows"] == "2"
    assert len(deletes(queries)) >= 1
    assert usernames() == {"amy", "gus"}


def test_a_patch_keeps_its_body(alice_client, world):
    response = alice_client.patch("/qs/members/?email__endswith=gmail.com", {"is_active": False}, format="json", **BULK)

    assert response.status_code == 204
    assert set(Member.objects.filter(is_active=False).values_list("username", flat=True)) == {"ann", "abe"}
