"""The admin import form: the file and the options of the ``/bulk/`` request."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ..settings import extensions_api_settings

CREATE = "create"
UPSERT_PREFIX = "upsert:"

DELIMITERS = [
    ("", _("Detect from the header line")),
    (",", _("Comma ( , )")),
    (";", _("Semicolon ( ; )")),
    ("\t", _("Tab")),
    ("|", _("Pipe ( | )")),
]
ENCODINGS = [
    ("", _("UTF-8 (default)")),
    ("utf-8-sig", _("UTF-8 with a byte order mark")),
    ("utf-16", _("UTF-16 (with a byte order mark)")),
    ("latin-1", _("Latin-1 (ISO-8859-1)")),
    ("cp1252", _("Windows-1252")),
]


def target_choices(unique_sets, allow_upsert):
    choices = [(CREATE, _("Create a row for each line"))]
    if allow_upsert:
        for names in unique_sets:
            label = _("Create or update: rows with the same {fields} are updated").format(fields=", ".join(names))
            choices.append((UPSERT_PREFIX + ",".join(names), label))
    return choices


class BulkImportForm(forms.Form):
    """``target`` is ``"create"`` or ``"upsert:<field>,<field>"`` (one of the
    conflict targets the viewset allows, offered only to users with the
    change permission)."""

    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV with a header row, NDJSON (one JSON object a line), or XLSX with the xlsx extra installed."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.ndjson,.jsonl,.xlsx"}),
    )
    target = forms.ChoiceField(label=_("Rows"), widget=forms.RadioSelect)
    atomic = forms.BooleanField(
        label=_("All or nothing"),
        required=False,
        help_text=_("Write nothing if any row fails. Unticked, valid rows are written and failed ones listed."),
    )
    delimiter = forms.ChoiceField(label=_("CSV delimiter"), choices=DELIMITERS, required=False)
    encoding = forms.ChoiceField(label=_("Encoding"), choices=ENCODINGS, required=False)

    def __init__(self, *args, unique_sets=(), allow_upsert=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = target_choices(unique_sets, allow_upsert)
        self.fields["target"].initial = CREATE
        self.fields["atomic"].initial = extensions_api_settings.BULK_ATOMIC

    def import_options(self):
        """The preview record's options: ``upsert`` (the unique fields, or
        ``None`` for a create), ``atomic``, ``delimiter``, ``encoding``."""
        data = self.cleaned_data
        target = data["target"]
        unique = target[len(UPSERT_PREFIX) :].split(",") if target.startswith(UPSERT_PREFIX) else None
        return {
            "unique_fields": unique,
            "atomic": bool(data["atomic"]),
            "delimiter": data.get("delimiter") or "",
            "encoding": data.get("encoding") or "",
        }


def request_query(options, *, dry_run):
    """The method and query parameters of the ``/bulk/`` request for a
    preview record's ``options``: POST for a create, PATCH with
    ``unique_fields`` for an upsert (section 4.1 of the contract)."""
    query = [("atomic", "true" if options["atomic"] else "false")]
    if options.get("unique_fields"):
        query.append(("unique_fields", ",".join(options["unique_fields"])))
    for name in ("delimiter", "encoding"):
        if options.get(name):
            query.append((name, options[name]))
    if dry_run:
        query.append(("dry_run", "true"))
    else:
        # A confirmed import always runs as a job, whatever its size: the
        # page the user lands on is the job's.
        query.append(("async", "true"))
    method = "PATCH" if options.get("unique_fields") else "POST"
    return method, query
