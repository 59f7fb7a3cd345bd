"""The ``graphkit transcript`` command, and how the commands that write transcript lines report them.

``graphkit transcript SOURCE...`` aligns every video's ASR lines to its
leaves (:func:`graphkit.transcript.align_transcript`) and prints, per video
that has any, the lines outside every leaf (kept, linked to the video only)
and the lines not stored (a time that is not a decimal, negative or not
finite), then the totals; ``--json`` prints one object ``{"videos": [{
"video_uid", "lines", "stored", "during", "outside", "unparsable",
"negative", "non_finite"}, ...], "totals": {same counts}}`` with every video.
``neo4j load --transcript`` and ``neo4j export-csv --transcript`` print the
same lines (:func:`report_transcript`).
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from graphkit.cli.app import (
    NonStrict,
    SkipInvalid,
    Sources,
    app,
    check_sources,
    console,
    emit,
    emit_json,
    report_skips,
    run,
    shorten,
    validation_config,
)

__all__ = ["report_transcript", "quiet_transcript_log"]


def quiet_transcript_log() -> None:
    """Leave the aligner's log lines out: the command prints the report itself."""
    logging.getLogger("graphkit.transcript").setLevel(logging.ERROR)


def report_transcript(report, limit: int = 20) -> None:
    """One line per video with lines outside every leaf or not stored (up to ``limit``), then the totals, on stderr."""
    lines = report.lines()
    for line in lines[:limit]:
        console.print(f"  {shorten(line)}", highlight=False, markup=False, emoji=False)
    if len(lines) > limit:
        console.print(f"  ... and {len(lines) - limit} more videos")
    t = report.totals()
    console.print(
        f"transcript: {t['stored']:,} of {t['lines']:,} lines stored, {t['during']:,} in a leaf, "
        f"{t['outside']:,} outside every leaf, {t['unparsable'] + t['negative'] + t['non_finite']:,} with an "
        f"invalid time (not stored)", highlight=False, markup=False)


@app.command()
def transcript(
    sources: Sources,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print one JSON object: every video's counts, totals.")] = False,
    skip_invalid: SkipInvalid = False,
    non_strict: NonStrict = False,
) -> None:
    """Align each video's ASR transcript to its leaves; report lines outside every leaf or with a bad time."""
    from graphkit.loaders.trees import iter_tree_batches
    from graphkit.schema import STRUCTURE_FIELDS
    from graphkit.transcript import REPORT_FIELDS, TranscriptReport, align_transcript
    from graphkit.validation import ValidationReport

    quiet_transcript_log()

    def body() -> tuple[TranscriptReport, list[dict]]:
        check_sources(sources)
        validation = ValidationReport()
        batches = iter_tree_batches(sources, node_fields=STRUCTURE_FIELDS, metadata=True,
                                    validation=validation_config(skip_invalid, non_strict), report=validation)
        reports, videos = [], []
        for trees in batches:
            report = align_transcript(trees).report
            if as_json:
                videos += [{"video_uid": uid, **dict(zip(REPORT_FIELDS, row))}
                           for uid, row in zip(report.video_uid, report.counts.tolist())]
            reports.append(report.compact())  # memory: the videos with a problem, not all
        report_skips(validation)
        return TranscriptReport.concat(reports), videos

    report, videos = run(body)
    if as_json:
        emit_json({"videos": videos, "totals": report.totals()})
        return
    for line in report.lines():
        emit(line)
    t = report.totals()
    emit(f"{t['lines']:,} transcript lines: {t['stored']:,} stored, {t['during']:,} in a leaf, "
         f"{t['outside']:,} outside every leaf, {t['unparsable']:,} unparsable, {t['negative']:,} negative, "
         f"{t['non_finite']:,} non-finite")
