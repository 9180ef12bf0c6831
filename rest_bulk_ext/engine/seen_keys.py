"""
``SeenKeys``: the keys a run has seen, for the cross-chunk duplicate checks
(``uniqueness``, ``upsert``, ``lookups``), held compactly.

A dict of every key (a tuple of values) costs about 150-250 bytes a key in
CPython: a 1,000,000-row job would hold 200 MB per unique set. Here only the
last ``YOUNG_LIMIT`` keys are kept as they are (a dict: C-speed lookups);
older ones are folded into an open-addressing table of two flat arrays, the
keys' 64-bit ``hash()`` and their first item index: 12 bytes a slot, at most
two thirds full, plus a filter of 8 bits a slot (below), so 20-39 bytes a
key (26 MB for a million keys). A lookup checks the recent keys, then the
filter, then probes the table (a few array reads).

Almost every lookup is of a new key, and a miss in a table two thirds
full probes about five slots, each a few bytecodes. The filter (one bit per
key, 8 bits a slot, indexed by other bits of the hash than the slot) answers
most misses with one read: at most 1 in 12 of them goes on to probe.

The price: a new key whose 64-bit hash equals an older key's is reported as
a duplicate of it. With n keys the chance is about n² / 2**65 (1e-8 for a
million keys). Hashes are only compared within one process (one run).
"""

from array import array


class SeenKeys:
    """The ``dict`` subset the duplicate checks use: ``get`` and ``[]=``."""

    YOUNG_LIMIT = 25_000
    FIRST_CAPACITY = 1 << 16

    def __init__(self):
        self._young = {}
        self._size = 0
        self._mask = -1
        self._hashes = self._indexes = self._filter = None
        self._bit_mask = 0

    def get(self, key, default=None):
        found = self._young.get(key)
        if found is not None:
            return found
        if self._size:
            return self._folded(key, default)
        return default

    def first_or_add(self, key, index):
        """``get(key)``, and for a key not seen yet ``self[key] = index`` and
        ``None``: the duplicate checks' one call per key."""
        young = self._young
        found = young.get(key)
        if found is not None:
            return found
        if self._size:
            found = self._folded(key, None)
            if found is not None:
                return found
        young[key] = index
        if len(young) >= self.YOUNG_LIMIT:
            self._fold()
        return None

    def _folded(self, key, default):
        """``key``'s index in the folded table (the filter, then probes)."""
        wanted = hash(key) or 1
        bit = (wanted >> 24) & self._bit_mask
        if not self._filter[bit >> 3] & (1 << (bit & 7)):
            return default
        hashes, mask = self._hashes, self._mask
        slot = wanted & mask
        while True:
            stored = hashes[slot]
            if stored == wanted:
                return self._indexes[slot]
            if not stored:
                return default
            slot = (slot + 1) & mask

    def __setitem__(self, key, index):
        self._young[key] = index
        if len(self._young) >= self.YOUNG_LIMIT:
            self._fold()

    def __len__(self):
        return len(self._young) + self._size

    def forget_from(self, index):
        """Forget the keys first seen at item ``index`` or later: a chunk
        about to be tried again must not find its own items as duplicates.
        Rare (retries only), so the folded table is rebuilt when it holds
        such a key rather than supporting deletion in every probe."""
        self._young = {key: first for key, first in self._young.items() if first < index}
        if not self._size:
            return
        pairs = list(zip(self._hashes, self._indexes))
        if not any(stored and first >= index for stored, first in pairs):
            return
        self._empty(len(pairs))
        for stored, first in pairs:
            if stored and first < index:
                self._put(stored, first)

    def _fold(self):
        needed = self._size + len(self._young)
        if self._hashes is None or needed * 3 > (self._mask + 1) * 2:
            capacity = self.FIRST_CAPACITY
            while needed * 3 > capacity * 2:
                capacity *= 2
            self._resize(capacity)
        self._insert(((hash(key) or 1, index) for key, index in self._young.items()))
        self._young = {}

    def _empty(self, capacity):
        self._hashes = array("q", bytes(8 * capacity))
        self._indexes = array("i", bytes(4 * capacity))
        self._filter = bytearray(capacity)
        self._mask, self._bit_mask, self._size = capacity - 1, 8 * capacity - 1, 0

    def _resize(self, capacity):
        old_hashes, old_indexes = self._hashes, self._indexes
        self._empty(capacity)
        if old_hashes is not None:
            self._insert((stored, index) for stored, index in zip(old_hashes, old_indexes) if stored)

    def _insert(self, pairs):
        """``_put`` of each ``(hash, index)``, inlined: this runs once for
        every key a run sees, and again for each key a resize moves."""
        hashes, indexes, filter_bits = self._hashes, self._indexes, self._filter
        mask, bit_mask, size = self._mask, self._bit_mask, self._size
        for key_hash, index in pairs:
            bit = (key_hash >> 24) & bit_mask
            filter_bits[bit >> 3] |= 1 << (bit & 7)
            slot = key_hash & mask
            while True:
                stored = hashes[slot]
                if not stored:
                    hashes[slot] = key_hash
                    indexes[slot] = index
                    size += 1
                    break
                if stored == key_hash:
                    break  # the first index of a hash stays
                slot = (slot + 1) & mask
        self._size = size

    def _put(self, key_hash, index):
        bit = (key_hash >> 24) & self._bit_mask
        self._filter[bit >> 3] |= 1 << (bit & 7)
        hashes, mask = self._hashes, self._mask
        slot = key_hash & mask
        while True:
            stored = hashes[slot]
            if not stored:
                hashes[slot] = key_hash
                self._indexes[slot] = index
                self._size += 1
                return
            if stored == key_hash:
                return  # the first index of a hash stays
            slot = (slot + 1) & mask
