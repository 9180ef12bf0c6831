"""Models for the queryset tests."""

from django.db import models  # noqa: F401
