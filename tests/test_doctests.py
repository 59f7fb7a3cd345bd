"""Every docstring example of graphkit runs, on the modules by their installed names.

The folders ``loaders/`` and ``models/`` are installed as ``graphkit.loaders``
and ``graphkit.models``. pytest's own ``--doctest-modules`` would import them
by their folder names (``loaders.sources``, a second copy of each module under
a name no user has), so the examples run here instead, through the standard
library's :mod:`doctest` on the module that ``import graphkit.loaders.sources``
gives, with pytest's default ``ELLIPSIS``.
"""

from __future__ import annotations

import doctest
import importlib

import pytest

from tests.paths import ROOT

FOLDERS = {"graphkit": "graphkit", "loaders": "graphkit.loaders", "models": "graphkit.models"}


def _installed_names() -> list[str]:
    names = []
    for folder, package in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = [package, *path.relative_to(ROOT / folder).with_suffix("").parts]
            if parts[-1] == "__main__":
                continue
            if parts[-1] == "__init__":
                parts.pop()
            names.append(".".join(parts))
    return names


def test_modules_are_the_installed_ones():
    module = importlib.import_module("graphkit.loaders.sources")
    assert module.__file__ == str(ROOT / "loaders" / "sources.py")
    assert module.__name__ == "graphkit.loaders.sources"


@pytest.mark.parametrize("name", _installed_names())
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    tests = [test for test in finder.find(module, name) if test.examples]
    for test in tests:
        runner.run(test, out=lambda text: pytest.fail(f"{test.name} ({test.filename}:{test.lineno}):\n{text}"))
    assert runner.failures == 0
