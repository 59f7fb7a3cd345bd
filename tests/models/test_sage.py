from __future__ import annotations

import pytest

from graphkit.models.sage import GraphSAGE
from tests.models.homogeneous_checks import *  # noqa: F401,F403  (the shared behaviour tests)


@pytest.fixture
def build():
    def make(in_dim: int, classes: int, **kwargs) -> GraphSAGE:
        return GraphSAGE(in_dim, classes, hidden=32, **kwargs)

    return make
