"""
The DRF methods that engine/fast_validation.py copies are the ones installed.

One test per copied DRF original: it fails, naming the method, when the
installed DRF's source differs from the source the copies were compared
with (``rest_bulk_ext.compat.DRF_REVIEWED``), or when the installed DRF
release was never reviewed. A DRF upgrade is then a conscious change:
compare the new source with the copies, fix them if needed, and add the
release's fingerprints (``python -m rest_bulk_ext.compat`` prints them).
"""

import warnings
from decimal import Decimal

import pytest
import rest_framework

from rest_bulk_ext import compat
from rest_bulk_ext.engine.types import BulkContext
from rest_bulk_ext.engine.validation import ChunkValidator
from tests.testapp.models import Txn
from tests.testapp.serializers import TxnSerializer

COPIED = sorted(compat._drf_originals())


@pytest.mark.parametrize("name", COPIED)
def test_the_installed_drf_method_is_the_one_the_fast_path_copies(name):
    reviewed = compat.DRF_REVIEWED.get(rest_framework.VERSION)
    assert reviewed is not None, (
        f"DRF {rest_framework.VERSION} was never compared with engine/fast_validation.py: compare {name} (and "
        f"the other originals in rest_bulk_ext.compat) with the copies, then add the release to DRF_REVIEWED."
    )
    installed = compat.source_fingerprint(compat._drf_originals()[name])
    assert installed == reviewed[name], (
        f"{name} in DRF {rest_framework.VERSION} is not the source engine/fast_validation.py copies "
        f"(fingerprint {installed}, reviewed {reviewed[name]}): compare it with the copy before using this DRF."
    )


def test_every_copied_method_has_a_fingerprint_in_every_reviewed_release():
    for version, fingerprints in compat.DRF_REVIEWED.items():
        assert sorted(fingerprints) == COPIED, version


def test_the_installed_drf_matches_so_the_fast_path_is_on():
    assert compat.drf_mismatches() == []
    assert compat.drf_copies_match() is True


@pytest.mark.django_db
def test_an_unreviewed_drf_release_turns_the_fast_path_off_with_a_warning(monkeypatch):
    # What a DRF release missing from the table looks like to the engine.
    monkeypatch.setattr(compat, "DRF_REVIEWED", {"0.0.0": compat.DRF_REVIEWED[rest_framework.VERSION]})
    compat.drf_copies_match.cache_clear()
    ctx = BulkContext(
        operation="bulk_create", queryset=Txn.objects.all(), serializer_class=TxnSerializer, serializer_context={}
    )
    try:
        with pytest.warns(RuntimeWarning, match="fast validation path is off"):
            validator = ChunkValidator(ctx, False)
        assert "to_internal_value" not in vars(validator.serializer)
        assert all("run_validators" not in vars(field) for field in validator.serializer.fields.values())
    finally:
        compat.drf_copies_match.cache_clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        monkeypatch.undo()
        assert "to_internal_value" in vars(ChunkValidator(ctx, False).serializer)


def test_the_borrowed_internals_list_names_where_and_why():
    for entry in compat.BORROWED:
        assert entry.library in {"Django", "DRF", "drf-spectacular", "Celery"}
        assert entry.name and entry.used_in and entry.why, entry


@pytest.mark.django_db
def test_a_request_carrying_a_forced_user_is_that_user_for_any_authenticator():
    # The jobs' replay, bulk_import and the admin import rely on DRF's Request
    # honouring _force_auth_user (compat.BORROWED): a DRF release that stopped
    # reading it would run their requests as anonymous, refused by the view.
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory
    from rest_framework.authentication import BasicAuthentication, SessionAuthentication
    from rest_framework.request import Request

    user = get_user_model().objects.create_user("forced", password="x")
    http_request = RequestFactory().post("/anything/")
    http_request._force_auth_user = user
    http_request._force_auth_token = None
    request = Request(http_request, authenticators=(SessionAuthentication(), BasicAuthentication()))
    assert request.user == user
    assert request.auth is None


# The Django validators the fast path mirrors (EmailValidator, MaxLengthValidator).
MIRRORED_DJANGO = sorted(compat._django_originals())


@pytest.mark.parametrize("name", MIRRORED_DJANGO)
def test_the_installed_django_validator_is_the_one_the_fast_path_mirrors(name):
    import django

    installed = compat.source_fingerprint(compat._django_originals()[name])
    assert compat.is_reviewed(compat.DJANGO_REVIEWED.get(name), installed), (
        f"{name} in Django {django.get_version()} is not the source engine/fast_validation.py mirrors (fingerprint "
        f"{installed}): compare it with the shortcut, then add it to DJANGO_REVIEWED."
    )


def test_every_mirrored_django_validator_has_a_fingerprint():
    assert sorted(compat.DJANGO_REVIEWED) == MIRRORED_DJANGO


@pytest.mark.django_db
def test_a_changed_django_validator_turns_the_fast_path_off_with_a_warning(monkeypatch):
    changed = {**compat.DJANGO_REVIEWED, "django.core.validators.EmailValidator.__call__": "0" * 16}
    monkeypatch.setattr(compat, "DJANGO_REVIEWED", changed)
    compat.drf_copies_match.cache_clear()
    ctx = BulkContext(
        operation="bulk_create", queryset=Txn.objects.all(), serializer_class=TxnSerializer, serializer_context={}
    )
    try:
        with pytest.warns(RuntimeWarning, match="EmailValidator.__call__ differs"):
            validator = ChunkValidator(ctx, False)
        assert "to_internal_value" not in vars(validator.serializer)
    finally:
        compat.drf_copies_match.cache_clear()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("table", "name"),
    [
        ("DRF_REVIEWED", "rest_framework.fields.DateTimeField.to_internal_value"),
        ("DRF_REVIEWED", "rest_framework.fields.DateTimeField.enforce_timezone"),
        ("DJANGO_REVIEWED", "django.utils.dateparse.parse_datetime"),
    ],
)
def test_a_changed_datetime_original_leaves_datetimes_to_drf_with_a_warning(monkeypatch, table, name):
    # fast_datetime mirrors these: a changed source must give DRF's own
    # DateTimeField.to_internal_value back, with the warning.
    reviewed = getattr(compat, table)
    if table == "DRF_REVIEWED":
        changed = {version: {**fingerprints, name: "0" * 16} for version, fingerprints in reviewed.items()}
    else:
        changed = {**reviewed, name: "0" * 16}
    ctx = BulkContext(
        operation="bulk_create", queryset=Txn.objects.all(), serializer_class=TxnSerializer, serializer_context={}
    )
    assert "to_internal_value" in vars(ChunkValidator(ctx, False).serializer.fields["occurred_at"])
    monkeypatch.setattr(compat, table, changed)
    compat.drf_copies_match.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match=f"{name.rsplit('.', 2)[-2]}.{name.rsplit('.', 1)[-1]} differs"):
            validator = ChunkValidator(ctx, False)
        assert "to_internal_value" not in vars(validator.serializer.fields["occurred_at"])
    finally:
        compat.drf_copies_match.cache_clear()


# The DRF methods the export shortcut (representation.py) mirrors.
MIRRORED_REPRESENTATION = sorted(compat._representation_originals())


@pytest.mark.parametrize("name", MIRRORED_REPRESENTATION)
def test_the_installed_drf_method_is_the_one_the_export_shortcut_mirrors(name):
    reviewed = compat.REPRESENTATION_REVIEWED.get(rest_framework.VERSION)
    assert reviewed is not None, (
        f"DRF {rest_framework.VERSION} was never compared with rest_bulk_ext/representation.py: compare {name} "
        f"(and the other originals in compat._representation_originals) with it, then add the release to "
        f"REPRESENTATION_REVIEWED."
    )
    installed = compat.source_fingerprint(compat._representation_originals()[name])
    assert installed == reviewed[name], (
        f"{name} in DRF {rest_framework.VERSION} is not the source representation.py mirrors "
        f"(fingerprint {installed}, reviewed {reviewed[name]}): compare it before using this DRF."
    )


def test_every_mirrored_representation_method_has_a_fingerprint_in_every_reviewed_release():
    for version, fingerprints in compat.REPRESENTATION_REVIEWED.items():
        assert sorted(fingerprints) == MIRRORED_REPRESENTATION, version


def test_the_installed_drf_matches_so_the_export_shortcut_is_on():
    assert compat.representation_mismatches() == []
    assert compat.drf_representation_matches() is True


@pytest.mark.django_db
def test_an_unreviewed_drf_release_exports_through_the_serializer_with_a_warning(monkeypatch):
    from rest_bulk_ext.jobs.exports import NDJSONRows, _reader
    from rest_bulk_ext.representation import plain_column_reader, plain_row_reader
    from tests.builders import make_account, make_txns

    make_txns(make_account(), 3)
    queryset = Txn.objects.order_by("pk")
    expected = [dict(row) for row in TxnSerializer(queryset, many=True).data]
    rows, represent = plain_row_reader(TxnSerializer(), queryset)
    assert represent(list(rows)) == expected

    monkeypatch.setattr(compat, "REPRESENTATION_REVIEWED", {"0.0.0": compat._DRF_3_18_REPRESENTATION})
    compat.drf_representation_matches.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="serializer's own to_representation"):
            assert plain_column_reader(TxnSerializer(), queryset) is None
        # What an export then writes: the serializer's own rows, read as instances.
        instances, encode = _reader(object(), TxnSerializer(), queryset, NDJSONRows(list(expected[0])))
        assert instances is queryset
        assert encode(list(instances)) == NDJSONRows(list(expected[0])).chunk(expected)
    finally:
        compat.drf_representation_matches.cache_clear()


# Equivalence of the registered shortcuts with their originals on edge values.

DECIMAL_INPUTS = [
    "0", "-0", "0.00", "-0.00", "1", "1.5", "1.55", "1.555", "1.005", "-1.005", "12345678", "99999.99", "100000",
    "9999999999.99", "99999999999", "1e2", "1E-2", "+1", " 1", "1 ", "0001.5", "00000000000000001", "1.", ".5",
    "-.5", "NaN", "Infinity", "-Infinity", "１２", "1_000", "1,5", "", "--1", "1.2.3", "٣", "0.0000001",
    1, -1, 0, 1.5, 0.1, float("inf"), float("nan"), True, None, Decimal("1.005"), Decimal("1E+2"), [], {},
]  # fmt: skip
DECIMAL_FIELDS = [
    {"max_digits": 6, "decimal_places": 2},
    {"max_digits": 12, "decimal_places": 2},
    {"max_digits": 3, "decimal_places": 0},
    {"max_digits": 20, "decimal_places": 7},
    {"max_digits": 6, "decimal_places": 2, "rounding": "ROUND_DOWN"},
    {"max_digits": 6, "decimal_places": 2, "min_value": Decimal("-1"), "max_value": Decimal("100")},
]


def answer(call, value):
    try:
        result = call(value)
    except Exception as error:  # noqa: BLE001  (the same failure is the same answer)
        detail = getattr(error, "detail", None) or getattr(error, "messages", None)
        return type(error).__name__, repr(detail)
    return type(result).__name__, repr(result)


@pytest.mark.parametrize("options", DECIMAL_FIELDS, ids=lambda options: "-".join(map(str, options.values())))
def test_the_fast_decimal_reads_every_value_as_drf_does(options):
    from rest_framework import serializers

    from rest_bulk_ext.engine.fast_validation import fast_decimal

    field = serializers.DecimalField(**options)
    quick = fast_decimal(field)
    assert quick is not None
    for value in DECIMAL_INPUTS:
        assert answer(quick, value) == answer(field.to_internal_value, value), value
        assert answer(field.run_validation, value) == answer(serializers.DecimalField(**options).run_validation, value)


EMAILS = [
    "a@b.com", "A@B.COM", "a.b+c@example.co.uk", "a@b", "a@localhost", "a@[127.0.0.1]", "a@[::1]", "a@[300.1.1.1]",
    "é@x.com", "a@exämple.com", "a@xn--exmple-cua.com", "a@-x.com", "a@x-.com", "a@x..com", "a@.x.com", "a@x.com.",
    "a@x.c", "a@x.c0m", "a@x.123", "a" * 64 + "@x.com", "a" * 65 + "@x.com", "a@" + "x" * 63 + ".com",
    "a@" + "x" * 64 + ".com", "a@" + ("x" * 60 + ".") * 5 + "com", "a@b.com\n", " a@b.com", "a b@c.com",
    '"a b"@c.com', "a@b@c.com", "@b.com", "a@", "", "a@b.com" + "m" * 320, "a\x00@b.com", "ａ@b.com", "a@ｂ.com",
]  # fmt: skip


@pytest.mark.parametrize("allowlist", [None, ["localhost", "example"]])
def test_the_email_shortcut_decides_every_value_as_django_does(allowlist):
    from django.core.validators import EmailValidator

    from rest_bulk_ext.engine.fast_validation import _email_check

    validator = EmailValidator() if allowlist is None else EmailValidator(allowlist=allowlist)
    check = _email_check(validator)
    for value in EMAILS:
        assert answer(check, value) == answer(validator, value), value


def test_the_max_length_shortcut_decides_every_value_as_django_does():
    from django.core.validators import MaxLengthValidator

    from rest_bulk_ext.engine.fast_validation import _max_length_check

    validator = MaxLengthValidator(3)
    check = _max_length_check(validator)
    for value in ["", "abc", "abcd", "ab\x00", "\U0001f600" * 3, "\U0001f600" * 4, [1, 2, 3, 4], b"abcd", (1,)]:
        assert answer(check, value) == answer(validator, value), value


def test_a_django_error_from_a_validate_method_reads_as_drf_reads_it():
    # The fast to_internal_value turns a Django ValidationError into DRF's
    # detail with DRF's own get_error_detail: codes, params and lists alike.
    from django.core.exceptions import ValidationError as DjangoValidationError
    from rest_framework import serializers

    from rest_bulk_ext.engine.fast_validation import speed_up

    class Checked(serializers.Serializer):
        name = serializers.CharField()
        size = serializers.IntegerField()

        def validate_name(self, value):
            if value == "one":
                raise DjangoValidationError("Not %(value)s.", code="nope", params={"value": value})
            if value == "many":
                raise DjangoValidationError([DjangoValidationError("First.", code="a"), "Second."])
            if value == "dict":
                raise DjangoValidationError({"inner": ["Nested."]})
            return value

    for name in ["one", "many", "dict", "fine"]:
        data = {"name": name, "size": "x"}
        quick = Checked()
        quick.__dict__["fields"] = dict(quick.fields)  # as the engine gives it (compat.BORROWED)
        speed_up(quick)
        assert "to_internal_value" in vars(quick)
        theirs = answer(Checked().to_internal_value, data)
        assert answer(quick.to_internal_value, data) == theirs, name
        with pytest.raises(serializers.ValidationError) as raised:
            quick.to_internal_value(data)
        assert {code for codes in raised.value.get_codes().values() for code in codes} >= {"invalid"}
