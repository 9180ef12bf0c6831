"""The migrations: the test app's and the library's in step with their
models, and the library's first one needs nothing but the user model."""

import importlib
from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_models_and_migrations_agree(settings):
    """A model change without its migration would ship a broken BulkJob table."""
    # --nomigrations hides every migration module; look at the real ones.
    settings.MIGRATION_MODULES = {}
    out = StringIO()
    call_command("makemigrations", "rest_bulk_ext", "tests", "--check", "--dry-run", stdout=out)


def test_the_migration_depends_only_on_the_user_model():
    from django.conf import settings

    migration = importlib.import_module("rest_bulk_ext.migrations.0001_initial").Migration

    assert [str(dep[0]) for dep in migration.dependencies] == [settings.AUTH_USER_MODEL.split(".")[0]]
