from __future__ import annotations

import time

import pytest
import torch

from graphkit.models.threads import candidate_threads, choose_threads
from graphkit.parallel import available_cpus


def test_candidates_double_up_to_the_cpus():
    assert candidate_threads(1) == [1]
    assert candidate_threads(6) == [1, 2, 4, 6]
    assert candidate_threads()[-1] == available_cpus()


@pytest.mark.parametrize("fastest", [1, 2])
def test_the_fastest_count_is_kept_and_set(fastest):
    before = torch.get_num_threads()

    def step():  # slow unless torch runs with `fastest` threads
        time.sleep(0.0 if torch.get_num_threads() == fastest else 0.01)

    try:
        assert choose_threads(step, candidates=[1, 2], repeats=2) == fastest
        assert torch.get_num_threads() == fastest
    finally:
        torch.set_num_threads(before)
