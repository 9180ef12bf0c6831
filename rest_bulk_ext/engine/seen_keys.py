"""
``SeenKeys``: the keys a run has seen, for the cross-chunk duplicate checks
(``uniqueness``, ``upsert``, ``lookups``), held compactly.

A dict of every key (a tuple of values) costs about 150-250 bytes a key in
CPython: a 1,000,000-row job would hold 200 MB for it alone. Here only the
last ``YOUNG_LIMIT`` keys are kept as they are; older ones are folded into
two sorted ``array('q')`` of the keys' 64-bit ``hash()`` and their first
item index: 16 bytes a key. A lookup checks the recent keys exactly, then
binary-searches the hashes.

The price: a new key whose 64-bit hash equals an older key's is reported as
a duplicate of it. With n keys the chance is about n² / 2**65 (1e-8 for a
million keys). Hashes are only compared within one process (one run).
"""

from array import array
from bisect import bisect_left
from heapq import merge


class SeenKeys:
    """The ``dict`` subset the duplicate checks use: ``get`` and ``[]=``."""

    YOUNG_LIMIT = 100_000

    def __init__(self):
        self._young = {}
        self._hashes = array("q")
        self._indexes = array("q")

    def get(self, key, default=None):
        found = self._young.get(key)
        if found is not None:
            return found
        hashes = self._hashes
        if hashes:
            wanted = hash(key)
            position = bisect_left(hashes, wanted)
            if position < len(hashes) and hashes[position] == wanted:
                return self._indexes[position]
        return default

    def __setitem__(self, key, index):
        self._young[key] = index
        if len(self._young) >= self.YOUNG_LIMIT:
            self._fold()

    def __len__(self):
        return len(self._young) + len(self._hashes)

    def _fold(self):
        young = sorted((hash(key), index) for key, index in self._young.items())
        hashes, indexes = array("q"), array("q")
        previous = None
        for key_hash, index in merge(zip(self._hashes, self._indexes), young):
            if key_hash == previous:
                continue  # keep the first index of a hash
            hashes.append(key_hash)
            indexes.append(index)
            previous = key_hash
        self._hashes, self._indexes, self._young = hashes, indexes, {}
