"""``serialize_rows``: representations of a queryset for bulk GET, chunk by
chunk, with one serializer instance per chunk."""

from itertools import islice


def serialize_rows(ctx, queryset, chunk_size=None):
    """Yield ``serializer.to_representation(obj)`` for each row of
    ``queryset``, reading it in chunks of ``ctx.batch_size`` so a large
    export never sits in memory whole. Related fields the serializer reads
    should be ``select_related``/``prefetch_related`` by the caller."""
    size = chunk_size or ctx.batch_size
    rows = queryset.iterator(chunk_size=size)
    while True:
        chunk = list(islice(rows, size))
        if not chunk:
            return
        serializer = ctx.serializer_class(context=ctx.serializer_context)
        for obj in chunk:
            yield serializer.to_representation(obj)
