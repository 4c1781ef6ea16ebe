"""Shared by the benchmarks that time ``replica`` as a whole process."""

import shutil
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def replica_exe() -> str:
    """The installed ``replica`` console script (beside this interpreter, else on PATH); skip if absent."""
    beside = Path(sys.executable).parent / "replica"
    exe = str(beside) if beside.exists() else shutil.which("replica")
    if exe is None:
        pytest.skip("the replica console script is not installed (pip install -e .)")
    return exe
