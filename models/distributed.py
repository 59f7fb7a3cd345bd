"""Data-parallel training with ``torch.distributed``: :class:`Distributed`.

Started under ``torchrun`` (which sets ``WORLD_SIZE``, ``RANK`` and the
rendezvous address), :func:`graphkit.models.train.train` joins the process
group (gloo on CPU, NCCL on CUDA) and wraps the model in
:class:`~torch.nn.parallel.DistributedDataParallel`. Every rank draws the same
sequence of global batches (the same seeded sampler), and rank ``r`` reads
and trains on videos ``r, r + W, ...`` of each: the ranks read disjoint
videos, and a global batch is the same whatever the number of ranks. Each
rank's loss is its summed cross-entropy times ``W`` over the global number of
labelled segments, so DDP's averaging gives exactly the gradient of the
global batch's mean loss: the loss curve of ``W`` processes is that of one
process, up to floating-point summation order.

Examples:
    >>> Distributed().split_batch([10, 11, 12, 13, 14])
    [10, 11, 12, 13, 14]
    >>> Distributed(world_size=2, rank=1).split_batch([10, 11, 12, 13, 14])
    [11, 13]
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from graphkit.errors import EngineError

__all__ = ["Distributed"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Distributed:
    """Where this process stands in a data-parallel run (one process: ``world_size == 1``).

    Args:
        world_size (int, optional): Processes in the run. (default: :obj:`1`)
        rank (int, optional): This process, in ``[0, world_size)``. (default: :obj:`0`)
    """

    world_size: int = 1
    rank: int = 0

    @classmethod
    def from_environment(cls, device: torch.device) -> Distributed:
        """Join the process group ``torchrun`` describes (``WORLD_SIZE`` > 1), else one process.

        Raises:
            RuntimeError: If the rendezvous fails.
        """
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        if world_size <= 1:
            return cls()
        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        context = cls(world_size=dist.get_world_size(), rank=dist.get_rank())
        logger.info("rank %d of %d joined (%s)", context.rank, context.world_size, dist.get_backend())
        return context

    @property
    def active(self) -> bool:
        """Whether more than one process trains."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Whether this process writes files and prints (rank 0)."""
        return self.rank == 0

    def split_batch(self, batch: Sequence[int]) -> list[int]:
        """This rank's videos of a global batch."""
        return list(batch[self.rank :: self.world_size])

    def wrap(self, model: nn.Module) -> nn.Module:
        """``model`` in :class:`~torch.nn.parallel.DistributedDataParallel` when several processes train."""
        if not self.active:
            return model
        return nn.parallel.DistributedDataParallel(model)

    def sum(self, values: Sequence[float]) -> list[float]:
        """Element-wise sums over all ranks (the values themselves with one process)."""
        if not self.active:
            return list(values)
        tensor = torch.tensor(list(values), dtype=torch.float64)
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor.tolist()

    def barrier(self) -> None:
        """Wait for every rank.

        Raises:
            EngineError: If another rank failed meanwhile (its own error says why).
        """
        if self.active:
            try:
                dist.barrier()
            except RuntimeError as err:
                raise EngineError(f"rank {self.rank}: another rank stopped (its error says why): "
                                  f"{str(err).splitlines()[0]}") from err
