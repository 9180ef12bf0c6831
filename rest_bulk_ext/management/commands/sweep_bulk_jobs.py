"""``manage.py sweep_bulk_jobs``: send again, or fail, the background bulk
jobs whose worker vanished (what the beat task ``rest_bulk_ext.sweep_bulk_jobs`` does)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from rest_bulk_ext.jobs.sweeper import sweep_jobs


class Command(BaseCommand):
    help = "Send again (from their last checkpoint) or fail the bulk jobs whose worker vanished."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=500, help="At most this many jobs per run.")

    def handle(self, *args: Any, limit: int, **options: Any) -> None:
        report = sweep_jobs(limit=limit)
        self.stdout.write(
            f"requeued {len(report.requeued)}, failed {len(report.failed)}, "
            f"completed {len(report.completed)}, still running {len(report.alive)}"
        )
