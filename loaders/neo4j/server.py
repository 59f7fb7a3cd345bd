"""A local Neo4j 5 server for development and tests, without Docker.

graphkit writes its graphs to Neo4j over Bolt. Users without Docker, and the
test suite, get a real Neo4j 5.26 LTS server from the launcher that ships in
the package: a small Java launcher around the embedded Community edition,
built by Maven from Maven Central artifacts only (``org.neo4j:neo4j`` plus
``org.neo4j:neo4j-import-tool`` for ``neo4j-admin``). It needs Java 17 or newer
and Maven 3.8 or newer on ``PATH``.

Two steps, both from Python:

- :func:`~graphkit.loaders.neo4j.build.build_dev_server` runs Maven once into
  a per-user cache (the first build downloads about 170 MB into ``~/.m2``) and
  returns the launcher jar; later calls find it there and return at once.
- :class:`DevServer` starts the launcher in a subprocess, waits for the one
  line it prints on stdout when Bolt accepts connections
  (``bolt://127.0.0.1:PORT``) and stops it again. It listens on 127.0.0.1 only;
  the user is ``neo4j`` and the password is the one given (the launcher sets it
  on every start, so it also applies to an existing data directory).

The data directory is a Neo4j home (store in ``data/``, Neo4j's logs and the
launcher's own log ``neo4j-dev.log`` in ``logs/``): a server restarted on the
same directory finds its data again, and ``neo4j-admin`` sees the same store
with ``NEO4J_HOME`` set to it. Without a data directory the server uses a
temporary one, deleted when it stops.

A typical session (not run here: it starts a JVM)::

    from graphkit.loaders.neo4j.server import DevServer

    with DevServer("neo4j-home", password="s3cret-pass") as server:
        print(server.uri)  # bolt://127.0.0.1:PORT, with a free PORT
        ...  # neo4j.GraphDatabase.driver(server.uri, auth=server.auth)

Examples:
    >>> server = DevServer(password="s3cret-pass", bolt_port=7999)
    >>> server
    DevServer(bolt_port=7999, data_dir=None, running=False)
    >>> server.auth
    ('neo4j', 's3cret-pass')
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

from graphkit.errors import Neo4jServerError
from graphkit.loaders.neo4j.build import build_dev_server, dev_server_jar
from graphkit.loaders.neo4j.java import find_java

__all__ = ["NEO4J_USER", "DevServer", "machine_memory", "memory_defaults"]

logger = logging.getLogger(__name__)

NEO4J_USER = "neo4j"
"""The user the dev server authenticates: Neo4j's built-in administrator."""

_READY_LINE = re.compile(r"^bolt://\S+:\d+$")
_SIZE = re.compile(r"^[1-9][0-9]*[kKmMgG]?$")
# The launcher reads the password from here when no --password is given, so the
# password never appears in the process list.
_PASSWORD_ENV = "NEO4J_DEV_PASSWORD"
_SERVER_LOG = "neo4j-dev.log"
_MIB = 1 << 20
# (share of the machine's memory, floor, ceiling) in MiB, for the heap and the
# page cache: an eighth each, so several test servers and the Python side fit
# together (the suite starts up to three at once), between a usable floor and a
# ceiling past which a dev server gains nothing.
_HEAP_RULE = (8, 512, 8192)
_PAGE_CACHE_RULE = (8, 256, 16384)


def machine_memory() -> int:
    """The memory this process may use, in bytes: physical memory, or a lower cgroup (container) limit.

    Returns:
        int: Bytes; 0 when the system does not say.

    Examples:
        >>> machine_memory() > 0
        True
    """
    total = 0
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):  # not POSIX
        pass
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < (total or 1 << 62):
            total = int(text)
    return total


def _share(total: int, rule: tuple[int, int, int]) -> str:
    divisor, floor, ceiling = rule
    return f"{max(floor, min(ceiling, total // divisor // _MIB))}m"


def memory_defaults(total: int | None = None) -> tuple[str, str]:
    """The dev server's default JVM heap and page cache, sized from the machine.

    An eighth of the memory each: the heap between 512 MiB and 8 GiB, the
    page cache between 256 MiB and 16 GiB. On the 2-core / 24 GiB CI machine
    that is 3 GiB each; on an 8 GiB laptop 1 GiB each.

    Args:
        total (int, optional): The memory in bytes; by default
            :func:`machine_memory`. (default: :obj:`None`)

    Returns:
        tuple[str, str]: ``(heap, page_cache)``, such as ``("3072m", "3072m")``.

    Examples:
        >>> memory_defaults(24 << 30)
        ('3072m', '3072m')
        >>> memory_defaults(2 << 30), memory_defaults(1 << 40)
        (('512m', '256m'), ('8192m', '16384m'))
    """
    total = machine_memory() if total is None else total
    return _share(total, _HEAP_RULE), _share(total, _PAGE_CACHE_RULE)


class DevServer:
    r"""A Neo4j 5 server in a subprocess, for development and tests.

    Args:
        data_dir (str or os.PathLike, optional): The Neo4j home holding the store
            and logs, created if missing and kept after :meth:`stop`, so a later
            server on the same directory sees the same data. With :obj:`None` a
            temporary directory is used and deleted by :meth:`stop`.
            (default: :obj:`None`)
        password (str, optional): The password of the user ``neo4j``; set on
            every start. (default: :obj:`"graphkit-dev"`)
        bolt_port (int, optional): The Bolt port on 127.0.0.1; ``0`` lets the
            system pick a free one, read back into :attr:`uri`.
            (default: :obj:`0`)
        page_cache (str, optional): Neo4j's page cache size, such as ``"512m"``
            or ``"2g"``; by default sized from the machine
            (:func:`memory_defaults`). (default: :obj:`None`)
        heap (str, optional): The JVM's maximum heap, such as ``"1g"``; by
            default sized from the machine (:func:`memory_defaults`).
            (default: :obj:`None`)
        java (str, optional): The Java 17+ executable; by default
            ``$JAVA_HOME/bin/java`` or ``java`` on ``PATH``. (default: :obj:`None`)
        jvm_options (Sequence[str], optional): More JVM options, placed after
            graphkit's own. ``("-XX:TieredStopAtLevel=1",)`` starts the server
            in about two thirds of the time on 2 cores, at some cost in
            throughput: right for tests, wrong for benchmarks.
            (default: :obj:`()`)
        build (bool, optional): Run :func:`build_dev_server` on :meth:`start`
            (a no-op when already built). (default: :obj:`True`)

    Raises:
        ValueError: If ``bolt_port``, ``page_cache``, ``heap``, ``password`` or
            ``jvm_options`` is out of range or malformed.

    Examples:
        >>> DevServer("/tmp/neo4j-home", bolt_port=7687)
        DevServer(bolt_port=7687, data_dir='/tmp/neo4j-home', running=False)
        >>> DevServer(bolt_port=70000)
        Traceback (most recent call last):
        ...
        ValueError: bolt_port must be an integer from 0 to 65535, got 70000
    """

    user: str = NEO4J_USER

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        password: str = "graphkit-dev",
        bolt_port: int = 0,
        page_cache: str | None = None,
        heap: str | None = None,
        java: str | None = None,
        jvm_options: Sequence[str] = (),
        build: bool = True,
    ) -> None:
        if isinstance(bolt_port, bool) or not isinstance(bolt_port, int) or not 0 <= bolt_port <= 65535:
            raise ValueError(f"bolt_port must be an integer from 0 to 65535, got {bolt_port!r}")
        default_heap, default_page_cache = memory_defaults()
        heap = default_heap if heap is None else heap
        page_cache = default_page_cache if page_cache is None else page_cache
        for name, size in (("page_cache", page_cache), ("heap", heap)):
            if not isinstance(size, str) or not _SIZE.match(size):
                raise ValueError(
                    f"{name} must be a size such as '512m' or '2g' (digits, then k, m or g), got {size!r}"
                )
        if not isinstance(password, str) or not password:
            raise ValueError("password must be a non-empty string")
        if isinstance(jvm_options, str) or not all(isinstance(o, str) for o in jvm_options):
            raise ValueError(f"jvm_options must be a sequence of strings, got {jvm_options!r}")
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.password = password
        self.bolt_port = bolt_port
        self.page_cache = page_cache
        self.heap = heap
        self.java = java
        self.jvm_options = tuple(jvm_options)
        self.build = build
        self.uri: str | None = None
        self._process: subprocess.Popen[str] | None = None
        self._home: Path | None = None
        self._log: IO[str] | None = None

    def __repr__(self) -> str:
        data_dir = str(self.data_dir) if self.data_dir is not None else None
        return (
            f"{type(self).__name__}(bolt_port={self.bolt_port}, data_dir={data_dir!r}, "
            f"running={self.running})"
        )

    @property
    def auth(self) -> tuple[str, str]:
        """``(user, password)``, as the ``neo4j`` driver's ``auth`` argument takes it."""
        return (self.user, self.password)

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def log_path(self) -> Path | None:
        """The launcher's log (its stderr) while or after it runs, else :obj:`None`."""
        return self._home / "logs" / _SERVER_LOG if self._home is not None else None

    def command(self, jar: str | os.PathLike[str]) -> list[str]:
        """The command line that starts the server (the password travels in the
        environment, not here).

        Args:
            jar (str or os.PathLike): The launcher jar.

        Returns:
            list[str]: ``java`` with its options, ``-jar`` and the launcher's options.

        Examples:
            >>> cmd = DevServer("home", java="java", page_cache="1g").command("x.jar")
            >>> cmd[cmd.index("-jar"):]  # doctest: +NORMALIZE_WHITESPACE
            ['-jar', 'x.jar', '--bolt-port', '0', '--page-cache', '1g',
             '--stop-on-stdin-close', '--data-dir', 'home']
        """
        command = [
            find_java(self.java),
            f"-Xmx{self.heap}",
            "-XX:+ExitOnOutOfMemoryError",
            # JVM warnings default to stdout, which must carry only the ready line.
            "-Xlog:disable",
            "-Xlog:all=warning:stderr",
            *self.jvm_options,
            "-jar",
            str(jar),
            "--bolt-port",
            str(self.bolt_port),
            "--page-cache",
            self.page_cache,
            # The server dies with this Python process even when it is killed hard.
            "--stop-on-stdin-close",
        ]
        home = self._home if self._home is not None else self.data_dir
        if home is not None:
            command += ["--data-dir", str(home)]
        return command

    def start(self, timeout: float = 120.0) -> str:
        """Starts the server and waits until it accepts Bolt connections.

        Args:
            timeout (float, optional): Seconds to wait for the server to be ready
                (a start takes about 5 to 12 s on 2 cores; the build, when it
                runs, is not counted). (default: :obj:`120.0`)

        Returns:
            str: The Bolt URI, ``bolt://127.0.0.1:PORT`` (also in :attr:`uri`).

        Raises:
            Neo4jServerError: If it is already running, cannot be built, exits
                before it is ready (the message quotes the launcher's reason,
                such as a port in use) or is not ready within ``timeout``.
        """
        if self.running:
            raise Neo4jServerError(f"{self!r} is already running at {self.uri}")
        jar = build_dev_server() if self.build else dev_server_jar()
        if not jar.is_file():
            raise Neo4jServerError(f"{jar} does not exist; run build_dev_server() first")
        find_java(self.java)  # fail before creating any directory
        if self.data_dir is not None:
            self._home = self.data_dir.resolve()
        else:
            self._home = Path(tempfile.mkdtemp(prefix="graphkit-neo4j-"))
        (self._home / "logs").mkdir(parents=True, exist_ok=True)
        command = self.command(jar)
        self._log = open(self._home / "logs" / _SERVER_LOG, "a", encoding="utf-8")  # noqa: SIM115 - closed by _cleanup
        logger.info("starting the Neo4j dev server: %s", " ".join(command))
        started = time.perf_counter()
        try:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._log,
                text=True,
                encoding="utf-8",
                errors="replace",
                env={**os.environ, _PASSWORD_ENV: self.password},
            )
        except OSError as err:
            self._cleanup()
            raise Neo4jServerError(f"cannot run {command[0]!r}: {err}") from err
        except BaseException:  # interrupted (Ctrl-C, SIGTERM) while starting the JVM
            self._kill()
            self._cleanup()
            raise
        try:
            uri = self._await_ready_line(timeout)
        except Neo4jServerError:
            raise
        except BaseException:  # interrupted while waiting: no server, and no temporary home, is left behind
            self._kill()
            self._cleanup()
            raise
        self.uri = uri
        logger.info("Neo4j dev server ready at %s in %.1f s", uri, time.perf_counter() - started)
        return uri

    def _await_ready_line(self, timeout: float) -> str:
        """Reads stdout until the ``bolt://`` line, on a thread so a timeout works everywhere."""
        assert self._process is not None and self._process.stdout is not None
        stdout = self._process.stdout
        found: list[str] = []

        def read() -> None:
            for line in stdout:
                if _READY_LINE.match(line.strip()):
                    found.append(line.strip())
                    return

        reader = threading.Thread(target=read, name="neo4j-dev-ready", daemon=True)
        reader.start()
        reader.join(timeout)
        if found:
            return found[0]
        if reader.is_alive():  # still waiting: too slow
            self._kill()
            reason = f"not ready within {timeout:g} s"
        else:  # stdout closed: the launcher exited
            self._process.wait()
            reason = f"exited with status {self._process.returncode}: {self._launcher_reason()}"
        log = self.log_path
        self._cleanup(keep_home=True)  # the log tells why
        raise Neo4jServerError(f"the Neo4j dev server {reason} (log: {log})")

    def _launcher_reason(self) -> str:
        """The launcher's last ``neo4j-dev:`` line, or the last line of its log."""
        if self._log is not None:
            self._log.flush()
        log = self.log_path
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines() if log else []
        ours = [line for line in lines if line.startswith("neo4j-dev: ")]
        if ours:
            return ours[-1].removeprefix("neo4j-dev: ")
        return lines[-1] if lines else "no output"

    def stop(self, timeout: float = 60.0) -> None:
        """Stops the server cleanly (SIGTERM; on Windows, by closing its stdin).

        Does nothing if it is not running. The data directory stays; a temporary
        one is deleted (also when the wait is interrupted: the process is then
        killed). A start that is interrupted (Ctrl-C, or SIGTERM turned into
        one) kills the process and deletes a temporary home too.

        Args:
            timeout (float, optional): Seconds to wait for a clean shutdown
                before the process is killed. (default: :obj:`60.0`)

        Raises:
            Neo4jServerError: If the process had to be killed.
        """
        process = self._process
        if process is None:
            return
        killed = False
        try:
            if process.poll() is None:
                if os.name == "nt":
                    process.stdin.close()  # type: ignore[union-attr] - the launcher then shuts down
                else:
                    process.terminate()
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self._kill()
                    killed = True
        except BaseException:  # interrupted again while stopping: stop now
            self._kill()
            raise
        finally:
            self._cleanup()
        if killed:
            raise Neo4jServerError(f"the Neo4j dev server did not stop within {timeout:g} s; killed")

    def _kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def _cleanup(self, keep_home: bool = False) -> None:
        process, self._process = self._process, None
        if process is not None:
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.data_dir is None and self._home is not None and not keep_home:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None
        self.uri = None

    def __enter__(self) -> DevServer:
        if not self.running:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
