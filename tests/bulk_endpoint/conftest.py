"""Fixtures shared by the ``{list}/bulk/`` tests."""

import pytest

from tests.builders import make_account


@pytest.fixture
def account(db):
    return make_account()
