"""Cutting the items into chunks, the engine's unit of work and of
transaction: one function shared by the write (``run``) and the dry run
(``dry_run``), so both see the same boundaries."""

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


def iter_chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of ``size`` items; chunk ``n`` holds items ``n*size`` on, so a
    resumed job sees the same chunk boundaries."""
    iterator = iter(items)
    while True:
        chunk = list(islice(iterator, size))
        if not chunk:
            return
        yield chunk
