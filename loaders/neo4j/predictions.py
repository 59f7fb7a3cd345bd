"""Write a trained model's predictions back onto the graph's segments: :func:`write_predictions`.

``graphkit neo4j write-predictions RUN_DIR`` predicts every segment of a
training run's videos (:class:`graphkit.models.predictions.SegmentPredictor`)
and sets, on each ``:Segment``, ``predicted_<label>`` (``predicted_verb`` for
a verb model), ``prediction_confidence`` (the softmax maximum),
``prediction_run`` (the run's id) and ``split`` (its video's split), in
batched ``UNWIND`` writes (:mod:`graphkit.loaders.neo4j.prediction_cypher`),
each a ``session.execute_write`` transaction of at most ``batch_size`` rows.

* **Idempotent**: the writes ``SET`` the same values, so a second run leaves
  the same graph (the same run's predictions are deterministic).
* **Videos not in the graph** are reported, not an error: before a batch is
  written, one query asks which of its videos the database holds
  (:func:`graphkit.loaders.neo4j.cypher.existing_videos_query`); the others
  are counted and named in :class:`PredictionReport`. A segment of a loaded
  video that the graph lacks (a graph loaded from another version of the
  source) is counted too.

A reload of a video (``graphkit neo4j load``) replaces its segments, and with
them their predictions: write them again after it.

A typical use (not run here: it needs a server and a trained run)::

    from graphkit.loaders.neo4j.connection import connect
    from graphkit.loaders.neo4j.predictions import write_predictions
    from graphkit.models.predictions import SegmentPredictor

    predictor = SegmentPredictor("runs/hier")
    with connect() as driver:
        report = write_predictions(driver, predictor.iter_batches(), label=predictor.label,
                                   run=predictor.run_id)
    print(report.summary())

Examples:
    >>> report = PredictionReport(run="mlp-0123456789ab", property="predicted_verb", videos=7,
    ...                           segments=2715, missing_videos=2, missing_examples=("a", "b"))
    >>> print(report.summary())
    wrote predicted_verb of run 'mlp-0123456789ab' on 2,715 segments of 7 videos; \
2 videos predicted are not in the graph ('a', 'b'): not written
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from graphkit.arrays import shortest_decimal
from graphkit.loaders.neo4j import cypher
from graphkit.loaders.neo4j.connection import neo4j_errors
from graphkit.loaders.neo4j.prediction_cypher import predicted_property, write_predictions_query

if TYPE_CHECKING:
    import neo4j

    from graphkit.models.predictions import PredictionBatch

__all__ = ["PredictionReport", "prediction_rows", "write_predictions"]

#: How many missing videos a report names.
_EXAMPLES = 5


@dataclass(frozen=True)
class PredictionReport:
    """What :func:`write_predictions` wrote.

    Args:
        run (str): The run's id.
        property (str): The property that holds the prediction (``predicted_verb``).
        videos (int): Videos whose segments were written.
        segments (int): Segments written.
        missing_videos (int): Videos of the predictions not in the graph (not written).
        missing_examples (tuple[str, ...]): The first few of them.
        missing_segments (int): Segments of loaded videos that the graph lacks.
        seconds (float): Wall time.
    """

    run: str
    property: str
    videos: int = 0
    segments: int = 0
    missing_videos: int = 0
    missing_examples: tuple[str, ...] = ()
    missing_segments: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        """One line: what was written, and what was not."""
        line = (f"wrote {self.property} of run {self.run!r} on {self.segments:,} segments of "
                f"{self.videos:,} videos")
        if self.missing_videos:
            named = ", ".join(repr(uid) for uid in self.missing_examples)
            more = ", ..." if self.missing_videos > len(self.missing_examples) else ""
            plural = "video predicted is" if self.missing_videos == 1 else "videos predicted are"
            line += f"; {self.missing_videos:,} {plural} not in the graph ({named}{more}): not written"
        if self.missing_segments:
            line += (f"; {self.missing_segments:,} segments of loaded videos are not in the graph "
                     "(loaded from another version of the source?)")
        return line


def prediction_rows(batch: PredictionBatch, keep: pa.Array | None = None) -> list[dict]:
    """The ``$rows`` of :func:`~graphkit.loaders.neo4j.prediction_cypher.write_predictions_query` for a batch.

    Args:
        batch (PredictionBatch): One tree batch's predictions.
        keep (pyarrow.Array, optional): A boolean mask of the segments to
            write; all by default. (default: :obj:`None`)

    Returns:
        list[dict]: ``{video_uid, node_id, predicted, confidence, split}``
        per segment; the confidence is the float32's shortest decimal.

    Examples:
        >>> import numpy as np
        >>> from graphkit.models.predictions import PredictionBatch
        >>> batch = PredictionBatch(pa.array(["v", "v"]), pa.array(["r", "a"]), pa.array(["cut", "<other>"]),
        ...                         np.array([0.7, 0.25], np.float32), pa.array(["test", "test"]), pa.array(["v"]))
        >>> prediction_rows(batch, pa.array([False, True]))
        [{'video_uid': 'v', 'node_id': 'a', 'predicted': '<other>', 'confidence': 0.25, 'split': 'test'}]
    """
    columns = {
        "video_uid": batch.video_uid, "node_id": batch.node_id, "predicted": batch.predicted,
        "confidence": pa.array(shortest_decimal(batch.confidence)), "split": batch.split,
    }
    if keep is not None:
        columns = {name: pc.filter(values, keep) for name, values in columns.items()}
    names = list(columns)
    return [dict(zip(names, values)) for values in zip(*(c.to_pylist() for c in columns.values()))]


def _existing(tx: neo4j.ManagedTransaction, videos: list[str]) -> list[str]:
    return [record["video_uid"] for record in tx.run(cypher.existing_videos_query(), rows=videos)]


def _write(tx: neo4j.ManagedTransaction, query: str, rows: list[dict], run: str) -> int:
    return int(tx.run(query, rows=rows, run=run).single()["written"])


def write_predictions(
    driver: neo4j.Driver,
    batches: Iterable[PredictionBatch],
    *,
    label: str,
    run: str,
    database: str = "neo4j",
    batch_size: int = 10_000,
    progress: Callable[[PredictionReport], None] | None = None,
) -> PredictionReport:
    """Set each segment's prediction, its confidence, the run and the video's split (idempotent).

    Args:
        driver (neo4j.Driver): The driver; it is not closed.
        batches (Iterable[PredictionBatch]): Predictions, e.g.
            :meth:`SegmentPredictor.iter_batches <graphkit.models.predictions.SegmentPredictor.iter_batches>`.
        label (str): The run's label kind (``"verb"`` writes ``predicted_verb``).
        run (str): The run's id (:func:`graphkit.models.predictions.run_id`).
        database (str, optional): The database. (default: :obj:`"neo4j"`)
        batch_size (int, optional): Segments per write transaction.
            (default: :obj:`10000`)
        progress (Callable, optional): Called with the running report after
            each transaction. (default: :obj:`None`)

    Returns:
        PredictionReport: Segments and videos written, and those of the
        predictions that the graph lacks.

    Raises:
        ValueError: If ``label`` is unknown or ``batch_size`` is not positive.
        Neo4jLoadError: If the server cannot be reached, refuses the
            credentials or lacks the database.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    report = PredictionReport(run=run, property=predicted_property(label))
    query = write_predictions_query(label)
    started = time.perf_counter()
    examples: list[str] = list(report.missing_examples)
    with neo4j_errors(database), driver.session(database=database) as session:
        for batch in batches:
            videos = batch.videos.to_pylist()
            held = session.execute_read(_existing, videos)
            held_set = set(held)
            missing = [uid for uid in videos if uid not in held_set]
            examples += missing[: max(0, _EXAMPLES - len(examples))]
            keep = pc.is_in(batch.video_uid, value_set=pa.array(held, type=pa.string()))
            rows = prediction_rows(batch, keep)
            written = 0
            for start in range(0, len(rows), batch_size):
                chunk = rows[start : start + batch_size]
                written += session.execute_write(_write, query, chunk, run)
                if progress is not None:
                    progress(replace(report, segments=report.segments + written))
            report = replace(
                report, videos=report.videos + len(held), segments=report.segments + written,
                missing_videos=report.missing_videos + len(missing), missing_examples=tuple(examples),
                missing_segments=report.missing_segments + len(rows) - written,
                seconds=time.perf_counter() - started,
            )
    return report
