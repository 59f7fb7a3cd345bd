from __future__ import annotations

import threading

import pytest

from graphkit.parallel import available_cpus, thread_map


def test_results_keep_the_order_of_the_items():
    assert thread_map(lambda x: -x, list(range(50)), threads=4) == [-x for x in range(50)]
    assert thread_map(lambda x: x, [], threads=4) == []


def test_several_threads_really_run_and_one_thread_starts_none():
    names: set[str] = set()
    barrier = threading.Barrier(2, timeout=10)

    def work(item: int) -> int:
        names.add(threading.current_thread().name)
        barrier.wait()  # returns only if two items are in flight at once
        return item

    assert thread_map(work, [1, 2], threads=2) == [1, 2]
    assert len(names) == 2 and all(name.startswith("graphkit") for name in names)
    here = threading.current_thread().name
    assert thread_map(lambda _: threading.current_thread().name, [1, 2, 3], threads=1) == [here] * 3


def test_the_first_error_is_raised():
    def work(item: int) -> int:
        if item == 3:
            raise ValueError("item 3")
        return item

    with pytest.raises(ValueError, match="item 3"):
        thread_map(work, [1, 2, 3, 4], threads=2)


def test_available_cpus_is_this_process_affinity():
    import os

    assert available_cpus() == len(os.sched_getaffinity(0)) >= 1
