"""Where the API errors live, their wire format, and the renamed names.

Every ``APIException`` the library raises is in ``rest_bulk_ext.exceptions``
(or ``rest_bulk_ext.jobs.exceptions`` for the job routes), where DRF readers
look; the renamed 409s keep their status codes and ``code`` strings, and
their old names still import, with a ``DeprecationWarning``.
"""

import importlib
import pkgutil
import warnings

import pytest
from rest_framework.exceptions import APIException

import rest_bulk_ext
from rest_bulk_ext import exceptions
from rest_bulk_ext.jobs import exceptions as job_exceptions

API_ERROR_MODULES = {"rest_bulk_ext.exceptions", "rest_bulk_ext.jobs.exceptions"}


def all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from all_subclasses(sub)


def test_every_api_error_of_the_library_lives_in_an_exceptions_module():
    for module in pkgutil.walk_packages(rest_bulk_ext.__path__, "rest_bulk_ext."):
        if ".migrations" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    ours = [cls for cls in all_subclasses(APIException) if cls.__module__.startswith("rest_bulk_ext.")]
    assert len(ours) > 20  # the walk found them
    assert (
        sorted(f"{cls.__module__}.{cls.__qualname__}" for cls in ours if cls.__module__ not in API_ERROR_MODULES) == []
    )


@pytest.mark.parametrize(
    "cls, status_code, code",
    [
        (exceptions.BulkConstraintConflict, 409, "bulk_conflict"),
        (exceptions.BulkDeadlock, 409, "bulk_write_conflict"),
        (exceptions.BulkDatabaseBusy, 503, "bulk_database_busy"),
        (exceptions.BulkCancelled, 409, "bulk_cancelled"),
        (exceptions.BackgroundJobsUnavailable, 503, "background_jobs_unavailable"),
        (job_exceptions.BulkExportNotReady, 409, "bulk_export_not_ready"),
    ],
)
def test_a_moved_or_renamed_error_keeps_its_wire_format(cls, status_code, code):
    assert (cls.status_code, cls.default_code) == (status_code, code)


def test_the_answers_that_say_retry_later_share_one_base_and_their_settings(settings):
    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_RETRY_CLIENT_WAIT": 2.5, "BULK_JOB_CLIENT_WAIT": 7}
    for cls in (exceptions.BulkDeadlock, exceptions.BulkDatabaseBusy):
        assert issubclass(cls, exceptions.RetryLater)
        assert cls().wait == 3  # BULK_RETRY_CLIENT_WAIT, in whole seconds
        assert cls(wait=9).wait == 9
    for cls in (job_exceptions.BulkStorageUnavailable, job_exceptions.BulkJobDatabaseUnavailable):
        assert issubclass(cls, exceptions.RetryLater)
        assert cls().wait == 7  # BULK_JOB_CLIENT_WAIT


def test_the_old_names_import_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match="use rest_bulk_ext.exceptions.BulkConstraintConflict"):
        from rest_bulk_ext.exceptions import BulkConflict
    assert BulkConflict is exceptions.BulkConstraintConflict
    with pytest.warns(DeprecationWarning, match="use rest_bulk_ext.exceptions.BulkDeadlock"):
        from rest_bulk_ext.engine.db.errors import BulkWriteConflict
    assert BulkWriteConflict is exceptions.BulkDeadlock
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from rest_bulk_ext.exceptions import BulkConstraintConflict, BulkDeadlock  # noqa: F401
    with pytest.raises(AttributeError):
        exceptions.NoSuchError  # noqa: B018
