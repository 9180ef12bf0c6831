import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework import serializers

from rest_bulk_ext.bulk_endpoint.filters import ALLOWED_LOOKUPS, TEXT_LOOKUPS, allowed_filter_fields, apply_bulk_filters
from tests.builders import make_account, make_txns
from tests.bulk_endpoint.views import ExactOnlyTxnViewSet, FilterClassTxnViewSet, TxnViewSet
from tests.testapp.models import Txn


def filtered_refs(view, filters):
    return sorted(apply_bulk_filters(Txn.objects.all(), view, filters).values_list("ref", flat=True))


def filter_errors(view, filters):
    with pytest.raises(serializers.ValidationError) as exc_info:
        apply_bulk_filters(Txn.objects.all(), view, filters)
    return {name: [str(m) for m in messages] for name, messages in exc_info.value.detail["filters"].items()}


@pytest.fixture
def txns(db):
    account = make_account()
    other = make_account("ACC-2")
    make_txns(account, 5)  # ref-0..ref-4, amounts 0.50..4.50
    make_txns(other, 2, start=10, kind="credit")
    return account, other


def test_the_whitelist_joins_filterset_fields_and_bulk_filter_fields():
    allowed = allowed_filter_fields(TxnViewSet(), Txn)
    assert set(allowed) == {"account", "kind", "ref", "amount", "occurred_at", "email"}
    # Lookups are granted by field type: text lookups on text columns only,
    # and a foreign key has neither those nor ``range``.
    assert allowed["ref"] == ALLOWED_LOOKUPS
    assert allowed["amount"] == ALLOWED_LOOKUPS - TEXT_LOOKUPS
    assert allowed["account"] == {"exact", "in", "isnull", "gt", "gte", "lt", "lte"}


def test_a_filterset_class_exposes_its_model_fields_but_not_method_filters():
    assert set(allowed_filter_fields(FilterClassTxnViewSet(), Txn)) == {"kind", "amount"}


def test_the_dict_form_of_filterset_fields_limits_the_lookups():
    allowed = allowed_filter_fields(ExactOnlyTxnViewSet(), Txn)
    assert allowed == {"amount": frozenset({"exact"}), "kind": frozenset({"exact", "in"})}


def test_bulk_filter_fields_naming_no_model_field_is_a_configuration_error():
    class Broken(TxnViewSet):
        bulk_filter_fields = ["nope"]

    with pytest.raises(ImproperlyConfigured, match="nope"):
        allowed_filter_fields(Broken(), Txn)


@pytest.mark.django_db
def test_filters_combine_plain_values_and_lookups(txns):
    account, _ = txns
    assert filtered_refs(TxnViewSet(), {"account": account.pk, "amount": {"gte": "2.5", "lt": 4}}) == [
        "ref-2",
        "ref-3",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "filters, refs",
    [
        ({"ref": {"in": ["ref-1", "ref-11"]}}, ["ref-1", "ref-11"]),
        ({"amount": {"range": [1, 2.5]}}, ["ref-1", "ref-2"]),
        ({"ref": {"endswith": "-4"}}, ["ref-4"]),
        ({"email": {"istartswith": "USER1"}}, ["ref-1", "ref-10", "ref-11"]),
        ({"kind": "credit"}, ["ref-10", "ref-11"]),
        ({"occurred_at": {"gte": "2024-01-01T00:03:00Z"}}, ["ref-10", "ref-11", "ref-3", "ref-4"]),
        ({"occurred_at": {"lt": "2024-01-01 00:01:00"}}, ["ref-0"]),
        ({"account": {"isnull": True}}, []),
    ],
)
def test_each_allowed_lookup_filters_the_rows(txns, filters, refs):
    assert filtered_refs(TxnViewSet(), filters) == refs


@pytest.mark.django_db
def test_an_unknown_field_is_refused_naming_it(txns):
    errors = filter_errors(TxnViewSet(), {"description": "row 1"})
    assert list(errors) == ["description"]
    assert "not allowed" in errors["description"][0]


@pytest.mark.django_db
def test_a_lookup_outside_the_list_is_refused_naming_the_field(txns):
    errors = filter_errors(TxnViewSet(), {"ref": {"regex": ".*"}})
    assert "Lookup 'regex' is not allowed on 'ref'" in errors["ref"][0]


@pytest.mark.django_db
def test_a_lookup_the_dict_form_does_not_list_is_refused(txns):
    assert "Lookup 'gte'" in filter_errors(ExactOnlyTxnViewSet(), {"amount": {"gte": 1}})["amount"][0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "filters, field",
    [
        ({"amount": {"gte": "lots"}}, "amount"),
        ({"account": "first"}, "account"),
        ({"occurred_at": {"lt": "yesterday"}}, "occurred_at"),
        ({"amount": {"in": "1,2"}}, "amount"),
        ({"amount": {"range": [1]}}, "amount"),
        ({"account": {"isnull": "maybe"}}, "account"),
        ({"ref": {"contains": ["a"]}}, "ref"),
        ({"amount": {"gt": None}}, "amount"),
        ({"amount": {"exact": {"nested": 1}}}, "amount"),
        ({"amount": {}}, "amount"),
        ({"account": 10**25}, "account"),
        ({"account": {"in": [1, -(10**25)]}}, "account"),
        ({"amount": {"gte": 1e400}}, "amount"),
    ],
)
def test_a_value_that_does_not_parse_is_a_400_naming_the_field(txns, filters, field):
    assert list(filter_errors(TxnViewSet(), filters)) == [field]


@pytest.mark.django_db
def test_filters_that_are_not_an_object_are_refused(txns):
    with pytest.raises(serializers.ValidationError) as exc_info:
        apply_bulk_filters(Txn.objects.all(), TxnViewSet(), ["ref"])
    assert "Expected an object" in str(exc_info.value.detail["filters"][0])


@pytest.mark.django_db
def test_no_filters_leave_the_queryset_unchanged(txns):
    assert len(filtered_refs(TxnViewSet(), None)) == 7
