"""Settings of the worker processes the job fault tests start: the test
settings plus ``REST_FRAMEWORK_EXTENSIONS`` keys given as JSON in
``RBE_JOBS_FAULTS_EXTENSIONS`` (short retry windows, back-offs, ...)."""

import json
import os

from tests import settings as _base
from tests.settings import *  # noqa: F401,F403

REST_FRAMEWORK_EXTENSIONS = {
    **getattr(_base, "REST_FRAMEWORK_EXTENSIONS", {}),
    **json.loads(os.environ.get("RBE_JOBS_FAULTS_EXTENSIONS") or "{}"),
}
