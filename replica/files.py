"""Whole-file writes that a crash cannot leave half done (used by the result store and the compile cache).

``atomic_write`` writes to a temporary file in the same directory, fsyncs it,
then ``os.replace``-s it over the target: a reader (or a process started after
a crash) sees the old file or the new one, never a mixture. Two processes that
write the same path at once each rename a whole file of their own; the last
rename wins.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: str | Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
