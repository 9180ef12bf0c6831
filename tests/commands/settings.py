"""The test settings with the command tests' URLconf, for the commands run
as subprocesses (``python -m django bulk_import ...``)."""

from tests.settings import *  # noqa: F403

ROOT_URLCONF = "tests.commands.urls"
