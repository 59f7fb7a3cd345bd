"""Fixtures of the model tests."""

from __future__ import annotations

import pytest

from tests.models.helpers import make_batch


@pytest.fixture(scope="session")
def tiny_batch():
    """3 synthetic videos (about 60 segments, some labelled)."""
    return make_batch()
