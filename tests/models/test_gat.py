from __future__ import annotations

import pytest

from graphkit.models.gat import GAT
from tests.models.homogeneous_checks import *  # noqa: F401,F403  (the shared behaviour tests)


@pytest.fixture
def build():
    def make(in_dim: int, classes: int, **kwargs) -> GAT:
        return GAT(in_dim, classes, hidden=32, **kwargs)

    return make


def test_hidden_must_divide_into_heads():
    with pytest.raises(ValueError, match="hidden=10 must be divisible by heads=4"):
        GAT(5, 2, hidden=10)
