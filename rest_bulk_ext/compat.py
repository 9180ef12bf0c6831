"""
Every private or undocumented Django, DRF, Celery and drf-spectacular API
this package relies on, where, and why; and the guard of the DRF and
Django methods that ``engine/fast_validation.py`` and ``representation.py``
copy or mirror.

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

The same guard covers the Django code the fast path mirrors or relies on
(``EmailValidator``, ``MaxLengthValidator``, ``parse_datetime``:
``DJANGO_REVIEWED``, one table for the supported range) and the DRF
``to_representation`` methods the export shortcut ``representation.py``
mirrors (``REPRESENTATION_REVIEWED``, per DRF release; on a mismatch
``drf_representation_matches()`` warns once and exports use the
serializer's own ``to_representation``).
"""

import functools
import hashlib
import inspect
import textwrap
import warnings
from collections.abc import Mapping
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
        "Django", "QuerySet._iterable_class, Query.is_sliced, Query.combinator", "representation.py, jobs/exports.py",
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
        "turn a Django ValidationError into DRF's error detail exactly as DRF does; guarded by DRF_REVIEWED below",
    ),
    Borrowed(
        "DRF", "DecimalField.to_internal_value, .validate_precision, .quantize (mirrored)", "engine/fast_validation.py",
        "read a plain decimal string with one regex and a context built once (fast_decimal); guarded by "
        "DRF_REVIEWED below",
    ),
    Borrowed(
        "DRF", "DateTimeField.to_internal_value, .enforce_timezone (mirrored); Django's parse_datetime (its "
        "datetime.fromisoformat step)", "engine/fast_validation.py",
        "read an ISO 8601 string with an offset with one fromisoformat and astimezone (fast_datetime); guarded by "
        "DRF_REVIEWED and DJANGO_REVIEWED below",
    ),
    Borrowed(
        "Django", "EmailValidator.__call__/.validate_domain_part/.hostname_re/.domain_re/.tld_no_fqdn_re, "
        "DomainNameValidator.ul, BaseValidator.__call__, MaxLengthValidator.compare/.clean (mirrored)",
        "engine/fast_validation.py",
        "decide \"valid\" faster for emails and lengths, handing anything else to the validator; guarded by "
        "DJANGO_REVIEWED below",
    ),
    Borrowed(
        "DRF", "Serializer.to_representation/._readable_fields, Field.get_attribute, RelatedField.get_attribute, "
        "PrimaryKeyRelatedField.to_representation/.use_pk_only_optimization, the to_representation of "
        "IntegerField, BigIntegerField, CharField, ChoiceField, DecimalField (and its quantize), DateTimeField "
        "(and its enforce_timezone, default_timezone) (mirrored)", "representation.py",
        "an export's rows from values_list tuples with DRF's output; guarded by REPRESENTATION_REVIEWED below",
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
    from rest_framework.fields import CharField, DateTimeField, DecimalField, Field, get_error_detail
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
        "rest_framework.fields.DecimalField.to_internal_value": DecimalField.to_internal_value,
        "rest_framework.fields.DecimalField.validate_precision": DecimalField.validate_precision,
        "rest_framework.fields.DecimalField.quantize": DecimalField.quantize,
        "rest_framework.fields.get_error_detail": get_error_detail,
        "rest_framework.fields.DateTimeField.default_timezone": DateTimeField.default_timezone,
        "rest_framework.fields.DateTimeField.to_internal_value": DateTimeField.to_internal_value,
        "rest_framework.fields.DateTimeField.enforce_timezone": DateTimeField.enforce_timezone,
        "rest_framework.validators.ProhibitSurrogateCharactersValidator.__call__": (
            ProhibitSurrogateCharactersValidator.__call__
        ),
    }


def _django_originals() -> dict[str, Callable[..., Any] | str]:
    """The Django originals of what ``engine/fast_validation.py`` mirrors
    (the email and length shortcuts, and ``parse_datetime`` behind the
    date-time one), by dotted name."""
    from django.core.validators import BaseValidator, DomainNameValidator, EmailValidator, MaxLengthValidator
    from django.utils.dateparse import parse_datetime

    return {
        "django.core.validators.EmailValidator.__call__": EmailValidator.__call__,
        "django.core.validators.EmailValidator.validate_domain_part": EmailValidator.validate_domain_part,
        "django.core.validators.EmailValidator.hostname_re": getattr(EmailValidator, "hostname_re", ""),
        "django.core.validators.EmailValidator.domain_re": getattr(EmailValidator, "domain_re", ""),
        "django.core.validators.EmailValidator.tld_no_fqdn_re": getattr(EmailValidator, "tld_no_fqdn_re", ""),
        "django.core.validators.DomainNameValidator.ul": getattr(DomainNameValidator, "ul", ""),
        "django.core.validators.BaseValidator.__call__": BaseValidator.__call__,
        "django.core.validators.MaxLengthValidator.compare": MaxLengthValidator.compare,
        "django.core.validators.MaxLengthValidator.clean": MaxLengthValidator.clean,
        "django.utils.dateparse.parse_datetime": parse_datetime,
    }


def _representation_originals() -> dict[str, Callable[..., Any]]:
    """The DRF originals of what ``representation.py`` mirrors for exports,
    by dotted name."""
    from rest_framework import fields, relations
    from rest_framework.serializers import Serializer

    originals = {
        "rest_framework.serializers.Serializer.to_representation": Serializer.to_representation,
        "rest_framework.serializers.Serializer._readable_fields": Serializer._readable_fields.fget,
        "rest_framework.fields.Field.get_attribute": fields.Field.get_attribute,
        "rest_framework.relations.RelatedField.get_attribute": relations.RelatedField.get_attribute,
        "rest_framework.relations.PrimaryKeyRelatedField.use_pk_only_optimization": (
            relations.PrimaryKeyRelatedField.use_pk_only_optimization
        ),
        "rest_framework.relations.PrimaryKeyRelatedField.to_representation": (
            relations.PrimaryKeyRelatedField.to_representation
        ),
        "rest_framework.fields.IntegerField.to_representation": fields.IntegerField.to_representation,
        "rest_framework.fields.CharField.to_representation": fields.CharField.to_representation,
        "rest_framework.fields.ChoiceField.to_representation": fields.ChoiceField.to_representation,
        "rest_framework.fields.DecimalField.to_representation": fields.DecimalField.to_representation,
        "rest_framework.fields.DecimalField.quantize": fields.DecimalField.quantize,
        "rest_framework.fields.DateTimeField.to_representation": fields.DateTimeField.to_representation,
        "rest_framework.fields.DateTimeField.enforce_timezone": fields.DateTimeField.enforce_timezone,
        "rest_framework.fields.DateTimeField.default_timezone": fields.DateTimeField.default_timezone,
    }
    if hasattr(fields, "BigIntegerField"):
        originals["rest_framework.fields.BigIntegerField.to_representation"] = fields.BigIntegerField.to_representation
    return originals


def source_fingerprint(obj: Callable[..., Any] | str) -> str:
    """SHA-256 of ``obj``'s dedented source, or of ``obj`` itself when it is
    a string (a pattern a class attribute holds); first 16 hex digits."""
    source = obj if isinstance(obj, str) else textwrap.dedent(inspect.getsource(obj))
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def drf_fingerprints() -> dict[str, str]:
    """The fingerprint of each copied DRF original, as installed now."""
    return {name: source_fingerprint(obj) for name, obj in _drf_originals().items()}


def django_fingerprints() -> dict[str, str]:
    """The fingerprint of each mirrored Django original, as installed now."""
    return {name: source_fingerprint(obj) for name, obj in _django_originals().items()}


def representation_fingerprints() -> dict[str, str]:
    """The fingerprint of each DRF original the export shortcut mirrors, as installed now."""
    return {name: source_fingerprint(obj) for name, obj in _representation_originals().items()}


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
    "rest_framework.fields.DecimalField.to_internal_value": "ee618ba043b751ee",
    "rest_framework.fields.DecimalField.validate_precision": "405ec9162ac3f6fd",
    "rest_framework.fields.DecimalField.quantize": "bddc46a43895c9f3",
    "rest_framework.fields.get_error_detail": "142eafb73945f4f0",
    "rest_framework.fields.DateTimeField.default_timezone": "722fffc5b3f84617",
    "rest_framework.fields.DateTimeField.to_internal_value": "ad017304188ca397",
    "rest_framework.fields.DateTimeField.enforce_timezone": "8d0f412934ad080f",
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


# The Django originals the email, length and date-time shortcuts mirror.
# Their source is the same in every Django of the supported range (compared
# on 5.2.1, 5.2.20, 6.0.10 and 6.1.3), so one table serves them all: a
# release whose source differs (a security fix to EmailValidator, say) turns
# the fast path off until someone compares it with engine/fast_validation.py
# and adds it. An entry may list more than one reviewed source: Django 6.0's
# parse_datetime spells ``datetime.timezone.utc`` as ``datetime.UTC`` (the
# same object), nothing else changed.
DJANGO_REVIEWED: dict[str, str | tuple[str, ...]] = {
    "django.core.validators.EmailValidator.__call__": "faf934c1442d323a",
    "django.core.validators.EmailValidator.validate_domain_part": "5686989a6c7d5ce5",
    "django.core.validators.EmailValidator.hostname_re": "d55d8b503f285afb",
    "django.core.validators.EmailValidator.domain_re": "1aaf3a0326e52b2b",
    "django.core.validators.EmailValidator.tld_no_fqdn_re": "9132f990bf6233d8",
    "django.core.validators.DomainNameValidator.ul": "3e2fc03cdc9bc091",
    "django.core.validators.BaseValidator.__call__": "87e4fc3e4efcac0e",
    "django.core.validators.MaxLengthValidator.compare": "f26e7a5091ddc11f",
    "django.core.validators.MaxLengthValidator.clean": "3443b61f9b1a887a",
    # 5.2.x; 6.0.x and 6.1.x.
    "django.utils.dateparse.parse_datetime": ("8909d6d7805f71f8", "03ee1960de759363"),
}

# The DRF originals representation.py mirrors, per DRF release (the 3.18
# releases share one source).
_DRF_3_18_REPRESENTATION = {
    "rest_framework.serializers.Serializer.to_representation": "47ecd646b4b68c94",
    "rest_framework.serializers.Serializer._readable_fields": "1eaecbb3bb21e984",
    "rest_framework.fields.Field.get_attribute": "a03396a826d9482c",
    "rest_framework.relations.RelatedField.get_attribute": "31c4c65130f10025",
    "rest_framework.relations.PrimaryKeyRelatedField.use_pk_only_optimization": "3c05992c05c8bddd",
    "rest_framework.relations.PrimaryKeyRelatedField.to_representation": "e3a7a0f07eb20df6",
    "rest_framework.fields.IntegerField.to_representation": "331ca9dbd4af4f06",
    "rest_framework.fields.CharField.to_representation": "2b5ef50a53edcf00",
    "rest_framework.fields.ChoiceField.to_representation": "d13234636d893759",
    "rest_framework.fields.DecimalField.to_representation": "1d0b04e60d3e0f41",
    "rest_framework.fields.DecimalField.quantize": "bddc46a43895c9f3",
    "rest_framework.fields.DateTimeField.to_representation": "b125ea6f778dea98",
    "rest_framework.fields.DateTimeField.enforce_timezone": "8d0f412934ad080f",
    "rest_framework.fields.DateTimeField.default_timezone": "722fffc5b3f84617",
    "rest_framework.fields.BigIntegerField.to_representation": "d11e22bb66f91213",
}
REPRESENTATION_REVIEWED: dict[str, dict[str, str]] = {
    "3.18.0": _DRF_3_18_REPRESENTATION,
    "3.18.1": _DRF_3_18_REPRESENTATION,
    "3.18.2": _DRF_3_18_REPRESENTATION,
    "3.18.3": _DRF_3_18_REPRESENTATION,
}


def is_reviewed(reviewed: str | tuple[str, ...] | None, fingerprint: str) -> bool:
    """Whether ``fingerprint`` is the reviewed one (or one of them)."""
    return fingerprint in reviewed if isinstance(reviewed, tuple) else fingerprint == reviewed


def _mismatches(
    fingerprints: Callable[[], dict[str, str]], reviewed: Mapping[str, str | tuple[str, ...]], library: str
) -> list[str]:
    try:
        installed = fingerprints()
    except (OSError, TypeError) as exc:  # no source on disk (zipped or stripped install)
        return [f"the source of {library}'s methods cannot be read: {exc}"]
    return [
        f"{name} differs from the reviewed {library} source"
        for name, fingerprint in installed.items()
        if not is_reviewed(reviewed.get(name), fingerprint)
    ]


def _drf_release_mismatches(table: dict[str, dict[str, str]], fingerprints: Callable[[], dict[str, str]]) -> list[str]:
    import rest_framework

    reviewed = table.get(rest_framework.VERSION)
    if reviewed is None:
        return [f"DRF {rest_framework.VERSION} is not among the reviewed releases ({', '.join(table)})"]
    return _mismatches(fingerprints, reviewed, f"DRF {rest_framework.VERSION}")


def drf_mismatches() -> list[str]:
    """What keeps the installed DRF (and Django) from matching the reviewed
    copies: empty when the fast validation path may be used."""
    import django

    return _drf_release_mismatches(DRF_REVIEWED, drf_fingerprints) + _mismatches(
        django_fingerprints, DJANGO_REVIEWED, f"Django {django.get_version()}"
    )


def representation_mismatches() -> list[str]:
    """What keeps the installed DRF from matching what the export shortcut
    (``representation.py``) mirrors: empty when it may be used."""
    return _drf_release_mismatches(REPRESENTATION_REVIEWED, representation_fingerprints)


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


@functools.cache
def drf_representation_matches() -> bool:
    """True when the installed DRF's ``to_representation`` methods are the
    ones ``representation.py`` mirrors. Checked once per process; warns
    when not (exports then use the serializer's own ``to_representation``)."""
    mismatches = representation_mismatches()
    if mismatches:
        warnings.warn(
            "rest_bulk_ext: exports use the serializer's own to_representation, not the quicker plain-row "
            f"reader ({'; '.join(mismatches)}). See docs/compatibility.md.",
            RuntimeWarning,
            stacklevel=2,
        )
    return not mismatches


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    import django
    import rest_framework

    print(f"DRF {rest_framework.VERSION}, Django {django.get_version()}")
    for table in (drf_fingerprints, representation_fingerprints, django_fingerprints):
        print(f"{table.__name__}:")
        for name, fingerprint in table().items():
            print(f'    "{name}": "{fingerprint}",')
