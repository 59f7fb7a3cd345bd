"""The ``graphkit`` application: one Typer app, one console, one error policy.

Conventions every command follows:

- what a command **reads** is positional (``graphkit stats SOURCE...``,
  ``graphkit train SOURCE...``, ``graphkit evaluate RUN_DIR [SOURCE...]``);
- what it **writes** is ``--out``/``-o`` (``graphkit synth --out F``,
  ``graphkit convert SOURCE... --out DIR``);
- results go to stdout (``--json``: one JSON object), messages to stderr;
- an expected error (a :class:`~graphkit.errors.GraphkitError`, a bad value,
  a missing file) is one ``error: ...`` line on stderr and exit status 2,
  never a traceback; Ctrl-C is one line and exit status 130.

Heavy imports (torch, PyG, matplotlib, the Neo4j driver) happen inside the
commands, so ``graphkit --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from graphkit.errors import GraphkitError

__all__ = [
    "progress_bar",
    "TYPER_SETTINGS",
    "BatchSize",
    "NonStrict",
    "SkipInvalid",
    "Sources",
    "app",
    "console",
    "fail",
    "main",
    "print_error",
    "report_skips",
    "run",
    "validation_config",
]

#: How every Typer app of graphkit behaves: help when called bare, no shell-completion
#: options, and no rich tracebacks (errors are one line, see :func:`main`).
TYPER_SETTINGS = {"no_args_is_help": True, "add_completion": False, "pretty_exceptions_enable": False}

app = typer.Typer(
    name="graphkit",
    help="Typed graphs from the Action100M Tree-of-Captions: stats, PyG datasets, GNN baselines, Neo4j.",
    **TYPER_SETTINGS,
)
console = Console(stderr=True, soft_wrap=True)
"""Where every message goes (stderr), so stdout carries only results."""

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

#: The errors a user can cause and fix: one line each, never a traceback.
EXPECTED_ERRORS = (GraphkitError, ValueError, TypeError, OSError)


def print_error(message: str) -> None:
    """Print ``error: MESSAGE`` (its first line) on stderr."""
    first = message.strip().splitlines()[0] if message.strip() else "failed"
    console.print(f"[bold red]error:[/] {first}", highlight=False, markup=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: MESSAGE`` (its first line) on stderr and exit with ``code``."""
    print_error(message)
    raise typer.Exit(code)


def run(action: Callable[[], Any]) -> Any:
    """Run a command's body under the error policy: expected errors become one line."""
    try:
        return action()
    except EXPECTED_ERRORS as err:
        fail(str(err) or type(err).__name__)


def validation_config(skip_invalid: bool, non_strict: bool = False):
    """The :class:`~graphkit.validation.ValidationConfig` the flags ask for."""
    from graphkit.validation import ValidationConfig

    return ValidationConfig(strict=not non_strict, errors="skip" if skip_invalid else "raise")


def report_skips(report, limit: int = 20) -> None:
    """Name every skipped video (up to ``limit``) on stderr."""
    if report.skipped:
        console.print(f"skipped {report.videos_skipped} invalid videos:")
        for violation in report.skipped[:limit]:
            console.print(f"  {violation}", highlight=False, markup=False)
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


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Entry point of the ``graphkit`` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # kill, docker stop and batch schedulers send SIGTERM: clean up as on Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)
    try:
        app()
    except EXPECTED_ERRORS as err:
        print_error(str(err) or type(err).__name__)
        sys.exit(2)
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(130)
