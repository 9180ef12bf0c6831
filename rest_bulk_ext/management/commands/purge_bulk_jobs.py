"""``manage.py purge_bulk_jobs``: remove finished background bulk jobs older
than ``BULK_JOB_RETENTION`` (with their chunk rows and files) and expired
idempotency records (what the beat task ``rest_bulk_ext.purge_bulk_jobs`` does)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from rest_bulk_ext.jobs.retention import purge_jobs


class Command(BaseCommand):
    help = "Purge finished bulk jobs older than BULK_JOB_RETENTION and expired idempotency records."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="Jobs deleted per batch.")

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        report = purge_jobs(batch_size=batch_size)
        self.stdout.write(
            "purged {jobs} jobs, {chunks} chunk rows, {files} files, "
            "{idempotency_records} idempotency records".format(**report.as_dict())
        )
