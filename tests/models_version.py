"""Models for the optimistic-concurrency tests (``bulk_version_field``)."""

from django.db import models

__all__ = ["VersionedDoc", "StampedDoc", "VersionedChild"]


class VersionedDoc(models.Model):
    """An integer version, bumped by every bulk write."""

    title = models.CharField(max_length=100, unique=True)
    body = models.CharField(max_length=200, blank=True, default="")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["id"]


class StampedDoc(models.Model):
    """A timestamp version: ``updated_at`` (``auto_now``)."""

    title = models.CharField(max_length=100)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]


class VersionedChild(models.Model):
    """A cascade, so deletes of stamped documents go through the collector."""

    doc = models.ForeignKey(StampedDoc, on_delete=models.CASCADE, related_name="children")

    class Meta:
        ordering = ["id"]
