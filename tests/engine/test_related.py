"""Related fields resolved per chunk, and the serializer context."""

from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from rest_framework import serializers

from rest_bulk_ext.engine import run_bulk_operation
from tests.builders import txn_data
from tests.engine.support import count_queries, items_of, make_ctx
from tests.testapp.models import Account, Tenant, Txn
from tests.testapp.serializers import TxnSerializer

pytestmark = pytest.mark.django_db


class TxnByNumberSerializer(TxnSerializer):
    """Names the account by its number, within the request's tenant."""

    account = serializers.SlugRelatedField(slug_field="number", queryset=Account.objects.all())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = Account.objects.filter(tenant=self.context["tenant"])


def test_slug_related_values_resolve_in_one_query_per_chunk_inside_the_fields_queryset(tenant):
    mine = [Account.objects.create(tenant=tenant, name=f"a{i}", number=f"N-{i}") for i in range(3)]
    other = Account.objects.create(tenant=Tenant.objects.create(name="other"), name="x", number="THEIRS")

    def create(n, offset):
        datas = [txn_data(mine[i % 3], offset + i, account=f"N-{i % 3}") for i in range(n)]
        ctx = make_ctx("bulk_create", serializer_class=TxnByNumberSerializer, serializer_context={"tenant": tenant})
        return count_queries(lambda: run_bulk_operation(ctx, items_of(datas)))

    small, small_queries = create(6, 0)
    large, large_queries = create(60, 100)

    assert small.success_count == 6 and large.success_count == 60
    assert small_queries == large_queries
    assert Txn.objects.filter(account=mine[2]).count() == 22

    ctx = make_ctx("bulk_create", serializer_class=TxnByNumberSerializer, serializer_context={"tenant": tenant})
    result = run_bulk_operation(
        ctx, items_of([txn_data(other, 500, account="THEIRS"), txn_data(other, 501, account=["N-0"])])
    )

    assert result.errors[0]["errors"] == {"account": ["Object with number=THEIRS does not exist."]}
    assert result.errors[1]["errors"] == {"account": ["Invalid value."]}


# One insert path for both sizes (COPY's own counts: test_copy_path.py).
@override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_POSTGRES_COPY_MIN_ROWS": None})
def test_related_queries_do_not_grow_with_distinct_related_values(tenant):
    accounts = Account.objects.bulk_create(
        [Account(tenant=tenant, name=f"a{i}", number=f"N-{i}") for i in range(50)]
    )

    def create(n, offset):
        datas = [txn_data(accounts[i % 50], offset + i) for i in range(n)]
        return count_queries(lambda: run_bulk_operation(make_ctx("bulk_create"), items_of(datas)))

    few, few_queries = create(5, 0)
    many, many_queries = create(100, 1000)

    assert few.success_count == 5 and many.success_count == 100
    assert few_queries == many_queries


def test_the_serializer_context_reaches_every_item(tenant):
    user = get_user_model().objects.create(username="alice")

    class OwnedAccountSerializer(serializers.ModelSerializer):
        owner = serializers.HiddenField(default=serializers.CurrentUserDefault())

        class Meta:
            model = Account
            fields = ["id", "tenant", "owner", "name", "number"]

    ctx = make_ctx(
        "bulk_create",
        Account.objects.all(),
        OwnedAccountSerializer,
        serializer_context={"request": SimpleNamespace(user=user)},
    )
    datas = [{"tenant": tenant.pk, "name": f"n{i}", "number": f"U-{i}"} for i in range(3)]

    result = run_bulk_operation(ctx, items_of(datas))

    assert result.success_count == 3
    assert list(Account.objects.values_list("owner__username", flat=True).distinct()) == ["alice"]
