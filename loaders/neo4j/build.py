"""Building the Neo4j dev server's launcher jar with Maven, into a per-user cache.

The launcher's Maven project (``pom.xml`` and one Java file) ships inside the
package, in ``graphkit/loaders/neo4j/devserver/``, so an installed wheel can
build it as well as a source checkout. The build never writes into the
package: it copies the project into a cache directory named after a hash of
the project's files and runs ``mvn package`` there. A jar is therefore reused
exactly while the sources it was built from are unchanged, and a changed
``pom.xml`` or launcher gets a build of its own, never a stale jar.

The cache is ``$GRAPHKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/graphkit``, else
``~/.cache/graphkit``. The first build downloads about 170 MB into ``~/.m2``.

Examples:
    >>> (dev_server_dir() / "pom.xml").is_file()
    True
    >>> jar = dev_server_jar()
    >>> jar.name, jar.parent.name
    ('neo4j-dev.jar', 'target')
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import time
from pathlib import Path

from filelock import FileLock

from graphkit.errors import Neo4jServerError
from graphkit.loaders.user_cache import cache_dir

__all__ = ["build_dev_server", "cache_dir", "dev_server_dir", "dev_server_jar"]

logger = logging.getLogger(__name__)

_JAR = "neo4j-dev.jar"


def dev_server_dir() -> Path:
    """The launcher's Maven project, as shipped in the package.

    Returns:
        pathlib.Path: The directory holding ``pom.xml`` and ``src/``.

    Raises:
        Neo4jServerError: If the installation lacks it (a broken install).
    """
    project = Path(__file__).resolve().parent / "devserver"
    if not (project / "pom.xml").is_file():
        raise Neo4jServerError(f"{project / 'pom.xml'} not found: this graphkit installation is incomplete")
    return project


def _project_files(project: Path) -> list[Path]:
    return [project / "pom.xml", *sorted(path for path in (project / "src").rglob("*") if path.is_file())]


def _project_key(project: Path) -> str:
    digest = hashlib.sha256()
    for path in _project_files(project):
        digest.update(path.relative_to(project).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _build_root(project: Path) -> Path:
    return cache_dir() / "neo4j-dev" / _project_key(project)


def dev_server_jar(project_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where :func:`build_dev_server` puts the launcher jar (it may not exist yet).

    Args:
        project_dir (str or os.PathLike, optional): The Maven project; by default
            :func:`dev_server_dir`. (default: :obj:`None`)

    Returns:
        pathlib.Path: ``<cache>/neo4j-dev/<hash of the project>/target/neo4j-dev.jar``.
    """
    project = Path(project_dir) if project_dir is not None else dev_server_dir()
    return _build_root(project) / "target" / _JAR


def build_dev_server(
    project_dir: str | os.PathLike[str] | None = None,
    *,
    force: bool = False,
    maven: str | None = None,
    timeout: float = 1800.0,
) -> Path:
    """Builds the Neo4j dev server with Maven, unless this project is already built.

    Copies the project into its cache directory and runs
    ``mvn -B -q -f <copy>/pom.xml package``, which compiles the launcher and
    copies its dependencies into ``target/lib``. Concurrent calls (parallel
    test workers, two users of one cache) wait for one another on a file lock.

    Args:
        project_dir (str or os.PathLike, optional): The Maven project; by default
            :func:`dev_server_dir`. (default: :obj:`None`)
        force (bool, optional): Build even when the jar exists.
            (default: :obj:`False`)
        maven (str, optional): The Maven executable; by default ``mvn`` found on
            ``PATH``. (default: :obj:`None`)
        timeout (float, optional): Seconds the build may take; the first build
            downloads about 170 MB. (default: :obj:`1800.0`)

    Returns:
        pathlib.Path: The launcher jar, :func:`dev_server_jar`.

    Raises:
        Neo4jServerError: If the project has no ``pom.xml``, or Maven is
            missing, fails or times out. Maven's output is logged at ERROR level.

    Examples:
        >>> jar = build_dev_server()
        >>> jar == dev_server_jar(), (jar.parent / "lib").is_dir()
        (True, True)
    """
    project = Path(project_dir) if project_dir is not None else dev_server_dir()
    pom = project / "pom.xml"
    if not pom.is_file():
        raise Neo4jServerError(f"{pom} not found: not a neo4j-dev Maven project")
    root = _build_root(project)
    jar = root / "target" / _JAR
    root.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root) + ".lock"):
        if not force and jar.is_file() and (jar.parent / "lib").is_dir():
            return jar
        executable = maven or shutil.which("mvn")
        if executable is None:
            raise Neo4jServerError("Maven (mvn) is not on PATH; install Maven 3.8+ to build the Neo4j dev server")
        shutil.rmtree(root, ignore_errors=True)
        for path in _project_files(project):
            target = root / path.relative_to(project)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        command = [executable, "-B", "-q", "-f", str(root / "pom.xml"), "package"]
        logger.info("building the Neo4j dev server: %s", " ".join(command))
        started = time.perf_counter()
        try:
            result = subprocess.run(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError as err:
            raise Neo4jServerError(f"cannot run Maven {executable!r}: {err}") from err
        except subprocess.TimeoutExpired as err:
            raise Neo4jServerError(f"the Maven build of {pom} took more than {timeout:g} s") from err
        if result.returncode != 0 or not jar.is_file():
            logger.error("Maven output:\n%s", result.stdout)
            lines = result.stdout.strip().splitlines()
            first_error = next((line for line in lines if "[ERROR]" in line), lines[-1] if lines else "")
            raise Neo4jServerError(
                f"the Maven build of {pom} failed (exit status {result.returncode}): {first_error.strip()}"
            )
        logger.info("built %s in %.1f s", jar, time.perf_counter() - started)
        return jar
