"""``manage.py bulk_import VIEWSET FILE``: create (or upsert) the rows of a
CSV, NDJSON (or, with the ``xlsx`` extra, XLSX) file through a viewset's
``{list}/bulk/`` action, as a named user (docs/importing.md, "The shell").

Exit status: 0 when every item was written (or, with ``--dry-run``, would
be); 3 when any item failed (the summary and ``errors.csv`` say which);
1 when the import could not run at all (an option, the file or the request
was refused: nothing written); 2 for a usage error (Django's own).
"""

import os
from argparse import BooleanOptionalAction
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from rest_framework.response import Response

from rest_bulk_ext.jobs.result_files import columns_of_errors, errors_csv_lines
from rest_bulk_ext.settings import extensions_api_settings
from rest_bulk_ext.shell_progress import ShellProgress
from rest_bulk_ext.shell_requests import (
    bind_view,
    build_request,
    find_route,
    flatten_errors,
    get_user,
    get_viewset,
    multipart_upload,
)

ITEMS_FAILED = 3
# The request's names for what a shell user typed, in messages.
OPTION_NAMES = {
    "unique_fields": "--upsert",
    "update_fields": "--update-fields",
    "atomic": "--atomic",
    "dry_run": "--dry-run",
    "delimiter": "--delimiter",
    "encoding": "--encoding",
    "file": "FILE",
}


def field_list(value: Any) -> list[str] | None:
    """``"a,b"``, ``["a", "b"]`` (call_command) or ``None`` as a list of names."""
    if value is None:
        return None
    parts = value.split(",") if isinstance(value, str) else list(value)
    names = [str(part).strip() for part in parts if str(part).strip()]
    return names or None


class Command(BaseCommand):
    help = (
        "Import a CSV or NDJSON file (XLSX with the xlsx extra) through a viewset's bulk action, "
        "as --user: the same request, checks and permissions as the API. Exit status 3 when any item failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("viewset", help="Dotted path of a viewset class with BulkOperationsMixin.")
        parser.add_argument("file", help="The file to import: .csv, .ndjson or .jsonl (.xlsx with the xlsx extra).")
        parser.add_argument("--user", help="Run as this user (its USERNAME_FIELD); default: anonymous.")
        parser.add_argument("--upsert", metavar="FIELD,…", help="Upsert on these unique fields instead of creating.")
        parser.add_argument(
            "--update-fields", metavar="FIELD,…", help="With --upsert: the fields an existing row gets updated."
        )
        parser.add_argument(
            "--atomic",
            action=BooleanOptionalAction,
            default=None,
            help="All or nothing (default: BULK_ATOMIC); --no-atomic writes the valid rows chunk by chunk.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Check every row and write nothing.")
        parser.add_argument("--background", action="store_true", help="Queue a background job; print its status URL.")
        parser.add_argument("--delimiter", help="The CSV delimiter (default: detected from the header line).")
        parser.add_argument("--encoding", help="The file's encoding (default utf-8).")
        parser.add_argument(
            "--errors-csv",
            metavar="PATH",
            help="Where to write the failed rows (default: FILE's name with .errors.csv, beside it).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        viewset = get_viewset(options["viewset"])
        user = get_user(options.get("user"))
        path = options["file"]
        upsert = field_list(options.get("upsert"))
        update_fields = field_list(options.get("update_fields"))
        if update_fields and not upsert:
            raise CommandError("--update-fields applies to an upsert: add --upsert FIELD,….")
        query = self.get_query(options, upsert, update_fields)
        try:
            file = open(path, "rb")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        with file:
            if not os.path.isfile(path):
                raise CommandError(f"{path} is not a file.")
            route, initkwargs = find_route(viewset)
            method = "PATCH" if upsert else "POST"
            request = build_request(
                method, route, user, query, multipart_upload(file, os.path.basename(path), self.get_fields(options))
            )
            view = bind_view(viewset, method, request, initkwargs)
            run = ShellRun(self.stderr, bool(options.get("background")), bool(options.get("dry_run")))
            run.install(view)
            try:
                response = view.dispatch(request)
            finally:
                run.progress.finish()
        return self.report(response, run, path, options)

    def get_query(
        self, options: dict[str, Any], upsert: list[str] | None, update_fields: list[str] | None
    ) -> list[tuple[str, str]]:
        """The query string of the request: the options the API takes."""
        query = []
        if upsert:
            query.append(("unique_fields", ",".join(upsert)))
        if update_fields:
            query.append(("update_fields", ",".join(update_fields)))
        if options.get("atomic") is not None:
            query.append(("atomic", "true" if options["atomic"] else "false"))
        if options.get("dry_run"):
            query.append(("dry_run", "true"))
        if options.get("background"):
            query.append(("async", "true"))
        return query

    def get_fields(self, options: dict[str, Any]) -> list[tuple[str, str]]:
        """Form fields sent with the file: the CSV reading options, where the
        API takes them from an upload."""
        return [(name, options[name]) for name in ("delimiter", "encoding") if options.get(name)]

    def report(self, response: Response, run: "ShellRun", path: str, options: dict[str, Any]) -> None:
        data = response.data
        if response.status_code == 202:
            self.stdout.write(f"Queued job {data['task_id']} for {data['total_items']} items.")
            self.stdout.write(f"Status: {data['status_url']}")
            return
        if not (isinstance(data, dict) and "error_count" in data):
            message = "\n".join(flatten_errors(data, OPTION_NAMES))
            if response.status_code in (401, 403) and not options.get("user"):
                message += "\nRun it as a user with --user NAME."
            raise CommandError(f"The import was refused ({response.status_code}), nothing written:\n{message}")
        self.write_summary(data, options)
        if data["errors"]:
            target = self.errors_path(path, options)
            write_errors_csv(target, data["errors"], run.columns)
            self.stdout.write(f"errors.csv: {target}")
        if "detail" in data:
            # Retries of a chunk ran out: the committed chunks are counted above.
            raise CommandError(f"The import stopped: {data['detail']}")
        if data["error_count"]:
            raise CommandError(f"{data['error_count']} of {data['total_items']} items failed.", returncode=ITEMS_FAILED)

    def write_summary(self, data: dict[str, Any], options: dict[str, Any]) -> None:
        failed, total = data["error_count"], data["total_items"]
        updated = len(data.get("updated_ids", ()))
        atomic = options.get("atomic")
        if atomic is None:
            atomic = extensions_api_settings.BULK_ATOMIC
        if data.get("dry_run"):
            created = len(data.get("would_create", ()))
            self.stdout.write(
                f"Dry run, nothing written: {total} items; {created} would be created, "
                f"{updated} would be updated, {failed} failed."
            )
        else:
            created = len(data.get("created_ids", ()))
            self.stdout.write(f"{total} items: {created} created, {updated} updated, {failed} failed.")
        if failed and atomic:
            self.stdout.write(
                "The import is atomic: nothing is written while any item fails (--no-atomic writes the valid ones)."
            )

    def errors_path(self, path: str, options: dict[str, Any]) -> str:
        if options.get("errors_csv"):
            return options["errors_csv"]
        stem, _ext = os.path.splitext(path)
        return f"{stem}.errors.csv"


class ShellRun:
    """What the command sets on the view instance before dispatching: the
    engine's progress callback, passed where a job passes its own
    (``perform_bulk_operation``'s ``engine_kwargs``), and inline or
    background regardless of ``BULK_ASYNC_THRESHOLD``."""

    def __init__(self, out: OutputWrapper, background: bool, dry_run: bool = False) -> None:
        self.progress = ShellProgress(out, "Checked" if dry_run else "Processed")
        self.background = background
        self.columns: list[str] | None = None

    def install(self, view: Any) -> None:
        perform = view.perform_bulk_operation
        background = self.background

        def perform_bulk_operation(bulk_request: Any, **engine_kwargs: Any) -> Any:
            self.columns = bulk_request.csv_header
            self.progress.start(bulk_request.total_items)
            engine_kwargs.setdefault("progress", self.progress)
            return perform(bulk_request, **engine_kwargs)

        view.perform_bulk_operation = perform_bulk_operation
        view.should_run_bulk_async = lambda bulk_request: background


def write_errors_csv(path: str, errors: list[dict[str, Any]], columns: list[str] | None = None) -> None:
    """The failed items as CSV, in the format of a job's errors.csv (its
    writer): the original columns (the upload's header, or the items' keys
    in first-seen order) and ``error``."""
    try:
        with open(path, "w", encoding="utf-8", newline="") as out:
            out.writelines(errors_csv_lines(columns_of_errors(columns, [errors]), [errors]))
    except OSError as exc:
        raise CommandError(f"Cannot write {path}: {exc.strerror}.") from exc
