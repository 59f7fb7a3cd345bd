from __future__ import annotations

import shutil

import pytest

from graphkit.errors import GraphkitError, Neo4jServerError
from graphkit.loaders.neo4j.build import build_dev_server, cache_dir, dev_server_dir, dev_server_jar


def test_build_is_skipped_when_the_jar_is_up_to_date():
    jar = build_dev_server()
    built_at = jar.stat().st_mtime_ns
    assert build_dev_server() == jar == dev_server_jar()
    assert jar.stat().st_mtime_ns == built_at
    assert (jar.parent / "lib").is_dir()
    assert jar.is_relative_to(cache_dir()) and not jar.is_relative_to(dev_server_dir())


def test_failed_maven_build_raises_with_the_error(tmp_path):
    (tmp_path / "pom.xml").write_text("<project><modelVersion>4.0.0</modelVersion></project>")
    failed = r"Maven build of .*pom\.xml failed \(exit status 1\): .*\[ERROR\]"
    with pytest.raises(Neo4jServerError, match=failed):
        build_dev_server(tmp_path)


def test_missing_project_raises_a_graphkit_error(tmp_path):
    with pytest.raises(GraphkitError, match=r"pom\.xml not found: not a neo4j-dev Maven project"):
        build_dev_server(tmp_path)


def test_the_jar_is_keyed_by_the_project_sources(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(dev_server_dir(), project)
    assert dev_server_jar(project) == dev_server_jar()
    java = next(project.rglob("*.java"))
    java.write_text(java.read_text() + "\n// changed\n")
    assert dev_server_jar(project) != dev_server_jar()


def test_the_cache_directory_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHKIT_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("GRAPHKIT_CACHE_DIR")
    assert cache_dir() == tmp_path / "xdg" / "graphkit"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "graphkit"
