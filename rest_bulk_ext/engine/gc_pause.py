"""Pause Python's cyclic garbage collector while a chunk is processed.

Validating and writing a chunk allocates tens of thousands of container
objects (validated dicts, model instances, query parameters). Every 700 of
them CPython runs a collection, and a few of those scan the whole heap of a
Django process: measured at 0.1-0.16 s per 10,000 items, 10-15 % of a bulk
create, to find almost nothing (the engine creates next to no reference
cycles). Pausing the collector for the length of one chunk, the way
Mercurial's ``nogc`` does while it builds large containers, removes that
cost; whatever cyclic garbage a chunk leaves is collected as usual right
after it. The memory a chunk holds is bounded by ``batch_size``.

The pause is process-wide (``gc.disable()``): every thread of the process
runs without automatic collection while a chunk is processed. A library
should not change that behind a project's back, so it is opt-in, with
``BULK_PAUSE_GC = True`` (off by default). Overlapping chunks in several
threads share the pause: a counter under a lock re-enables the collector
when the last one finishes, and only if it was enabled before the first.
"""

import gc
import threading
from contextlib import contextmanager

from ..settings import extensions_api_settings

_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextmanager
def gc_paused():
    """Run the block with automatic garbage collection off, when
    ``BULK_PAUSE_GC`` is set; otherwise just run it."""
    global _pauses, _was_enabled
    if not extensions_api_settings.BULK_PAUSE_GC:
        yield
        return
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
