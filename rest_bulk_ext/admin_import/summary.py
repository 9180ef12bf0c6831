"""What a preview shows: the dry run's counts and its first errors."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _


@dataclass
class PreviewSummary:
    total: int
    created: int
    updated: int
    failed: int
    atomic: bool
    errors: list = field(default_factory=list)

    @property
    def would_write(self):
        return self.created + self.updated

    @property
    def can_confirm(self):
        """Nothing to confirm when no row would be written (an atomic import
        with a failing row writes none)."""
        return self.would_write > 0


def value_text(data):
    if isinstance(data, dict):
        return ", ".join(f"{key}={'' if value is None else value}" for key, value in data.items())
    return "" if data is None else str(data)


def error_rows(errors, limit):
    """The first ``limit`` item errors as ``{"line", "message", "values"}``;
    ``line`` is the file's line (header on line 1) or, without one, the
    1-based item number."""
    rows = []
    for error in (errors or [])[:limit]:
        line = error.get("line")
        if line is None and isinstance(error.get("index"), int):
            line = error["index"] + 1
        rows.append({"line": line, "message": error.get("error") or "", "values": value_text(error.get("data"))})
    return rows


def summarize(result, *, atomic, limit):
    """A ``PreviewSummary`` of a dry run's result body (inline answer or a
    dry-run job's ``result``)."""
    success = result.get("success_count") or 0
    if result.get("operation_type") == "bulk_create":
        created = success
    else:
        # An upsert's would-be creates are listed by item; the rest update.
        created = min(success, len(result.get("would_create") or []))
    return PreviewSummary(
        total=result.get("total_items") or 0,
        created=created,
        updated=max(0, success - created),
        failed=result.get("error_count") or 0,
        atomic=atomic,
        errors=error_rows(result.get("errors"), limit),
    )


def answer_messages(data):
    """The messages of a 4xx answer of the viewset, for the form: DRF's
    ``{"detail": ...}`` or ``{field: [messages]}`` shapes."""
    if isinstance(data, dict):
        if "detail" in data:
            return [str(data["detail"])]
        found = []
        for name, value in data.items():
            values = value if isinstance(value, list) else [value]
            found.extend(f"{name}: {item}" if name != "non_field_errors" else str(item) for item in values)
        return found or [_("The import was refused.")]
    if isinstance(data, list):
        return [str(item) for item in data]
    return [_("The import was refused.")]
