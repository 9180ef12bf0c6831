from django.db import models


class Customer(models.Model):
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)

    def __str__(self):
        return self.email


class Txn(models.Model):
    KIND_CHOICES = [("debit", "Debit"), ("credit", "Credit")]

    ref = models.CharField(max_length=40, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="txns")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    occurred_at = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=KIND_CHOICES, default="debit")

    class Meta:
        ordering = ["id"]


class Document(models.Model):
    """A versioned row: ``/api/documents/bulk/`` writes an item only if its
    ``version`` is still the one the client read (``bulk_version_field``)."""

    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, default="")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["id"]
