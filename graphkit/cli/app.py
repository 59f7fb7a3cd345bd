"""The ``graphkit`` application: one Typer app, one console, one error policy.

Conventions every command follows:

- what a command **reads** is positional (``graphkit stats SOURCE...``,
  ``graphkit train SOURCE...``, ``graphkit evaluate RUN_DIR [SOURCE...]``);
- what it **writes** is ``--out``/``-o`` (``graphkit synth --out F``,
  ``graphkit convert SOURCE... --out DIR``);
- results go to stdout (``--json``: one JSON object), messages to stderr;
- every error is one ``error: ...`` line on stderr, never a traceback: an
  expected error (a :class:`~graphkit.errors.GraphkitError`, a bad value, a
  missing file) and a misused command line (an unknown option, a value out
  of range; the line ends by naming the command's ``--help``) exit with
  status 2, Ctrl-C with 130; anything else is a bug, one ``error: internal
  error ...`` line and status 1 (``GRAPHKIT_TRACEBACK=1`` shows its traceback);
- nothing printed carries a credential: every message, result and log line
  goes through :func:`graphkit.redact.redact`, and a value quoted at length
  (a whole row, a huge string) is shortened.

The policy lives in the app's Click group (:class:`OneLineErrors`), so it is
the same whether the console script or a test's ``CliRunner`` runs a command.
Heavy imports (torch, PyG, matplotlib, the Neo4j driver) happen inside the
commands, so ``graphkit --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from graphkit.errors import GraphkitError
from graphkit.redact import install_log_redaction, redact

__all__ = [
    "progress_bar",
    "TYPER_SETTINGS",
    "BatchSize",
    "EmbeddingCache",
    "TextEncoderName",
    "TranscriptDim",
    "use_embedding_cache",
    "use_arrow_pool",
    "NonStrict",
    "OneLineErrors",
    "SkipInvalid",
    "Sources",
    "app",
    "check_out_dir",
    "check_out_file",
    "check_sources",
    "console",
    "describe_error",
    "emit",
    "emit_json",
    "fail",
    "main",
    "print_error",
    "report_skips",
    "run",
    "shorten",
    "validation_config",
]

#: The errors a user can cause and fix: one line each, never a traceback.
EXPECTED_ERRORS = (GraphkitError, ValueError, TypeError, OSError)

#: Longest value quoted in an error line, and longest error line.
_QUOTE_LIMIT, _LINE_LIMIT = 120, 1000
_LONG_QUOTE = re.compile(r"'(?:[^'\\\n]|\\.){%d,}'|\"(?:[^\"\\\n]|\\.){%d,}\"" % (_QUOTE_LIMIT, _QUOTE_LIMIT))


def shorten(text: str) -> str:
    """``text`` with every quoted value over 120 characters cut to its start, and at most 1000 characters.

    Examples:
        >>> shorten("parent_id '" + "p" * 400 + "' is not a node")
        "parent_id 'pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp...' (402 characters) is not a node"
    """
    def cut(match: re.Match) -> str:
        quoted = match.group(0)
        return f"{quoted[:61]}...{quoted[0]} ({len(quoted)} characters)"

    text = _LONG_QUOTE.sub(cut, text)
    if len(text) > _LINE_LIMIT:
        text = f"{text[:_LINE_LIMIT]}... ({len(text) - _LINE_LIMIT} more characters)"
    return text


def describe_error(err: BaseException) -> str:
    """The one line an error is reported as: a file error names the file, without ``[Errno N]``.

    Examples:
        >>> describe_error(FileExistsError(17, "File exists", "/tmp/out"))
        '/tmp/out: file exists'
        >>> describe_error(ValueError("seeds=0 must be >= 1"))
        'seeds=0 must be >= 1'
    """
    if isinstance(err, OSError) and err.strerror and err.filename is not None:
        where = os.fsdecode(err.filename)
        if err.filename2 is not None:
            where += f" -> {os.fsdecode(err.filename2)}"
        return f"{where}: {err.strerror[:1].lower()}{err.strerror[1:]}"
    text = str(err)
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", text)
    return text or type(err).__name__


class _RedactingConsole(Console):
    """A console whose every printed string is redacted first."""

    def print(self, *objects: Any, **kwargs: Any) -> None:  # noqa: A003 - rich's name
        objects = tuple(redact(o) if isinstance(o, str) else o for o in objects)
        super().print(*objects, **kwargs)


console = _RedactingConsole(stderr=True, soft_wrap=True, markup=False, emoji=False)
"""Where every message goes (stderr), so stdout carries only results; what it prints is redacted."""


def print_error(message: str) -> None:
    """Print ``error: MESSAGE`` on stderr: its first line, redacted, long quotes shortened."""
    lines = [line.strip() for line in str(message).strip().splitlines() if line.strip()]
    first = shorten(redact(lines[0])) if lines else "failed"
    console.print(Text.assemble(("error:", "bold red"), " ", first), highlight=False, emoji=False)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: MESSAGE`` (its first line) on stderr and exit with ``code``."""
    print_error(message)
    raise typer.Exit(code)


def emit(text: str) -> None:
    """Print a result line on stdout, redacted."""
    print(redact(text))


def emit_json(value: Any, **kwargs: Any) -> None:
    """Print one JSON object on stdout, redacted."""
    print(redact(json.dumps(value, **kwargs)))


def run(action: Callable[[], Any]) -> Any:
    """Run a command's body under the error policy: expected errors become one line."""
    try:
        return action()
    except EXPECTED_ERRORS as err:
        fail(describe_error(err))


def _usage_line(err: Exception) -> str:
    message = " ".join(err.format_message().split())
    ctx = getattr(err, "ctx", None)
    if ctx is not None and ctx.command.get_help_option(ctx) is not None:
        message += f" (see '{ctx.command_path} {ctx.help_option_names[0]}')"
    return message


def _kind(err: BaseException) -> str | None:
    """Which of Click's errors (as Typer vendors them) ``err`` is: by class name, as Typer tells them apart."""
    names = {cls.__name__ for cls in type(err).__mro__}
    for kind in ("NoArgsIsHelpError", "UsageError", "ClickException"):
        if kind in names:
            return kind
    return None


class OneLineErrors(TyperGroup):
    """graphkit's Click group: every error that leaves a command becomes one line and an exit status.

    Run as the console script or by ``CliRunner``, a command ends the same:
    ``0`` on success, ``2`` with ``error: ...`` for a usage error or an
    expected error, ``130`` on Ctrl-C, ``1`` with ``error: internal error ...``
    for anything else (``GRAPHKIT_TRACEBACK=1`` re-raises it instead).
    """

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        sys.exit(self._guarded(args, prog_name, complete_var, **extra))

    def _guarded(self, args: Any, prog_name: str | None, complete_var: str | None, **extra: Any) -> int:
        try:
            outcome = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            return outcome if isinstance(outcome, int) else 0
        except typer.Abort:
            console.print("aborted")
            return 1
        except KeyboardInterrupt:
            console.print("interrupted")
            return 130
        except Exception as err:
            kind = _kind(err)
            if kind == "NoArgsIsHelpError":  # the help, as Typer prints it
                if err.format_message().strip():
                    print(err.format_message())
                return err.exit_code
            if kind is not None:
                print_error(_usage_line(err) if kind == "UsageError" else err.format_message())
                return err.exit_code
            if isinstance(err, EXPECTED_ERRORS):
                print_error(describe_error(err))
                return 2
            if os.environ.get("GRAPHKIT_TRACEBACK"):
                raise
            # A bug: still one line.
            print_error(f"internal error ({type(err).__name__}: {describe_error(err)}); "
                        "rerun with GRAPHKIT_TRACEBACK=1 for the traceback")
            return 1


#: How every Typer app of graphkit behaves: help when called bare, no shell-completion
#: options, no rich tracebacks, errors as one line (:class:`OneLineErrors`).
TYPER_SETTINGS = {"no_args_is_help": True, "add_completion": False, "pretty_exceptions_enable": False,
                  "cls": OneLineErrors}

app = typer.Typer(
    name="graphkit",
    help="Typed graphs from the Action100M Tree-of-Captions: stats, PyG datasets, GNN baselines, Neo4j.",
    **TYPER_SETTINGS,
)

Sources = Annotated[
    list[str], typer.Argument(metavar="SOURCE", help="Parquet/JSON/JSONL files, directories, globs or URLs.")
]
SkipInvalid = Annotated[
    bool, typer.Option("--skip-invalid", help="Skip videos that break an invariant and report them.")
]
NonStrict = Annotated[
    bool, typer.Option("--non-strict", help="Accept n-ary trees whose children need not tile their parent.")
]
BatchSize = Annotated[int, typer.Option(help="Videos per record batch.", min=1)]

# Sentence-embedding features (convert, train): the encoder and its on-disk cache.
TextEncoderName = Annotated[str, typer.Option(
    "--text-encoder", help="Caption features: hashing (bag of words) or minilm (MiniLM-L6-v2 sentence embeddings, "
    "each distinct text embedded once through the on-disk embedding cache; on the GPU when present).")]
TranscriptDim = Annotated[int, typer.Option(
    "--transcript-dim", min=0, help="Hash buckets of transcript features appended to every segment's (the ASR "
    "lines that fall in it, its leaves' summed into it); 0: none.")]
EmbeddingCache = Annotated[Optional[Path], typer.Option(
    "--embedding-cache", help="Embedding cache directory (default: $GRAPHKIT_EMBEDDING_CACHE, else "
    "~/.cache/graphkit/embeddings); safe to share between runs, datasets and processes.")]


def use_embedding_cache(directory: Path | None) -> None:
    """Point this process and the workers it starts at an embedding cache directory (:obj:`None`: the default)."""
    if directory is not None:
        if directory.exists() and not directory.is_dir():
            raise NotADirectoryError(f"--embedding-cache {directory} is a file, not a directory")
        os.environ["GRAPHKIT_EMBEDDING_CACHE"] = str(directory)


def _existing_file_above(path: Path) -> Path | None:
    """The nearest ancestor of ``path`` that exists and is not a directory, if any."""
    for parent in path.absolute().parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def check_out_file(path: Path, option: str = "--out") -> None:
    """Refuse, in one line, an output file path that cannot be a file: a directory, or under a file.

    Raises:
        NotADirectoryError: If a folder above ``path`` is a file.
        IsADirectoryError: If ``path`` is a directory.
    """
    blocker = _existing_file_above(path)
    if blocker is not None:
        raise NotADirectoryError(f"{option} {path}: {blocker} is a file, not a directory")
    if path.is_dir():
        raise IsADirectoryError(f"{option} {path} is a directory; give the path of a file to write")
    parent = path.absolute().parent
    if parent.is_dir() and not os.access(parent, os.W_OK):
        raise PermissionError(f"{option} {path}: cannot write into {parent}")


def check_out_dir(path: Path, option: str = "--out") -> None:
    """Refuse, in one line, an output directory that cannot be one: an existing file, or under a file.

    Raises:
        NotADirectoryError: If ``path`` or a folder above it is a file.
        PermissionError: If the nearest existing folder is not writable.
    """
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{option} {path} is a file, not a directory")
    blocker = _existing_file_above(path)
    if blocker is not None:
        raise NotADirectoryError(f"{option} {path}: {blocker} is a file, not a directory")
    existing = next((p for p in (path.absolute(), *path.absolute().parents) if p.exists()), None)
    if existing is not None and not os.access(existing, os.W_OK):
        raise PermissionError(f"{option} {path}: cannot write into {existing}")


def check_sources(sources: list[str]) -> None:
    """Refuse, before any work, a source that names nothing: a missing file, an empty glob, a directory
    without parquet files (:func:`graphkit.loaders.sources.resolve_files`).

    Raises:
        SourceError: Naming the first such source.
    """
    from graphkit.loaders.sources import resolve_files

    for source in sources:
        resolve_files(source)


def validation_config(skip_invalid: bool, non_strict: bool = False):
    """The :class:`~graphkit.validation.ValidationConfig` the flags ask for."""
    from graphkit.validation import ValidationConfig

    return ValidationConfig(strict=not non_strict, errors="skip" if skip_invalid else "raise")


def report_skips(report, limit: int = 20) -> None:
    """Name every skipped video (up to ``limit``) on stderr."""
    if report.skipped:
        console.print(f"skipped {report.videos_skipped} invalid videos:")
        for violation in report.skipped[:limit]:
            console.print(f"  {shorten(str(violation))}", highlight=False, markup=False, emoji=False)
        if report.videos_skipped > limit:
            console.print(f"  ... and {report.videos_skipped - limit} more")


@contextlib.contextmanager
def progress_bar(description: str, *, unit: str = "", total: float | None = None) -> Iterator[tuple[Any, Any]]:
    """A progress bar on stderr, shown only on a terminal: ``(progress, task_id)``."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn(unit),
               TimeElapsedColumn())
    with Progress(*columns, console=console, disable=not console.is_terminal, transient=False) as progress:
        yield progress, progress.add_task(description, total=total)


def use_arrow_pool(name: str) -> None:
    """Make ``name`` (``system``, ``jemalloc`` or ``mimalloc``) Arrow's default memory pool.

    Which allocator serves Arrow decides how far a long stream's peak memory
    creeps above its first batches' (measured per command at 1% and 40% of
    the preview: see the README's Scale section), so each streaming command
    picks the one it measured best with. A pool the user chose with
    ``ARROW_DEFAULT_MEMORY_POOL`` is kept, and so is the default where this
    pyarrow build lacks ``name``.
    """
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    if "pyarrow" not in sys.modules:
        # Chosen before Arrow makes its default pool: switching later leaves the first
        # pool's memory mapped (stats peaked 20-30 MB higher).
        os.environ["ARROW_DEFAULT_MEMORY_POOL"] = name
        return
    import pyarrow as pa

    pools = {"system": pa.system_memory_pool, "jemalloc": pa.jemalloc_memory_pool, "mimalloc": pa.mimalloc_memory_pool}
    try:
        pa.set_memory_pool(pools[name]())
    except NotImplementedError:  # pragma: no cover - a pyarrow built without it
        pass


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Entry point of the ``graphkit`` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    install_log_redaction()
    # The Neo4j driver logs the failures it raises; graphkit reports each as its one error line.
    logging.getLogger("neo4j").setLevel(logging.CRITICAL)
    # kill, docker stop and batch schedulers send SIGTERM: clean up as on Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)
    app()
