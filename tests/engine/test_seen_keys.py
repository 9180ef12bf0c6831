"""``SeenKeys.first_or_add`` (the unique checks' one call per key) answers
as ``get`` then ``[]=`` on a dict would, across folds and resizes, with the
filter in front of the folded table."""

import random

from rest_bulk_ext.engine.seen_keys import SeenKeys


def test_first_or_add_answers_as_a_dict_across_folds(monkeypatch):
    monkeypatch.setattr(SeenKeys, "YOUNG_LIMIT", 50)
    monkeypatch.setattr(SeenKeys, "FIRST_CAPACITY", 8)
    rng = random.Random(25)
    seen, expected = SeenKeys(), {}
    for index in range(30_000):
        key = (rng.randrange(20_000), "text") if index % 3 else (rng.randrange(20_000),)
        assert seen.first_or_add(key, index) == expected.get(key)
        expected.setdefault(key, index)
    assert len(seen) == len(expected)
    assert seen._size > 0  # most keys were folded into the table
    # Every key is found with its first index; new keys are not.
    assert all(seen.get(key) == first for key, first in expected.items())
    assert [seen.first_or_add((n, "other"), 0) for n in range(100)] == [None] * 100
    # Item 0 is remembered as 0 (not a missing key).
    fresh = SeenKeys()
    assert fresh.first_or_add(("a",), 0) is None and fresh.first_or_add(("a",), 5) == 0
