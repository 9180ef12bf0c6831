"""``fast_validation.fast_datetime`` gives DRF's ``DateTimeField`` result, or
DRF's error, for every input: compared value by value with DRF's own method
(value, its offset and its tzinfo), in several time zones."""

import datetime
import random
import zoneinfo

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from rest_bulk_ext.engine.fast_validation import fast_datetime

EDGE_INPUTS = [
    "2026-01-01T00:00:00Z",
    "2026-01-01T00:00:00+00:00",
    "2026-01-01T00:00:00.123456+05:30",
    "2026-01-01 00:00:00-08:00",
    "2026-01-01T00:00:00",
    "2026-01-01",
    "2026-01-01T24:00:00Z",
    "2026-02-30T00:00:00Z",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "2026-01-01T00:00:00+24:00",
    "2026-W01-1T00:00:00Z",
    "20260101T000000Z",
    "2026-01-01T00:00Z",
    "2026-01-01T00Z",
    "",
    " ",
    "now",
    "2026",
    "2026-01-01T00:00:00 +01:00",
    " 2026-01-01T00:00:00Z",
    "2026-01-01T00:00:00,5Z",
    "٢٠٢٦-01-01T00:00:00Z",
    "2026-03-29T02:30:00+01:00",
    "2026-10-25T02:30:00",
    17,
    1.5,
    None,
    True,
    [],
    {},
    datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
    datetime.date(2026, 1, 1),
]


def outcome(method, data):
    try:
        value = method(data)
    except ValidationError as exc:
        return ("error", exc.detail)
    except OverflowError:
        # DRF's own (USE_TZ off, an offset beyond year 1 or 9999:
        # make_naive overflows): the same exception is the same outcome.
        return ("raises", "OverflowError")
    return ("value", value, value.utcoffset(), str(value.tzinfo))


def random_inputs(count=3000, seed=11):
    rng = random.Random(seed)
    for _ in range(count):
        moment = datetime.datetime(
            rng.randint(1, 9999),
            rng.randint(1, 12),
            rng.randint(1, 28),
            rng.randint(0, 23),
            rng.randint(0, 59),
            rng.randint(0, 59),
            rng.randint(0, 999999),
        )
        text = moment.isoformat(sep=rng.choice("T "), timespec=rng.choice(["seconds", "microseconds", "minutes"]))
        offset = rng.choice(["Z", "+00:00", "-05:00", "+14:00", "+05:45", "", "-23:59"])
        yield text + offset


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Kathmandu"])
@pytest.mark.parametrize("kwargs", [{}, {"input_formats": ["iso-8601", "%d/%m/%Y %H:%M"]}])
def test_every_input_gives_drfs_value_or_drfs_error(zone, kwargs):
    with override_settings(USE_TZ=True, TIME_ZONE=zone), timezone.override(zoneinfo.ZoneInfo(zone)):
        field = serializers.DateTimeField(**kwargs)
        drf = serializers.DateTimeField(**kwargs)
        fast = fast_datetime(field)
        assert fast is not None
        for data in [*EDGE_INPUTS, *random_inputs()]:
            assert outcome(fast, data) == outcome(drf.to_internal_value, data), data


def test_fields_it_cannot_answer_for_keep_drfs_method():
    class Custom(serializers.DateTimeField):
        def to_internal_value(self, value):
            return super().to_internal_value(value)

    assert fast_datetime(Custom()) is None
    assert fast_datetime(serializers.DateTimeField(input_formats=["%Y"])) is None
    # No time zone (USE_TZ off): every value goes to DRF's method.
    with override_settings(USE_TZ=False):
        field = serializers.DateTimeField()
        fast = fast_datetime(field)
        assert outcome(fast, "2026-01-01T00:00:00+02:00") == outcome(
            field.to_internal_value, "2026-01-01T00:00:00+02:00"
        )
        assert fast("2026-01-01T00:00:00+02:00").tzinfo is None


# Around Europe/Paris's DST changes (2026-03-29 02:00 -> 03:00, 2026-10-25
# 03:00 -> 02:00): naive values in the gap and the fold go to DRF's method
# (its error for the gap, its fold choice), aware ones are converted.
PARIS_DST = [
    "2026-03-29T02:30:00",
    "2026-03-29T02:30:00.5",
    "2026-03-29T01:59:59+01:00",
    "2026-03-29T03:00:00+02:00",
    "2026-03-29T02:30:00+01:00",
    "2026-03-29T00:30:00Z",
    "2026-03-29T01:30:00Z",
    "2026-10-25T02:30:00",
    "2026-10-25T02:30:00+02:00",
    "2026-10-25T02:30:00+01:00",
    "2026-10-25T00:30:00Z",
    "2026-10-25T01:30:00-00:00",
]


@pytest.mark.parametrize("use_tz", [True, False])
@pytest.mark.parametrize(
    "default_timezone", [None, zoneinfo.ZoneInfo("Europe/Paris"), zoneinfo.ZoneInfo("Pacific/Chatham"), datetime.UTC]
)
def test_a_fields_own_time_zone_and_use_tz_give_drfs_outcome(use_tz, default_timezone):
    kwargs = {} if default_timezone is None else {"default_timezone": default_timezone}
    with override_settings(USE_TZ=use_tz, TIME_ZONE="America/New_York"), timezone.override(
        zoneinfo.ZoneInfo("America/New_York")
    ):
        fast = fast_datetime(serializers.DateTimeField(**kwargs))
        drf = serializers.DateTimeField(**kwargs)
        assert fast is not None
        for data in [*EDGE_INPUTS, *PARIS_DST, *random_inputs(count=500, seed=5)]:
            assert outcome(fast, data) == outcome(drf.to_internal_value, data), data


def test_dst_gap_and_fold_in_paris_give_drfs_outcome():
    with override_settings(USE_TZ=True, TIME_ZONE="Europe/Paris"), timezone.override(
        zoneinfo.ZoneInfo("Europe/Paris")
    ):
        fast = fast_datetime(serializers.DateTimeField())
        drf = serializers.DateTimeField()
        for data in PARIS_DST:
            assert outcome(fast, data) == outcome(drf.to_internal_value, data), data
        # What a user sees: the naive value in the gap is what DRF 3.18 makes
        # of it (the wall time in Paris, not refused: its ambiguity check
        # does not catch zoneinfo's gaps), an aware one in the gap's UTC
        # hour is the Paris summer time.
        assert fast("2026-03-29T02:30:00") == drf.to_internal_value("2026-03-29T02:30:00")
        assert fast("2026-03-29T02:30:00").tzinfo == zoneinfo.ZoneInfo("Europe/Paris")
        assert fast("2026-03-29T01:30:00Z") == datetime.datetime(2026, 3, 29, 1, 30, tzinfo=datetime.UTC)
        assert fast("2026-03-29T01:30:00Z").utcoffset() == datetime.timedelta(hours=2)
