"""``fast_validation.fast_decimal`` gives DRF's ``DecimalField`` result, or
DRF's error, for every input: compared value by value with DRF's own
method, and through a whole create."""

import decimal
import itertools
import random

import pytest
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from rest_bulk_ext.engine import run_bulk_operation
from rest_bulk_ext.engine.fast_validation import fast_decimal
from tests.builders import txn_data
from tests.engine.support import items_of, make_ctx
from tests.testapp.models import Txn

EDGE_INPUTS = [
    "0", "-0", "0.0", "-0.00", "1", "1.5", "1.25", "1.255", "12.", ".5", "-.5", "+1.5", " 1.5", "1.5 ", "1e3",
    "1E-2", "NaN", "Infinity", "-inf", "", " ", "abc", "1,5", "1_000", "٣.٥", "0000000001.25", "00000000000.25",
    "9999999999.99", "99999999999.99", "-9999999999.99", "10000000000", "0.001", "0.010", "1" * 1001,
    "--1", "1..2", "1.2.3", 1.5, 2, True, None, decimal.Decimal("3.14159"), [], {},
]


def outcome(method, data):
    try:
        value = method(data)
    except ValidationError as exc:
        return ("error", exc.detail)
    return ("value", str(value), value.as_tuple())


def random_inputs(count=3000, seed=7):
    rng = random.Random(seed)
    alphabet = "0123456789-.+eE "
    for _ in range(count):
        yield "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 16)))
        whole = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 13)))
        places = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 4)))
        yield f"{rng.choice(['', '-'])}{whole}{'.' + places if places or rng.random() < 0.2 else ''}"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_digits": 12, "decimal_places": 2},
        {"max_digits": 5, "decimal_places": 0},
        {"max_digits": 3, "decimal_places": 2},
        {"max_digits": 12, "decimal_places": 2, "rounding": decimal.ROUND_DOWN},
        {"max_digits": 12, "decimal_places": 2, "coerce_to_string": False, "min_value": 0},
    ],
)
def test_every_input_gives_drfs_value_or_drfs_error(kwargs):
    field = serializers.DecimalField(**kwargs)
    fast = fast_decimal(field)
    assert fast is not None

    for data in itertools.chain(EDGE_INPUTS, random_inputs()):
        assert outcome(fast, data) == outcome(field.to_internal_value, data), data


@pytest.mark.parametrize(
    "field",
    [
        serializers.DecimalField(max_digits=12, decimal_places=2, localize=True),
        serializers.DecimalField(max_digits=None, decimal_places=2),
        serializers.DecimalField(max_digits=12, decimal_places=None),
        serializers.DecimalField(max_digits=2, decimal_places=2),  # no whole digit allowed
        type("Own", (serializers.DecimalField,), {"validate_precision": lambda self, value: value})(
            max_digits=12, decimal_places=2
        ),
    ],
)
def test_fields_it_cannot_prove_equal_keep_drfs_method(field):
    assert fast_decimal(field) is None


@pytest.mark.django_db
def test_a_create_stores_and_refuses_amounts_as_drf_does(account):
    amounts = ["12.5", "-0.25", "0000000012.50", "1.255", "12345678901.00", "1e2", "+3.10", "7"]
    datas = [txn_data(account, i, amount=amount) for i, amount in enumerate(amounts)]

    result = run_bulk_operation(make_ctx("bulk_create", atomic=False), items_of(datas))

    assert {e["index"]: e["errors"] for e in result.errors} == {
        3: {"amount": ["Ensure that there are no more than 2 decimal places."]},
        4: {"amount": ["Ensure that there are no more than 12 digits in total."]},
    }
    stored = dict(Txn.objects.values_list("ref", "amount"))
    assert stored == {
        "ref-0": decimal.Decimal("12.50"),
        "ref-1": decimal.Decimal("-0.25"),
        "ref-2": decimal.Decimal("12.50"),
        "ref-5": decimal.Decimal("100.00"),
        "ref-6": decimal.Decimal("3.10"),
        "ref-7": decimal.Decimal("7.00"),
    }
