"""Queryset-level bulk PATCH and DELETE on a viewset's list route."""


class ListUpdateModelMixin:
    pass


class ListDestroyModelMixin:
    pass
