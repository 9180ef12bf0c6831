"""Models for the jobs tests."""

from django.conf import settings
from django.db import models


class JobRecord(models.Model):
    """A row with no unique constraint: a chunk written twice would show as
    duplicate ``seq`` values instead of failing, which is what the crash
    test needs to see."""

    seq = models.IntegerField()
    label = models.CharField(max_length=50, blank=True, default="")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)

    class Meta:
        ordering = ["seq", "id"]
