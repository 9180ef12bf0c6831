"""``X-Bulk-Dry-Run`` on the list route: true or false, or a 400 — an unclear
value never writes for real (read by ``rest_bulk_ext.flags``, as at ``/bulk/``)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.list_route.support import BULK, patch
from tests.testapp.models import Member, Project, Task

UNCLEAR = ["tru", "maybe", "t", "y", "2", "preview", "dry", "", " ", "true,false", "truE1"]


def stored_members():
    return dict(Member.objects.values_list("username", "is_active"))


def writes(queries):
    return [query["sql"] for query in queries if query["sql"].lstrip().upper().startswith(("UPDATE", "DELETE"))]


def unclear_header_error(value):
    return {
        "detail": f"Header 'X-Bulk-Dry-Run' must be true or false (also 1/0, yes/no, on/off); got {value!r}. "
        "Nothing was written."
    }


@pytest.mark.parametrize("value", UNCLEAR)
def test_an_unclear_dry_run_value_on_delete_is_a_400_and_deletes_nothing(alice_client, world, value):
    before = stored_members()

    with CaptureQueriesContext(connection) as queries:
        response = alice_client.delete("/qs/members/", HTTP_X_BULK_DRY_RUN=value, **BULK)

    assert response.status_code == 400, response.content
    assert response.json() == unclear_header_error(value)
    assert writes(queries) == []
    assert stored_members() == before


@pytest.mark.parametrize("value", UNCLEAR)
def test_an_unclear_dry_run_value_on_patch_is_a_400_and_updates_nothing(alice_client, world, value):
    before = stored_members()

    response = patch(alice_client, "/qs/members/", {"is_active": False}, HTTP_X_BULK_DRY_RUN=value, **BULK)

    assert response.status_code == 400, response.content
    assert response.json() == unclear_header_error(value)
    assert stored_members() == before


def test_an_unclear_dry_run_value_deletes_no_cascaded_rows(alice_client, world):
    project = Project.objects.create(organization=world.acme, name="one")
    Task.objects.create(project=project, title="a")

    response = alice_client.delete("/qs/projects/", HTTP_X_BULK_DRY_RUN="tru", **BULK)

    assert response.status_code == 400
    assert (Project.objects.count(), Task.objects.count()) == (1, 1)


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "yes", "Yes", "on", " ON "])
def test_every_spelling_of_true_is_a_dry_run(alice_client, world, value):
    with CaptureQueriesContext(connection) as queries:
        response = alice_client.delete("/qs/members/?email__endswith=gmail.com", HTTP_X_BULK_DRY_RUN=value, **BULK)

    assert response.status_code == 200
    assert response.json() == {"affected_rows": 2}
    assert writes(queries) == []
    assert len(stored_members()) == 4


@pytest.mark.parametrize("value", ["false", "False", "0", "no", "OFF"])
def test_every_spelling_of_false_is_a_real_write(alice_client, world, value):
    response = alice_client.delete("/qs/members/?email__endswith=gmail.com", HTTP_X_BULK_DRY_RUN=value, **BULK)

    assert response.status_code == 204
    assert response["X-Bulk-Affected-Rows"] == "2"
    assert set(stored_members()) == {"amy", "gus"}


@pytest.mark.parametrize("value", ["tru", "maybe", ""])
def test_the_list_route_and_bulk_refuse_an_unclear_value_with_the_same_answer(alice_client, world, value):
    listed = alice_client.delete("/qs/members/", HTTP_X_BULK_DRY_RUN=value, **BULK)
    per_item = alice_client.delete("/items/txns/bulk/", [1], format="json", HTTP_X_BULK_DRY_RUN=value)

    assert (listed.status_code, per_item.status_code) == (400, 400)
    assert listed.json() == per_item.json() == unclear_header_error(value)
    assert len(stored_members()) == 4
