"""Startup checks (``manage.py check``), one test per check, and the 503 a
large request gets on a server without Celery."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.core import checks
from django.test import override_settings

from rest_bulk_ext import checks as bulk_checks
from rest_bulk_ext.settings import RENAMED, SETTINGS

ROOT = Path(__file__).resolve().parents[2]


def ids(messages):
    return sorted(message.id for message in messages)


def run_checks():
    return [m for m in checks.run_checks(include_deployment_checks=False) if m.id.startswith("rest_bulk_ext.")]


def test_the_defaults_pass_every_validator():
    assert bulk_checks.check_setting_values() == []
    assert bulk_checks.check_renamed_settings() == []


# Every key's validator refuses something, as the check E001 reports it.
WRONG_VALUES = {
    "DEFAULT_BULK_OPERATION_HEADER_NAME": "",
    "DEFAULT_BULK_OPERATION_MAX_ROWS": -1,
    "BULK_STRICT_QUERY_PARAMS": "yes",
    "BULK_ASYNC_THRESHOLD": "many",
    "BULK_MAX_ITEMS": 0,
    "BULK_UPLOAD_MAX_SIZE": "10 MB",
    "BULK_ATOMIC": 1,
    "BULK_IDEMPOTENCY_TTL": 0,
    "BULK_IDEMPOTENCY_RESERVATION_TIMEOUT": None,
    "BULK_CHUNK_SIZE": 0,
    "BULK_POSTGRES_COPY_MIN_ROWS": 0,
    "BULK_PAUSE_GC": None,
    "BULK_FAST_VALIDATION": "on",
    "BULK_RETRY_LIMIT": -1,
    "BULK_RETRY_BACKOFF": "0.05",
    "BULK_RETRY_BACKOFF_MAX": -1.0,
    "BULK_RETRY_CLIENT_WAIT": 1.5,
    "BULK_JOB_STORAGE": " ",
    "BULK_DOWNLOAD_REDIRECT": "false",
    "BULK_CSV_ESCAPE_FORMULAS": 0,
    "BULK_MAX_ACTIVE_JOBS_PER_USER": 0,
    "BULK_JOB_CLIENT_WAIT": -30,
    "BULK_JOB_RETRY_LIMIT": None,
    "BULK_JOB_RETRY_WINDOW": -1,
    "BULK_JOB_RETRY_BACKOFF": None,
    "BULK_JOB_RETRY_BACKOFF_MAX": "2 minutes",
    "BULK_JOB_STALE_AFTER": __import__("datetime").timedelta(seconds=-1),
    "BULK_JOB_PENDING_TIMEOUT": "2m",
    "BULK_JOB_START_LIMIT": 0,
    "BULK_JOB_CHUNK_CONCURRENCY": 0,
    "BULK_JOB_RETENTION": "a week",
    "BULK_RESULT_MAX_IDS": -1,
    "BULK_RESULT_MAX_ERRORS": 1.0,
    "BULK_REDIS_URL": "localhost:6379",
    "BULK_PROGRESS_TTL": 0,
}


def test_every_setting_has_a_wrong_value_here():
    assert sorted(WRONG_VALUES) == sorted(SETTINGS)


@pytest.mark.parametrize("key", sorted(WRONG_VALUES))
def test_manage_py_check_refuses_a_wrong_value_of_each_setting_with_E001(key):
    value = WRONG_VALUES[key]
    with override_settings(REST_FRAMEWORK_EXTENSIONS={key: value}):
        found = [m for m in run_checks() if m.id == "rest_bulk_ext.E001"]
    assert [(m.obj, m.msg) for m in found] == [
        (key, f"REST_FRAMEWORK_EXTENSIONS['{key}'] must be {SETTINGS[key].validator.expects}, not {value!r}.")
    ]


def test_a_wrong_value_under_an_old_name_is_E001_naming_the_old_name():
    with override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_BATCH_SIZE": 0}):
        (error,) = bulk_checks.check_setting_values()
    assert error.id == "rest_bulk_ext.E001" and error.obj == "BULK_BATCH_SIZE"
    assert error.msg == "REST_FRAMEWORK_EXTENSIONS['BULK_BATCH_SIZE'] must be an integer >= 1, not 0."


@pytest.mark.parametrize("old", sorted(RENAMED))
def test_an_old_name_is_W004_naming_the_new_key(old):
    new = RENAMED[old]
    value = 7 if isinstance(SETTINGS[new].default, int) else SETTINGS[new].default
    with override_settings(REST_FRAMEWORK_EXTENSIONS={old: value}):
        found = [m for m in run_checks() if m.id in ("rest_bulk_ext.W004", "rest_bulk_ext.E006")]
    assert [(m.id, m.obj) for m in found] == [("rest_bulk_ext.W004", old)]
    assert f"'{new}'" in found[0].msg and f"Rename the key to '{new}'" in found[0].hint


def test_an_old_and_a_new_name_of_one_setting_is_E006():
    with override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_BATCH_SIZE": 10, "BULK_CHUNK_SIZE": 20}):
        found = [m for m in run_checks() if m.id in ("rest_bulk_ext.W004", "rest_bulk_ext.E006")]
    assert [(m.id, m.obj) for m in found] == [("rest_bulk_ext.E006", "BULK_BATCH_SIZE")]
    assert "'BULK_CHUNK_SIZE' is used" in found[0].msg


def test_manage_py_check_fails_on_both_names_and_warns_on_an_old_one():
    code, output = manage_py_check(
        "import tests.testapp.celery", {"BULK_RESULT_TTL": 60, "BULK_RETRY_ATTEMPTS": 1, "BULK_RETRY_LIMIT": 2}
    )
    assert code != 0
    assert "rest_bulk_ext.W004" in output and "'BULK_PROGRESS_TTL'" in output
    assert "rest_bulk_ext.E006" in output and "'BULK_RETRY_LIMIT' is used" in output


@pytest.mark.parametrize(
    "key, value",
    [
        ("BULK_ASYNC_THRESHOLD", "many"),
        ("BULK_ASYNC_THRESHOLD", -1),
        ("BULK_CHUNK_SIZE", 0),
        ("BULK_CHUNK_SIZE", 10.5),
        ("BULK_MAX_ITEMS", True),
        ("BULK_ATOMIC", "yes"),
        ("BULK_REDIS_URL", "localhost:6379"),
        ("DEFAULT_BULK_OPERATION_HEADER_NAME", ""),
        ("BULK_JOB_STORAGE", None),
        ("BULK_JOB_RETENTION", "a week"),
        ("BULK_MAX_ACTIVE_JOBS_PER_USER", 0),
    ],
)
def test_a_setting_of_the_wrong_type_or_range_is_E001(key, value):
    with override_settings(REST_FRAMEWORK_EXTENSIONS={key: value}):
        (error,) = bulk_checks.check_setting_values()
    assert error.id == "rest_bulk_ext.E001"
    assert key in error.msg and repr(value) in error.msg


@pytest.mark.parametrize(
    "key, value",
    [
        ("BULK_ASYNC_THRESHOLD", None),
        ("BULK_ASYNC_THRESHOLD", 0),
        ("DEFAULT_BULK_OPERATION_HEADER_NAME", None),
        ("BULK_REDIS_URL", "redis://127.0.0.1:6379/3"),
        ("BULK_JOB_RETENTION", __import__("datetime").timedelta(days=2)),
        ("BULK_MAX_ACTIVE_JOBS_PER_USER", None),
        # None is "never" / "no limit" for these (docs/settings.md).
        ("BULK_JOB_RETRY_WINDOW", None),
        ("BULK_JOB_STALE_AFTER", None),
        ("BULK_JOB_PENDING_TIMEOUT", None),
        ("BULK_JOB_START_LIMIT", None),
    ],
)
def test_good_values_pass(key, value):
    with override_settings(REST_FRAMEWORK_EXTENSIONS={key: value}):
        assert bulk_checks.check_setting_values() == []


def test_a_settings_dict_of_the_wrong_type_is_E001():
    with override_settings(REST_FRAMEWORK_EXTENSIONS=["BULK_ATOMIC"]):
        assert ids(bulk_checks.check_setting_values()) == ["rest_bulk_ext.E001"]


def test_unknown_keys_are_ignored():
    with override_settings(REST_FRAMEWORK_EXTENSIONS={"DEFAULT_CACHE_RESPONSE_TIMEOUT": "anything"}):
        assert bulk_checks.check_setting_values() == []


def test_a_payload_storage_alias_that_does_not_exist_is_E002():
    with override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_JOB_STORAGE": "nope"}):
        (error,) = bulk_checks.check_payload_storage()
    assert error.id == "rest_bulk_ext.E002"
    assert "'nope'" in error.msg and "default" in error.msg
    assert bulk_checks.check_payload_storage() == []


def test_job_urls_missing_is_E004_unless_jobs_are_off():
    with override_settings(ROOT_URLCONF="tests.bulk_endpoint.urls"):
        assert ids(bulk_checks.check_job_urls()) == ["rest_bulk_ext.E004"]
        with override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_ASYNC_THRESHOLD": None}):
            assert bulk_checks.check_job_urls() == []
    assert bulk_checks.check_job_urls() == []


def test_sqlite_without_immediate_transactions_is_W001():
    predicate = bulk_checks.sqlite_without_immediate_transactions
    assert predicate({"ENGINE": "django.db.backends.sqlite3", "OPTIONS": {}})
    assert predicate({"ENGINE": "django.db.backends.sqlite3", "OPTIONS": {"transaction_mode": "DEFERRED"}})
    assert not predicate({"ENGINE": "django.db.backends.sqlite3", "OPTIONS": {"transaction_mode": "IMMEDIATE"}})
    assert not predicate({"ENGINE": "django.db.backends.postgresql"})


def test_the_checks_are_registered_and_run_with_manage_py_check():
    with override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_CHUNK_SIZE": "many", "BULK_JOB_STORAGE": "nope"}):
        found = ids(run_checks())
    assert "rest_bulk_ext.E001" in found and "rest_bulk_ext.E002" in found


def manage_py_check(prelude, extensions, *, urlconf="tests.urls", after_setup="", deploy=False, **environ):
    """``manage.py check`` in a fresh process (nothing imported a Celery
    app there, unlike this test run): its exit code and output."""
    script = textwrap.dedent(
        f"""
        import sys
        {prelude}
        import django
        from django.conf import settings
        from django.core.management import call_command
        django.setup()
        settings.REST_FRAMEWORK_EXTENSIONS = {extensions!r}
        settings.ROOT_URLCONF = {urlconf!r}
        {after_setup}
        call_command("check", deploy={deploy!r})
        """
    )
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="tests.settings", **environ)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    return done.returncode, done.stdout + done.stderr


def test_jobs_without_a_celery_app_is_E003():
    code, output = manage_py_check("", {})
    assert code != 0
    assert "rest_bulk_ext.E003" in output and "no Celery app is configured" in output


def test_manage_py_check_reports_W001_for_the_sqlite_settings_without_immediate_mode():
    code, output = manage_py_check("import tests.testapp.celery", {}, RBE_SQLITE_TRANSACTION_MODE="")
    assert code == 0
    assert ("rest_bulk_ext.W001" in output) == (os.environ.get("RBE_DB", "sqlite") == "sqlite")


def test_manage_py_check_is_quiet_for_sqlite_in_immediate_mode():
    code, output = manage_py_check("import tests.testapp.celery", {}, RBE_SQLITE_TRANSACTION_MODE="IMMEDIATE")
    assert code == 0
    assert "rest_bulk_ext.W001" not in output


def test_jobs_without_celery_installed_is_E003_naming_the_extra():
    code, output = manage_py_check("sys.modules['celery'] = None", {})
    assert code != 0
    assert "rest_bulk_ext.E003" in output and "Celery is not installed" in output
    assert "rest_bulk_ext[celery]" in output and "None" in output


def test_no_E003_with_a_celery_app_or_without_jobs():
    assert manage_py_check("import tests.testapp.celery", {})[0] == 0
    assert manage_py_check("sys.modules['celery'] = None", {"BULK_ASYNC_THRESHOLD": None})[0] == 0


@pytest.mark.django_db
def test_a_large_request_without_celery_is_a_503_and_stores_nothing(api_client, monkeypatch, tmp_path, settings):
    from django.contrib.auth import get_user_model

    from rest_bulk_ext.jobs.models import BulkJob
    from tests.testapp.models import JobRecord

    settings.MEDIA_ROOT = str(tmp_path)
    user = get_user_model().objects.create_user("nocelery", password="pw")
    api_client.force_authenticate(user)
    monkeypatch.setitem(sys.modules, "celery", None)  # "import celery" fails, as without the extra

    response = api_client.post(
        "/jobs-test/records/bulk/", [{"seq": n, "label": "x"} for n in range(150)], format="json"
    )

    assert response.status_code == 503, response.data
    assert response.data["detail"].code == "background_jobs_unavailable"
    assert BulkJob.objects.count() == 0
    assert JobRecord.objects.count() == 0
    assert list(tmp_path.rglob("*")) == []


def test_W001_names_each_sqlite_alias_without_immediate_mode():
    from django.db import connection

    found = bulk_checks.check_sqlite_transaction_mode()
    mode = (connection.settings_dict.get("OPTIONS") or {}).get("transaction_mode", "")
    if connection.vendor == "sqlite" and str(mode).upper() != "IMMEDIATE":
        assert [(m.id, m.obj) for m in found] == [("rest_bulk_ext.W001", "default")]
    else:
        assert found == []


# Which projects the job checks apply to: a routed view that can start jobs.


def job_check_ids(messages):
    job_ids = {"rest_bulk_ext.E003", "rest_bulk_ext.E004", "rest_bulk_ext.E005", "rest_bulk_ext.W002",
               "rest_bulk_ext.W003"}
    return sorted(message.id for message in messages if message.id in job_ids)


def test_job_views_are_the_routed_bulk_operations_views():
    with override_settings(ROOT_URLCONF="tests.bulk_endpoint.urls"):
        found = bulk_checks.job_views()
    assert "tests.bulk_endpoint.views.TxnViewSet" in found
    assert not any("views_queryset" in name for name in found)
    with override_settings(ROOT_URLCONF="tests.project.urls_list_route_only"):
        assert bulk_checks.job_views() == []


def test_a_list_route_only_project_gets_no_job_check_even_with_everything_missing(settings):
    settings.MEDIA_ROOT = ""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    with override_settings(ROOT_URLCONF="tests.project.urls_list_route_only"):
        assert job_check_ids(run_checks()) == []
    with override_settings(ROOT_URLCONF="tests.bulk_endpoint.urls"):
        assert job_check_ids(run_checks()) == ["rest_bulk_ext.E004", "rest_bulk_ext.W002"]


def test_a_list_route_only_project_passes_manage_py_check_without_celery():
    code, output = manage_py_check("sys.modules['celery'] = None", {}, urlconf="tests.project.urls_list_route_only")
    assert code == 0, output
    assert "rest_bulk_ext.E" not in output


def test_the_same_project_with_a_bulk_operations_view_needs_celery():
    code, output = manage_py_check("sys.modules['celery'] = None", {}, urlconf="tests.bulk_endpoint.urls")
    assert code != 0
    assert "rest_bulk_ext.E003" in output and "tests.bulk_endpoint.views.TxnViewSet" in output


def test_a_view_that_decides_itself_to_run_in_the_background_needs_jobs_even_without_a_threshold():
    off = {"BULK_ASYNC_THRESHOLD": None}
    with override_settings(ROOT_URLCONF="tests.project.urls_background_view", REST_FRAMEWORK_EXTENSIONS=off):
        assert bulk_checks.job_views() == ["tests.project.urls_background_view.AlwaysInBackgroundTxnViewSet"]
    with override_settings(ROOT_URLCONF="tests.bulk_endpoint.urls", REST_FRAMEWORK_EXTENSIONS=off):
        assert bulk_checks.job_views() == []
    code, output = manage_py_check("sys.modules['celery'] = None", off, urlconf="tests.project.urls_background_view")
    assert code != 0 and "rest_bulk_ext.E003" in output


def test_a_broken_urlconf_is_left_to_djangos_own_check():
    with override_settings(ROOT_URLCONF="tests.no_such_urlconf"):
        assert bulk_checks.job_views() == []


# The broker's transport (E005).


def test_a_broker_transport_that_cannot_load_is_E005_naming_the_extra():
    # What a worker without kombu's redis extra hits: the transport imports
    # `packaging`, which only kombu[redis] installs.
    code, output = manage_py_check("sys.modules['packaging'] = None; import tests.testapp.celery", {})
    assert code != 0
    assert "rest_bulk_ext.E005" in output and "redis://" in output and "'packaging'" in output
    assert "pip install 'rest_bulk_ext[celery,redis]'" in output


def test_an_unknown_broker_transport_is_E005():
    code, output = manage_py_check(
        "from celery import Celery; app = Celery('t', broker='nosuch://host')",
        {},
    )
    assert code != 0
    assert "rest_bulk_ext.E005" in output and "nosuch://" in output


def test_a_loadable_broker_transport_passes_and_list_route_projects_never_load_it():
    assert manage_py_check("import tests.testapp.celery", {})[0] == 0
    code, output = manage_py_check(
        "sys.modules['packaging'] = None; import tests.testapp.celery", {}, urlconf="tests.project.urls_list_route_only"
    )
    assert code == 0, output


def test_the_configured_transport_loads_here():
    assert bulk_checks.check_broker_transport() == []


# Where job files go (W002).


def test_job_files_on_a_filesystem_storage_without_media_root_is_W002(settings):
    settings.MEDIA_ROOT = ""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    (warning,) = bulk_checks.check_payload_location()
    assert warning.id == "rest_bulk_ext.W002" and "MEDIA_ROOT" in warning.msg

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": "/srv/jobs"}},
    }
    assert bulk_checks.check_payload_location() == []


def test_job_files_with_a_media_root_pass(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    assert bulk_checks.check_payload_location() == []


# The memory:// broker (W003).

MEMORY_APP = "from celery import Celery; app = Celery('t', broker='memory://')"


def test_runserver_on_a_memory_broker_without_an_embedded_worker_is_W003():
    code, output = manage_py_check(MEMORY_APP + "; sys.argv = ['manage.py', 'runserver']", {})
    assert code == 0
    assert "rest_bulk_ext.W003" in output and "stay PENDING" in output


def test_runserver_with_the_embedded_worker_started_is_quiet():
    code, output = manage_py_check(
        MEMORY_APP + "; sys.argv = ['manage.py', 'runserver']",
        {},
        after_setup="from rest_bulk_ext.jobs.embedded import start_embedded_worker; start_embedded_worker(app)",
    )
    assert code == 0, output
    assert "rest_bulk_ext.W003" not in output


def test_a_memory_broker_is_W003_under_check_deploy_only():
    code, output = manage_py_check(MEMORY_APP, {})
    assert code == 0 and "rest_bulk_ext.W003" not in output
    code, output = manage_py_check(MEMORY_APP, {}, deploy=True)
    assert "rest_bulk_ext.W003" in output
    code, output = manage_py_check(MEMORY_APP, {}, urlconf="tests.project.urls_list_route_only", deploy=True)
    assert "rest_bulk_ext.W003" not in output
