"""Per-row optimistic concurrency at ``/bulk/`` (``bulk_version_field``)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.testapp.models import StampedDoc, VersionedChild, VersionedDoc

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline")]

URL = "/version-test/docs/bulk/"


def make_docs(count, version=1):
    VersionedDoc.objects.bulk_create(VersionedDoc(title=f"a{n}", version=version) for n in range(count))
    return list(VersionedDoc.objects.order_by("id"))


def stored():
    return {doc.pk: (doc.title, doc.version) for doc in VersionedDoc.objects.all()}


def stale_indexes(body):
    return sorted(error["index"] for error in body["errors"] if error.get("code") == "stale")


@pytest.mark.parametrize("method", ["patch", "put"])
def test_a_matching_version_writes_and_bumps_it(api_client, method):
    docs = make_docs(2, version=3)
    items = [{"id": doc.pk, "title": f"new {doc.pk}", "version": 3} for doc in docs]

    response = getattr(api_client, method)(URL, items, format="json")

    assert response.status_code == 200, response.data
    assert response.data["updated_ids"] == [doc.pk for doc in docs]
    assert stored() == {doc.pk: (f"new {doc.pk}", 4) for doc in docs}


@pytest.mark.parametrize("method", ["patch", "put"])
def test_an_old_version_fails_stale_and_leaves_the_row(api_client, method):
    [doc] = make_docs(1, version=5)

    response = getattr(api_client, method)(URL, [{"id": doc.pk, "title": "lost", "version": 4}], format="json")

    assert response.status_code == 400, response.data
    [error] = response.data["errors"]
    assert error["code"] == "stale"
    assert error["errors"] == {"version": ["This row was changed since you read it."]}
    assert stored() == {doc.pk: ("a0", 5)}


def test_a_mixed_batch_writes_exactly_the_fresh_rows_in_non_atomic_mode(api_client):
    docs = make_docs(4, version=2)
    items = [{"id": doc.pk, "title": f"new{n}", "version": 2 if n % 2 == 0 else 1} for n, doc in enumerate(docs)]

    response = api_client.patch(URL + "?atomic=false", items, format="json")

    assert response.status_code == 200, response.data
    assert response.data["updated_ids"] == [docs[0].pk, docs[2].pk]
    assert stale_indexes(response.data) == [1, 3]
    assert stored() == {
        docs[0].pk: ("new0", 3), docs[1].pk: ("a1", 2), docs[2].pk: ("new2", 3), docs[3].pk: ("a3", 2)
    }  # fmt: skip


def test_one_stale_item_writes_nothing_in_atomic_mode(api_client):
    docs = make_docs(3, version=2)
    items = [{"id": doc.pk, "title": f"new{doc.pk}", "version": 2} for doc in docs]
    items[1]["version"] = 1

    response = api_client.patch(URL + "?atomic=true", items, format="json")

    assert response.status_code == 400, response.data
    assert response.data["success_count"] == 0
    assert stale_indexes(response.data) == [1]
    assert all(value == (f"a{n}", 2) for n, value in enumerate(stored().values()))


def test_stale_and_not_found_are_told_apart(api_client):
    VersionedDoc.objects.create(title="b-outside", version=1)
    [inside] = VersionedDoc.objects.filter(title="b-outside") or [None]
    doc = VersionedDoc.objects.create(title="a-in", version=2)

    response = api_client.patch(
        "/version-test/scoped-docs/bulk/?atomic=false",
        [{"id": inside.pk, "title": "x1", "version": 1}, {"id": doc.pk, "title": "x2", "version": 1}],
        format="json",
    )

    assert response.status_code == 400, response.data
    by_index = {error["index"]: error for error in response.data["errors"]}
    assert by_index[0]["errors"] == {"id": ["Not found."]} and "code" not in by_index[0]
    assert by_index[1]["code"] == "stale"


def test_an_item_without_the_version_is_written_unchecked_and_still_bumped(api_client):
    [doc] = make_docs(1, version=7)

    response = api_client.patch(URL, [{"id": doc.pk, "title": "new"}], format="json")

    assert response.status_code == 200, response.data
    assert stored() == {doc.pk: ("new", 8)}


def test_a_writable_version_field_is_compared_not_written(api_client):
    [doc] = make_docs(1, version=7)

    response = api_client.patch(
        "/version-test/writable-docs/bulk/", [{"id": doc.pk, "title": "new", "version": 7}], format="json"
    )

    assert response.status_code == 200, response.data
    assert stored() == {doc.pk: ("new", 8)}


def test_an_item_with_only_the_version_is_checked_and_bumped(api_client):
    [doc] = make_docs(1, version=2)

    fresh = api_client.patch(URL, [{"id": doc.pk, "version": 2}], format="json")
    old = api_client.patch(URL, [{"id": doc.pk, "version": 2}], format="json")

    assert fresh.status_code == 200, fresh.data
    assert old.status_code == 400 and stale_indexes(old.data) == [0]
    assert stored() == {doc.pk: ("a0", 3)}


def test_an_invalid_version_value_is_a_field_error(api_client):
    [doc] = make_docs(1)

    response = api_client.patch(URL, [{"id": doc.pk, "title": "x", "version": "two"}], format="json")

    assert response.status_code == 400
    assert list(response.data["errors"][0]["errors"]) == ["version"]
    assert stored() == {doc.pk: ("a0", 1)}


def test_upsert_updates_only_a_fresh_row_and_creates_new_keys(api_client):
    VersionedDoc.objects.create(title="k1", body="old", version=3)
    VersionedDoc.objects.create(title="k2", body="old", version=3)
    items = [
        {"title": "k1", "body": "new", "version": 3},
        {"title": "k2", "body": "new", "version": 2},
        {"title": "k3", "body": "new"},
    ]

    response = api_client.patch(URL + "?unique_fields=title&atomic=false", items, format="json")

    assert response.status_code == 200, response.data
    assert stale_indexes(response.data) == [1]
    rows = {doc.title: (doc.body, doc.version) for doc in VersionedDoc.objects.all()}
    assert rows == {"k1": ("new", 4), "k2": ("old", 3), "k3": ("new", 1)}


@pytest.mark.parametrize("prefix", ["docs", "permission-docs"])
def test_delete_removes_only_rows_with_the_version_read(api_client, prefix):
    docs = make_docs(3, version=2)
    items = [
        {"id": docs[0].pk, "version": 2},
        {"id": docs[1].pk, "version": 1},
        docs[2].pk,
        {"id": 10**9, "version": 1},
    ]

    response = api_client.delete(f"/version-test/{prefix}/bulk/?atomic=false", items, format="json")

    assert response.status_code == 200, response.data
    assert response.data["deleted_ids"] == [docs[0].pk, docs[2].pk]
    assert stale_indexes(response.data) == [1]
    assert [error["errors"] for error in response.data["errors"] if error["index"] == 3] == [{"id": ["Not found."]}]
    assert stored() == {docs[1].pk: ("a1", 2)}


@pytest.mark.parametrize("atomic", ["true", "false"])
def test_delete_by_timestamp_through_the_collector(api_client, atomic):
    docs = [StampedDoc.objects.create(title=f"t{n}") for n in range(3)]
    for doc in docs:
        VersionedChild.objects.create(doc=doc)
    read = [api_client.get(f"/version-test/stamped-docs/{doc.pk}/").data["updated_at"] for doc in docs]
    StampedDoc.objects.filter(pk=docs[1].pk).update(updated_at=docs[1].updated_at + datetime.timedelta(seconds=1))
    items = [{"id": doc.pk, "updated_at": value} for doc, value in zip(docs, read)]

    response = api_client.delete(f"/version-test/stamped-docs/bulk/?atomic={atomic}", items, format="json")

    assert stale_indexes(response.data) == [1]
    if atomic == "true":
        assert response.status_code == 400
        assert StampedDoc.objects.count() == 3 and VersionedChild.objects.count() == 3
    else:
        assert response.status_code == 200, response.data
        assert response.data["deleted_ids"] == [docs[0].pk, docs[2].pk]
        assert list(StampedDoc.objects.values_list("pk", flat=True)) == [docs[1].pk]
        assert list(VersionedChild.objects.values_list("doc_id", flat=True)) == [docs[1].pk]


def test_delete_in_atomic_mode_with_a_stale_item_deletes_nothing(api_client):
    docs = make_docs(2, version=2)

    response = api_client.delete(
        URL + "?atomic=true", [{"id": docs[0].pk, "version": 2}, {"id": docs[1].pk, "version": 1}], format="json"
    )

    assert response.status_code == 400, response.data
    assert stale_indexes(response.data) == [1]
    assert len(stored()) == 2


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_a_required_version_missing_fails_with_required(api_client, method):
    [doc] = make_docs(1)
    item = {"id": doc.pk, "title": "x"} if method == "patch" else doc.pk

    response = getattr(api_client, method)("/version-test/required-docs/bulk/", [item], format="json")

    assert response.status_code == 400, response.data
    assert response.data["errors"][0]["errors"] == {"version": ["This field is required."]}
    assert stored() == {doc.pk: ("a0", 1)}


def test_a_required_version_is_not_needed_to_create_through_upsert(api_client):
    response = api_client.patch(
        "/version-test/required-docs/bulk/?unique_fields=title", [{"title": "new"}], format="json"
    )

    assert response.status_code == 200, response.data
    assert stored().popitem()[1] == ("new", 1)


def test_the_list_route_patch_bumps_the_version(api_client):
    docs = make_docs(3, version=4)

    response = api_client.patch(
        "/version-test/docs/?title=a1", {"body": "bulk", "version": 99}, format="json", HTTP_X_BULK_OPERATION="true"
    )

    assert response.status_code == 204, response.data
    versions = dict(VersionedDoc.objects.values_list("pk", "version"))
    assert versions == {docs[0].pk: 4, docs[1].pk: 5, docs[2].pk: 4}


def test_a_timestamp_version_is_compared_and_set_by_auto_now(api_client):
    doc = StampedDoc.objects.create(title="t")
    read = api_client.get(f"/version-test/stamped-docs/{doc.pk}/").data["updated_at"]
    StampedDoc.objects.filter(pk=doc.pk).update(updated_at=doc.updated_at - datetime.timedelta(seconds=0))

    fresh = api_client.patch(
        "/version-test/stamped-docs/bulk/", [{"id": doc.pk, "title": "new", "updated_at": read}], format="json"
    )
    old = api_client.patch(
        "/version-test/stamped-docs/bulk/", [{"id": doc.pk, "title": "lost", "updated_at": read}], format="json"
    )

    assert fresh.status_code == 200, fresh.data
    assert old.status_code == 400 and stale_indexes(old.data) == [0]
    doc.refresh_from_db()
    assert doc.title == "new"
    assert doc.updated_at.isoformat().replace("+00:00", "Z") != read


def test_a_dry_run_reports_stale_without_writing(api_client):
    docs = make_docs(2, version=2)
    items = [{"id": docs[0].pk, "title": "x0", "version": 2}, {"id": docs[1].pk, "title": "x1", "version": 1}]

    response = api_client.patch(URL + "?dry_run=true&atomic=false", items, format="json")
    deletes = api_client.delete(URL + "?dry_run=true&atomic=false", [{"id": docs[1].pk, "version": 1}], format="json")

    assert response.status_code == 200, response.data
    assert response.data["dry_run"] is True
    assert response.data["updated_ids"] == [docs[0].pk]
    assert stale_indexes(response.data) == [1]
    assert stale_indexes(deletes.data) == [0]
    assert all(value == (f"a{n}", 2) for n, value in enumerate(stored().values()))


@pytest.mark.parametrize(
    ("method", "query", "items"),
    [
        ("patch", "", lambda docs: [{"id": doc.pk, "title": f"n{doc.pk}", "version": 1} for doc in docs]),
        ("put", "", lambda docs: [{"id": doc.pk, "title": f"n{doc.pk}", "version": 1} for doc in docs]),
        (
            "patch",
            "unique_fields=title&",
            lambda docs: [{"title": doc.title, "body": "n", "version": 1} for doc in docs],
        ),
        ("delete", "", lambda docs: [{"id": doc.pk, "version": 1} for doc in docs]),
        ("delete", "", lambda docs: [doc.pk for doc in docs]),
    ],
)
@pytest.mark.parametrize("atomic", ["true", "false"])
def test_version_checks_add_no_query_per_chunk(api_client, settings, method, query, items, atomic):
    counts = []
    for prefix in ("plain-docs", "docs"):
        VersionedDoc.objects.all().delete()
        docs = make_docs(30)
        with CaptureQueriesContext(connection) as ctx:
            data = items(docs)
            if prefix == "plain-docs" and method == "delete":
                data = [doc.pk for doc in docs]  # a view without versions takes ids only
            response = getattr(api_client, method)(
                f"/version-test/{prefix}/bulk/?{query}atomic={atomic}", data, format="json"
            )
        assert response.status_code == 200, response.data
        assert response.data["error_count"] == 0
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_upsert_update_fields_naming_the_version_still_only_bumps_it(api_client):
    VersionedDoc.objects.create(title="k1", body="old", version=3)

    response = api_client.patch(
        "/version-test/writable-docs/bulk/?unique_fields=title&update_fields=body,version",
        [{"title": "k1", "body": "new", "version": 3}],
        format="json",
    )

    assert response.status_code == 200, response.data
    assert {doc.title: (doc.body, doc.version) for doc in VersionedDoc.objects.all()} == {"k1": ("new", 4)}
