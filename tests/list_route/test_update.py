"""Queryset-level bulk PATCH on the list route (``ListUpdateModelMixin``)."""


import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from tests.builders import client_for
from tests.list_route.support import BULK, HEADER_REQUIRED, patch
from tests.testapp.models import Member, Organization


def active_flags():
    return dict(Member.objects.values_list("username", "is_active"))


# --- the headline request -------------------------------------------------


def test_patch_updates_exactly_the_rows_the_filter_matches(alice_client, world):
    response = patch(alice_client, "/qs/members/?email__endswith=gmail.com", {"is_active": False}, **BULK)

    assert response.status_code == 204
    assert response.content == b""
    assert response["X-Bulk-Affected-Rows"] == "2"
    assert active_flags() == {"ann": False, "abe": False, "amy": True, "gus": True}


def test_patch_never_touches_rows_outside_get_queryset(alice_client, world):
    response = patch(alice_client, "/qs/members/?email=gus@gmail.com", {"is_active": False}, **BULK)

    assert response.status_code == 204
    assert response["X-Bulk-Affected-Rows"] == "0"
    assert Member.objects.get(username="gus").is_active is True


def test_patch_without_filter_updates_every_row_of_the_tenant(alice_client, world):
    response = patch(alice_client, "/qs/members/", {"status": "published"}, **BULK)

    assert response["X-Bulk-Affected-Rows"] == "3"
    assert set(Member.objects.filter(status="published").values_list("username", flat=True)) == {
        "ann", "abe", "amy",
    }


def test_invalid_filter_value_is_a_400_and_writes_nothing(alice_client, world):
    response = patch(alice_client, "/qs/members/?status=nope", {"score": 2}, **BULK)

    assert response.status_code == 400
    assert "status" in response.json()
    assert not Member.objects.filter(score=2).exists()


# --- the guard header -----------------------------------------------------


def test_bulk_update_without_header_writes_nothing(alice_client, world):
    response = patch(alice_client, "/qs/members/", {"is_active": False})

    assert response.status_code == 400
    assert response.json() == HEADER_REQUIRED
    assert all(active_flags().values())


@pytest.mark.parametrize("value", ["false", "0", "no", "off", "", "please"])
def test_bulk_update_with_a_false_header_value_writes_nothing(alice_client, world, value):
    response = patch(alice_client, "/qs/members/", {"is_active": False}, HTTP_X_BULK_OPERATION=value)

    assert response.status_code == 400
    assert response.json() == HEADER_REQUIRED
    assert all(active_flags().values())


@pytest.mark.parametrize("value", ["true", "1", "yes", "ON", "True"])
def test_bulk_update_accepts_every_true_header_value(alice_client, world, value):
    response = patch(alice_client, "/qs/members/", {"is_active": False}, HTTP_X_BULK_OPERATION=value)

    assert response.status_code == 204
    assert Member.objects.filter(is_active=False).count() == 3


@override_settings(REST_FRAMEWORK_EXTENSIONS={"DEFAULT_BULK_OPERATION_HEADER_NAME": "X-Really"})
def test_configured_header_name_is_required_and_named_in_the_error(alice_client, world):
    refused = patch(alice_client, "/qs/members/", {"is_active": False}, **BULK)
    accepted = patch(alice_client, "/qs/members/", {"is_active": False}, HTTP_X_REALLY="yes")

    assert refused.status_code == 400
    assert refused.json() == {"detail": "Header 'X-Really' should be provided for bulk operation."}
    assert accepted.status_code == 204


@override_settings(REST_FRAMEWORK_EXTENSIONS={"DEFAULT_BULK_OPERATION_HEADER_NAME": None})
def test_header_name_none_turns_the_guard_off(alice_client, world):
    response = patch(alice_client, "/qs/members/?email__endswith=yahoo.com", {"is_active": False})

    assert response.status_code == 204
    assert active_flags()["amy"] is False


# --- dry run, expected rows, row limit --------------------------------------


def test_dry_run_answers_the_count_and_writes_nothing(alice_client, world):
    response = patch(
        alice_client, "/qs/members/?email__endswith=gmail.com", {"is_active": False},
        HTTP_X_BULK_DRY_RUN="true", **BULK,
    )

    assert response.status_code == 200
    assert response.json() == {"affected_rows": 2}
    assert all(active_flags().values())


def test_dry_run_still_needs_the_guard_header(alice_client, world):
    response = patch(alice_client, "/qs/members/", {"is_active": False}, HTTP_X_BULK_DRY_RUN="true")

    assert response.status_code == 400
    assert response.json() == HEADER_REQUIRED


def test_dry_run_validates_the_body_like_the_real_request(alice_client, world):
    response = patch(alice_client, "/qs/members/", {"status": "nope"}, HTTP_X_BULK_DRY_RUN="1", **BULK)

    assert response.status_code == 400
    assert "status" in response.json()


def test_expected_rows_mismatch_is_a_412_with_the_real_count(alice_client, world):
    response = patch(
        alice_client, "/qs/members/?email__endswith=gmail.com", {"is_active": False},
        HTTP_X_BULK_EXPECTED_ROWS="3", **BULK,
    )

    assert response.status_code == 412
    body = response.json()
    assert body["affected_rows"] == 2
    assert "X-Bulk-Expected-Rows is 3" in body["detail"]
    assert all(active_flags().values())


def test_expected_rows_that_match_let_the_write_through(alice_client, world):
    response = patch(
        alice_client, "/qs/members/?email__endswith=gmail.com", {"is_active": False},
        HTTP_X_BULK_EXPECTED_ROWS="2", **BULK,
    )

    assert response.status_code == 204
    assert response["X-Bulk-Affected-Rows"] == "2"


@pytest.mark.parametrize("value", ["two", "-1", "1.5", "", "²"])
def test_expected_rows_that_is_not_a_count_is_a_400(alice_client, world, value):
    response = patch(alice_client, "/qs/members/", {"is_active": False}, HTTP_X_BULK_EXPECTED_ROWS=value, **BULK)

    assert response.status_code == 400
    assert "X-Bulk-Expected-Rows" in response.json()["detail"]
    assert all(active_flags().values())


@override_settings(REST_FRAMEWORK_EXTENSIONS={"DEFAULT_BULK_OPERATION_MAX_ROWS": 2})
def test_more_rows_than_the_limit_is_a_400_and_writes_nothing(alice_client, world):
    refused = patch(alice_client, "/qs/members/", {"is_active": False}, **BULK)
    accepted = patch(alice_client, "/qs/members/?email__endswith=gmail.com", {"is_active": False}, **BULK)

    assert refused.status_code == 400
    assert "DEFAULT_BULK_OPERATION_MAX_ROWS" in refused.json()["detail"]
    assert accepted.status_code == 204
    assert active_flags() == {"ann": False, "abe": False, "amy": True, "gus": True}


# --- validation of the body -------------------------------------------------


def test_invalid_values_are_a_400_per_field_and_write_nothing(alice_client, world):
    response = patch(alice_client, "/qs/members/", {"email": "not-an-email", "status": "nope", "score": 2}, **BULK)

    assert response.status_code == 400
    body = response.json()
    assert body["email"] == ["Enter a valid email address."]
    assert body["status"] == ['"nope" is not a valid choice.']
    assert not Member.objects.filter(score=2).exists()


def test_field_validators_run(alice_client, world):
    response = patch(alice_client, "/qs/members/", {"email": "x@example.com"}, **BULK)

    assert response.status_code == 400
    assert response.json() == {"email": ["example.com addresses are not allowed."]}


def test_validate_field_method_runs_and_its_value_is_written(alice_client, world):
    odd = patch(alice_client, "/qs/members/", {"score": 3}, **BULK)
    lowered = patch(alice_client, "/qs/members/?email__endswith=yahoo.com", {"email": "AMY@Example.org"}, **BULK)

    assert odd.status_code == 400
    assert odd.json() == {"score": ["Score must be even."]}
    assert lowered.status_code == 204
    assert Member.objects.get(username="amy").email == "amy@example.org"


def test_serializer_level_validate_is_not_run(alice_client, world):
    # MemberSerializer.validate() refuses archiving an active member; a bulk
    # update validates fields one by one (documented), the detail route does not.
    detail = patch(alice_client, f"/qs/members/{world.ann.pk}/", {"status": "archived"})
    bulk = patch(alice_client, "/qs/members/", {"status": "archived"}, **BULK)

    assert detail.status_code == 400
    assert bulk.status_code == 204
    assert Member.objects.filter(status="archived").count() == 3


def test_source_is_honoured(alice_client, world):
    response = patch(alice_client, "/qs/members/?email__endswith=gmail.com", {"display_name": "gm"}, **BULK)

    assert response.status_code == 204
    assert dict(Member.objects.values_list("username", "nickname")) == {
        "ann": "gm", "abe": "gm", "amy": "", "gus": "",
    }


def test_read_only_hidden_and_unknown_fields_are_ignored(alice_client, world):
    response = patch(
        alice_client, "/qs/members/",
        {"is_active": False, "organization": world.globex.pk, "owner": world.bob.pk, "id": 999, "nope": 1},
        **BULK,
    )

    assert response.status_code == 204
    ann = Member.objects.get(username="ann")
    assert (ann.is_active, ann.organization_id, ann.owner_id, ann.pk) == (
        False, world.acme.pk, world.alice.pk, world.ann.pk,
    )


@pytest.mark.parametrize("body", [{}, {"nope": 1, "organization": 2}])
def test_a_body_without_a_writable_field_is_a_400(alice_client, world, body):
    response = patch(alice_client, "/qs/members/", body, **BULK)

    assert response.status_code == 400
    assert "names no writable field of MemberSerializer" in response.json()["detail"]


@pytest.mark.parametrize("body, kind", [([{"is_active": False}], "list"), ("yes", "str"), (5, "int")])
def test_a_body_that_is_not_an_object_is_a_400(alice_client, world, body, kind):
    response = patch(alice_client, "/qs/members/", body, **BULK)

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]}
    assert all(active_flags().values())


def test_malformed_json_is_a_400(alice_client, world):
    response = alice_client.generic(
        "PATCH", "/qs/members/", '{"is_active": fal', content_type="application/json", **BULK
    )

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_a_dotted_source_is_a_400_naming_the_field(alice_client, world):
    response = patch(alice_client, "/qs/members/", {"organization_name": "x", "is_active": False}, **BULK)

    assert response.status_code == 400
    assert list(response.json()) == ["organization_name"]
    assert "organization.name" in response.json()["organization_name"][0]
    assert all(active_flags().values())


def test_many_to_many_and_nested_fields_are_a_400_naming_the_field(alice_client, world):
    response = patch(alice_client, "/qs/projects/", {"labels": [1], "new_tasks": [{"title": "t"}]}, **BULK)

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"labels", "new_tasks"}
    assert "many-to-many" in body["labels"][0]
    assert "nested serializer" in body["new_tasks"][0]


def test_related_fields_resolve_through_the_fields_own_queryset(alice_client, world):
    foreign = patch(alice_client, "/qs/members/", {"team": world.globex_team.pk}, **BULK)
    own = patch(alice_client, "/qs/members/", {"team": world.acme_team.pk}, **BULK)

    assert foreign.status_code == 400
    assert foreign.json() == {"team": [f'Invalid pk "{world.globex_team.pk}" - object does not exist.']}
    assert own.status_code == 204
    assert set(Member.objects.filter(organization=world.acme).values_list("team", flat=True)) == {
        world.acme_team.pk
    }


def test_auto_now_fields_move_like_save_would(alice_client, world):
    before = Member.objects.get(username="amy").updated_at

    patch(alice_client, "/qs/members/?email__endswith=yahoo.com", {"score": 4}, **BULK)

    assert Member.objects.get(username="amy").updated_at > before
    assert Member.objects.get(username="ann").updated_at <= before


def test_form_encoded_bodies_are_validated_the_same_way(alice_client, world):
    response = alice_client.patch(
        "/qs/members/?email__endswith=yahoo.com", "score=6&is_active=false",
        content_type="application/x-www-form-urlencoded", **BULK,
    )

    assert response.status_code == 204
    amy = Member.objects.get(username="amy")
    assert (amy.score, amy.is_active) == (6, False)


# --- query counts -----------------------------------------------------------


def count_queries(client, url, body, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = patch(client, url, body, **headers)
    assert response.status_code in (200, 204), response.content
    return len(queries)


@pytest.mark.parametrize("extra_headers", [{}, {"HTTP_X_BULK_EXPECTED_ROWS": "N"}, {"HTTP_X_BULK_DRY_RUN": "1"}])
def test_query_count_does_not_grow_with_the_number_of_rows(world, extra_headers):
    counts = []
    for n in (10, 10_000):
        org = Organization.objects.create(name=f"org{n}")
        user = User.objects.create_user(f"user{n}")
        org.staff.add(user)
        Member.objects.bulk_create(
            Member(organization=org, username=f"u{n}-{i}", email=f"u{n}-{i}@gmail.com") for i in range(n)
        )
        headers = {key: str(n) if value == "N" else value for key, value in extra_headers.items()}
        counts.append(count_queries(client_for(user), "/qs/members/?email__endswith=gmail.com",
                                    {"is_active": False}, **headers, **BULK))
    assert counts[0] == counts[1]


def test_one_update_statement_does_the_write(alice_client, world):
    with CaptureQueriesContext(connection) as queries:
        patch(alice_client, "/qs/members/?email__endswith=gmail.com", {"is_active": False}, **BULK)

    statements = [q["sql"].split()[0].upper() for q in queries]
    assert statements.count("UPDATE") == 1
    assert "DELETE" not in statements and "INSERT" not in statements
