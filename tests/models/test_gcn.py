from __future__ import annotations

import pytest

from graphkit.models.gcn import GCN
from tests.models.homogeneous_checks import *  # noqa: F401,F403  (the shared behaviour tests)


@pytest.fixture
def build():
    def make(in_dim: int, classes: int, **kwargs) -> GCN:
        return GCN(in_dim, classes, hidden=32, **kwargs)

    return make
