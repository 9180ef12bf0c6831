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
