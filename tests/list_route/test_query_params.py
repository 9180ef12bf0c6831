"""Strict list-route writes: every query parameter of a queryset-level
PATCH/DELETE must narrow the rows, or the request is a 400 and nothing is
written (``rest_bulk_ext.list_route.query_params``)."""

import pytest
from django.test import override_settings

from tests.list_route.support import BULK
from tests.testapp.models import Member

DRY_RUN = {**BULK, "HTTP_X_BULK_DRY_RUN": "true"}


def snapshot():
    return sorted(Member.objects.values_list("username", "is_active", "nickname"))


def send(client, method, url, **headers):
    if method == "patch":
        return client.patch(url, {"display_name": "hit"}, format="json", **{**BULK, **headers})
    return client.delete(url, **{**BULK, **headers})


# (url, the parameter the 400 must name)
REFUSED = [
    ("/qs/members/?emial=ann@gmail.com", "emial"),  # misspelt
    ("/qs/members/?id=5", "id"),  # a field the view does not filter on
    ("/qs/members/?page=2", "page"),
    ("/qs/members/?ordering=username", "ordering"),
    ("/qs/members/?format=json", "format"),
    ("/qs/members/?email__startswith=ann", "email__startswith"),  # undeclared lookup
    ("/qs/members/?email=", "email"),  # empty value
    ("/qs/members/?email__endswith=%20", "email__endswith"),  # blank value
    ("/qs/members/?is_active=maybe", "is_active"),  # a value the filter drops
    ("/qs/members/?is_active=yes", "is_active"),
    ("/qs/members/?is_active=on", "is_active"),
    ("/qs/members/?email__endswith=gmail.com&emial=x", "emial"),  # one good, one bad
    ("/qs/members/?email=ann@gmail.com&email=amy@yahoo.com", "email"),  # only one would be used
    ("/sec/list-members/?email__endswith=gmail.com", "email__endswith"),  # list form: exact only
    ("/sec/list-members/?username=ann", "username"),
    ("/sec/class-members/?is_active=yes", "is_active"),
    ("/sec/class-members/?score_min=", "score_min"),
    ("/sec/class-members/?domain=", "domain"),
    ("/sec/class-members/?score=3", "score"),  # a range filter reads score_min/score_max
    ("/sec/class-members/?order=username", "order"),  # django-filter's own OrderingFilter
    ("/sec/search-members/?search=", "search"),
    ("/sec/search-members/?search=%20%20", "search"),
    ("/sec/search-members/?ordering=username", "ordering"),
    ("/sec/search-members/?page=1", "page"),
    ("/sec/custom-members/?team_name=red", "team_name"),  # a backend that cannot say
]


@pytest.mark.parametrize("method", ["delete", "patch"])
@pytest.mark.parametrize("url,param", REFUSED)
def test_a_parameter_that_would_not_narrow_the_rows_is_refused(alice_client, method, url, param):
    before = snapshot()
    response = send(alice_client, method, url)
    assert response.status_code == 400, response.content
    assert param in response.json(), response.json()
    assert snapshot() == before


@pytest.mark.parametrize("headers", [DRY_RUN, {"HTTP_X_BULK_EXPECTED_ROWS": "3"}])
def test_dry_run_and_expected_rows_apply_the_same_rule(alice_client, headers):
    before = snapshot()
    response = send(alice_client, "delete", "/qs/members/?id=5", **headers)
    assert response.status_code == 400
    assert "id" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("method", ["delete", "patch"])
def test_an_invalid_filter_value_is_a_400_and_writes_nothing(alice_client, method):
    before = snapshot()
    response = send(alice_client, method, "/sec/class-members/?score_min=abc")
    assert response.status_code == 400
    assert "score" in response.json()
    assert snapshot() == before


def affected(response):
    assert response.status_code == 204, response.content
    return int(response["X-Bulk-Affected-Rows"])


@pytest.mark.parametrize(
    "url,expected",
    [
        ("/qs/members/", ["abe", "amy", "ann"]),  # no parameter: every row, as in drf-extensions
        ("/qs/members/?email__endswith=gmail.com", ["abe", "ann"]),
        ("/qs/members/?is_active=TRUE", ["abe", "amy", "ann"]),
        ("/qs/members/?is_active=0", []),
        ("/sec/list-members/?email=amy@yahoo.com", ["amy"]),
        ("/sec/class-members/?score_min=0&score_max=0", ["abe", "amy", "ann"]),
        ("/sec/class-members/?status=draft&status=published", ["abe", "amy", "ann"]),
        ("/sec/class-members/?domain=yahoo.com", ["amy"]),
        ("/sec/search-members/?search=ann", ["ann"]),
        ("/sec/declared-members/?team_name=nope", []),
        ("/sec/self-declared-members/?team_name=nope", []),
        ("/sec/lenient-members/?emial=x", ["abe", "amy", "ann"]),
    ],
)
def test_parameters_that_narrow_are_taken(alice_client, url, expected):
    response = send(alice_client, "patch", url)
    assert affected(response) == len(expected)
    assert sorted(Member.objects.filter(nickname="hit").values_list("username", flat=True)) == expected


def test_the_setting_restores_the_lenient_behaviour(alice_client):
    with override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_STRICT_QUERY_PARAMS": False}):
        response = send(alice_client, "patch", "/qs/members/?id=5")
    assert affected(response) == 3


def test_a_misspelt_delete_parameter_deletes_nothing(alice_client, world):
    response = send(alice_client, "delete", "/qs/members/?emial=ann@gmail.com")
    assert response.status_code == 400
    assert "would act on every row" in response.json()["emial"][0]
    assert Member.objects.filter(organization=world.acme).count() == 3


def test_the_refusal_lists_the_filters_a_client_may_use(alice_client):
    message = send(alice_client, "delete", "/qs/members/?id=5").json()["id"][0]
    assert "email, email__endswith, is_active, status" in message
