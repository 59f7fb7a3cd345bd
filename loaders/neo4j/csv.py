"""CSV files for ``neo4j-admin database import full``: the bulk path into Neo4j.

Loading over Bolt (``graphkit.loaders.neo4j.writer``) suits thousands to millions of
entities; the preview's ~15M segments, and the full set's ~147M, load much
faster with Neo4j's offline importer, which reads CSV files into a fresh
database. :func:`export_csv` writes those files from
:class:`~graphkit.tree.TreeBatch` batches, one node file per node type and one
relationship file per edge type of :mod:`graphkit.schema`::

    videos.csv     :ID(Video),video_uid:string,title:string,...,transcript_text:string[],:LABEL
    segments.csv   :ID(Segment),node_id:string,video_uid:string,level:int,start:double,...,:LABEL
    parent_of.csv  :START_ID(Segment),:END_ID(Segment),:TYPE,order:int
    next.csv       :START_ID(Segment),:END_ID(Segment),:TYPE,gap:double
    next_leaf.csv  :START_ID(Segment),:END_ID(Segment),:TYPE
    has_root.csv   :START_ID(Video),:END_ID(Segment),:TYPE

Every name and type in the headers comes from :mod:`graphkit.schema` (each
property becomes ``name:neo4j_type``), so the files always agree with the
Bolt loader and the other exporters.

**Identity.** A video is identified by ``video_uid``, a segment by
``(video_uid, node_id)`` (:mod:`graphkit.identity`); both are stored as the
plain properties they are. Each node's ``:ID(Label)`` column is an integer
import id (:class:`~graphkit.loaders.neo4j.csv_tables.ImportIds`: consecutive
per label over the whole export, not stored), by which the relationship files
name their endpoints: the importer maps integers much faster than strings. A
stream that holds one ``video_uid`` twice is refused while exporting
(:class:`~graphkit.identity.UniqueVideos`), naming the video, rather than
being imported as two videos or failing later inside the importer.

**Numbers.** ``start``, ``end``, ``duration`` and ``gap`` are written as the
shortest decimal that round-trips their float32 (``70.67``) and declared
``double``, so the importer stores exactly the float64 the Bolt loader
stores (:func:`graphkit.arrays.shortest_decimal`).

**Stale files.** A directory that held an earlier export is left holding
exactly the new one: files of graphkit's names for these types that the new
export did not write (other shard counts, the other compression) are
removed once it is complete. An export that fails removes the files it was
writing (a file of the same name from an earlier export is gone by then),
so a half-written file is never imported.

**Encoding.** Columns are built with Arrow (no Python loop per row) and written
by :func:`pyarrow.csv.write_csv` semantics, batch by batch, the header once:

* every non-null string is enclosed in double quotes, inner quotes doubled
  (RFC 4180); backslashes are plain characters; an empty string is ``""``;
* a null is an empty, unquoted field, which the importer treats as *absent*:
  Neo4j stores no nulls;
* ``string[]`` columns join their elements with :data:`ARRAY_DELIMITER`
  (U+001F, the ASCII unit separator, which never occurs in text); an element
  that holds it, or a null element, raises :class:`CsvExportError`. Neo4j's
  importer cannot write an empty array, so an empty list is stored as absent,
  like a null one;
* captions hold newlines, so the files that hold any ``\\n`` or ``\\r`` are
  recorded in :attr:`CsvExport.multiline_files`, and the importer's slower
  multi-line parser is switched on only when there is one (``--multiline-fields=true``; it slows the whole import several times).

The exact importer options that read these files back verbatim are
:data:`IMPORT_OPTIONS`; :meth:`CsvExport.import_args` gives the whole
``neo4j-admin`` command line, and :func:`graphkit.loaders.neo4j.admin_import.run_import` runs
it.

Examples:
    >>> import tempfile
    >>> from graphkit.testing import example_rows
    >>> from graphkit.tree import TreeBatch
    >>> export = export_csv(TreeBatch.from_arrow(example_rows(2)), tempfile.mkdtemp())
    >>> export.row_counts
    {'Video': 2, 'Segment': 6, 'PARENT_OF': 4, 'NEXT': 2, 'NEXT_LEAF': 2, 'HAS_ROOT': 2}
    >>> export.files["PARENT_OF"].read_text().splitlines()[:2]
    [':START_ID(Segment),:END_ID(Segment),:TYPE,order:int', '0,1,"PARENT_OF",0']
    >>> export.import_args()[:4]
    ['database', 'import', 'full', 'neo4j']
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from graphkit import schema
from graphkit.identity import UniqueVideos
from graphkit.loaders.neo4j.csv_tables import (
    ARRAY_DELIMITER,
    ImportIds,
    edge_header,
    empty_schema,
    import_tables,
    node_header,
)
from graphkit.loaders.neo4j.embeddings import SegmentEmbedder, as_embedder
from graphkit.loaders.neo4j.shards import DEFAULT_COMPRESSION_LEVEL, ShardWriters, default_shards
from graphkit.loaders.neo4j.transcript_csv import TRANSCRIPT_SPECS, transcript_tables
from graphkit.transcript import TranscriptReport
from graphkit.tree import TreeBatch

__all__ = [
    "ARRAY_DELIMITER",
    "IMPORT_OPTIONS",
    "CsvExport",
    "ImportIds",
    "csv_file_name",
    "edge_header",
    "export_csv",
    "import_tables",
    "node_header",
]

logger = logging.getLogger(__name__)

IMPORT_OPTIONS: dict[str, str] = {
    "--delimiter": ",",
    "--array-delimiter": "U+001F",
    "--quote": '"',
    "--id-type": "integer",
    "--input-encoding": "UTF-8",
    "--ignore-empty-strings": "false",
    "--trim-strings": "false",
    "--legacy-style-quoting": "false",
    "--normalize-types": "true",
    "--skip-bad-relationships": "false",
    "--skip-duplicate-nodes": "false",
    "--bad-tolerance": "0",
}
"""The ``neo4j-admin database import full`` options that read :func:`export_csv`'s
files back exactly: comma-separated, ``"``-quoted with doubled inner quotes
(a backslash is a plain character), ``""`` is the empty string, nothing
trimmed, arrays split at U+001F, and any bad entry aborts the import."""

_NEWLINES = (ord("\n"), ord("\r"))


def csv_file_name(spec: schema.NodeTypeSpec | schema.EdgeTypeSpec, *, compress: bool = False) -> str:
    """The file name of a node or edge type: ``videos.csv``, ``parent_of.csv``.

    Args:
        spec (NodeTypeSpec or EdgeTypeSpec): A type of :mod:`graphkit.schema`.
        compress (bool, optional): Add ``.gz``. (default: :obj:`False`)

    Examples:
        >>> csv_file_name(schema.SEGMENT), csv_file_name(schema.NEXT_LEAF, compress=True)
        ('segments.csv', 'next_leaf.csv.gz')
    """
    stem = spec.label.lower() + "s" if isinstance(spec, schema.NodeTypeSpec) else spec.name.lower()
    return stem + (".csv.gz" if compress else ".csv")


@dataclass
class CsvExport:
    """The files :func:`export_csv` wrote, and how to import them.

    Args:
        out_dir (pathlib.Path): The directory holding the files.
        files (dict[str, pathlib.Path]): File by node label or relationship
            type (``"Video"``, ``"Segment"``, ``"PARENT_OF"``, ...); with
            several shards, the first (the one with the header).
        row_counts (dict[str, int]): Data rows (header excluded) by the same keys.
        multiline_files (tuple[pathlib.Path, ...]): Files with a newline inside
            a value, to be read with the importer's multi-line parser.
        seconds (float): Time spent building and writing the files (not
            counting the time the input iterator took to produce batches).
        bytes_written (int): Total size of the files.
        shard_files (dict[str, tuple[pathlib.Path, ...]]): Every file by the
            same keys, in import order: the first (``files[key]``) holds the
            header, the others continue it. By default ``files``' one file
            per key. (default: :obj:`None`)
        embedding (tuple[str, int], optional): The embeddings' ``(encoder, dim)``. (default: :obj:`None`)
    """

    out_dir: Path
    files: dict[str, Path]
    row_counts: dict[str, int]
    multiline_files: tuple[Path, ...] = ()
    seconds: float = 0.0
    bytes_written: int = 0
    shard_files: dict[str, tuple[Path, ...]] = field(default_factory=dict)
    embedding: tuple[str, int] | None = None
    transcript: TranscriptReport | None = None  # how the lines aligned, with transcript=True
    _node_keys: tuple[str, ...] = field(default=tuple(s.label for s in schema.NODE_TYPES), repr=False)

    def __post_init__(self) -> None:
        for key, path in self.files.items():
            self.shard_files.setdefault(key, (path,))

    @property
    def rows(self) -> int:
        """Total data rows over all files (nodes plus relationships)."""
        return sum(self.row_counts.values())

    @property
    def nodes(self) -> int:
        """Node rows over all node files."""
        return sum(self.row_counts[k] for k in self._node_keys)

    @property
    def relationships(self) -> int:
        """Relationship rows over all relationship files."""
        return self.rows - self.nodes

    @property
    def rows_per_s(self) -> float:
        """:attr:`rows` per second of :attr:`seconds`."""
        return self.rows / self.seconds if self.seconds > 0 else float("inf")

    def import_args(self, database: str = "neo4j", *, report_file: str | os.PathLike[str] | None = None) -> list[str]:
        """The ``neo4j-admin`` arguments that import these files exactly.

        Args:
            database (str, optional): The database to import into; it must not
                exist yet or be empty. (default: :obj:`"neo4j"`)
            report_file (str or os.PathLike, optional): Where the importer
                writes its report of bad entries; by default
                ``<out_dir>/import.report``. (default: :obj:`None`)

        Returns:
            list[str]: ``["database", "import", "full", database, "--nodes=...",
            ..., "--relationships=...", ..., *IMPORT_OPTIONS, "--report-file=..."]``,
            to follow ``neo4j-admin`` (or ``java -cp ... org.neo4j.cli.AdminTool``).

        Raises:
            ValueError: If ``database`` is not a valid Neo4j database name.
            """
        if not isinstance(database, str) or not database or not all(c.isalnum() or c in ".-" for c in database):
            raise ValueError(f"database must be a Neo4j database name (letters, digits, '.', '-'), got {database!r}")
        report = Path(report_file) if report_file is not None else self.out_dir / "import.report"
        args = ["database", "import", "full", database]
        args += [f"--nodes={self._file_group(key)}" for key in self._node_keys]
        args += [f"--relationships={self._file_group(key)}" for key in self.files if key not in self._node_keys]
        args += [f"{name}={value}" for name, value in IMPORT_OPTIONS.items()]
        if self.multiline_files:
            # Neo4j 5.26's per-file parser (--multiline-fields-format=v2) rejects
            # valid multi-line files larger than its read buffer ("found CR
            # outside a text cell"), so the whole import uses the v1 parser.
            args.append("--multiline-fields=true")
        args.append(f"--report-file={report}")
        return args

    def _file_group(self, key: str) -> str:
        # The importer reads a comma-separated group of files as one file.
        paths = [str(path) for path in self.shard_files[key]]
        if any("," in path for path in paths):
            raise ValueError(f"neo4j-admin cannot read a file whose path holds a comma: {paths}")
        return ",".join(paths)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(out_dir={str(self.out_dir)!r}, nodes={self.nodes}, "
            f"relationships={self.relationships}, rows_per_s={self.rows_per_s:.0f})"
        )


def export_csv(
    batches: TreeBatch | Iterable[TreeBatch],
    out_dir: str | os.PathLike[str],
    *,
    compress: bool = False,
    shards: int | None = None,
    compression_level: int = DEFAULT_COMPRESSION_LEVEL,
    embed: SegmentEmbedder | str | None = None,
    transcript: bool = False,
) -> CsvExport:
    """Writes tree batches as ``neo4j-admin database import full`` CSV files.

    Streams: each batch is converted and handed to a writer thread as it
    comes, so memory is bounded by a few batches (one per shard); each type's
    header is written once. Existing files of the same names in ``out_dir``
    are overwritten. Text fields and metadata that the batches did not read
    (see ``node_fields`` and ``metadata`` of
    :func:`graphkit.loaders.trees.iter_tree_batches`) are written as absent.

    With ``shards > 1`` every type gets that many files, batches dealt to them
    round-robin and written by as many threads at once
    (:mod:`graphkit.loaders.neo4j.shards`); :meth:`CsvExport.import_args` lists
    them in order, header first, so the importer reads them as one file.

    Args:
        batches (TreeBatch or Iterable[TreeBatch]): The videos.
        out_dir (str or os.PathLike): Directory for the files (created if missing).
        compress (bool, optional): Write gzip files (``*.csv.gz``), which the
            importer reads directly: about 5x smaller. (default: :obj:`False`)
        shards (int, optional): Files per type, written concurrently; by
            default one per core (at most 8) with ``compress``, else one
            (:func:`~graphkit.loaders.neo4j.shards.default_shards`).
            (default: :obj:`None`)
        compression_level (int, optional): gzip level, 1 (fastest) to 9.
            (default: :data:`~graphkit.loaders.neo4j.shards.DEFAULT_COMPRESSION_LEVEL`)
        embed (SegmentEmbedder or str, optional): Also write the segments'
            embeddings by this encoder (:mod:`~graphkit.loaders.neo4j.embeddings`),
            a ``float[]`` column. (default: :obj:`None`)
        transcript (bool, optional): Also write the transcript lines
            (:mod:`graphkit.loaders.neo4j.transcript_csv`); the alignment
            report is :attr:`CsvExport.transcript`. (default: :obj:`False`)

    Returns:
        CsvExport: Files, row counts, timing and :meth:`~CsvExport.import_args`.

    Raises:
        CsvExportError: If a ``string[]`` element is null or holds
            :data:`ARRAY_DELIMITER` (the message names the video).
        InvariantError: If a ``video_uid`` occurs twice in ``batches`` (rule
            ``duplicate_video_uid``, naming the video and both positions).
        TypeError: If a batch is not a :class:`~graphkit.tree.TreeBatch`.
        ValueError: If ``shards`` or ``compression_level`` is out of range.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if isinstance(batches, TreeBatch):
        batches = [batches]
    multiline: set[str] = set()

    def inspect(key: str, table: pa.Table) -> None:
        if key not in multiline and _has_newline(table):
            multiline.add(key)

    specs: list[schema.NodeTypeSpec | schema.EdgeTypeSpec] = [*schema.NODE_TYPES, *schema.EDGE_TYPES]
    specs += TRANSCRIPT_SPECS if transcript else []
    reports: list = []
    types = {_key(spec): (csv_file_name(spec).removesuffix(".csv"), empty_schema(spec)) for spec in specs}
    embedder = as_embedder(embed)
    if embedder is not None:
        name, columns = types[schema.SEGMENT.label]
        types[schema.SEGMENT.label] = (name, embedder.csv_schema(columns))
    writers = ShardWriters(
        out, types, shards=default_shards(compress) if shards is None else shards,
        compress=compress, compression_level=compression_level, inspect=inspect,
    )
    busy = 0.0
    unique = UniqueVideos("the CSV export")
    import_ids = ImportIds()
    try:
        for batch in batches:
            if not isinstance(batch, TreeBatch):
                raise TypeError(f"export_csv expects TreeBatch objects, got {type(batch).__name__}")
            unique.add(batch)
            started = time.perf_counter()
            ids = import_ids.batch(batch)
            tables = import_tables(batch, ids)
            if embedder is not None:
                tables[schema.SEGMENT.label] = embedder.csv_table(tables[schema.SEGMENT.label], batch, ARRAY_DELIMITER)
            if transcript:
                tables.update(transcript_tables(batch, ids, import_ids, reports))
            writers.submit(tables)
            busy += time.perf_counter() - started
    except BaseException:
        # An incomplete export is no export: its files are removed, so no
        # half-written file is ever imported.
        try:
            writers.close()
        finally:
            for paths in writers.files.values():
                for path in paths:
                    path.unlink(missing_ok=True)
        raise
    started = time.perf_counter()
    writers.close()
    busy += time.perf_counter() - started
    shard_files = writers.files
    written = {path.name for paths in shard_files.values() for path in paths}
    _remove_stale_files(out, [*specs, *TRANSCRIPT_SPECS], written)
    export = CsvExport(
        out_dir=out,
        files={key: paths[0] for key, paths in shard_files.items()},
        row_counts=writers.rows,
        multiline_files=tuple(path for key, paths in shard_files.items() if key in multiline for path in paths),
        seconds=busy,
        bytes_written=sum(path.stat().st_size for paths in shard_files.values() for path in paths),
        shard_files=shard_files,
        embedding=None if embedder is None else (embedder.name, embedder.dim),
        _node_keys=tuple(spec.label for spec in specs if isinstance(spec, schema.NodeTypeSpec)),
    )
    export.transcript = TranscriptReport.concat(reports) if transcript else None
    logger.info(
        "wrote %d nodes and %d relationships to %s in %.2f s (%.0f rows/s)",
        export.nodes, export.relationships, out, busy, export.rows_per_s,
    )
    return export


def _remove_stale_files(out: Path, specs: list, written: set[str]) -> None:
    """Remove the files of graphkit's names for these types that this export did not write."""
    stems = "|".join(re.escape(csv_file_name(spec).removesuffix(".csv")) for spec in specs)
    pattern = re.compile(rf"^(?:{stems})(?:-\d{{5}})?\.csv(?:\.gz)?$")
    for path in out.iterdir():
        if path.is_file() and pattern.match(path.name) and path.name not in written:
            logger.info("removing %s, left by an earlier export", path)
            path.unlink()


def _key(spec: schema.NodeTypeSpec | schema.EdgeTypeSpec) -> str:
    return spec.label if isinstance(spec, schema.NodeTypeSpec) else spec.name


def _has_newline(table: pa.Table) -> bool:
    """Whether a string column holds ``\\n`` or ``\\r``: a byte scan of the data buffers."""
    for column in table.columns:
        if not pa.types.is_string(column.type):
            continue
        for chunk in column.chunks:
            data = chunk.buffers()[2]
            if data is None or data.size == 0:
                continue
            raw = np.frombuffer(data, dtype=np.uint8)
            # A sliced array may share a larger buffer: a newline outside the
            # slice only costs the slower parser, never a wrong value.
            if (raw == _NEWLINES[0]).any() or (raw == _NEWLINES[1]).any():
                return True
    return False


