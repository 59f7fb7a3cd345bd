"""PyTorch Geometric views of a :class:`~graphkit.tree.TreeBatch`.

Each video becomes one heterogeneous graph (:class:`~torch_geometric.data.HeteroData`)
with node types ``'video'`` and ``'segment'`` and, for every edge type of
:mod:`graphkit.schema`, its forward relation (``'parent_of'``) and a distinct
reverse relation (``'rev_parent_of'``), so message passing can tell a parent's
message from a child's. Segment stores carry the tree's columns (``level``,
``start``, ``end``, ``is_leaf``, ``child_order``, ``height``) and any extra
per-segment tensors (features ``x``, labels ``y``, masks); video stores carry
``x`` = (duration in seconds, number of segments); ``parent_of``
edges carry ``order`` and ``next`` edges carry ``gap``.

A whole :class:`TreeBatch` converts at once into a PyG
:class:`~torch_geometric.data.Batch` of those per-video graphs: the batch's
flat arrays already are PyG's collated layout (node positions are the
incremented indices), so the slice and increment tables are written directly
from the video offsets instead of collating graph objects one by one.
``batch.get_example(i)`` or ``batch.to_data_list()`` gives each video's own
graph, exactly as :meth:`Batch.from_data_list` would have stored it, and
:func:`to_in_memory_storage` gives the store an ``InMemoryDataset`` saves.
This module is the only one that touches PyG's private collation tables
(``_slice_dict``, ``_inc_dict``, ``_num_nodes``, ``_num_graphs``).

Examples:
    >>> from graphkit.testing import example_rows
    >>> from graphkit.tree import TreeBatch
    >>> batch = to_hetero_batch(TreeBatch.from_arrow(example_rows(2)))
    >>> batch.num_graphs, batch['segment'].num_nodes
    (2, 6)
    >>> batch[('segment', 'rev_parent_of', 'segment')].edge_index.tolist()
    [[1, 2, 4, 5], [0, 0, 3, 3]]
    >>> batch.get_example(1)['segment', 'parent_of', 'segment'].edge_index.tolist()
    [[0, 0], [1, 2]]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import torch

from graphkit import schema
from graphkit.transcript import Transcript
from graphkit.tree import TreeBatch

if TYPE_CHECKING:
    from torch_geometric.data import Batch, HeteroData

__all__ = ["to_hetero_batch", "to_hetero_data", "to_homogeneous_batch", "to_in_memory_storage",
           "HOMOGENEOUS_RELATIONS", "SEGMENT_COLUMNS"]

#: Tree columns stored on every segment store, in this order.
SEGMENT_COLUMNS: tuple[str, ...] = ("level", "start", "end", "is_leaf", "child_order", "height")

#: Relation names of :func:`to_homogeneous_batch`'s ``edge_type`` codes, in code order.
HOMOGENEOUS_RELATIONS: tuple[str, ...] = tuple(
    name
    for spec in schema.EDGE_TYPES
    if spec.source is schema.SEGMENT
    for name in (spec.pyg_name, spec.pyg_reverse_name)
)


def _segment_columns(trees: TreeBatch) -> dict[str, torch.Tensor]:
    return {
        "level": torch.from_numpy(trees.level.astype(np.int64)),
        "start": torch.from_numpy(np.array(trees.start)),  # copies: Arrow buffers are read-only
        "end": torch.from_numpy(np.array(trees.end)),
        "is_leaf": torch.from_numpy(trees.is_leaf),
        "child_order": torch.from_numpy(trees.child_order.astype(np.int64)),
        "height": torch.from_numpy(trees.height.astype(np.int64)),
    }


def _video_columns(trees: TreeBatch) -> dict[str, torch.Tensor]:
    duration = trees.end[trees.root].astype(np.float32)
    return {"x": torch.from_numpy(np.stack([duration, trees.nodes_per_video.astype(np.float32)], axis=1))}


def _as_tensor(name: str, value: np.ndarray | torch.Tensor, num_nodes: int) -> torch.Tensor:
    tensor = torch.as_tensor(value)
    if tensor.dim() == 0 or tensor.size(0) != num_nodes:
        raise ValueError(
            f"segment tensor {name!r} has shape {tuple(tensor.shape)}; expected {num_nodes} rows"
        )
    return tensor


def to_hetero_batch(
    trees: TreeBatch,
    segment_data: Mapping[str, np.ndarray | torch.Tensor] | None = None,
    *,
    videos: bool = True,
    transcript: Transcript | None = None,
    transcript_data: Mapping[str, np.ndarray | torch.Tensor] | None = None,
) -> Batch:
    """All videos of a batch as a PyG ``Batch`` of per-video ``HeteroData``.

    Args:
        trees (TreeBatch): The videos.
        segment_data (Mapping[str, array], optional): Extra per-segment arrays
            (``x``, ``y``, masks, ...), each with ``trees.num_nodes`` rows in
            node order; one named like a tree column (``height``, ...)
            replaces it. (default: :obj:`None`)
        videos (bool, optional): Add the ``'video'`` nodes and ``has_root``
            edges; :obj:`False` gives segments and their relations only, for
            graphs that are a forest cut out of a video
            (:mod:`graphkit.tasks`). (default: :obj:`True`)
        transcript (Transcript, optional): The batch's aligned transcript
            (:func:`graphkit.transcript.align_transcript`): adds the node type
            ``'transcript'`` (``time``, ``index``) and the relations
            ``('transcript', 'during', 'segment')`` and
            ``('transcript', 'in_video', 'video')`` with their reverses.
            (default: :obj:`None`)
        transcript_data (Mapping[str, array], optional): Extra per-line
            arrays (e.g. features ``x``), one row per stored line.
            (default: :obj:`None`)

    Returns:
        torch_geometric.data.Batch: ``num_graphs == trees.num_videos``.

    Raises:
        ValueError: If a ``segment_data`` array has the wrong number of rows,
            or a transcript is asked for without the video nodes it links to.
    """
    from torch_geometric.data import Batch, HeteroData

    if transcript is not None and not videos:
        raise ValueError("a transcript links its lines to the 'video' nodes; keep videos=True")
    num_videos, num_nodes = trees.num_videos, trees.num_nodes
    node_offsets = torch.from_numpy(trees.node_offsets)
    graph_of_node = torch.from_numpy(trees.video_index)

    batch = Batch(_base_cls=HeteroData)
    slices: dict = {}
    incs: dict = {}

    segment = batch[schema.SEGMENT.pyg_name]
    columns = _segment_columns(trees)
    for name, value in (segment_data or {}).items():
        columns[name] = _as_tensor(name, value, num_nodes)
    for name, value in columns.items():
        segment[name] = value
    segment._num_nodes = trees.nodes_per_video.tolist()
    segment.num_nodes = num_nodes
    segment.batch = graph_of_node
    segment.ptr = node_offsets
    slices[schema.SEGMENT.pyg_name] = {name: node_offsets for name in columns}
    incs[schema.SEGMENT.pyg_name] = {name: torch.zeros(num_videos, dtype=torch.long) for name in columns}

    if videos:
        _add_videos(batch, trees, slices, incs)
    offsets = {schema.SEGMENT: node_offsets[:-1], schema.VIDEO: torch.arange(num_videos)}
    for spec in schema.EDGE_TYPES:
        if not videos and schema.VIDEO in (spec.source, spec.target):
            continue
        edges = trees.edges(spec)
        per_video = torch.from_numpy(trees.edges_per_video(spec))
        edge_slices = torch.cat([torch.zeros(1, dtype=torch.long), per_video.cumsum(0)])
        attrs = {name: torch.from_numpy(value.astype(np.int64) if value.dtype == np.int32 else value)
                 for name, value in edges.attrs.items()}
        for edge_type, (src, dst), (src_type, dst_type) in (
            (spec.pyg_edge_type, (edges.source, edges.target), (spec.source, spec.target)),
            (spec.pyg_reverse_edge_type, (edges.target, edges.source), (spec.target, spec.source)),
        ):
            store = batch[edge_type]
            store.edge_index = torch.from_numpy(np.stack([src, dst]))
            for name, value in attrs.items():
                store[name] = value
            slices[edge_type] = {"edge_index": edge_slices, **{name: edge_slices for name in attrs}}
            inc = torch.stack([offsets[src_type], offsets[dst_type]], dim=1).unsqueeze(-1)
            incs[edge_type] = {
                "edge_index": inc,
                **{name: torch.zeros(num_videos, dtype=torch.long) for name in attrs},
            }

    if transcript is not None:
        _add_transcript(batch, slices, incs, trees, transcript, transcript_data or {})
    batch._slice_dict = slices
    batch._inc_dict = incs
    batch._num_graphs = num_videos
    return batch


def _add_videos(batch: Batch, trees: TreeBatch, slices: dict, incs: dict) -> None:
    """The ``'video'`` store of :func:`to_hetero_batch`, its slices and increments."""
    num_videos = trees.num_videos
    video_offsets = torch.arange(num_videos + 1)
    video = batch[schema.VIDEO.pyg_name]
    video_columns = _video_columns(trees)
    for name, value in video_columns.items():
        video[name] = value
    video._num_nodes = [1] * num_videos
    video.num_nodes = num_videos
    video.batch = torch.arange(num_videos)
    video.ptr = video_offsets
    slices[schema.VIDEO.pyg_name] = {name: video_offsets for name in video_columns}
    incs[schema.VIDEO.pyg_name] = {name: torch.zeros(num_videos, dtype=torch.long) for name in video_columns}


def _add_transcript(batch: Batch, slices: dict, incs: dict, trees: TreeBatch, lines: Transcript,
                    data: Mapping[str, np.ndarray | torch.Tensor]) -> None:
    """The ``'transcript'`` store and its relations, sliced per video like the segments."""
    if lines.num_videos != trees.num_videos:
        raise ValueError(f"the transcript has {lines.num_videos} videos; the batch {trees.num_videos}")
    num_videos = trees.num_videos
    name = schema.TRANSCRIPT.pyg_name
    line_offsets = torch.from_numpy(lines.line_offsets)
    columns = {"time": torch.from_numpy(np.array(lines.time)), "index": torch.from_numpy(lines.index.copy())}
    for key, value in data.items():
        tensor = torch.as_tensor(value)
        if tensor.dim() == 0 or tensor.size(0) != lines.num_lines:
            raise ValueError(f"transcript tensor {key!r} has shape {tuple(tensor.shape)}; "
                             f"expected {lines.num_lines} rows")
        columns[key] = tensor
    store = batch[name]
    for key, value in columns.items():
        store[key] = value
    store._num_nodes = lines.lines_per_video.tolist()
    store.num_nodes = lines.num_lines
    store.batch = torch.from_numpy(lines.video_index)
    store.ptr = line_offsets
    zeros = torch.zeros(num_videos, dtype=torch.long)
    slices[name] = {key: line_offsets for key in columns}
    incs[name] = {key: zeros for key in columns}
    node_offsets = torch.from_numpy(trees.node_offsets)
    during_slices = torch.from_numpy(np.r_[0, np.cumsum(lines.during_per_video)].astype(np.int64))
    relations = (
        (schema.DURING, lines.during_line, lines.during_segment, node_offsets[:-1], during_slices),
        (schema.IN_VIDEO, np.arange(lines.num_lines, dtype=np.int64), lines.video_index,
         torch.arange(num_videos), line_offsets),
    )
    for spec, src, dst, target_offsets, edge_slices in relations:
        for edge_type, pair, offsets in (
            (spec.pyg_edge_type, (src, dst), (line_offsets[:-1], target_offsets)),
            (spec.pyg_reverse_edge_type, (dst, src), (target_offsets, line_offsets[:-1])),
        ):
            batch[edge_type].edge_index = torch.from_numpy(np.stack(pair).astype(np.int64))
            slices[edge_type] = {"edge_index": edge_slices}
            incs[edge_type] = {"edge_index": torch.stack(offsets, dim=1).unsqueeze(-1)}


def to_in_memory_storage(batch: Batch) -> tuple[HeteroData, dict]:
    """A heterogeneous ``Batch`` as an ``InMemoryDataset`` stores it: ``(data, slices)``.

    ``InMemoryDataset`` keeps all graphs in one collated ``HeteroData`` whose
    edge indices are local to each graph, plus the slice table; a ``Batch``
    holds incremented (global) indices. This undoes the increments with the
    batch's own tables, so the pair can be saved as ``InMemoryDataset.save``
    would have written it, without collating graph by graph.

    Args:
        batch (Batch): A batch of ``HeteroData``, e.g. :func:`to_hetero_batch`'s.

    Returns:
        tuple[HeteroData, dict]: The collated store (no ``batch``/``ptr``
        vectors) and ``{store key: {attribute: slices}}``.

    Examples:
        >>> from graphkit.testing import example_rows
        >>> from graphkit.tree import TreeBatch
        >>> data, slices = to_in_memory_storage(to_hetero_batch(TreeBatch.from_arrow(example_rows(2))))
        >>> data['segment', 'parent_of', 'segment'].edge_index.tolist()
        [[0, 0, 0, 0], [1, 2, 1, 2]]
        >>> slices['segment', 'parent_of', 'segment']['edge_index'].tolist()
        [0, 2, 4]
    """
    from torch_geometric.data import HeteroData

    data = HeteroData()
    for store in batch.node_stores:
        for key, value in store.items():
            if key not in ("batch", "ptr"):
                data[store._key][key] = value
        data[store._key].num_nodes = store.num_nodes
    for store in batch.edge_stores:
        inc = batch._inc_dict[store._key]["edge_index"].squeeze(-1)  # [graphs, 2]
        per_graph = batch._slice_dict[store._key]["edge_index"].diff()
        local = store.edge_index - inc.repeat_interleave(per_graph, dim=0).t()
        data[store._key].edge_index = local
        for key, value in store.items():
            if key != "edge_index":
                data[store._key][key] = value
    slices = {key: dict(value) for key, value in batch._slice_dict.items()}
    return data, slices


def to_hetero_data(
    trees: TreeBatch,
    video: int = 0,
    segment_data: Mapping[str, np.ndarray | torch.Tensor] | None = None,
    *,
    transcript: Transcript | None = None,
):
    """One video as a PyG ``HeteroData``.

    Args:
        trees (TreeBatch): The videos.
        video (int, optional): Position of the video in ``trees``. (default: :obj:`0`)
        segment_data (Mapping[str, array], optional): Extra per-segment arrays
            over all of ``trees``' nodes. (default: :obj:`None`)
        transcript (Transcript, optional): Add the transcript lines (see
            :func:`to_hetero_batch`). (default: :obj:`None`)

    Returns:
        torch_geometric.data.HeteroData: Node indices local to the video.
    """
    if not 0 <= video < trees.num_videos:
        raise IndexError(f"video {video} out of range for a batch of {trees.num_videos}")
    return to_hetero_batch(trees, segment_data, transcript=transcript).get_example(video)


def to_homogeneous_batch(
    trees: TreeBatch, segment_data: Mapping[str, np.ndarray | torch.Tensor] | None = None
) -> Batch:
    """All videos as a PyG ``Batch`` of homogeneous ``Data`` over segments.

    Every segment-to-segment relation and its reverse become one
    ``edge_index`` with an ``edge_type`` code indexing
    :data:`HOMOGENEOUS_RELATIONS`; the video nodes and ``has_root`` edges are
    left out, as a homogeneous GNN has no use for them.

    Args:
        trees (TreeBatch): The videos.
        segment_data (Mapping[str, array], optional): Extra per-segment arrays.
            (default: :obj:`None`)

    Returns:
        torch_geometric.data.Batch: One ``Data`` per video, edges grouped by video.

    Examples:
        >>> from graphkit.testing import example_rows
        >>> from graphkit.tree import TreeBatch
        >>> batch = to_homogeneous_batch(TreeBatch.from_arrow(example_rows(1)))
        >>> [HOMOGENEOUS_RELATIONS[t] for t in batch.edge_type.tolist()]
        ['parent_of', 'parent_of', 'rev_parent_of', 'rev_parent_of', 'next', 'rev_next', 'next_leaf', 'rev_next_leaf']
    """
    from torch_geometric.data import Batch, Data

    num_videos, num_nodes = trees.num_videos, trees.num_nodes
    sources, targets, owners, codes = [], [], [], []
    for spec in schema.EDGE_TYPES:
        if spec.source is not schema.SEGMENT:
            continue
        edges = trees.edges(spec)
        owner = trees.video_index[edges.source]
        for src, dst in ((edges.source, edges.target), (edges.target, edges.source)):
            sources.append(src)
            targets.append(dst)
            owners.append(owner)
            codes.append(np.full(len(src), len(codes), dtype=np.int64))
    owner = np.concatenate(owners)
    # Group by video, keeping relation order inside a video: a stable counting
    # sort on the owner (already sorted within each relation block).
    order = np.argsort(owner, kind="stable")
    edge_index = torch.from_numpy(np.stack([np.concatenate(sources)[order], np.concatenate(targets)[order]]))
    edge_type = torch.from_numpy(np.concatenate(codes)[order])
    per_video = np.bincount(owner, minlength=num_videos)
    edge_slices = torch.from_numpy(np.r_[0, np.cumsum(per_video)].astype(np.int64))
    node_offsets = torch.from_numpy(trees.node_offsets)

    batch = Batch(_base_cls=Data)
    columns = _segment_columns(trees)
    for name, value in (segment_data or {}).items():
        columns[name] = _as_tensor(name, value, num_nodes)
    for name, value in columns.items():
        batch[name] = value
    batch.edge_index = edge_index
    batch.edge_type = edge_type
    batch._num_nodes = trees.nodes_per_video.tolist()
    batch.num_nodes = num_nodes
    batch.batch = torch.from_numpy(trees.video_index)
    batch.ptr = node_offsets
    zeros = torch.zeros(num_videos, dtype=torch.long)
    batch._slice_dict = {
        **{name: node_offsets for name in columns},
        "edge_index": edge_slices,
        "edge_type": edge_slices,
    }
    batch._inc_dict = {
        **{name: zeros for name in columns},
        "edge_index": node_offsets[:-1],
        "edge_type": zeros,
    }
    batch._num_graphs = num_videos
    return batch
