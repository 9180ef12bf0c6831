import warnings
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from rest_bulk_ext.settings import AREAS, RENAMED, SETTINGS, extensions_api_settings
from rest_bulk_ext.settings.durations import seconds


def test_defaults_are_read_when_nothing_is_configured():
    assert extensions_api_settings.DEFAULT_BULK_OPERATION_HEADER_NAME == "X-BULK-OPERATION"
    assert extensions_api_settings.BULK_CHUNK_SIZE == 1000
    assert extensions_api_settings.BULK_MAX_ITEMS == 100_000


def test_override_settings_is_seen_and_then_undone():
    with override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_CHUNK_SIZE": 7}):
        assert extensions_api_settings.BULK_CHUNK_SIZE == 7
    assert extensions_api_settings.BULK_CHUNK_SIZE == 1000


def test_none_header_name_is_kept_as_none():
    with override_settings(REST_FRAMEWORK_EXTENSIONS={"DEFAULT_BULK_OPERATION_HEADER_NAME": None}):
        assert extensions_api_settings.DEFAULT_BULK_OPERATION_HEADER_NAME is None


def test_unknown_keys_shared_with_other_packages_are_ignored():
    with override_settings(
        REST_FRAMEWORK_EXTENSIONS={"DEFAULT_CACHE_RESPONSE_TIMEOUT": 60, "BULK_ATOMIC": False}
    ):
        assert extensions_api_settings.BULK_ATOMIC is False


def test_every_key_of_the_table_reads_its_default():
    for name, setting in SETTINGS.items():
        assert getattr(extensions_api_settings, name) == setting.default, name


def test_a_key_outside_the_table_is_an_attribute_error():
    with pytest.raises(AttributeError, match="BULK_NO_SUCH_THING"):
        getattr(extensions_api_settings, "BULK_NO_SUCH_THING")  # noqa: B009


def test_a_value_read_before_override_settings_is_read_again_inside_it():
    assert extensions_api_settings.BULK_PROGRESS_TTL == 86400
    with override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_PROGRESS_TTL": 60}):
        assert extensions_api_settings.BULK_PROGRESS_TTL == 60
        assert extensions_api_settings.BULK_RESULT_TTL == 60
    assert extensions_api_settings.BULK_PROGRESS_TTL == 86400


@pytest.mark.parametrize("old", sorted(RENAMED))
def test_an_old_key_is_honoured_with_a_deprecation_warning_naming_the_new_one(old):
    new = RENAMED[old]
    value = object()  # read back as is: nothing validates on read
    with override_settings(REST_FRAMEWORK_EXTENSIONS={old: value}):
        with pytest.warns(DeprecationWarning, match=rf"\['{old}'\] is renamed {new}"):
            assert getattr(extensions_api_settings, new) is value
        assert getattr(extensions_api_settings, old) is value


def test_the_old_attribute_name_reads_the_new_keys_value():
    with override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_CHUNK_SIZE": 7, "BULK_JOB_STORAGE": "jobs"}):
        assert extensions_api_settings.BULK_BATCH_SIZE == 7
        assert extensions_api_settings.BULK_PAYLOAD_STORAGE == "jobs"
    assert extensions_api_settings.BULK_BATCH_SIZE == 1000


def test_with_both_names_set_the_new_one_wins():
    with override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_RETRY_ATTEMPTS": 1, "BULK_RETRY_LIMIT": 2}):
        with pytest.warns(DeprecationWarning):
            assert extensions_api_settings.BULK_RETRY_LIMIT == 2
        assert extensions_api_settings.BULK_RETRY_ATTEMPTS == 2


def test_the_new_names_alone_load_without_a_warning():
    with override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_CHUNK_SIZE": 7}):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert extensions_api_settings.BULK_CHUNK_SIZE == 7


def test_a_settings_dict_of_the_wrong_type_is_improperly_configured_on_read():
    with override_settings(REST_FRAMEWORK_EXTENSIONS=["BULK_ATOMIC"]):
        with pytest.raises(ImproperlyConfigured, match="must be a dict, not list"):
            getattr(extensions_api_settings, "BULK_ATOMIC")  # noqa: B009


# The run-time checks use the table's rules, worded as the system check.


def test_a_duration_read_at_run_time_follows_the_tables_rule():
    assert seconds(timedelta(minutes=2), "BULK_JOB_STALE_AFTER") == 120.0
    assert seconds(90, "BULK_JOB_RETRY_WINDOW") == 90.0
    assert seconds(None, "BULK_JOB_RETENTION") is None
    with pytest.raises(ImproperlyConfigured) as raised:
        seconds("a week", "BULK_JOB_RETENTION")
    assert str(raised.value) == (
        "REST_FRAMEWORK_EXTENSIONS['BULK_JOB_RETENTION'] must be a number of seconds >= 0 or a timedelta or None, "
        "not 'a week'."
    )


def test_a_sweep_with_a_wrong_stale_after_is_improperly_configured(db):
    from rest_bulk_ext.jobs.sweeper import sweep_jobs

    with override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_JOB_STALE_AFTER": "2 minutes"}):
        with pytest.raises(ImproperlyConfigured, match=r"\['BULK_JOB_STALE_AFTER'\] must be a number of seconds"):
            sweep_jobs()


def test_a_chunk_size_below_one_is_improperly_configured_before_anything_runs(db):
    from rest_bulk_ext.engine.run import run_bulk_operation
    from rest_bulk_ext.engine.types import BulkContext
    from tests.models_items import Txn
    from tests.serializers_items import TxnSerializer

    ctx = BulkContext(
        operation="bulk_create", queryset=Txn.objects.all(), serializer_class=TxnSerializer, serializer_context={},
        batch_size=0,
    )
    with pytest.raises(ImproperlyConfigured, match=r"\['BULK_CHUNK_SIZE'\] must be an integer >= 1, not 0"):
        run_bulk_operation(ctx, [{"amount": "1.00"}])
    assert not Txn.objects.exists()


# docs/settings.md is the table, for people.

DOCS = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


def doc_rows(section):
    """``{key: [cells]}`` of the table rows under ``## section`` (all sections: None)."""
    text = DOCS.read_text()
    if section is not None:
        text = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| `") and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_docs_settings_md_has_a_row_per_key_with_its_default_and_rule():
    rows = doc_rows(None)
    for area in AREAS:
        area_rows = doc_rows(area.title)
        for setting in area.settings:
            assert setting.name in area_rows, f"docs/settings.md, '## {area.title}': no row for {setting.name}"
            default, _meaning, rule = area_rows[setting.name]
            assert default == f"`{setting.doc_default}`", setting.name
            assert rule == setting.validator.expects, setting.name
    documented = {key for key in rows if key.startswith(("BULK_", "DEFAULT_BULK_"))}
    assert documented - set(SETTINGS) - set(RENAMED) == set(), "docs/settings.md documents keys the table lacks"


def test_docs_settings_md_lists_every_renamed_key():
    renamed = doc_rows("Renamed settings")
    assert {old: cells[0] for old, cells in renamed.items()} == {old: f"`{new}`" for old, new in RENAMED.items()}
