"""Sources and sinks for graphkit: readers, PyG datasets, Neo4j."""
