"""Models for the jobs tests."""

from django.db import models  # noqa: F401
