from django.test import override_settings

from rest_bulk_ext.settings import extensions_api_settings


def test_defaults_are_read_when_nothing_is_configured():
    assert extensions_api_settings.DEFAULT_BULK_OPERATION_HEADER_NAME == "X-BULK-OPERATION"
    assert extensions_api_settings.BULK_BATCH_SIZE == 1000
    assert extensions_api_settings.BULK_MAX_ITEMS == 100_000


def test_override_settings_is_seen_and_then_undone():
    with override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_BATCH_SIZE": 7}):
        assert extensions_api_settings.BULK_BATCH_SIZE == 7
    assert extensions_api_settings.BULK_BATCH_SIZE == 1000


def test_none_header_name_is_kept_as_none():
    with override_settings(REST_FRAMEWORK_EXTENSIONS={"DEFAULT_BULK_OPERATION_HEADER_NAME": None}):
        assert extensions_api_settings.DEFAULT_BULK_OPERATION_HEADER_NAME is None


def test_unknown_keys_shared_with_other_packages_are_ignored():
    with override_settings(
        REST_FRAMEWORK_EXTENSIONS={"DEFAULT_CACHE_RESPONSE_TIMEOUT": 60, "BULK_ATOMIC": False}
    ):
        assert extensions_api_settings.BULK_ATOMIC is False
