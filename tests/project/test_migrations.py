from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_models_and_migrations_agree():
    """A model change without its migration would ship a broken BulkJob table."""
    out = StringIO()
    call_command("makemigrations", "rest_bulk_ext", "tests", "--check", "--dry-run", stdout=out)
