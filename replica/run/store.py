"""Results on disk: tidy CSV tables with a JSON sidecar, written atomically.

- ``atomic_write``: write to a temporary file in the same directory, fsync,
  then ``os.replace``: a results file is either the old one or the new one,
  never half written.
- ``Journal``: while a sweep runs, every finished point is appended as one
  JSON line to ``<output>.journal`` (after a header naming the config hash),
  so that a process killed at any moment (even by SIGKILL) keeps its
  finished points on disk; ``finished_rows`` reads them back for
  ``--resume``. The journal is removed once the final table is in place.
- ``provenance``: what goes into every sidecar (versions, host, times).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from ..errors import ReplicaError
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
    atomic_write(sidecar_path(csv_path), sidecar_text(sidecar) + "\n")


def sidecar_text(obj, indent: int = 0) -> str:
    """JSON indented like ``indent=2``, except that a list of scalars and lists of scalars stays on one
    line: a large grid's per-point lists take one line per point, not one per number."""
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(obj, dict) and obj:
        items = [f"{inner}{json.dumps(str(k))}: {sidecar_text(v, indent + 2)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, (list, tuple)) and not all(_flat(x) for x in obj):
        return "[\n" + ",\n".join(inner + sidecar_text(x, indent + 2) for x in obj) + "\n" + pad + "]"
    return json.dumps(obj, default=_json_default)


def strict_json(obj, indent: int | None = 2) -> str:
    """JSON that every parser reads: an infinite float (a control such as ``y: inf``) is written
    as the string "inf" / "-inf" (the spelling configs use), NaN as null."""

    def clean(x):
        if isinstance(x, float) and not math.isfinite(x):
            return None if math.isnan(x) else ("inf" if x > 0 else "-inf")
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        return x

    return json.dumps(clean(obj), indent=indent, default=_json_default, allow_nan=False)


def _flat(x) -> bool:
    """A scalar, or a list of scalars."""
    if isinstance(x, dict):
        return False
    return not isinstance(x, (list, tuple)) or not any(isinstance(y, (dict, list, tuple)) for y in x)


def _json_default(obj):
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return str(obj)


def journal_path(csv_path: str | Path) -> Path:
    return Path(str(csv_path) + ".journal")


class Journal:
    """Append-only record of finished points: a header line, then one JSON object per row.

    The header (``{"replica_journal": 1, "config_hash": ...}``) says which
    config the rows belong to, so that ``--resume`` never mixes configs. Each
    row is one ``os.write`` of one whole line to a file opened ``O_APPEND``: a
    process killed at any moment (even by SIGKILL) leaves whole lines and at
    most one cut last line, which :func:`read_journal` drops. Lines are handed
    to the operating system at once (they survive the death of the process)
    and fsync-ed at most once a second (a power cut loses at most that second).

    Opening writes the file afresh, atomically, with the header and ``rows``
    (a resumed sweep's kept points); ``count`` counts the rows appended since,
    ``last`` is the latest of them.
    """

    FSYNC_EVERY_S = 1.0

    def __init__(self, csv_path: str | Path, header: dict | None = None, rows=()):
        self.path = journal_path(csv_path)
        lines = [_json_line(dict(header, replica_journal=1))] if header is not None else []
        atomic_write(self.path, "".join(lines + [_json_line(row) for row in rows]))
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        self._synced = time.monotonic()
        self.count = 0
        self.last: dict | None = None

    def append(self, row: dict) -> None:
        os.write(self._fd, _json_line(row).encode())
        self.count += 1
        self.last = row
        if time.monotonic() - self._synced >= self.FSYNC_EVERY_S:
            os.fsync(self._fd)
            self._synced = time.monotonic()

    def close(self, remove: bool) -> None:
        os.close(self._fd)
        if remove and self.path.exists():
            self.path.unlink()


def _json_line(obj: dict) -> str:
    return json.dumps(obj, default=_json_default) + "\n"


def read_journal(path: str | Path) -> tuple[dict | None, list[dict]]:
    """(header or None, rows) of a journal; a cut last line (a process killed mid-write) is dropped."""
    header, rows = None, []
    with open(path) as fh:
        text = fh.read()
    for i, line in enumerate(text.split("\n")[:-1]):  # the part after the last newline is cut or empty
        try:
            obj = json.loads(line)
        except ValueError:
            break
        if i == 0 and isinstance(obj, dict) and "replica_journal" in obj:
            header = obj
        elif isinstance(obj, dict):
            rows.append(obj)
    return header, rows


def finished_rows(csv_path: str | Path, config_hash: str) -> tuple[list[dict], str | None]:
    """The rows an earlier run of the same config left at ``csv_path``, and where they came from.

    The journal if there is one (it holds every point the table holds, and
    those finished after the table was last written), else the table;
    ``([], None)`` if neither exists. Rows of another config are refused
    (a ReplicaError naming the file).
    """
    jpath = journal_path(csv_path)
    if jpath.exists():
        header, rows = read_journal(jpath)
        _check_hash(jpath, (header or {}).get("config_hash"), config_hash)
        return rows, str(jpath)
    if Path(csv_path).exists():
        try:
            side = json.loads(sidecar_path(csv_path).read_text())
        except (OSError, ValueError):
            side = {}
        _check_hash(csv_path, side.get("config_hash"), config_hash)
        return read_table(csv_path)[1], str(csv_path)
    return [], None


def _check_hash(path, found: str | None, expected: str) -> None:
    if found != expected:
        was = f"config hash {found[:12]}" if found else "no config hash"
        raise ReplicaError(
            "--resume",
            f"{path} holds points of another config ({was}, this config {expected[:12]}): remove it or give another -o",
        )


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


def _git_dirty() -> bool | None:
    """Whether the source tree has uncommitted changes (None outside a git checkout)."""
    try:
        root = Path(__file__).resolve().parents[2]
        out = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--", "replica"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        return bool(out.stdout.strip()) if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def provenance() -> dict:
    """Versions, host and commit that go into every sidecar."""
    commit = _git_commit()
    return {
        "replica_version": _version("replica"),
        "git_commit": commit,
        "git_dirty": _git_dirty() if commit else None,
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
