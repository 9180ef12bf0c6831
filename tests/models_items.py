"""Models for the per-item (``/bulk/``) and job tests, and the benchmark.

``Txn`` carries every field kind the engine must handle: a foreign key, a
unique field, a unique-together pair, a decimal, a datetime, an email and a
choices field. ``UUIDItem`` and ``CodeItem`` cover non-integer primary keys.
"""

import uuid

from django.conf import settings
from django.db import models


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
