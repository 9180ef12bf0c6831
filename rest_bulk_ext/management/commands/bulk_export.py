"""``manage.py bulk_export VIEWSET``: write the rows a viewset lists to a
user, through its serializer, as CSV, NDJSON (or, with the ``xlsx`` extra,
XLSX), in constant memory (docs/importing.md, "The shell").

The rows are the export job's (``get_bulk_retrieve_queryset()``:
``get_queryset()`` and the filter backends, with ``--filter`` as the
query string) and are written by the export job's own writer
(``jobs.exports``). Exit status 0, or 1 when the export could not run
(nothing, or no file, written).
"""

import importlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from rest_framework import serializers
from rest_framework.response import Response

from rest_bulk_ext.engine.types import Operation
from rest_bulk_ext.jobs import exports
from rest_bulk_ext.list_route.query_params import check_query_params
from rest_bulk_ext.shell_progress import ShellProgress
from rest_bulk_ext.shell_requests import bind_view, build_request, find_route, flatten_errors, get_user, get_viewset

FORMATS = ("csv", "ndjson", "xlsx")
# Formats written as text by the export job's ``jobs.exports.export_rows``.
TEXT_FORMATS = ("csv", "ndjson")
# Binary formats: the export job's writer of each, ``writer(view,
# bulk_request, binary_file, *, progress)``, in the module of its extra.
BINARY_WRITERS = {"xlsx": ("rest_bulk_ext.jobs.xlsx_exports", "export_xlsx")}
NEEDS_OUTPUT = "--format {export_format} is a binary file: give -o/--output FILE."


def filter_pairs(value: Any) -> list[tuple[str, str]]:
    """``["kind=debit", …]``, one ``"kind=debit"`` or a dict (call_command)
    as ``(name, value)`` pairs for the query string."""
    if not value:
        return []
    if isinstance(value, dict):
        return [(str(name), str(item)) for name, item in value.items()]
    if isinstance(value, str):
        value = [value]
    pairs = []
    for text in value:
        name, sep, item = str(text).partition("=")
        if not sep or not name.strip():
            raise CommandError(f"--filter takes FIELD=VALUE, not {text!r}.")
        pairs.append((name.strip(), item))
    return pairs


def check_format(export_format: str) -> str:
    """``export_format`` if this installation can write it, else a
    ``CommandError`` saying what to install."""
    if export_format not in FORMATS:
        raise CommandError(f"Unknown --format {export_format!r}: use one of {', '.join(FORMATS)}.")
    if export_format not in TEXT_FORMATS:
        binary_writer(export_format)
    return export_format


def binary_writer(export_format: str) -> Callable[..., int]:
    """The export job's writer of a binary format, or a ``CommandError``
    naming the extra that brings it."""
    module_name, name = BINARY_WRITERS[export_format]
    try:
        exports.read_export_format({"export_format": export_format})
        return getattr(importlib.import_module(module_name), name)
    except (serializers.ValidationError, ImportError, AttributeError):
        raise CommandError(
            f"--format {export_format} needs the {export_format} extra: pip install 'rest_bulk_ext[{export_format}]'."
        ) from None


class _Text:
    """Django's ``OutputWrapper`` as a plain text file (no added newline)."""

    def __init__(self, out: OutputWrapper) -> None:
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text, ending="")


def write_rows(
    view: Any, bulk_request: Any, export_format: str, output: str | None, stdout: OutputWrapper, progress: ShellProgress
) -> int:
    """Write the export's rows to the file ``output`` (``None``: ``stdout``);
    the row count. The one place that picks a writer for a format."""
    if export_format in TEXT_FORMATS:
        if output is None:
            return exports.export_rows(view, bulk_request, _Text(stdout), export_format, progress=progress)
        with replacing(output, "w", encoding="utf-8", newline="") as out:
            return exports.export_rows(view, bulk_request, out, export_format, progress=progress)
    if output is None:
        raise CommandError(NEEDS_OUTPUT.format(export_format=export_format))
    with replacing(output, "wb") as out:
        return binary_writer(export_format)(view, bulk_request, out, progress=progress)


@contextmanager
def replacing(output: str, mode: str, **kwargs: Any) -> Iterator[IO[Any]]:
    """An open file that becomes ``output`` once it is complete: a failed
    export leaves no partial file, and an existing ``output`` untouched."""
    directory = os.path.dirname(os.path.abspath(output))
    try:
        descriptor, partial = tempfile.mkstemp(dir=directory, prefix=".bulk_export-")
    except OSError as exc:
        raise CommandError(f"Cannot write to {directory}: {exc.strerror}.") from exc
    try:
        with open(descriptor, mode, **kwargs) as out:
            yield out
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(partial, 0o666 & ~umask)
        os.replace(partial, output)
    except BaseException:
        os.remove(partial)
        raise


class Command(BaseCommand):
    help = (
        "Export the rows a viewset lists to --user, through its serializer and filter backends, "
        "as CSV, NDJSON or XLSX (xlsx extra), in constant memory."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("viewset", help="Dotted path of a viewset class with BulkOperationsMixin.")
        parser.add_argument("--user", help="Export as this user (its USERNAME_FIELD); default: anonymous.")
        parser.add_argument(
            "--filter",
            action="append",
            metavar="FIELD=VALUE",
            help="A query parameter of the view's filter backends (repeat for more).",
        )
        parser.add_argument("--format", choices=FORMATS, default="csv", help="File format (default csv).")
        parser.add_argument("-o", "--output", metavar="FILE", help="Write to FILE instead of standard output.")

    def handle(self, *args: Any, **options: Any) -> None:
        viewset = get_viewset(options["viewset"])
        user = get_user(options.get("user"))
        export_format = check_format(options.get("format") or "csv")
        output = options.get("output")
        if export_format not in TEXT_FORMATS and not output:
            raise CommandError(NEEDS_OUTPUT.format(export_format=export_format))
        path, initkwargs = find_route(viewset)
        request = build_request("GET", path, user, filter_pairs(options.get("filter")))
        view = bind_view(viewset, "GET", request, initkwargs)
        progress = ShellProgress(self.stderr, "Exported")

        def export(request: Any, *args: Any, **kwargs: Any) -> Response:
            # Run by DRF's dispatch in place of the action, after the view's
            # authentication, permission and throttle checks.
            check_query_params(view, request, view.get_queryset())
            bulk_request = view.get_bulk_request(Operation.GET)
            progress.start(bulk_request.total_items)
            count = write_rows(view, bulk_request, export_format, output, self.stdout, progress)
            progress(count)
            return Response({"count": count})

        view.get = export
        try:
            response = view.dispatch(request)
        finally:
            progress.finish()
        if response.status_code >= 400:
            message = "\n".join(flatten_errors(response.data, {"export_format": "--format"}))
            if response.status_code in (401, 403) and not options.get("user"):
                message += "\nRun it as a user with --user NAME."
            raise CommandError(f"The export was refused ({response.status_code}):\n{message}")
        count = response.data["count"]
        self.stderr.write(f"Exported {count} rows" + (f" to {output}." if output else "."), style_func=str)
