"""
Strict query parameters for list-route writes (``BULK_STRICT_QUERY_PARAMS``).

A queryset-level PATCH or DELETE acts on ``filter_queryset(get_queryset())``.
django-filter and DRF's filter backends silently ignore what they do not
understand: a misspelt name (``?emial=``), a field the view does not filter
on (``?id=5``), an undeclared lookup, an empty value, a value a filter drops
(``?is_active=maybe``), pagination and ordering parameters. For a list that
shows too much; for a DELETE it deletes every row. So on a list-route write
every query parameter must be one a filter backend *narrows the rows with*,
or the request is refused (400 naming the parameters) before anything is
counted or written.

Who consumes what:

- ``DjangoFilterBackend``: the filters of its filterset (``filterset_fields``
  in list or dict form, or ``filterset_class``), with the suffixed names of
  multi-value widgets (``price_min``/``price_max``). A value the form cleans
  to "nothing" (the filter would skip it) does not narrow.
- DRF's ``SearchFilter``: its ``search`` parameter, when the view has
  ``search_fields`` and the value has at least one term.
- DRF's ``OrderingFilter``, pagination, ``?format=``: never narrow.
- Any other backend: the names returned by its optional
  ``get_bulk_query_params(request, queryset, view)``; a backend that cannot
  say which parameters it consumes has them declared on the view with
  ``bulk_allowed_query_params``.
"""

from django.utils.translation import gettext as _, gettext_lazy
from django_filters import OrderingFilter as FilterSetOrderingFilter
from django_filters.constants import EMPTY_VALUES
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from rest_framework import serializers
from rest_framework.filters import OrderingFilter, SearchFilter

from ..exceptions import capped_names
from ..settings import extensions_api_settings

ORDERING_MESSAGE = gettext_lazy("Ordering does not narrow the rows a bulk write acts on.")


def is_strict(view):
    """The view's ``bulk_strict_query_params``, else ``BULK_STRICT_QUERY_PARAMS``."""
    strict = getattr(view, "bulk_strict_query_params", None)
    if strict is None:
        strict = extensions_api_settings.BULK_STRICT_QUERY_PARAMS
    return bool(strict)


def _is_empty(value):
    if isinstance(value, slice):
        return value.start is None and value.stop is None
    try:
        return value in EMPTY_VALUES
    except TypeError:  # an unhashable or oddly comparing cleaned value
        return False


def _filter_param_names(name, form_field):
    """The query parameter names of one filter: ``name``, or its suffixed
    names for a multi-value widget (``RangeFilter``: ``name_min``, ``name_max``)."""
    widget = form_field.widget
    suffixes = getattr(widget, "suffixes", None)
    if suffixes:
        return [widget.suffixed(name, suffix) for suffix in suffixes]
    return [name]


def django_filter_params(backend, request, queryset, view):
    """``(narrowing, ignored)``: the parameters ``backend``'s filterset
    narrows with, and ``{name: message}`` for parameters it knows but would
    skip. An invalid value raises django-filter's 400."""
    filterset = backend.get_filterset(request, queryset, view)
    if filterset is None:
        return set(), {}
    if not filterset.is_valid():
        raise translate_validation(filterset.errors)
    narrowing, ignored = set(), {}
    query = request.query_params
    for name, form_field in filterset.form.fields.items():
        params = [param for param in _filter_param_names(name, form_field) if param in query]
        if not params:
            continue
        if isinstance(filterset.filters.get(name), FilterSetOrderingFilter):
            for param in params:
                ignored[param] = ORDERING_MESSAGE
        elif _is_empty(filterset.form.cleaned_data.get(name)):
            for param in params:
                ignored[param] = _("The value {value!r} does not select anything for this filter.").format(
                    value=query.get(param)
                )
        else:
            narrowing.update(params)
    return narrowing, ignored


def search_filter_params(backend, request, view):
    if not backend.get_search_fields(view, request):
        return set(), {}
    param = backend.search_param
    if param in request.query_params and not backend.get_search_terms(request):
        return set(), {param: _("An empty search does not narrow the rows.")}
    return {param}, {}


def backend_params(backend, request, queryset, view):
    """``(narrowing, ignored)`` for one filter backend instance."""
    if isinstance(backend, DjangoFilterBackend):
        return django_filter_params(backend, request, queryset, view)
    if isinstance(backend, SearchFilter):
        return search_filter_params(backend, request, view)
    if isinstance(backend, OrderingFilter):
        return set(), {backend.ordering_param: ORDERING_MESSAGE}
    declared = getattr(backend, "get_bulk_query_params", None)
    if declared is not None:
        return set(declared(request, queryset, view)), {}
    return set(), {}


def check_query_params(view, request, queryset):
    """Raise ``ValidationError`` (400, ``{param: [message]}``) unless every
    query parameter of ``request`` narrows the rows of ``queryset`` through
    the view's filter backends (or is in ``bulk_allowed_query_params``)."""
    if not is_strict(view):
        return
    query = request.query_params
    if not query:
        return
    allowed = set(getattr(view, "bulk_allowed_query_params", None) or ())
    narrowing, ignored = set(), {}
    for backend_class in getattr(view, "filter_backends", None) or ():
        names, skipped = backend_params(backend_class(), request, queryset, view)
        narrowing |= names
        for name, message in skipped.items():
            ignored.setdefault(name, message)
    errors = {}
    for name in query:
        if name in allowed:
            continue
        values = query.getlist(name)
        if any(value.strip() == "" for value in values):
            errors[name] = [_("An empty value does not narrow the rows; remove the parameter or give a value.")]
        elif name in ignored and name not in narrowing:
            errors[name] = [ignored[name]]
        elif name not in narrowing:
            errors[name] = [
                _(
                    "No filter of this view uses '{name}', so it would not narrow the rows and the write "
                    "would act on every row. Filters: {filters}."
                ).format(name=name, filters=capped_names(narrowing_candidates(view, request, queryset)))
            ]
        elif len(values) > 1 and not takes_several_values(view, request, queryset, name):
            errors[name] = [_("Give '{name}' once; only one of its values would be used.").format(name=name)]
    if errors:
        raise serializers.ValidationError(errors)


def narrowing_candidates(view, request, queryset):
    """Every parameter name the view's django-filter and search backends
    could narrow with, for the message of an unknown parameter."""
    names = set(getattr(view, "bulk_allowed_query_params", None) or ())
    for backend_class in getattr(view, "filter_backends", None) or ():
        backend = backend_class()
        if isinstance(backend, DjangoFilterBackend):
            filterset_class = backend.get_filterset_class(view, queryset)
            if filterset_class is not None:
                form = filterset_class(queryset=queryset, request=request).form
                for name, form_field in form.fields.items():
                    names.update(_filter_param_names(name, form_field))
        elif isinstance(backend, SearchFilter) and backend.get_search_fields(view, request):
            names.add(backend.search_param)
    return names


def takes_several_values(view, request, queryset, name):
    """True when a django-filter filter reads every value of ``name``
    (``MultipleChoiceFilter`` and the like), not just the last one."""
    for backend_class in getattr(view, "filter_backends", None) or ():
        backend = backend_class()
        if isinstance(backend, DjangoFilterBackend):
            filterset_class = backend.get_filterset_class(view, queryset)
            if filterset_class is None:
                continue
            form = filterset_class(queryset=queryset, request=request).form
            field = form.fields.get(name)
            if field is not None and getattr(field.widget, "allow_multiple_selected", False):
                return True
    return False
