"""The Cypher that writes a trained model's predictions onto segments (a sibling of :mod:`graphkit.loaders.neo4j.cypher`).

``graphkit neo4j write-predictions`` sets four properties on each segment of
a run's videos (names from :mod:`graphkit.schema`): ``predicted_<label>``
(``predicted_verb`` for a verb model), ``prediction_confidence``,
``prediction_run`` and ``split``. The statement ``SET`` s them, so running it
again with the same rows leaves the same graph; a row whose segment is not in
the database writes nothing (the statement returns how many it matched).
Which videos the database holds is :func:`graphkit.loaders.neo4j.cypher.existing_videos_query`.

Names are spliced in only from the schema (and checked to be plain
identifiers); every value travels as a parameter.

Examples:
    >>> print(write_predictions_query("verb"))
    UNWIND $rows AS row
    MATCH (s:Segment {video_uid: row.video_uid, node_id: row.node_id})
    SET s.predicted_verb = row.predicted, s.prediction_confidence = row.confidence, \
s.prediction_run = $run, s.split = row.split
    RETURN count(s) AS written
"""

from __future__ import annotations

import re

from graphkit import schema
from graphkit.labels import LABEL_KINDS

__all__ = ["predicted_property", "write_predictions_query"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _checked(identifier: str) -> str:
    if not _IDENTIFIER.match(identifier):
        raise ValueError(f"{identifier!r} is not a plain Cypher identifier")
    return identifier


def predicted_property(label: str) -> str:
    """The segment property that holds a run's predicted class: ``predicted_<label>``.

    Args:
        label (str): The run's label kind (:data:`graphkit.labels.LABEL_KINDS`).

    Raises:
        ValueError: If ``label`` is not a label kind.

    Examples:
        >>> predicted_property("verb")
        'predicted_verb'
    """
    if label not in LABEL_KINDS:
        raise ValueError(f"unknown label kind {label!r}; expected one of {LABEL_KINDS}")
    return _checked(schema.PREDICTED_PREFIX + label)


def write_predictions_query(label: str) -> str:
    """Set a run's predictions on the segments of ``$rows``; return how many segments matched.

    Each row is ``{video_uid, node_id, predicted, confidence, split}``;
    ``$run`` is the run's id. The segment is matched on its whole identity
    (the uniqueness constraint's index).

    Args:
        label (str): The run's label kind.

    Returns:
        str: A statement with the parameters ``$rows`` and ``$run``,
        returning the column ``written``.
    """
    key, video_key = _checked(schema.SEGMENT.key), _checked(schema.VIDEO.key)
    assignments = ", ".join([
        f"s.{predicted_property(label)} = row.predicted",
        f"s.{_checked(schema.PREDICTION_CONFIDENCE)} = row.confidence",
        f"s.{_checked(schema.PREDICTION_RUN)} = $run",
        f"s.{_checked(schema.SPLIT_PROPERTY)} = row.split",
    ])
    return "\n".join([
        "UNWIND $rows AS row",
        f"MATCH (s:{_checked(schema.SEGMENT.label)} {{{video_key}: row.{video_key}, {key}: row.{key}}})",
        f"SET {assignments}",
        "RETURN count(s) AS written",
    ])
