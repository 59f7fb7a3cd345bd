"""Defect corpus: a cache is never reused for something it was not built from.

Every cache graphkit keeps is keyed by what it was built from: the PyG
dataset directory of ``convert`` (in memory and on disk) and the one a run
keeps in ``OUT/dataset`` by the graphkit version, the task (label, top-K,
features), the validation options and each source file's path, size and
modification time; a training ``--out`` directory by the run's whole
configuration. Each case builds from A, then from B (or from A with another
label, other options, a touched file, another graphkit version) and pins
the outcome: rebuilt (the directory then holds B's videos or B's options,
never A's), or refused in one line that says how to go on.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from graphkit.cli import app
from graphkit.loaders.synth import write_parquet
from graphkit.synth import SynthConfig
from tests.defects.test_cli_misuse import one_error_line

runner = CliRunner()

TINY = ["--epochs", "1", "--hidden", "8", "--feature-dim", "16", "--device", "cpu", "--threads", "1",
        "--model", "mlp", "--batch-size", "4", "--json"]


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("caches")
    made = {}
    for name, videos, seed in (("a", 6, 1), ("b", 9, 2)):
        made[name] = root / f"{name}.parquet"
        write_parquet(made[name], videos, seed=seed, config=SynthConfig(mean_video_duration=30))
    return made


def _uids(path: Path) -> list[str]:
    return pq.read_table(path, columns=["video_uid"]).column("video_uid").to_pylist()


def _copy(src: Path, dst: Path) -> Path:
    dst.write_bytes(src.read_bytes())
    return dst


def _meta(directory: Path) -> dict:
    """What a convert directory says it holds (the in-memory ``task.json`` or the on-disk ``manifest.json``)."""
    processed = directory / "processed"
    path = processed / "manifest.json" if (processed / "manifest.json").exists() else processed / "task.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _held_uids(directory: Path) -> list[str]:
    from graphkit.loaders.pyg_dataset import Action100MDataset, Action100MOnDiskDataset

    if (directory / "processed" / "manifest.json").exists():
        return Action100MOnDiskDataset(str(directory), log=False).video_uids
    return Action100MDataset(str(directory), log=False).video_uids


def _convert(args: list[str]) -> dict:
    result = runner.invoke(app, ["convert", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# A second build over a directory built from A: (id, change to make, how to tell it was rebuilt).
Change = Callable[[dict[str, Path], Path], tuple[list[str], Callable[[Path, dict], None]]]


def _other_sources(s, tmp):
    def check(out, summary):
        assert summary["videos"] == 9 and sorted(_held_uids(out)) == sorted(_uids(s["b"]))
    return [str(s["b"])], [], check


def _same_path_other_content(s, tmp):
    _copy(s["b"], tmp / "a.parquet")  # the path convert read A from now holds B

    def check(out, summary):
        assert summary["videos"] == 9 and sorted(_held_uids(out)) == sorted(_uids(s["b"]))
    return [str(tmp / "a.parquet")], [], check


def _touched_file(s, tmp):
    stat = os.stat(tmp / "a.parquet")
    os.utime(tmp / "a.parquet", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # same bytes, newer mtime

    def check(out, summary):
        (entry,) = _meta(out)["key"]["inputs"]
        assert entry["mtime_ns"] == os.stat(tmp / "a.parquet").st_mtime_ns
    return [str(tmp / "a.parquet")], [], check


def _other_label(s, tmp):
    def check(out, summary):
        assert _meta(out)["task"]["label"] == "actor" and _meta(out)["vocabulary"]["kind"] == "actor"
    return [str(tmp / "a.parquet")], ["--label", "actor"], check


def _other_top_k(s, tmp):
    def check(out, summary):
        assert _meta(out)["task"]["top_k"] == 2 and len(_meta(out)["vocabulary"]["classes"]) <= 3
    return [str(tmp / "a.parquet")], ["--top-k", "2"], check


def _skip_invalid(s, tmp):
    def check(out, summary):
        assert _meta(out)["key"]["validation"]["errors"] == "skip"
    return [str(tmp / "a.parquet")], ["--skip-invalid"], check


def _non_strict(s, tmp):
    def check(out, summary):
        assert _meta(out)["key"]["validation"]["strict"] is False
    return [str(tmp / "a.parquet")], ["--non-strict"], check


def _one_more_source(s, tmp):
    def check(out, summary):
        assert summary["videos"] == 15 and sorted(_held_uids(out)) == sorted(_uids(s["a"]) + _uids(s["b"]))
    return [str(tmp / "a.parquet"), str(s["b"])], [], check


CHANGES = [
    ("other-sources", _other_sources),
    ("same-path-other-content", _same_path_other_content),
    ("touched-file", _touched_file),
    ("other-label", _other_label),
    ("other-top-k", _other_top_k),
    ("other-validation-skip-invalid", _skip_invalid),
    ("other-validation-non-strict", _non_strict),
    ("one-more-source", _one_more_source),
]


@pytest.mark.parametrize("on_disk", [False, True], ids=["in-memory", "on-disk"])
@pytest.mark.parametrize("change", [c[1] for c in CHANGES], ids=[c[0] for c in CHANGES])
def test_convert_over_a_directory_built_from_other_inputs_rebuilds_it(sources, tmp_path, change, on_disk):
    a = _copy(sources["a"], tmp_path / "a.parquet")
    out = tmp_path / "ds"
    flags = ["--on-disk"] if on_disk else []
    first = _convert([str(a), "--out", str(out), *flags])
    assert first["videos"] == 6
    new_sources, options, check = change(sources, tmp_path)
    second = _convert([*new_sources, "--out", str(out), *flags, *options])
    check(out, second)


def test_convert_of_the_same_inputs_reuses_the_directory(sources, tmp_path):
    """The control case: nothing changed, nothing is processed again (``--on-disk`` always builds anew)."""
    a = _copy(sources["a"], tmp_path / "a.parquet")
    out = tmp_path / "ds"
    _convert([str(a), "--out", str(out)])
    written = {p: p.stat().st_mtime_ns for p in (out / "processed").rglob("*") if p.is_file()}
    assert _convert([str(a), "--out", str(out)])["videos"] == 6
    assert {p: p.stat().st_mtime_ns for p in written} == written


@pytest.mark.parametrize("on_disk", [False, True], ids=["in-memory", "on-disk"])
def test_another_graphkit_version_rebuilds_the_directory(sources, tmp_path, monkeypatch, on_disk):
    import graphkit.loaders.ondisk as ondisk

    a = _copy(sources["a"], tmp_path / "a.parquet")
    out = tmp_path / "ds"
    flags = ["--on-disk"] if on_disk else []
    _convert([str(a), "--out", str(out), *flags])
    assert _meta(out)["key"]["graphkit"] == ondisk.__version__
    monkeypatch.setattr(ondisk, "__version__", "99.0.0")
    _convert([str(a), "--out", str(out), *flags])
    assert _meta(out)["key"]["graphkit"] == "99.0.0"


def test_a_damaged_in_memory_meta_file_is_rebuilt_given_sources_and_named_without(sources, tmp_path):
    from graphkit.errors import DatasetError
    from graphkit.loaders.pyg_dataset import Action100MDataset

    a = _copy(sources["a"], tmp_path / "a.parquet")
    out = tmp_path / "ds"
    _convert([str(a), "--out", str(out)])
    (out / "processed" / "task.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"task\.json is unreadable .*run convert again"):
        Action100MDataset(str(out), log=False)
    assert _convert([str(a), "--out", str(out)])["videos"] == 6
    assert len(Action100MDataset(str(out), log=False)) == 6


def test_the_in_memory_dataset_api_rebuilds_for_other_sources_and_refuses_another_task_without(sources, tmp_path):
    from graphkit.loaders.pyg_dataset import Action100MDataset
    from graphkit.tasks import NodeTask

    root = str(tmp_path / "ds")
    assert sorted(Action100MDataset(root, [str(sources["a"])], log=False).video_uids) == sorted(_uids(sources["a"]))
    assert sorted(Action100MDataset(root, [str(sources["b"])], log=False).video_uids) == sorted(_uids(sources["b"]))
    assert Action100MDataset(root, log=False).task == NodeTask()  # the stored task, read as it is
    with pytest.raises(ValueError, match="was built for the task .*give its sources to rebuild it"):
        Action100MDataset(root, task=NodeTask(label="actor"), log=False)


def test_an_in_memory_build_replaces_an_on_disk_one_in_the_same_directory(sources, tmp_path):
    a = _copy(sources["a"], tmp_path / "a.parquet")
    out = tmp_path / "ds"
    _convert([str(a), "--out", str(out), "--on-disk"])
    _convert([str(sources["b"]), "--out", str(out)])
    assert not (out / "processed" / "manifest.json").exists()
    assert sorted(_held_uids(out)) == sorted(_uids(sources["b"]))


# The training directory: a run of other settings is refused; --overwrite replaces it.
def _train(*args: str):
    return runner.invoke(app, ["train", *args, *TINY])


@pytest.fixture()
def run_from_a(sources, tmp_path) -> Path:
    out = tmp_path / "run"
    result = _train(str(sources["a"]), "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("args, refused", [
    (lambda s: [str(s["b"])], "sources=["),
    (lambda s: [str(s["a"]), "--label", "actor"], "label='verb', not 'actor'"),
    (lambda s: [str(s["a"]), "--top-k", "3"], "top_k=50, not 3"),
    (lambda s: [str(s["a"]), "--seed", "1"], "seed=0, not 1"),
    (lambda s: [str(s["a"]), "--lr", "0.1"], "lr=0.005, not 0.1"),
    (lambda s: [], "sources=["),
], ids=["other-sources", "other-label", "other-top-k", "other-seed", "other-lr", "no-sources"])
def test_train_into_a_directory_holding_another_run_is_refused(sources, run_from_a, args, refused):
    before = {p.name: p.read_bytes() for p in run_from_a.iterdir() if p.is_file()}
    line = one_error_line(_train(*args(sources), "--out", str(run_from_a)))
    assert f"{run_from_a} holds another run (" in line and refused in line
    assert line.endswith("use a new --out, or --overwrite to replace it")
    assert {p.name: p.read_bytes() for p in run_from_a.iterdir() if p.is_file()} == before  # untouched


def test_train_overwrite_replaces_the_run_and_its_dataset(sources, run_from_a):
    result = _train(str(sources["b"]), "--out", str(run_from_a), "--label", "actor", "--overwrite")
    assert result.exit_code == 0, result.output
    config = json.loads((run_from_a / "config.json").read_text())
    assert config["sources"] == [str(sources["b"])] and config["label"] == "actor"
    held = _meta(run_from_a / "dataset")
    assert sorted(held["video_uid"]) == sorted(_uids(sources["b"])) and held["task"]["label"] == "actor"
    assert json.loads(result.stdout)["out"] == str(run_from_a)


def test_train_again_with_the_same_settings_trains_from_scratch(sources, run_from_a):
    first = json.loads((run_from_a / "result.json").read_text())
    result = _train(str(sources["a"]), "--out", str(run_from_a))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["history"][0]["loss"] == pytest.approx(first["history"][0]["loss"])


def test_train_with_the_same_settings_on_a_changed_file_rebuilds_its_dataset(sources, tmp_path):
    a = _copy(sources["a"], tmp_path / "a.parquet")
    out = tmp_path / "run"
    assert _train(str(a), "--out", str(out)).exit_code == 0
    _copy(sources["b"], a)  # the same path, other videos
    result = _train(str(a), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(_meta(out / "dataset")["video_uid"]) == sorted(_uids(sources["b"]))


@pytest.mark.parametrize("make, message", [
    (lambda out: (out / "model.pt").write_bytes(b"x"), "holds model.pt of a run without its config.json"),
    (lambda out: (out / "config.json").write_text("{oops"), "config.json is unreadable (JSONDecodeError)"),
], ids=["run-files-without-config", "damaged-config"])
def test_train_into_a_directory_with_stray_run_files_is_refused(sources, tmp_path, make, message):
    out = tmp_path / "run"
    out.mkdir()
    make(out)
    line = one_error_line(_train(str(sources["a"]), "--out", str(out)))
    assert message in line and "--overwrite" in line


def test_a_shared_dataset_root_built_for_another_task_is_refused_not_rebuilt(sources, tmp_path):
    shared = tmp_path / "shared"
    assert _train(str(sources["a"]), "--out", str(tmp_path / "r1"), "--dataset-root", str(shared)).exit_code == 0
    line = one_error_line(_train(str(sources["a"]), "--out", str(tmp_path / "r2"), "--dataset-root", str(shared),
                                 "--label", "actor"))
    assert "was built for {'label': 'verb'}, not {'label': 'actor'}; use another dataset_root (--dataset-root)" in line
    assert _meta(shared)["task"]["label"] == "verb"


def test_a_shared_dataset_root_is_rebuilt_for_other_sources(sources, tmp_path):
    shared = tmp_path / "shared"
    assert _train(str(sources["a"]), "--out", str(tmp_path / "r1"), "--dataset-root", str(shared)).exit_code == 0
    result = _train(str(sources["b"]), "--out", str(tmp_path / "r2"), "--dataset-root", str(shared))
    assert result.exit_code == 0, result.output
    assert sorted(_meta(shared)["video_uid"]) == sorted(_uids(sources["b"]))


def test_benchmark_into_a_directory_of_other_settings_is_refused(sources, tmp_path):
    out = tmp_path / "bench"
    base = ["benchmark-models", str(sources["a"]), "--out", str(out), "-m", "mlp", "--seeds", "1", "--epochs", "1",
            "--hidden", "8", "--device", "cpu", "--threads", "1"]
    assert runner.invoke(app, base).exit_code == 0
    line = one_error_line(runner.invoke(app, [*base[:-2], "--epochs", "2", "--threads", "1"]))
    assert "holds another run (epochs=1, not 2)" in line
    assert runner.invoke(app, [*base, "--epochs", "2", "--overwrite"]).exit_code == 0


def test_the_python_api_refuses_another_run_with_output_exists_error(sources, run_from_a):
    from graphkit.errors import OutputExistsError
    from graphkit.models.config import TrainConfig
    from graphkit.models.train import train

    config = TrainConfig(model="mlp", sources=(str(sources["b"]),), out=str(run_from_a), epochs=1, hidden=8,
                         feature_dim=16, batch_size=4, device="cpu", threads=1)
    with pytest.raises(OutputExistsError, match="holds another run") as caught:
        train(config)
    assert isinstance(caught.value, FileExistsError)
    assert train(config, overwrite=True).out == str(run_from_a)
