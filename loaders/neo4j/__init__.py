"""graphkit.loaders.neo4j: video trees in Neo4j 5.

- :mod:`~graphkit.loaders.neo4j.cypher`: every Cypher statement, built from
  :mod:`graphkit.schema` names; every value a parameter.
- :mod:`~graphkit.loaders.neo4j.rows`: pure row builders (no database).
- :mod:`~graphkit.loaders.neo4j.connection`: drivers from arguments or
  ``NEO4J_*``; driver errors as one line.
- :mod:`~graphkit.loaders.neo4j.writer` and :mod:`~graphkit.loaders.neo4j.reader`:
  the Bolt loader and its exact read-back.
- :mod:`~graphkit.loaders.neo4j.csv` and :mod:`~graphkit.loaders.neo4j.admin_import`:
  the bulk path through ``neo4j-admin database import``.
- :mod:`~graphkit.loaders.neo4j.server`, :mod:`~graphkit.loaders.neo4j.build`
  and :mod:`~graphkit.loaders.neo4j.java`: a real Neo4j 5.26 without Docker,
  built from the Maven project in ``devserver/`` (package data).
- :mod:`~graphkit.loaders.neo4j.cookbook`: the research queries in ``queries/``
  (package data).
"""

from __future__ import annotations

__all__: list[str] = []
