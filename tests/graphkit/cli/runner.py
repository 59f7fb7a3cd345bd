"""Running the command line as users run it: a subprocess, its exit code and its output."""

from __future__ import annotations

import subprocess
import sys

from tests.paths import ROOT

__all__ = ["graphkit"]


def graphkit(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m graphkit.cli ARGS`` from the repository root, output captured as text."""
    return subprocess.run([sys.executable, "-m", "graphkit.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)
