"""
The fast validation path (engine/fast_validation.py) against DRF for partial
update, replace and upsert, with a second serializer that uses what the
copies must get right beyond plain model fields: a nested serializer with
``source="*"``, fields with another ``source``, ``validate_<field>``,
field and serializer validators with ``requires_context`` that read the
instance and the context. For every messy item the engine's errors and
validated data equal ``RichTxnSerializer(instance, data=item,
partial=...).is_valid()``'s, with the fast path on and with
``BULK_FAST_VALIDATION`` off.
"""

import datetime
import random
from decimal import Decimal

import pytest
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from rest_bulk_ext.engine.errors import plain_errors
from rest_bulk_ext.engine.item_state import ItemState
from rest_bulk_ext.engine.types import BulkContext, Item
from rest_bulk_ext.engine.validation import ChunkValidator
from tests.models_items import Account, Tenant, Txn

pytestmark = pytest.mark.django_db

CONTEXT = {"credit_limit": Decimal("500")}
OLD_TIME = datetime.datetime(2031, 6, 1, tzinfo=datetime.timezone.utc)


class KeepsCreditsPositive:
    """A field validator that needs its field: an existing credit may not
    turn negative (reads the row being validated through the parent)."""

    requires_context = True

    def __call__(self, value, field):
        instance = field.parent.instance
        if instance is not None and instance.kind == "credit" and value < 0:
            raise serializers.ValidationError("A credit stays positive.", code="credit_sign")


class WithinCreditLimit:
    """A serializer validator that needs the serializer: the limit comes
    from the context, the kind from the data or the row."""

    requires_context = True

    def __call__(self, attrs, serializer):
        kind = attrs.get("kind", getattr(serializer.instance, "kind", "debit"))
        amount = attrs.get("amount", getattr(serializer.instance, "amount", Decimal("0")))
        if kind == "credit" and amount > serializer.context["credit_limit"]:
            raise serializers.ValidationError({"amount": ["Over the credit limit."]}, code="limit")


class DetailsSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    note = serializers.CharField(source="description", max_length=200, allow_blank=True, required=False)


class RichTxnSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(
        source="ref", max_length=40, validators=[UniqueValidator(queryset=Txn.objects.all())]
    )
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.all())
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, validators=[KeepsCreditsPositive()])
    details = DetailsSerializer(source="*")

    class Meta:
        model = Txn
        fields = ["id", "reference", "account", "amount", "occurred_at", "kind", "details"]
        validators = [WithinCreditLimit()]

    def validate_reference(self, value):
        if value.startswith("-"):
            raise serializers.ValidationError("A reference does not start with '-'.")
        return value.strip()


MESSY = [
    "", " ", None, "x" * 300, "a\x00b", "a\ud800b", 5, 5.5, True, [], {}, "-r", "bad@", "é@x.com",
    "x@bücher.de", "2026-13-01", "2027-01-01T00:00:00Z", "12.345", "-5.00", "900.00", "1e5", "NaN",
    "credit", "debit", "other", {"email": "bad"}, {"email": "n@x.com", "note": "y" * 201}, {"note": "no email"},
]  # fmt: skip


def rich_data(i, account):
    return {
        "reference": f"new-{i}",
        "account": account.pk,
        "amount": f"{i % 700}.25",
        "occurred_at": (datetime.datetime(2027, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(hours=i))
        .isoformat(),
        "kind": "credit" if i % 3 == 0 else "debit",
        "details": {"email": f"u{i}@example.com", "note": f"note {i}"},
    }


def messy(data, rng, partial):
    for key in list(data):
        roll = rng.random()
        if roll < 0.15:
            data[key] = rng.choice(MESSY)
        elif roll < (0.45 if partial else 0.2):
            del data[key]
    return data


@pytest.fixture
def rows_in_db():
    """Existing transactions, a third of them credits (the context-aware
    validators read them), with references and times no item reuses."""
    account = Account.objects.create(tenant=Tenant.objects.create(name="rich"), name="main", number="R-1")
    txns = Txn.objects.bulk_create(
        Txn(
            ref=f"old-{i}", account=account, amount=Decimal(f"{i}.00"), kind="credit" if i % 3 == 0 else "debit",
            occurred_at=OLD_TIME + datetime.timedelta(hours=i), email=f"old{i}@example.com", description="",
        )
        for i in range(120)
    )  # fmt: skip
    return account, list(Txn.objects.filter(pk__in=[t.pk for t in txns]).order_by("pk"))


def engine_outcomes(pairs, partial):
    ctx = BulkContext(
        operation="bulk_update" if partial else "bulk_replace",
        queryset=Txn.objects.all(),
        serializer_class=RichTxnSerializer,
        serializer_context=CONTEXT,
    )
    rows = []
    for index, (instance, data) in enumerate(pairs):
        row = ItemState(Item(index, data))
        row.instance = instance
        rows.append(row)
    validator = ChunkValidator(ctx, partial)
    validator.prefetch(rows)
    validator.validate(rows)
    outcomes = [(None if row.errors is None else plain_errors(row.errors), row.attrs) for row in rows]
    return outcomes, validator.serializer


def drf_outcome(instance, data, partial):
    serializer = RichTxnSerializer(instance, data=data, partial=partial, context=CONTEXT)
    if serializer.is_valid():
        return None, dict(serializer.validated_data)
    return plain_errors(serializer.errors), None


def assert_same_as_drf(pairs, partial):
    outcomes, serializer = engine_outcomes(pairs, partial)
    invalid = 0
    for (instance, data), (errors, attrs) in zip(pairs, outcomes):
        drf_errors, drf_data = drf_outcome(instance, data, partial)
        assert errors == drf_errors, data
        if errors is None:
            assert attrs == drf_data, data
        else:
            invalid += 1
    # The input really is messy, and not all of it.
    assert 0.1 * len(pairs) < invalid < 0.95 * len(pairs)
    return serializer


def update_pairs(account, txns, partial, seed):
    rng = random.Random(seed)
    return [(txn, messy(rich_data(i, account), rng, partial)) for i, txn in enumerate(txns)]


def upsert_pairs(account, txns, seed):
    """Half the items name an existing row (its instance), half are new."""
    rng = random.Random(seed)
    pairs = []
    for i in range(240):
        instance = txns[i // 2] if i % 2 == 0 else None
        pairs.append((instance, messy(rich_data(i, account), rng, False)))
    return pairs


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "drf-methods"])
def test_partial_update_validation_equals_drf(rows_in_db, settings, fast):
    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_FAST_VALIDATION": fast}
    account, txns = rows_in_db

    serializer = assert_same_as_drf(update_pairs(account, txns, partial=True, seed=11), partial=True)

    assert ("to_internal_value" in vars(serializer)) is fast


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "drf-methods"])
def test_replace_validation_equals_drf(rows_in_db, settings, fast):
    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_FAST_VALIDATION": fast}
    account, txns = rows_in_db

    serializer = assert_same_as_drf(update_pairs(account, txns, partial=False, seed=12), partial=False)

    assert ("to_internal_value" in vars(serializer)) is fast


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "drf-methods"])
def test_upsert_validation_equals_drf_for_existing_and_new_rows(rows_in_db, settings, fast):
    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_FAST_VALIDATION": fast}
    account, txns = rows_in_db

    serializer = assert_same_as_drf(upsert_pairs(account, txns, seed=13), partial=False)

    assert ("to_internal_value" in vars(serializer)) is fast


def test_the_context_aware_validators_really_run(rows_in_db):
    """The messy runs above could pass with validators that never fire."""
    account, txns = rows_in_db
    credit = next(txn for txn in txns if txn.kind == "credit")
    pairs = [
        (credit, {"amount": "-3.00"}),
        (None, {**rich_data(1, account), "kind": "credit", "amount": "900.00"}),
        (None, {**rich_data(2, account), "reference": "-x"}),
        (None, {**rich_data(4, account), "details": {"email": "n@x.com", "note": "kept"}}),
    ]

    outcomes, _serializer = engine_outcomes(pairs, partial=True)

    assert outcomes[0][0] == {"amount": ["A credit stays positive."]}
    assert outcomes[1][0] == {"amount": ["Over the credit limit."]}
    assert outcomes[2][0] == {"reference": ["A reference does not start with '-'."]}
    assert outcomes[3][0] is None
    assert outcomes[3][1]["description"] == "kept" and outcomes[3][1]["ref"] == "new-4"
