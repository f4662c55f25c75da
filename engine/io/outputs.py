"""Where an importer (``wardwatch aggregate``, ``wardwatch import-mhsds``) writes its files."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def output_paths(out_dir: str | Path, names: Mapping[str, str]) -> dict[str, Path]:
    """Create ``out_dir`` (and its parents) if needed; role -> ``out_dir / file name`` for ``names``."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return {role: folder / name for role, name in names.items()}
