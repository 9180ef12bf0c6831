"""The test settings with the command tests' URLconf, for the commands run
as subprocesses (``python -m django bulk_import ...``)."""

from tests.settings import *  # noqa: F403

ROOT_URLCONF = "tests.commands.urls"

# A project imports its Celery app at startup (its package's __init__); the
# test project's is imported here, so the system checks find it.
import tests.testapp.celery  # noqa: E402, F401
