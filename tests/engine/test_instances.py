"""``engine/instances.py`` builds the instance ``Model(**attrs)`` builds:
same attributes, same cached related objects, same database state."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.test import override_settings

from rest_bulk_ext.engine.instances import FOREIGN_KEY, RELATED, build_instance, instance_plan
from tests.testapp.models import Account, Note, Tenant, Txn, UUIDItem

pytestmark = pytest.mark.django_db


def state_of(instance):
    """What a caller can observe: field values, cached relations, _state."""
    values = {k: v for k, v in vars(instance).items() if k != "_state"}
    cache = dict(instance._state.fields_cache)
    return values, cache, instance._state.db, instance._state.adding


def assert_same(model, attrs):
    plan = instance_plan(model, tuple(attrs))
    assert plan is not None
    expected = model(**attrs)
    built = build_instance(model, plan, attrs)
    if model._meta.pk.has_default() and callable(model._meta.pk.default):
        # a callable default (uuid4) differs per call: compare the rest
        expected.pk = built.pk
    assert state_of(built) == state_of(expected)
    return built


def test_a_row_with_a_stored_related_object_and_defaults_left_out(account):
    built = assert_same(
        Txn,
        {
            "ref": "r1",
            "account": account,
            "amount": Decimal("1.25"),
            "occurred_at": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
            "email": "a@example.com",
        },
    )
    assert built.account is account and built.account_id == account.pk
    assert built.kind == "debit" and built.description == "" and built.pk is None
    assert built._state.db == "default"


def test_a_null_foreign_key_and_a_key_sent_by_its_column_name(account):
    assert_same(Note, {"text": "x", "account": None})
    assert_same(Note, {"text": "x", "account_id": account.pk})


def test_an_unsaved_related_object_gets_the_database_as_the_constructor_gives_it():
    tenant = Tenant(name="t")
    built = assert_same(Account, {"tenant": tenant, "name": "a", "number": "1"})
    assert tenant._state.db == "default" and built.tenant is tenant


def test_a_callable_primary_key_default_is_called_per_instance():
    plan = instance_plan(UUIDItem, ("name",))
    first, second = (build_instance(UUIDItem, plan, {"name": n}) for n in "ab")
    assert isinstance(first.pk, uuid.UUID) and first.pk != second.pk
    assert_same(UUIDItem, {"name": "c", "quantity": 3})


def test_a_related_object_of_the_wrong_model_raises_the_constructors_error(account):
    plan = instance_plan(Txn, ("ref", "account"))
    with pytest.raises(ValueError, match='"Txn.account" must be a "Account" instance'):
        build_instance(Txn, plan, {"ref": "r", "account": Tenant(name="t")})


class _AnyRouter:
    """A router with no opinion: its mere presence makes the plan use the
    descriptor, which asks the routers."""


def test_with_database_routers_the_descriptor_decides(account):
    with override_settings(DATABASE_ROUTERS=[_AnyRouter()]):
        plan = instance_plan(Txn, ("ref", "account"))
        assert [kind for kind, name, _field in plan if name == "account"] == [RELATED]
        assert_same(Txn, {"ref": "r", "account": account})
    plan = instance_plan(Txn, ("ref", "account"))
    assert [kind for kind, name, _field in plan if name == "account"] == [FOREIGN_KEY]


class _OwnInit:
    """Stands for a model with its own ``__init__``: a real one (even a
    proxy) would add a model to the test app and its migrations."""

    _meta = Txn._meta

    def __init__(self, *args, **kwargs):
        pass


def test_names_that_are_not_all_fields_or_a_custom_init_keep_the_keyword_constructor():
    assert instance_plan(_OwnInit, ("ref",)) is None
    assert instance_plan(Txn, ("ref", "not_a_field")) is None
    assert instance_plan(Account, ("name", "number", "tenant")) is not None
