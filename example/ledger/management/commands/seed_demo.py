"""Create the demo user and a few rows, so the README's and docs' curl examples work."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from ledger.models import Customer, Document, Txn
from rest_bulk_ext.models import BulkJob

# Deleted by --reset, children first; their id sequences restart at 1 so the
# docs' ids (customer 1, document 3, ...) point at the same rows again.
DEMO_MODELS = [Txn, Customer, Document, BulkJob]


class Command(BaseCommand):
    help = (
        "Create user demo/demo (a superuser, so the admin opens) and sample customers, transactions "
        "and documents. Idempotent; --reset puts the demo rows back as they were seeded."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset", action="store_true",
            help="Delete every customer, transaction, document and job (with its files) and seed again, "
                 "ids from 1. The docs' pages start with it.",
        )  # fmt: skip

    def handle(self, *args, **options):
        if options["reset"]:
            self.reset()
        self.seed_user()
        if not Document.objects.exists():
            # Document 2 was edited twice since it was created: version 3.
            Document.objects.bulk_create(
                [Document(title="Terms", version=1), Document(title="Privacy", version=3), Document(title="FAQ")]
            )
        if Customer.objects.exists():
            self.stdout.write("seed_demo: data already there (--reset seeds it again)")
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

    def seed_user(self):
        """demo/demo, staff and superuser: the job admin (docs/operations.md)
        needs staff; an older seed's plain user is promoted."""
        User = get_user_model()
        user = User.objects.filter(username="demo").first()
        if user is None:
            User.objects.create_superuser("demo", email="demo@example.com", password="demo")
        elif not (user.is_staff and user.is_superuser):
            user.is_staff = user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])

    def reset(self):
        with transaction.atomic():
            for model in DEMO_MODELS:
                # A queryset delete sends post_delete per row: a job's files go with it.
                model.objects.all().delete()
            sequences = [{"table": model._meta.db_table, "column": model._meta.pk.column} for model in DEMO_MODELS]
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_by_name_sql(no_style(), sequences):
                    cursor.execute(sql)
        self.stdout.write("seed_demo: reset")
