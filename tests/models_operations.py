"""Models for the operations tests (hooks, signals, soft delete)."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class SoftDeleteQuerySet(models.QuerySet):
    """Deleting marks rows instead of removing them, keeping Django's
    ``delete()`` contract (``(count, {label: count})``)."""

    def delete(self):
        count = self.filter(deleted_at__isnull=True).update(deleted_at=timezone.now())
        return count, {self.model._meta.label: count}


class AliveManager(models.Manager.from_queryset(SoftDeleteQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class SoftNote(models.Model):
    """A soft-deleted row: its default manager hides deleted rows and its
    queryset's ``delete()`` only sets ``deleted_at``."""

    title = models.CharField(max_length=100)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = AliveManager()
    all_objects = models.Manager()

    class Meta:
        ordering = ["id"]


class AuditNote(models.Model):
    """Written through an audited view (per-chunk hook, signals)."""

    title = models.CharField(max_length=100)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)

    class Meta:
        ordering = ["id"]


class AuditEntry(models.Model):
    """One row per written chunk (the worked example of docs/operations.md)."""

    kind = models.CharField(max_length=30)
    operation = models.CharField(max_length=20)
    object_ids = models.JSONField(default=list)
    in_job = models.BooleanField(default=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["id"]
