"""The schema of a bulk-imported graph: constraints and search indexes, created after ``neo4j-admin``.

``neo4j-admin database import full`` writes store files only: no
constraint, no index. :func:`create_imported_schema` starts the dev server
(:class:`~graphkit.loaders.neo4j.server.DevServer`) on the Neo4j home the
import wrote, runs the same schema statements as the Bolt loader -- the
uniqueness constraints and the ``Video.video_uid`` index of
:mod:`graphkit.loaders.neo4j.cypher`, the full-text index, and, when the
export carried embeddings (``export_csv(embed=...)``), the vector index of
their encoder (:mod:`graphkit.loaders.neo4j.search`) -- and stops the
server. ``graphkit neo4j export-csv --import-into HOME`` runs it after the
import.

A uniqueness constraint is in force once its statement returns, so the
constraints are always complete when this returns. The indexes are
populated by the server in the background, and carry on where they left off
the next time a server runs on the home: that takes longer than the import
itself at the preview's size (the full-text index most: about a minute at
10% of the preview), so by default nothing waits for them. Until an index is
``ONLINE`` the planner does not use it (a query is slower, never wrong) and a
search on it is refused with its progress
(:func:`~graphkit.loaders.neo4j.search.require_online`);
``wait_for_indexes=True`` (``--wait-for-indexes``) waits here instead.

Without waiting, the server only builds the constraints, and gets the
importer's heap (:func:`~graphkit.loaders.neo4j.admin_import.import_heap`)
and a :data:`CONSTRAINTS_PAGE_CACHE` page cache instead of the dev server's
defaults (an eighth of the machine each): on the whole preview the
constraints step then stays under 3 GiB of RSS.

Typical use (not run here: it starts a JVM)::

    export = export_csv(batches, "csv/", embed="minilm")
    run_import(export, "neo4j-home")
    create_imported_schema(export, "neo4j-home")
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from graphkit.loaders.neo4j import cypher, search_cypher
from graphkit.loaders.neo4j.admin_import import import_heap
from graphkit.loaders.neo4j.connection import neo4j_errors
from graphkit.loaders.neo4j.csv import CsvExport
from graphkit.loaders.neo4j.search import create_search_indexes
from graphkit.loaders.neo4j.server import DevServer

__all__ = ["CONSTRAINTS_PAGE_CACHE", "create_imported_schema"]

#: Page cache of the server that only builds the constraints: the uniqueness indexes are built by
#: one scan of each label's nodes, which the operating system's file cache serves as well.
CONSTRAINTS_PAGE_CACHE = "1g"

logger = logging.getLogger(__name__)


def create_imported_schema(
    csv_export: CsvExport,
    neo4j_home: str | os.PathLike[str],
    *,
    database: str = "neo4j",
    wait_for_indexes: bool = False,
    index_timeout: float = 3600.0,
    **server_options,
) -> None:
    """Create the constraints and the indexes of an imported graph.

    Args:
        csv_export (CsvExport): The export that was imported (its
            :attr:`~graphkit.loaders.neo4j.csv.CsvExport.embedding` names the
            vector index to create, if any).
        neo4j_home (str or os.PathLike): The Neo4j home the import wrote; no
            server may be running on it.
        database (str, optional): The database. (default: :obj:`"neo4j"`)
        wait_for_indexes (bool, optional): Wait until every index is
            populated before stopping the server, rather than leaving them to
            populate the next time a server runs. (default: :obj:`False`)
        index_timeout (float, optional): Seconds to wait for the indexes to be
            populated, with ``wait_for_indexes``. (default: :obj:`3600.0`)
        **server_options: Passed to :class:`~graphkit.loaders.neo4j.server.DevServer`
            (``heap``, ``page_cache``, ``jvm_options``...); without
            ``wait_for_indexes``, ``heap`` and ``page_cache`` default to the
            importer's heap and :data:`CONSTRAINTS_PAGE_CACHE`.

    Raises:
        Neo4jServerError: If the server cannot start.
        Neo4jLoadError: If a statement fails, or (with ``wait_for_indexes``)
            the indexes are not online in time.
        TypeError: If ``csv_export`` is not a :class:`~graphkit.loaders.neo4j.csv.CsvExport`.
    """
    import neo4j

    if not isinstance(csv_export, CsvExport):
        raise TypeError(f"csv_export must be a CsvExport from export_csv, got {type(csv_export).__name__}")
    if not wait_for_indexes:
        server_options = {"heap": import_heap(csv_export.nodes), "page_cache": CONSTRAINTS_PAGE_CACHE,
                          **server_options}
    server = DevServer(Path(neo4j_home), password=secrets.token_urlsafe(16), **server_options)
    uri = server.start(timeout=300.0)
    try:
        with neo4j.GraphDatabase.driver(uri, auth=server.auth) as driver:
            with neo4j_errors(database):
                for query in cypher.create_constraint_queries():
                    driver.execute_query(query, database_=database)
            create_search_indexes(driver, embedding=csv_export.embedding, database=database)
            if wait_for_indexes:
                with neo4j_errors(database):
                    driver.execute_query(search_cypher.await_indexes_query(), {"seconds": int(index_timeout)},
                                         database_=database)
        logger.info("constraints in force and indexes %s in %s",
                    "online" if wait_for_indexes else "created (populated while a server runs)", neo4j_home)
    finally:
        server.stop()
