"""Tests of graphkit.synth.grammar: the task grammars and their steps."""

from __future__ import annotations

import pytest

from graphkit.synth import TASKS, TaskStep


def test_task_grammars_are_well_formed():
    assert len(TASKS) >= 12
    assert len({task.name for task in TASKS}) == len(TASKS)
    for task in TASKS:
        assert 5 <= len(task.steps) <= 12
        assert task.titles and task.setting
    assert TaskStep("insert", "wire", "into the jet").brief == "Insert wire into jet"
    with pytest.raises(ValueError, match="'juggle' has no entry"):
        TaskStep("juggle", "balls")
