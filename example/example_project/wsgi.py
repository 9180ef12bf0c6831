"""The example's WSGI application: ``gunicorn example_project.wsgi`` (from
example/). With the default memory:// broker each server process runs its
own jobs (ledger/apps.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

application = get_wsgi_application()
