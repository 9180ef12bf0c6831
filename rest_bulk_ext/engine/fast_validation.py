"""DRF's per-item validation loop with its per-item lookups done once per chunk.

``Serializer.to_internal_value`` and ``Field.run_validators`` look up, for
every item and field, things that cannot change within a chunk: the writable
fields, each ``validate_<field>`` method, each field's validator list and
whether a validator wants the field as context. The engine validates a whole
chunk with one serializer instance, so it looks them up once and gives that
instance (and its fields) instance-level replacements that run the same
steps in the same order, with the same exceptions and messages:

- ``serializer.to_internal_value``: DRF's loop over the writable fields, for
  a plain ``dict`` item (anything else, HTML form input included, goes to
  DRF's own method);
- ``field.run_validators``: DRF's loop over the field's validators; a field
  without validators skips it. Three built-in validators get a shortcut that
  only decides "valid" faster and hands anything else to the validator
  itself, so the error is the validator's own:
  ``ProhibitSurrogateCharactersValidator`` (one regex search instead of a
  Python loop over every character), Django's ``MaxLengthValidator`` and
  ``EmailValidator`` (see ``_email_check``);
- ``field.run_validation`` of a field inheriting ``Field``'s or
  ``CharField``'s (and ``DecimalField``'s empty-value check when it does not
  allow null): for a value that is present, not null and, for a
  ``CharField``, a string that is not blank, DRF's steps reduce to
  ``to_internal_value`` then ``run_validators``, called directly; any other
  value goes to DRF's own method;
- ``serializer.run_validators``: skipped when no serializer-level validator
  is left (the engine checks the unique ones per chunk);
- ``DecimalField.to_internal_value`` of a plain decimal string (see
  ``fast_decimal``);
- ``DateTimeField.to_internal_value`` of a string ``datetime.fromisoformat``
  reads with an offset, for a field with a time zone (see
  ``fast_datetime``).

Only methods a class inherits unchanged from DRF are replaced: a serializer
or field that overrides one keeps its own, so custom behaviour always wins.
"""

import datetime
import decimal
import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import (
    DomainNameValidator,
    EmailValidator,
    MaxLengthValidator,
    ProhibitNullCharactersValidator,
)
from rest_framework import ISO_8601
from rest_framework.exceptions import ValidationError
from rest_framework.fields import CharField, DateTimeField, DecimalField, Field, SkipField, empty, get_error_detail
from rest_framework.serializers import Serializer
from rest_framework.settings import api_settings
from rest_framework.validators import ProhibitSurrogateCharactersValidator

_SURROGATES = re.compile("[\ud800-\udfff]")


def _inherits(obj, name, base):
    return getattr(type(obj), name, None) is getattr(base, name)


def _surrogate_check(validator):
    def check(value):
        if _SURROGATES.search(str(value)) is not None:
            validator(value)

    return check


def _max_length_check(validator):
    limit = validator.limit_value

    def check(value):
        if type(value) is not str or len(value) > limit:
            validator(value)

    return check


def _compiled(lazy_pattern):
    return re.compile(lazy_pattern.pattern, lazy_pattern.flags)


def _ascii_domain_regex():
    """``EmailValidator``'s domain pattern without its non-ASCII letter range.

    Every character class of the result is a subset of the original's, so a
    domain it matches, Django's matches too. It compiles in well under a
    millisecond, where Django's (a Unicode range, case-insensitive) takes
    30-70 ms on the first email a process validates. ``None`` when Django's
    pattern is not built the way this expects (then Django's regex is used).
    """
    ul = getattr(DomainNameValidator, "ul", None)
    parts = [getattr(EmailValidator, name, None) for name in ("hostname_re", "domain_re", "tld_no_fqdn_re")]
    if not ul or not all(isinstance(part, str) for part in parts):
        return None
    pattern = "^" + "".join(parts) + r"\Z"
    # Only ever inside a character class starting with ``[a-z``.
    if pattern.count(ul) != pattern.count("[a-z" + ul):
        return None
    return re.compile(pattern.replace(ul, ""), re.IGNORECASE)


def _email_check(validator):
    user_regex = _compiled(validator.user_regex)
    overridden = "domain_regex" in vars(validator) or "user_regex" in vars(validator)
    domain_regex = None if overridden else _ascii_domain_regex()
    if domain_regex is None:
        domain_regex = _compiled(validator.domain_regex)

    def check(value):
        # Valid for sure when both regexes match; anything else (a
        # non-ASCII, allow-listed or literal domain, an error) is the
        # validator's own call.
        if type(value) is str and value and len(value) <= 320 and "@" in value:
            user_part, domain_part = value.rsplit("@", 1)
            if user_regex.match(user_part) and domain_regex.match(domain_part):
                return
        validator(value)

    return check


def _context_check(validator, field):
    def check(value):
        validator(value, field)

    return check


def _checks(field):
    """One callable per validator of ``field``, in DRF's order."""
    checks = []
    for validator in field.validators:
        if getattr(validator, "requires_context", False):
            checks.append(_context_check(validator, field))
        elif type(validator) is ProhibitSurrogateCharactersValidator:
            checks.append(_surrogate_check(validator))
        elif type(validator) is MaxLengthValidator and isinstance(validator.limit_value, int):
            checks.append(_max_length_check(validator))
        elif type(validator) is EmailValidator:
            checks.append(_email_check(validator))
        else:
            checks.append(validator)
    return tuple(checks)


def _text_checks(field):
    """``(limit, nul, surrogates, rest)``: what a plain string must satisfy
    for the text validators every ``CharField`` carries (max length, no NUL,
    no surrogate) to pass, and the checks of the other validators, in order.
    ``None`` when the field has none of those text validators."""
    limit, nul, surrogates, rest = None, False, False, []
    for validator, check in zip(field.validators, _checks(field)):
        kind = type(validator)
        if getattr(validator, "requires_context", False):
            rest.append(check)
        elif kind is ProhibitSurrogateCharactersValidator:
            surrogates = True
        elif kind is ProhibitNullCharactersValidator:
            nul = True
        elif kind is MaxLengthValidator and isinstance(validator.limit_value, int):
            limit = validator.limit_value if limit is None else min(limit, validator.limit_value)
        else:
            rest.append(check)
    if limit is None and not nul and not surrogates:
        return None
    return limit, nul, surrogates, tuple(rest)


def _no_validators(value):
    return None


def _run_validators(checks):
    """``Field.run_validators`` over a fixed list of checks."""

    def run_validators(value):
        errors = []
        for check in checks:
            try:
                check(value)
            except ValidationError as exc:
                # DRF raises a dict of errors at once instead of collecting.
                if isinstance(exc.detail, dict):
                    raise
                errors.extend(exc.detail)
            except DjangoValidationError as exc:
                errors.extend(get_error_detail(exc))
        if errors:
            raise ValidationError(errors)

    return run_validators


def _run_text_validators(checks, text_checks):
    """``_run_validators`` that decides the text validators of a plain
    string with one test: a string within the length limit, without NUL or
    surrogate, passes all of them, so only the other checks run (in their
    order, so the errors are the same). Anything else runs every check."""
    run_all = _run_validators(checks)
    limit, nul, surrogates, rest = text_checks
    run_rest = _run_validators(rest) if rest else _no_validators
    if limit is None:
        limit = float("inf")
    search = _SURROGATES.search

    def run_validators(value):
        if (
            type(value) is str
            and len(value) <= limit
            and not (nul and "\x00" in value)
            and not (surrogates and search(value) is not None)
        ):
            run_rest(value)
        else:
            run_all(value)

    return run_validators


def fix_field_validators(field):
    """Give ``field`` a ``run_validators`` that walks its validators as
    DRF does, looked up once. Call after the validator list is final."""
    if not _inherits(field, "run_validators", Field):
        return
    checks = _checks(field)
    text_checks = _text_checks(field)
    if not checks:
        field.run_validators = _no_validators
    elif text_checks is not None:
        field.run_validators = _run_text_validators(checks, text_checks)
    else:
        field.run_validators = _run_validators(checks)


def _plain_empty_values(field):
    """Whether ``field.validate_empty_values(data)`` is ``(False, data)`` for
    every value that is neither ``empty`` nor ``None`` (DRF's own check)."""
    method = type(field).validate_empty_values
    if method is Field.validate_empty_values:
        return True
    # DecimalField reads blank text as null, but only when null is allowed.
    return method is DecimalField.validate_empty_values and not field.allow_null


def fast_run_validation(field):
    """``field.run_validation`` with DRF's per-value empty checks skipped for
    a value they would pass unchanged. Anything else (a missing or null
    value, blank text, a non-string for a ``CharField``, a field overriding
    these methods) is DRF's own call. ``to_internal_value`` and
    ``run_validators`` are looked up per call: the engine replaces them on
    the chunk's fields (``related.py``) after this is built."""
    drf_run_validation = field.run_validation
    method = type(field).run_validation
    if field.read_only or not _plain_empty_values(field):
        return drf_run_validation
    if method is Field.run_validation:

        def run_validation(data=empty):
            if data is empty or data is None:
                return drf_run_validation(data)
            value = field.to_internal_value(data)
            field.run_validators(value)
            return value

        run_validation.plain_empty_checks = True
        return run_validation
    if method is CharField.run_validation:
        trim = field.trim_whitespace

        plain_text = _inherits(field, "to_internal_value", CharField)

        def run_char_validation(data=empty):
            # CharField's own test: ``data == ''`` or, trimming, blank text.
            if type(data) is not str:
                return drf_run_validation(data)
            stripped = data.strip() if trim else data
            if not stripped:
                return drf_run_validation(data)
            # ``CharField.to_internal_value`` of a string: itself, stripped
            # when trimming.
            if plain_text and "to_internal_value" not in vars(field):
                value = stripped
            else:
                value = field.to_internal_value(data)
            field.run_validators(value)
            return value

        run_char_validation.plain_empty_checks = True
        return run_char_validation
    return drf_run_validation


def fast_decimal(field):
    """``DecimalField.to_internal_value`` that reads a plain decimal string
    (ASCII digits, an optional ``-`` and point, no more whole digits and
    places than the field allows) with one regex match, ``Decimal()`` and a
    quantize through a context built once. For such a string DRF's steps
    cannot fail (no NaN or infinity, within ``MAX_STRING_LENGTH``, within
    every ``validate_precision`` limit, which counts no more digits than the
    regex does) and its quantize only pads zeros, so rounding never
    applies: the value is DRF's. Anything else (another type, a ``+``, an
    exponent, spaces, leading zeros beyond the whole digits, a localized
    field, an overridden method) is DRF's own call. ``None`` when the field
    does not qualify."""
    if not (
        _inherits(field, "to_internal_value", DecimalField)
        and _inherits(field, "validate_precision", DecimalField)
        and _inherits(field, "quantize", DecimalField)
        and not field.localize
        and field.max_digits is not None
        and field.decimal_places is not None
        and field.max_digits - field.decimal_places >= 1
    ):
        return None
    whole, places = field.max_digits - field.decimal_places, field.decimal_places
    fraction = rf"(?:\.[0-9]{{1,{places}}})?" if places else ""
    match = re.compile(rf"-?[0-9]{{1,{whole}}}{fraction}").fullmatch
    quantum = decimal.Decimal(1).scaleb(-places)
    context = decimal.Context(prec=field.max_digits)
    drf_to_internal_value = field.to_internal_value
    make = decimal.Decimal

    def to_internal_value(data):
        if type(data) is str and match(data) is not None:
            return make(data).quantize(quantum, context=context)
        return drf_to_internal_value(data)

    return to_internal_value


def fast_datetime(field):
    """``DateTimeField.to_internal_value`` for a string that
    ``datetime.fromisoformat`` reads as an aware datetime, when the field's
    first input format is ISO 8601 and it has a time zone: DRF's steps for
    it are ``parse_datetime`` (Django's, which returns
    ``fromisoformat``'s result when that succeeds) and ``enforce_timezone``,
    which for an aware value is ``astimezone(field_timezone)``. Its
    ``contextlib.suppress`` block per value was a third of a chunk's field
    validation. Anything else (a naive or unparsable string, another type,
    no time zone, an ``astimezone`` overflow, overridden methods) is DRF's
    own call. ``None`` when the field does not qualify."""
    if not (
        _inherits(field, "to_internal_value", DateTimeField)
        and _inherits(field, "enforce_timezone", DateTimeField)
        and "to_internal_value" not in vars(field)
    ):
        return None
    input_formats = getattr(field, "input_formats", api_settings.DATETIME_INPUT_FORMATS)
    if not input_formats or not isinstance(input_formats[0], str) or input_formats[0].lower() != ISO_8601:
        return None
    drf_to_internal_value = field.to_internal_value
    fromisoformat = datetime.datetime.fromisoformat

    def to_internal_value(data):
        if type(data) is str:
            # ``enforce_timezone``'s lookup, per call as DRF makes it.
            field_timezone = field.timezone if hasattr(field, "timezone") else field.default_timezone()
            if field_timezone is not None:
                try:
                    parsed = fromisoformat(data)
                    if parsed.utcoffset() is not None:
                        return parsed.astimezone(field_timezone)
                except (ValueError, TypeError, OverflowError):
                    pass
        return drf_to_internal_value(data)

    return to_internal_value


def _to_internal_value(serializer, plan):
    drf_to_internal_value = serializer.to_internal_value
    set_value = serializer.set_value

    def to_internal_value(data):
        if type(data) is not dict:
            # Not a mapping, or HTML form input: DRF's own error and parsing.
            return drf_to_internal_value(data)
        ret = {}
        errors = {}
        for field_name, run_validation, get_value, validate_method, key, source_attrs, skip_missing in plan:
            primitive_value = data.get(field_name, empty) if get_value is None else get_value(data)
            if skip_missing and primitive_value is empty:
                continue  # DRF: SkipField, raised and caught per field and item
            try:
                validated_value = run_validation(primitive_value)
                if validate_method is not None:
                    validated_value = validate_method(validated_value)
            except ValidationError as exc:
                errors[field_name] = exc.detail
            except DjangoValidationError as exc:
                errors[field_name] = get_error_detail(exc)
            except SkipField:
                pass
            else:
                if key is not None:
                    ret[key] = validated_value
                else:
                    set_value(ret, source_attrs, validated_value)
        if errors:
            raise ValidationError(errors)
        return ret

    return to_internal_value


def _plan(serializer):
    """Per writable field: what ``Serializer.to_internal_value`` looks up
    for it on every item."""
    plain_set_value = _inherits(serializer, "set_value", Serializer)
    plan = []
    for field in serializer.fields.values():
        if field.read_only:
            continue
        # ``Field.get_value`` on a plain dict is ``dict.get``.
        get_value = None if _inherits(field, "get_value", Field) else field.get_value
        validate_method = getattr(serializer, "validate_" + field.field_name, None)
        source_attrs = field.source_attrs
        key = source_attrs[0] if plain_set_value and len(source_attrs) == 1 else None
        run_validation = fast_run_validation(field)
        # A field absent from a partial update's item: DRF's
        # ``validate_empty_values`` raises ``SkipField`` for it, where its
        # empty checks are DRF's own (``fast_run_validation`` built a plain
        # runner only then) and ``get_value`` is ``dict.get``.
        skip_missing = get_value is None and getattr(run_validation, "plain_empty_checks", False) and _partial(field)
        plan.append((field.field_name, run_validation, get_value, validate_method, key, source_attrs, skip_missing))
    return tuple(plan)


def _partial(field):
    return bool(getattr(field.root, "partial", False))


def speed_up(serializer):
    """Install the per-chunk replacements on ``serializer`` (built for one
    chunk) and its fields. Call after the engine has taken the validators it
    checks per chunk and patched the related fields."""
    for field in serializer.fields.values():
        if not field.read_only:
            fix_field_validators(field)
            if isinstance(field, DecimalField):
                to_internal_value = fast_decimal(field)
                if to_internal_value is not None:
                    field.to_internal_value = to_internal_value
            elif isinstance(field, DateTimeField):
                to_internal_value = fast_datetime(field)
                if to_internal_value is not None:
                    field.to_internal_value = to_internal_value
    if (
        _inherits(serializer, "to_internal_value", Serializer)
        and _inherits(serializer, "_writable_fields", Serializer)
        and isinstance(serializer.fields, dict)
    ):
        serializer.to_internal_value = _to_internal_value(serializer, _plan(serializer))
    if _inherits(serializer, "run_validators", Serializer) and not serializer.validators:
        serializer.run_validators = _no_validators
