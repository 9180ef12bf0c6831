"""Create the demo user and a few rows, so the README's curl examples work."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone

from ledger.models import Customer, Document, Txn


class Command(BaseCommand):
    help = "Create user demo/demo and sample customers and transactions (idempotent)."

    def handle(self, *args, **options):
        User = get_user_model()
        if not User.objects.filter(username="demo").exists():
            User.objects.create_user("demo", password="demo")
        if not Document.objects.exists():
            # Document 2 was edited twice since it was created: version 3.
            Document.objects.bulk_create(
                [Document(title="Terms", version=1), Document(title="Privacy", version=3), Document(title="FAQ")]
            )
        if Customer.objects.exists():
            self.stdout.write("seed_demo: data already there")
            return
        customers = Customer.objects.bulk_create(
            Customer(email=f"user{i}@{'gmail.com' if i % 2 else 'example.com'}", name=f"User {i}")
            for i in range(1, 21)
        )
        now = timezone.now()
        Txn.objects.bulk_create(
            Txn(ref=f"T{i:05d}", customer=customers[i % 20], amount=Decimal(i), occurred_at=now)
            for i in range(1, 51)
        )
        self.stdout.write("seed_demo: user demo/demo, 20 customers, 50 transactions, 3 documents")
