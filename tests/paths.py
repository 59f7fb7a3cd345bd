"""Where the tests find the repository and the real sample (``../shared/data/``)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
"""The repository's root."""

SAMPLE = ROOT.parent / "shared" / "data" / "action100m-sample.parquet"
"""The 7 real videos (research license; read in place, never copied)."""
