"""Every stage at 1%, 10% and 100% of the Action100M preview's size, each in a fresh subprocess.

The preview is ~120,000 videos (~15.2M segments); the data is synthetic in the
real schema (``graphkit synth --mean-duration 90``, seed 0, ~126 segments per
video). For each scale and each stage of :data:`STAGES`, the stage's command
runs in its own process (``python -m graphkit.cli ...``), and the script
reports its wall seconds, segments per second, peak RSS (``ru_maxrss`` of that
process, from :func:`os.wait4`) and, where the stage writes something, its
bytes on disk and bytes per segment. A stage whose command fails is reported
as ``failed`` with the first line of its error (not a traceback); the other
stages go on. Stages that read another stage's output (``needs``) run it
first, unreported, when it is not selected itself.

Edit :data:`STAGES` to change a command: it is a table of argument templates
(``{graphkit}`` is ``python -m graphkit.cli``; ``{data}`` the scale's parquet
file; ``{work}`` the scale's work directory; ``{videos}``, ``{seed}``,
``{mean_duration}`` the synthetic data's settings).

Usage::

    python benchmarks/scale.py                               # 1%, 10%, 100%: a table (hours at 100%)
    python benchmarks/scale.py --scale 0.01 0.1 --json       # one JSON object
    python benchmarks/scale.py --stages synth stats convert  # a few stages
    python benchmarks/scale.py --work /tmp/scale --keep      # keep the files

The JSON object: ``{"preview_videos", "videos_at_100", "mean_duration",
"seed", "scales", "stages", "results": [{"stage", "scale", "videos",
"segments", "status" ("ok" or "failed"), "seconds", "segments_per_s",
"peak_rss_mb", "rss_vs_smallest_scale", "bytes", "bytes_per_segment",
"error", "command", "output"}]}``; ``output`` is the stage's own stdout when
it is one small JSON object (e.g. ``convert --json``), else null.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["PREVIEW_VIDEOS", "STAGES", "Stage", "first_error_line", "main", "run_stage"]

#: Videos in the Action100M preview (the 100% scale).
PREVIEW_VIDEOS = 120_000
#: Stdout of a stage is parsed as its own JSON report when it is at most this long.
MAX_REPORT_BYTES = 1 << 16


@dataclass(frozen=True)
class Stage:
    """One benchmarked command.

    Attributes:
        name (str): The stage's name (``--stages`` selects by it).
        argv (tuple[str, ...]): The command's argument templates.
        output (str | None): Template of the file or directory the stage
            writes (its size on disk is reported), or ``None``.
        needs (tuple[str, ...]): Stages whose output this one reads.
    """

    name: str
    argv: tuple[str, ...]
    output: str | None = None
    needs: tuple[str, ...] = ()


#: The stages, in the order they run at each scale. Commands that other work
#: is still adding (``--json`` on convert, ``--engine ray``, training from
#: disk, the importer's command) are written as they will be; until then
#: they are reported as failed with the command's own error.
STAGES: tuple[Stage, ...] = (
    Stage("synth", ("{graphkit}", "synth", "--videos", "{videos}", "--seed", "{seed}",
                    "--mean-duration", "{mean_duration}", "--out", "{data}"), output="{data}"),
    Stage("stats", ("{graphkit}", "stats", "{data}", "--json"), needs=("synth",)),
    Stage("convert", ("{graphkit}", "convert", "{data}", "--out", "{work}/dataset-memory"),
          output="{work}/dataset-memory", needs=("synth",)),
    Stage("convert-on-disk", ("{graphkit}", "convert", "{data}", "--out", "{work}/dataset", "--on-disk", "--json"),
          output="{work}/dataset", needs=("synth",)),
    Stage("convert-ray", ("{graphkit}", "convert", "{data}", "--out", "{work}/dataset-ray", "--on-disk",
                          "--engine", "ray", "--json"), output="{work}/dataset-ray", needs=("synth",)),
    Stage("train-hier", ("{graphkit}", "train", "{data}", "--dataset-root", "{work}/dataset", "--on-disk",
                         "--epochs", "1", "--model", "hier", "--device", "cpu", "--out", "{work}/run", "--json"),
          output="{work}/run", needs=("convert-on-disk",)),
    Stage("neo4j-export", ("{graphkit}", "neo4j", "export-csv", "{data}", "--out", "{work}/csv"),
          output="{work}/csv", needs=("synth",)),
    Stage("neo4j-import", ("{graphkit}", "neo4j", "export-csv", "{data}", "--out", "{work}/csv-gz", "--gzip",
                           "--import-into", "{work}/neo4j"),
          output="{work}/neo4j", needs=("synth",)),
)


def first_error_line(stderr: str) -> str:
    """The line that says why a command failed, never a traceback's first line.

    Args:
        stderr (str): The command's standard error.

    Returns:
        str: Its ``error: ...`` line if any; else, for a traceback, its last
        line (the exception); else the first line that is not command-line
        usage help (Typer's boxed ``Error`` panel is unboxed).

    Examples:
        >>> first_error_line("warn\\nerror: no such file\\n")
        'error: no such file'
        >>> first_error_line("Traceback (most recent call last):\\n  File x\\nKeyError: 'a'\\n")
        "KeyError: 'a'"
        >>> first_error_line("Usage: x [OPTIONS]\\nTry 'x --help' for help.\\n╭─ Error ─╮\\n│ No such option: --json │\\n╰───╯")
        'No such option: --json'
    """
    lines = [line.strip().strip(_BOX).strip() for line in stderr.splitlines()]
    lines = [line for line in lines if line]
    for line in lines:
        if line.lower().startswith("error:"):
            return line
    if lines and lines[0].startswith("Traceback"):
        return lines[-1]
    useful = [line for line in lines if not line.startswith(("Usage:", "Try '")) and line != "Error"]
    return useful[0] if useful else "failed (no error message)"


#: Box-drawing characters of Typer's error panel.
_BOX = "│╭╮╰╯─ "


def disk_bytes(path: Path) -> int | None:
    """Bytes of a file, or of every file under a directory; ``None`` if it does not exist."""
    if path.is_file():
        return path.stat().st_size
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return None


def count_segments(data: Path) -> int:
    """Segments of a synthetic parquet file, read row group by row group from one leaf column."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(data)
    paths = [parquet.schema.column(i).path for i in range(len(parquet.schema))]
    level = next(path for path in paths if path.startswith("nodes.") and path.endswith(".level"))
    total = 0
    for group in range(parquet.num_row_groups):
        column = parquet.read_row_group(group, columns=[level]).column(0)
        total += int(pc.sum(pc.list_value_length(column)).as_py() or 0)
    return total


def expand(argv: tuple[str, ...], values: dict[str, str]) -> list[str]:
    """The command line of a stage: templates filled, ``{graphkit}`` as ``python -m graphkit.cli``."""
    command: list[str] = []
    for template in argv:
        if template == "{graphkit}":
            command += [sys.executable, "-m", "graphkit.cli"]
        else:
            command.append(template.format(**values))
    return command


def run_stage(command: list[str], log_dir: Path, name: str, timeout: float | None = None) -> dict:
    """Run one command in a fresh process; its seconds, peak RSS, exit status and output.

    Stdout and stderr go to files under ``log_dir`` (a stage's stdout can be
    large, e.g. ``stats --json`` at full scale).

    Args:
        command (list[str]): The argument vector.
        log_dir (Path): Where ``NAME.out`` and ``NAME.err`` are written.
        name (str): The stage's name, for the log files.
        timeout (float, optional): Seconds before the process is killed.

    Returns:
        dict: ``returncode``, ``seconds``, ``peak_rss_mb``, ``stdout_path``,
        ``stderr`` (its text).
    """
    out_path, err_path = log_dir / f"{name}.out", log_dir / f"{name}.err"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT, env=env)
        deadline = None if timeout is None else start + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG if deadline else 0)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return {
        "returncode": process.returncode,
        "seconds": seconds,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # KiB on Linux
        "stdout_path": out_path,
        "stderr": err_path.read_text(errors="replace"),
    }


def _own_report(path: Path) -> dict | None:
    if path.stat().st_size > MAX_REPORT_BYTES:
        return None
    try:
        report = json.loads(path.read_text())
    except ValueError:
        return None
    return report if isinstance(report, dict) else None


def run_scale(scale: float, args: argparse.Namespace, selected: list[str], work: Path) -> list[dict]:
    """Every selected stage (and what they need) at one scale; one result per selected stage."""
    videos = max(1, round(args.videos_at_100 * scale))
    scale_dir = work / f"scale-{scale:g}"
    scale_dir.mkdir(parents=True, exist_ok=True)
    values = {"data": str(scale_dir / "data.parquet"), "work": str(scale_dir), "videos": str(videos),
              "seed": str(args.seed), "mean_duration": f"{args.mean_duration:g}"}
    by_name = {stage.name: stage for stage in STAGES}
    wanted: set[str] = set()

    def want(name: str) -> None:
        if name not in wanted:
            wanted.add(name)
            for need in by_name[name].needs:
                want(need)

    for name in selected:
        want(name)
    results, failed, segments = [], {}, None
    for stage in STAGES:
        if stage.name not in wanted:
            continue
        command = expand(stage.argv, values)
        result = {"stage": stage.name, "scale": scale, "videos": videos, "segments": segments, "status": "ok",
                  "seconds": None, "segments_per_s": None, "peak_rss_mb": None, "rss_vs_smallest_scale": None,
                  "bytes": None, "bytes_per_segment": None, "error": None, "output": None,
                  "command": shlex.join(["python" if c == sys.executable else c for c in command])}
        blocked = [need for need in stage.needs if need in failed]
        if blocked:
            result.update(status="failed", error=f"needs {blocked[0]}, which failed: {failed[blocked[0]]}")
        else:
            if stage.output is not None:
                _remove(Path(stage.output.format(**values)))
            if not args.json:
                print(f"[{scale:g}] {stage.name}: {result['command']}", file=sys.stderr, flush=True)
            ran = run_stage(command, scale_dir, stage.name, timeout=args.timeout)
            if ran["returncode"] != 0:
                result.update(status="failed", error=first_error_line(ran["stderr"]), seconds=ran["seconds"],
                              peak_rss_mb=ran["peak_rss_mb"])
            else:
                if segments is None and Path(values["data"]).exists():
                    segments = count_segments(Path(values["data"]))
                result.update(seconds=ran["seconds"], peak_rss_mb=ran["peak_rss_mb"], segments=segments,
                              output=_own_report(ran["stdout_path"]))
                if segments:
                    result["segments_per_s"] = segments / ran["seconds"]
                if stage.output is not None:
                    result["bytes"] = disk_bytes(Path(stage.output.format(**values)))
                    if result["bytes"] is not None and segments:
                        result["bytes_per_segment"] = result["bytes"] / segments
        if result["status"] == "failed":
            failed[stage.name] = result["error"]
        if stage.name in selected:
            results.append(result)
    for result in results:
        result["segments"] = result["segments"] if result["segments"] is not None else segments
    return results


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _relative_rss(results: list[dict]) -> None:
    """``rss_vs_smallest_scale``: each stage's peak RSS over its peak at the smallest scale it ran at."""
    smallest: dict[str, float] = {}
    for result in sorted(results, key=lambda r: r["scale"]):
        if result["status"] == "ok" and result["peak_rss_mb"]:
            base = smallest.setdefault(result["stage"], result["peak_rss_mb"])
            result["rss_vs_smallest_scale"] = result["peak_rss_mb"] / base


def _table(results: list[dict]) -> str:
    def cell(value, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    header = (f"{'stage':<16} {'scale':>6} {'videos':>8} {'segments':>11} {'seconds':>9} {'segments/s':>11} "
              f"{'peak RSS MB':>11} {'x smallest':>10} {'B/segment':>10}  status")
    lines = [header, "-" * len(header)]
    for r in results:
        status = "ok" if r["status"] == "ok" else f"FAILED: {r['error']}"
        lines.append(
            f"{r['stage']:<16} {r['scale']:>6g} {r['videos']:>8,} {cell(r['segments'], ',d'):>11} "
            f"{cell(r['seconds'], '.2f'):>9} {cell(r['segments_per_s'], ',.0f'):>11} "
            f"{cell(r['peak_rss_mb'], ',.0f'):>11} {cell(r['rss_vs_smallest_scale'], '.2f'):>10} "
            f"{cell(r['bytes_per_segment'], ',.1f'):>10}  {status}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print a table, or one JSON object with ``--json``.

    Args:
        argv (list[str], optional): Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        int: ``0`` (failed stages are reported, not fatal).
    """
    names = [stage.name for stage in STAGES]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, nargs="+", default=[0.01, 0.1, 1.0],
                        help="fractions of the preview's size (default: 0.01 0.1 1.0)")
    parser.add_argument("--videos-at-100", type=int, default=PREVIEW_VIDEOS,
                        help=f"videos at scale 1.0 (default: the preview's {PREVIEW_VIDEOS:,})")
    parser.add_argument("--mean-duration", type=float, default=90.0, help="mean video length, seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stages", nargs="+", choices=names, default=names, metavar="STAGE",
                        help="stages to report: " + ", ".join(names))
    parser.add_argument("--work", type=Path, default=None, help="work directory (default: a temporary one, deleted)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory's files")
    parser.add_argument("--timeout", type=float, default=None, help="seconds before a stage is killed")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.videos_at_100 < 1 or any(s <= 0 for s in args.scale):
        parser.error("--videos-at-100 and every --scale must be positive")
    selected = [name for name in names if name in args.stages]  # the table's order
    work = args.work if args.work is not None else Path(tempfile.mkdtemp(prefix="graphkit-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    results: list[dict] = []
    try:
        for scale in sorted(args.scale):
            results += run_scale(scale, args, selected, work)
            if not args.keep:
                _remove(work / f"scale-{scale:g}")  # large files: gone before the next scale
    finally:
        if args.work is None and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    _relative_rss(results)
    if args.json:
        print(json.dumps({"preview_videos": PREVIEW_VIDEOS, "videos_at_100": args.videos_at_100,
                          "mean_duration": args.mean_duration, "seed": args.seed, "scales": sorted(args.scale),
                          "stages": selected, "results": results}))
    else:
        print(_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
