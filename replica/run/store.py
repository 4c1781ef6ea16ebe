"""Results on disk: tidy CSV tables with a JSON sidecar, written atomically.

- ``atomic_write``: write to a temporary file in the same directory, fsync,
  then ``os.replace``: a results file is either the old one or the new one,
  never half written.
- ``Journal``: while a sweep runs, every finished point is appended as one
  JSON line to ``<output>.journal`` and flushed, so that a process killed at
  any moment (even by SIGKILL) keeps its finished points on disk. The
  journal is removed once the final table is in place.
- ``provenance``: what goes into every sidecar (versions, host, times).
"""

from __future__ import annotations

import csv
import io
import json
import math
import platform
import socket
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from ..files import atomic_write

STATUS_COLUMNS = ("converged", "residual", "iterations", "quad_order", "quad_error", "wall_time", "status")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


def table_text(columns: list[str], rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buf.getvalue()


def _parse_cell(text: str):
    if text == "":
        return None
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def read_table(path: str | Path) -> tuple[list[str], list[dict]]:
    """Read a results CSV back: (columns, rows) with numbers, booleans and None."""
    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        columns = next(reader)
        rows = [{c: _parse_cell(v) for c, v in zip(columns, line, strict=False)} for line in reader]
    return columns, rows


def sidecar_path(csv_path: str | Path) -> Path:
    return Path(csv_path).with_suffix(".json")


def write_results(csv_path: str | Path, columns: list[str], rows: list[dict], sidecar: dict) -> None:
    """Write the table, then its sidecar, each atomically."""
    atomic_write(csv_path, table_text(columns, rows))
    atomic_write(sidecar_path(csv_path), json.dumps(sidecar, indent=2, default=_json_default) + "\n")


def _json_default(obj):
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return str(obj)


class Journal:
    """Append-only record of finished points, one JSON object per line.

    ``count`` is the number of rows committed (written and flushed). On close,
    anything after the last committed row (a line cut by an interrupt) is cut.
    """

    def __init__(self, csv_path: str | Path):
        self.path = Path(str(csv_path) + ".journal")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a")
        self._committed = self._fh.tell()
        self.count = 0

    def append(self, row: dict) -> None:
        line = json.dumps(row, default=_json_default) + "\n"
        self._fh.write(line)
        self._fh.flush()
        self._committed = self._fh.tell()
        self.count += 1

    def close(self, remove: bool) -> None:
        self._fh.truncate(self._committed)
        self._fh.close()
        if remove and self.path.exists():
            self.path.unlink()


def _git_commit() -> str | None:
    try:
        root = Path(__file__).resolve().parents[2]
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def provenance() -> dict:
    """Versions, host and commit that go into every sidecar."""
    return {
        "replica_version": _version("replica"),
        "git_commit": _git_commit(),
        "versions": {
            "python": platform.python_version(),
            **{p: _version(p) for p in ("numpy", "scipy", "sympy", "mpmath", "click", "pyyaml")},
        },
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "argv": sys.argv,
    }


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
