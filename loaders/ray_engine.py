"""Building a sharded dataset on Ray Data: :func:`ray_runner`, an engine for :func:`build_shards`.

:func:`~graphkit.loaders.ondisk.build_shards` cuts its sources into
fragments and hands them to an engine. :func:`ray_runner` returns one that
runs :func:`~graphkit.loaders.ondisk.process_fragment` in parallel Ray tasks
through a :mod:`ray.data` dataset with one row per fragment (each row plain
data: the fragment's index, file and row groups). Every task reads only its
fragment and writes only its own shards into the staging directory, which
must therefore lie on a filesystem every node of the cluster sees; the
manifest, the label vocabulary and the checksum are then made on the driver
exactly as for a single process, so the dataset is identical in content
whichever engine wrote it.

Ray is imported only when the engine runs: graphkit works without it
(``pip install graphkit[ray]`` adds it).

Examples:
    >>> run = ray_runner(num_cpus=2)  # nothing starts until build_shards calls it
    >>> callable(run)
    True
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from graphkit.errors import EngineError, GraphkitError, InvariantError, RowError, SchemaError, SourceError
from graphkit.loaders.ondisk import FragmentResult, process_fragment
from graphkit.loaders.parquet import ParquetFragment
from graphkit.tasks import NodeTask
from graphkit.validation import ValidationConfig

__all__ = ["ray_runner", "fragment_row", "row_fragment", "process_row"]

logger = logging.getLogger(__name__)

#: The install hint of every "ray is missing" error.
INSTALL_HINT = "pip install graphkit[ray]"


def fragment_row(index: int, fragment: Any) -> dict[str, Any]:
    """A fragment as one row of plain data (what a Ray task receives).

    Args:
        index (int): The fragment's position in the plan.
        fragment (ParquetFragment or str or os.PathLike): A parquet fragment,
            or a whole file (JSON, remote) read by its reader.

    Returns:
        dict[str, Any]: ``index``, ``path`` (absolute for local files, so any
        node's worker finds it whatever its working directory) and
        ``row_groups`` (empty for a whole file).

    Raises:
        EngineError: If the fragment is an in-memory object (a table, a
            dataset): only files can be sent to other machines.

    Examples:
        >>> row = fragment_row(2, ParquetFragment("/data/a.parquet", (4, 5), 900))
        >>> row == {"index": 2, "path": "/data/a.parquet", "row_groups": [4, 5], "num_rows": 900}
        True
    """
    if isinstance(fragment, ParquetFragment):
        return {"index": index, "path": os.path.abspath(fragment.path), "row_groups": list(fragment.row_groups),
                "num_rows": fragment.num_rows}
    if isinstance(fragment, (str, os.PathLike)):
        path = os.fspath(fragment)
        local = "://" not in path
        return {"index": index, "path": os.path.abspath(path) if local else path, "row_groups": [], "num_rows": 0}
    raise EngineError(f"the Ray engine reads files, not a {type(fragment).__name__}: give paths or URLs")


def row_fragment(row: dict[str, Any]) -> Any:
    """The fragment a row of :func:`fragment_row` describes: its inverse.

    Examples:
        >>> row_fragment({"index": 0, "path": "/a.parquet", "row_groups": [1], "num_rows": 8})
        ParquetFragment(path='/a.parquet', row_groups=(1,), num_rows=8)
    """
    groups = [int(group) for group in row["row_groups"]]
    if groups:
        return ParquetFragment(str(row["path"]), tuple(groups), int(row["num_rows"]))
    return str(row["path"])


def process_row(row: dict[str, Any], *, staging: str, task: NodeTask, validation: ValidationConfig,
                batch_size: int, videos_per_shard: int) -> dict[str, Any]:
    """Process one fragment row in a Ray task: ``{"index", "result"}`` with the result as JSON.

    A graphkit error (a bad video under ``errors="raise"``, an unreadable
    file) is returned as ``{"index", "error"}`` instead of raised, so the
    driver can raise it as the same one line a single process gives.
    """
    index = int(row["index"])
    try:
        result = process_fragment(index, row_fragment(row), staging, task, validation=validation,
                                  batch_size=batch_size, videos_per_shard=videos_per_shard)
    except GraphkitError as error:
        return {"index": index, "result": "", "error": json.dumps(_error_data(error))}
    return {"index": index, "result": json.dumps(result.to_dict()), "error": ""}


def _error_data(error: GraphkitError) -> dict[str, Any]:
    """An error as plain data: its class and the arguments that rebuild it."""
    if isinstance(error, RowError):  # before its bases, InvariantError and SchemaError
        return {"type": "RowError", "args": [error.source, error.video_uid, error.rule, error.message]}
    if isinstance(error, InvariantError):
        return {"type": "InvariantError",
                "args": [error.video_uid, error.node_id, error.rule, error.message, error.source]}
    if isinstance(error, SourceError):
        return {"type": type(error).__name__ if isinstance(error, SchemaError) else "SourceError",
                "args": [error.source, error.message]}
    return {"type": "EngineError", "args": [f"{type(error).__name__}: {error}"]}


def _rebuild_error(data: str) -> GraphkitError:
    """The error :func:`_error_data` described, raised on the driver as in a single process."""
    parsed = json.loads(data)
    kinds = {"InvariantError": InvariantError, "RowError": RowError, "SourceError": SourceError,
             "SchemaError": SchemaError, "EngineError": EngineError}
    return kinds[parsed["type"]](*parsed["args"])


def _import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401  (the extra, not just ray's core)
    except ImportError as error:
        raise EngineError(f"the Ray engine needs ray[data] ({error}): {INSTALL_HINT}") from None
    return ray


def _connect(ray: Any, address: str | None, num_cpus: int | None) -> None:
    """Join the cluster at ``address`` (or start a local one), unless Ray is already initialised."""
    if address is not None:
        _check_reachable(address)
    if ray.is_initialized():
        return
    options: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
    if address is None:
        options.update(num_cpus=num_cpus, include_dashboard=False)
    try:
        ray.init(address=address, **options)
    except (ConnectionError, TimeoutError, RuntimeError, ValueError) as error:
        where = f"the Ray cluster at {address}" if address else "a local Ray cluster"
        message = " ".join(str(error).split()) or type(error).__name__
        raise EngineError(f"cannot connect to {where}: {message}") from None
    logger.info("ray: %s CPUs in the cluster", ray.cluster_resources().get("CPU"))


def _check_reachable(address: str, timeout: float = 10.0) -> None:
    """Fail at once if ``HOST:PORT`` (or ``ray://HOST:PORT``) does not accept a connection.

    ``ray.init`` itself retries an unreachable address for minutes; other
    forms (``"auto"``) are left to it.
    """
    target = address.removeprefix("ray://")
    host, colon, port = target.rpartition(":")
    if not colon or not port.isdigit() or not host:
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as error:
        raise EngineError(f"cannot connect to the Ray cluster at {address}: {error.strerror or error}; "
                          "is `ray start --head` running there?") from None


def ray_runner(address: str | None = None, num_cpus: int | None = None) -> Callable[..., list[FragmentResult]]:
    """An engine for :func:`~graphkit.loaders.ondisk.build_shards` that processes fragments on Ray Data.

    The first call joins the cluster at ``address`` (``ray.init``), or starts
    a local one when ``address`` is :obj:`None`, unless Ray is already
    initialised in this process; the connection stays open for later runs
    (``ray.shutdown()`` ends it). Each fragment is one row and one task
    (one CPU); results come back as tasks finish, and ``on_fragment`` is
    called for each as it arrives.

    Args:
        address (str, optional): A running cluster's address (``HEAD:6379``,
            or ``"auto"``). (default: :obj:`None`, a local cluster)
        num_cpus (int, optional): CPUs of a local cluster. (default: all)

    Returns:
        callable: ``run(fragments, staging, task, validation, batch_size,
        videos_per_shard, on_fragment) -> list[FragmentResult]``, sorted by index.

    Raises:
        ValueError: If ``num_cpus`` is given with an ``address``.

    The returned callable raises :class:`~graphkit.errors.EngineError` if
    ray is not installed, the cluster cannot be reached or a task fails, and
    a fragment's own error as a single process raises it
    (:class:`~graphkit.errors.InvariantError` under ``errors="raise"``,
    :class:`~graphkit.errors.SourceError` for an unreadable file).
    """
    if address is not None and num_cpus is not None:
        raise ValueError("num_cpus is for a local cluster; a cluster at an address has its own CPUs")

    def run(fragments: Sequence[Any], staging: Path, task: NodeTask, validation: ValidationConfig,
            batch_size: int, videos_per_shard: int,
            on_fragment: Callable[[FragmentResult], None] | None) -> list[FragmentResult]:
        rows = [fragment_row(index, fragment) for index, fragment in enumerate(fragments)]
        ray = _import_ray()
        _connect(ray, address, num_cpus)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # graphkit's own bar counts videos
        logging.getLogger("ray.data").setLevel(logging.ERROR)  # its per-run INFO lines and bar notice
        dataset = ray.data.from_items(rows, override_num_blocks=max(1, len(rows))).map(
            process_row, num_cpus=1,
            fn_kwargs={"staging": os.path.abspath(staging), "task": task, "validation": validation,
                       "batch_size": batch_size, "videos_per_shard": videos_per_shard})
        results: list[FragmentResult] = []
        try:
            for row in dataset.iter_rows():
                if row["error"]:
                    raise _rebuild_error(row["error"])
                result = FragmentResult.from_dict(json.loads(row["result"]))
                results.append(result)
                if on_fragment is not None:
                    on_fragment(result)
        except ray.exceptions.RayError as error:
            message = " ".join(str(error).split())[:500]
            raise EngineError(f"a Ray task failed: {message}") from None
        logger.info("ray: %d fragments processed", len(results))
        return sorted(results, key=lambda result: result.index)

    return run

