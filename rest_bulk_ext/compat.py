"""
Every private or undocumented Django, DRF, Celery and drf-spectacular API
this package relies on, where, and why; and the guard of the DRF methods
that ``engine/fast_validation.py`` copies.

A private API can change in any release. Each one used is listed in
``BORROWED`` below; docs/compatibility.md shows the table and says what
guards each entry (the tests of the supported range, ``make matrix``, and
for the copied DRF methods a source fingerprint per DRF version).

The copied DRF methods: ``engine/fast_validation.py`` replaces, per chunk,
DRF methods with copies that look up once what DRF looks up per item. They
are only correct while DRF's originals are the ones that were copied.
``DRF_REVIEWED`` holds, per DRF release, a fingerprint (SHA-256 of the
dedented source) of each original; ``drf_copies_match()`` compares the
installed DRF with it. On a DRF release not in the table, or whose source
differs, the engine uses DRF's own methods (and warns once), and
``tests/test_compat.py`` fails until someone compares the new source with
the copies and adds the release here (``python -m rest_bulk_ext.compat``
prints the fingerprints of the installed DRF).
"""

import functools
import hashlib
import inspect
import textwrap
import warnings
from typing import Any, Callable, NamedTuple


class Borrowed(NamedTuple):
    library: str
    name: str
    used_in: str
    why: str


BORROWED: tuple[Borrowed, ...] = (
    # Django
    Borrowed(
        "Django", "QuerySet._raw_delete(using)", "engine/db/delete_rows.py",
        "one DELETE without loading rows when the Collector says a fast delete is safe (Django's own fast path)",
    ),
    Borrowed(
        "Django", "Collector(using, origin).can_fast_delete(queryset)", "engine/db/delete_rows.py",
        "decide, as QuerySet.delete() does, whether signals or cascades need the rows loaded",
    ),
    Borrowed(
        "Django", "Manager._insert(objs, fields, returning_fields, using)", "engine/db/create_insert.py",
        "insert one row and read back its database-generated fields where bulk_create cannot return them",
    ),
    Borrowed(
        "Django", "sql.DeleteQuery, Query.clone(), Query.get_compiler(), Query.sql_with_params()",
        "engine/db/delete_rows.py",
        "DELETE ... RETURNING and DELETE with a subquery in one statement, which the ORM does not expose",
    ),
    Borrowed(
        "Django", "Query.where", "engine/upsert.py",
        "know whether get_queryset() narrows the table before an upsert (rows outside it must not be taken over)",
    ),
    Borrowed(
        "Django", "QuerySet._db", "list_route/mixins.py",
        "the alias set by .using(), which Django has no public accessor for",
    ),
    Borrowed(
        "Django", "Options.db_returning_fields, Options.total_unique_constraints",
        "engine/db/create_insert.py, bulk_endpoint/targets.py",
        "which columns an INSERT returns; the unique sets an upsert may target",
    ),
    Borrowed(
        "Django", "connection.features.can_return_rows_from_bulk_insert, .max_query_params; "
        "connection.ops.get_db_converters, .integer_field_range",
        "engine/db/create_insert.py, engine/db/delete_rows.py, engine/db/update.py, bulk_endpoint/filters.py",
        "per-database batch sizes, RETURNING support, value conversion and range checks",
    ),
    Borrowed(
        "Django", "QuerySet._prepare_for_bulk_create(objs), Model._is_pk_set() (5.2+), Model._state.adding/.db",
        "engine/db/pg_copy.py, engine/db/upsert_insert.py, engine/db/create_insert.py",
        "prepare objects and mark them saved exactly as bulk_create does when the row is written by COPY or "
        "INSERT ... ON CONFLICT ... RETURNING instead",
    ),
    Borrowed(
        "Django", "CursorDebugWrapper.debug_sql(sql), BaseDatabaseWrapper.wrap_database_errors, the raw "
        "psycopg cursor (cursor.cursor.copy)", "engine/db/pg_copy.py",
        "run psycopg's COPY, which Django's cursor wrapper lacks, with Django's error translation and query log",
    ),
    Borrowed(
        "Django", "QuerySet._iterable_class, Query.is_sliced, Query.combinator", "jobs/plain_rows.py, jobs/exports.py",
        "read an export as values_list tuples only when the queryset would yield plain model instances, and "
        "page it by key only when it can still be filtered",
    ),
    # DRF
    Borrowed(
        "DRF", "Serializer.to_internal_value, Field.run_validators, Serializer.run_validators (copied)",
        "engine/fast_validation.py", "validate a chunk with per-chunk look-ups; guarded by DRF_REVIEWED below",
    ),
    Borrowed(
        "DRF", "Serializer._writable_fields, Serializer.set_value, Field.get_value, Field.source_attrs",
        "engine/fast_validation.py", "what the copied to_internal_value reads; guarded by DRF_REVIEWED below",
    ),
    Borrowed(
        "DRF", "Serializer.fields (a cached_property) replaced by a dict in the instance __dict__",
        "engine/validation.py", "iterate the bound fields without BindingDict's per-access overhead",
    ),
    Borrowed(
        "DRF", "DateTimeField.default_timezone and its `timezone` attribute", "engine/validation.py",
        "pin the active time zone once per chunk instead of once per value",
    ),
    Borrowed(
        "DRF", "rest_framework.fields.get_error_detail", "engine/fast_validation.py, list_route/update_values.py",
        "turn a Django ValidationError into DRF's error detail exactly as DRF does",
    ),
    Borrowed(
        "DRF", "UniqueValidator.queryset/.lookup/.message, UniqueTogetherValidator.fields/.queryset/.message/"
        ".nulls_distinct (3.18+)", "engine/uniqueness.py",
        "check a serializer's unique validators once per chunk instead of one query per item",
    ),
    Borrowed(
        "DRF", "HttpRequest._force_auth_user/_force_auth_token (read by Request.__init__, as "
        "APIRequestFactory's force_authenticate sets them)",
        "jobs/replay.py, shell_requests.py, admin_import/viewset_request.py",
        "run a job, a shell import or an admin import through the view as a user already authenticated "
        "elsewhere (the job's owner, --user, the signed-in staff user), whatever the view's authenticators",
    ),
    Borrowed(
        "DRF", "ViewInspector.__get__ (the schema descriptor)", "schemas/__init__.py",
        "pick DRF's or drf-spectacular's inspector when the view's schema is read, so settings may change late",
    ),
    # drf-spectacular
    Borrowed(
        "drf-spectacular", "AutoSchema._get_request_body(direction)", "schemas/spectacular.py",
        "describe the bulk routes' request bodies (arrays, CSV uploads)",
    ),
    Borrowed(
        "drf-spectacular", "spectacular_settings.OPERATION_ID_METHOD_POSITION (0.28+)", "schemas/spectacular.py",
        "build operation ids for the bulk routes the way the project's settings ask",
    ),
    # Celery
    Borrowed(
        "Celery", "current_app._get_current_object()", "jobs/embedded.py",
        "the real app behind Celery's proxy, to start an in-process worker on it",
    ),
)  # fmt: skip


def _drf_originals() -> dict[str, Callable[..., Any]]:
    """The DRF originals of what ``engine/fast_validation.py`` and
    ``engine/validation.py`` copy or rely on, by dotted name."""
    from rest_framework.fields import CharField, DateTimeField, DecimalField, Field
    from rest_framework.serializers import Serializer
    from rest_framework.validators import ProhibitSurrogateCharactersValidator

    return {
        "rest_framework.serializers.Serializer.to_internal_value": Serializer.to_internal_value,
        "rest_framework.serializers.Serializer.run_validators": Serializer.run_validators,
        "rest_framework.serializers.Serializer._writable_fields": Serializer._writable_fields.fget,
        "rest_framework.serializers.Serializer.set_value": Serializer.set_value,
        "rest_framework.serializers.Serializer.fields": Serializer.fields.func,
        "rest_framework.fields.Field.run_validators": Field.run_validators,
        "rest_framework.fields.Field.get_value": Field.get_value,
        "rest_framework.fields.Field.run_validation": Field.run_validation,
        "rest_framework.fields.Field.validate_empty_values": Field.validate_empty_values,
        "rest_framework.fields.CharField.run_validation": CharField.run_validation,
        "rest_framework.fields.CharField.to_internal_value": CharField.to_internal_value,
        "rest_framework.fields.DecimalField.validate_empty_values": DecimalField.validate_empty_values,
        "rest_framework.fields.DateTimeField.default_timezone": DateTimeField.default_timezone,
        "rest_framework.validators.ProhibitSurrogateCharactersValidator.__call__": (
            ProhibitSurrogateCharactersValidator.__call__
        ),
    }


def source_fingerprint(obj: Callable[..., Any]) -> str:
    """SHA-256 of ``obj``'s dedented source (first 16 hex digits)."""
    source = textwrap.dedent(inspect.getsource(obj))
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def drf_fingerprints() -> dict[str, str]:
    """The fingerprint of each copied DRF original, as installed now."""
    return {name: source_fingerprint(obj) for name, obj in _drf_originals().items()}


# The 3.18 releases: the same source for every method the copies rely on.
_DRF_3_18 = {
    "rest_framework.serializers.Serializer.to_internal_value": "4ccc0e024b3e6e91",
    "rest_framework.serializers.Serializer.run_validators": "c535ae25a433e7b0",
    "rest_framework.serializers.Serializer._writable_fields": "bf33397c2ecb7ffb",
    "rest_framework.serializers.Serializer.set_value": "2446c739b9fe2347",
    "rest_framework.serializers.Serializer.fields": "e832d4f5c4beb23b",
    "rest_framework.fields.Field.run_validators": "fc19a07474e0f3ee",
    "rest_framework.fields.Field.get_value": "331d308773fef0c6",
    "rest_framework.fields.Field.run_validation": "32143b1372bc0f50",
    "rest_framework.fields.Field.validate_empty_values": "57a118ce0fbe7eed",
    "rest_framework.fields.CharField.run_validation": "2fde04349a04eb6e",
    "rest_framework.fields.CharField.to_internal_value": "c09b1ca8b30cba17",
    "rest_framework.fields.DecimalField.validate_empty_values": "1b68ba3f29e49cfb",
    "rest_framework.fields.DateTimeField.default_timezone": "722fffc5b3f84617",
    "rest_framework.validators.ProhibitSurrogateCharactersValidator.__call__": "8eab39ac427f780b",
}

# DRF release -> fingerprints of the originals the copies were compared with.
# Add a release only after comparing its source with engine/fast_validation.py.
DRF_REVIEWED: dict[str, dict[str, str]] = {
    "3.18.0": _DRF_3_18,
    "3.18.1": _DRF_3_18,
    "3.18.2": _DRF_3_18,
    "3.18.3": _DRF_3_18,
}


def drf_mismatches() -> list[str]:
    """What keeps the installed DRF from matching the reviewed copies:
    empty when the fast validation path may be used."""
    import rest_framework

    reviewed = DRF_REVIEWED.get(rest_framework.VERSION)
    if reviewed is None:
        return [f"DRF {rest_framework.VERSION} is not among the reviewed releases ({', '.join(DRF_REVIEWED)})"]
    try:
        installed = drf_fingerprints()
    except (OSError, TypeError) as exc:  # no source on disk (zipped or stripped install)
        return [f"the source of DRF's methods cannot be read: {exc}"]
    return [
        f"{name} differs from the reviewed DRF {rest_framework.VERSION} source"
        for name, fingerprint in installed.items()
        if reviewed.get(name) != fingerprint
    ]


@functools.cache
def drf_copies_match() -> bool:
    """True when the installed DRF's methods are the ones the fast
    validation path copies. Checked once per process; warns when not."""
    mismatches = drf_mismatches()
    if mismatches:
        warnings.warn(
            "rest_bulk_ext: the fast validation path is off, DRF's own methods validate bulk items "
            f"({'; '.join(mismatches)}). See docs/compatibility.md.",
            RuntimeWarning,
            stacklevel=2,
        )
    return not mismatches


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    import rest_framework

    print(f"DRF {rest_framework.VERSION}")
    for name, fingerprint in drf_fingerprints().items():
        print(f'    "{name}": "{fingerprint}",')
