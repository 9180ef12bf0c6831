"""The test models, one app (label ``tests``, see apps.py)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

# Models for the queryset-level (list route) tests.
#
# ``Member`` is the "user" of the headline requests. Nothing points at it, so
# Django deletes it with one fast DELETE; it carries an email, a flag, a
# choices field, a tenant-scoped foreign key (``team``), an owner for object
# permissions and an ``auto_now`` timestamp. ``Project`` has the relations a
# bulk write cannot follow (many-to-many, cascaded and protected children).


class Organization(models.Model):
    name = models.CharField(max_length=100, unique=True)
    staff = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="organizations")

    def __str__(self):
        return self.name


class Team(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=100)

    def __str__(self):
        return self.name


class Member(models.Model):
    STATUS_CHOICES = [("draft", "Draft"), ("published", "Published"), ("archived", "Archived")]

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="members")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    username = models.CharField(max_length=30, unique=True)
    email = models.EmailField(max_length=254)
    is_active = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=STATUS_CHOICES, default="draft")
    nickname = models.CharField(max_length=20, blank=True, default="")
    score = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.username


class Label(models.Model):
    name = models.CharField(max_length=50)


class Project(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=100)
    labels = models.ManyToManyField(Label, blank=True, related_name="projects")

    class Meta:
        ordering = ["id"]


class Task(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=100)


class Contract(models.Model):
    """Keeps its project from being deleted (``PROTECT``)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="contracts")


# Models for the per-item (``/bulk/``) and job tests, and the benchmark.
#
# ``Txn`` carries every field kind the engine must handle: a foreign key, a
# unique field, a unique-together pair, a decimal, a datetime, an email and a
# choices field. ``UUIDItem`` and ``CodeItem`` cover non-integer primary keys.


class Tenant(models.Model):
    name = models.CharField(max_length=100, unique=True)

    def __str__(self):
        return self.name


class Account(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="accounts")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="accounts"
    )
    name = models.CharField(max_length=100)
    number = models.CharField(max_length=20, unique=True)

    def __str__(self):
        return self.name


class Txn(models.Model):
    KIND_CHOICES = [("debit", "Debit"), ("credit", "Credit")]

    ref = models.CharField(max_length=40, unique=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="txns")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    occurred_at = models.DateTimeField()
    email = models.EmailField(max_length=254)
    kind = models.CharField(max_length=10, choices=KIND_CHOICES, default="debit")
    description = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "occurred_at"], name="txn_account_occurred_at_uniq"),
        ]
        ordering = ["id"]


class UUIDItem(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, unique=True)
    quantity = models.IntegerField(default=0)

    class Meta:
        ordering = ["name"]


class CodeItem(models.Model):
    code = models.CharField(max_length=20, primary_key=True)
    label = models.CharField(max_length=100)
    quantity = models.IntegerField(default=0)

    class Meta:
        ordering = ["code"]


class Tag(models.Model):
    name = models.CharField(max_length=50)


class Note(models.Model):
    """No unique field besides its auto key: where a backend returns no keys
    from a bulk insert, the engine inserts such rows one by one."""

    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.CASCADE, related_name="notes")
    text = models.CharField(max_length=200)
    updated_at = models.DateTimeField(auto_now=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="notes")


class Receipt(models.Model):
    """Protects its note: deleting a ``Note`` with a receipt fails (kept off
    ``Txn`` so deleting transactions stays a fast, collector-free delete)."""

    note = models.ForeignKey(Note, on_delete=models.PROTECT, related_name="receipts")


class TxnAudit(models.Model):
    """A database-level reference Django's collector ignores (``DO_NOTHING``):
    deleting an audited ``Txn`` fails in the database, not in Python."""

    txn = models.ForeignKey(Txn, on_delete=models.DO_NOTHING, related_name="audits")


# Models for the jobs tests.


class JobRecord(models.Model):
    """A row with no unique constraint: a chunk written twice would show as
    duplicate ``seq`` values instead of failing, which is what the crash
    test needs to see."""

    seq = models.IntegerField()
    label = models.CharField(max_length=50, blank=True, default="")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)

    class Meta:
        ordering = ["seq", "id"]


# Models for the operations tests (hooks, signals, soft delete).


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


# Models for the optimistic-concurrency tests (``bulk_version_field``).


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
