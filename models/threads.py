"""How many CPU threads torch should use, chosen by timing: :func:`choose_threads`.

torch starts one OpenMP thread per core it sees. On a machine whose cores
other processes share (a CI runner, a notebook server), the message-passing
kernels (``scatter_add_``) then wait on each other: training with 2 threads
on a busy 2-core machine ran 4 to 14 times slower than with 1. No fixed
number is right everywhere, so the number is measured where the run happens.

Examples:
    >>> candidate_threads(4)
    [1, 2, 4]
    >>> choose_threads(lambda: None, candidates=[1])
    1
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

import torch

from graphkit.parallel import available_cpus

__all__ = ["candidate_threads", "choose_threads"]

logger = logging.getLogger(__name__)


def candidate_threads(cpus: int | None = None) -> list[int]:
    """1, 2, 4, ... up to ``cpus`` (which is included)."""
    cpus = available_cpus() if cpus is None else cpus
    counts, n = [], 1
    while n < cpus:
        counts.append(n)
        n *= 2
    counts.append(max(1, cpus))
    return sorted(set(counts))


def choose_threads(step: Callable[[], None], candidates: Sequence[int] | None = None, repeats: int = 3) -> int:
    """Time ``step`` with each thread count and leave torch on the fastest.

    Args:
        step (callable): One representative unit of work (e.g. a training
            step's forward and backward); it must not change the run's state.
        candidates (Sequence[int], optional): Thread counts to try.
            (default: :func:`candidate_threads`)
        repeats (int, optional): Timed calls per count, after one warm-up;
            the best is kept. (default: :obj:`3`)

    Returns:
        int: The chosen count, also set with :func:`torch.set_num_threads`.
    """
    candidates = list(candidates or candidate_threads())
    timings = {}
    for threads in candidates:
        torch.set_num_threads(threads)
        step()
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            step()
            best = min(best, time.perf_counter() - started)
        timings[threads] = best
    chosen = min(timings, key=timings.get)
    torch.set_num_threads(chosen)
    logger.info("torch threads: %d (step seconds by thread count: %s)", chosen,
                {n: round(t, 4) for n, t in timings.items()})
    return chosen
