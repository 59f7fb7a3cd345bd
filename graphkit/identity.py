"""What makes two nodes the same: identity of videos and segments in every sink.

A video is identified by its ``video_uid``. A segment is identified by the
pair ``(video_uid, node_id)`` (:attr:`graphkit.schema.NodeTypeSpec.identity`):
the published files make ``node_id`` unique *within* a video, and nothing
more, so two videos may use the same ids. Every sink keys segments by the
pair -- Neo4j's composite uniqueness constraint, the CSV importer's ``:ID``,
the networkx node keys (:func:`segment_key`) -- so such videos stay two trees
and never merge. Checking this needs no state across a stream: it holds
batch by batch.

Two *videos* with the same ``video_uid`` are one video twice, which no sink
can store as two; a stream that holds one twice is refused, never merged,
whichever copy comes first. :class:`UniqueVideos` is that check for a sink
that receives a stream of :class:`~graphkit.tree.TreeBatch` es: it remembers
each ``video_uid`` and its position (about 100 bytes per video, nothing per
segment: ~120 MB for the full 1.2M videos) and raises an
:class:`~graphkit.errors.InvariantError` (rule ``duplicate_video_uid``)
naming the video and both positions.

Examples:
    >>> from graphkit.testing import example_rows
    >>> from graphkit.tree import TreeBatch
    >>> trees = TreeBatch.from_arrow(example_rows(2))
    >>> seen = UniqueVideos("the load")
    >>> seen.add(trees)
    >>> seen.videos
    2
    >>> seen.add(trees.select([1]))
    Traceback (most recent call last):
    ...
    graphkit.errors.InvariantError: video 'vid00000001': duplicate_video_uid: video_uid occurs twice in \
the load, as videos #2 and #3 (counting from 1); a video is written once, never merged
    >>> segment_key("vid00000001", "vid00000001-a")
    ('vid00000001', 'vid00000001-a')
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphkit.errors import InvariantError

if TYPE_CHECKING:
    from graphkit.tree import TreeBatch

__all__ = ["DUPLICATE_VIDEO_RULE", "UniqueVideos", "segment_key"]

#: The rule of :data:`graphkit.validation.RULES` a repeated ``video_uid`` breaks.
DUPLICATE_VIDEO_RULE = "duplicate_video_uid"


def segment_key(video_uid: str, node_id: str) -> tuple[str, str]:
    """The identity of a segment: ``(video_uid, node_id)``.

    Args:
        video_uid (str): Its video.
        node_id (str): Its id within the video.

    Returns:
        tuple[str, str]: The pair (a networkx node key, a dictionary key).
    """
    return (video_uid, node_id)


class UniqueVideos:
    """Refuses a ``video_uid`` that a stream of tree batches already held.

    Args:
        stream (str, optional): What the stream is, for messages (``"the
            load"``, ``"the CSV export"``). (default: :obj:`"the stream"`)

    Attributes:
        videos (int): Videos seen so far.
    """

    def __init__(self, stream: str = "the stream") -> None:
        self.stream = stream
        self.videos = 0
        self._first: dict[str, int] = {}

    def add(self, trees: TreeBatch) -> None:
        """Record a batch's videos, or raise if one was seen before (in it or an earlier batch).

        Nothing of a refused batch is recorded.

        Args:
            trees (TreeBatch): The next batch of the stream.

        Raises:
            InvariantError: If a ``video_uid`` occurs twice (rule
                ``duplicate_video_uid``), naming it and both positions.
        """
        uids = trees.video_uid.to_pylist()
        fresh: dict[str, int] = {}
        for offset, uid in enumerate(uids):  # one step per video, none per segment
            first = self._first.get(uid, fresh.get(uid))
            if first is not None:
                raise InvariantError(
                    uid, None, DUPLICATE_VIDEO_RULE,
                    f"video_uid occurs twice in {self.stream}, as videos #{first + 1} and "
                    f"#{self.videos + offset + 1} (counting from 1); a video is written once, never merged",
                )
            fresh[uid] = self.videos + offset
        self._first.update(fresh)
        self.videos += len(uids)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(stream={self.stream!r}, videos={self.videos})"
