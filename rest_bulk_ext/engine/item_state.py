"""``ItemState``: one item on its way through a chunk."""

from .errors import item_error


class ItemState:
    """An item with what the engine learned about it so far.

    ``instance`` is the existing model row (update/replace/delete/upsert
    match) or the new object to insert; ``attrs`` the serializer's validated
    data; ``errors`` a ``{field: [messages]}`` dict once the item failed.
    """

    __slots__ = ("item", "instance", "attrs", "errors", "pk", "outcome", "old_pk", "version", "code")

    def __init__(self, item):
        self.item = item
        self.instance = None
        self.attrs = None
        self.errors = item.errors
        self.pk = None
        self.outcome = None
        self.old_pk = None
        # The version value the item carries (engine/versions.py), and the
        # error code of a failure that has one (``stale``).
        self.version = None
        self.code = None

    @property
    def data(self):
        return self.item.data

    @property
    def ok(self):
        return self.errors is None

    def fail(self, errors, code=None):
        if self.errors is None:
            self.errors = errors
            self.code = code

    def error_entry(self):
        return item_error(self.item, self.errors, self.code)
