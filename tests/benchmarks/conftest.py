"""Shared by the benchmarks that time ``replica`` as a whole process."""

import csv
import json
import shutil
import subprocess
import sys
import time
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


@pytest.fixture
def timed_sweep(benchmark, replica_exe, tmp_path):
    """Run ``replica sweep`` on a config text once, as a whole process timed by the benchmark.

    Returns (wall time in s, the table's rows as dicts, the sidecar).
    """

    def sweep(config_text: str, name: str) -> tuple[float, list[dict], dict]:
        config = tmp_path / f"{name}.yaml"
        config.write_text(config_text)
        out = tmp_path / f"{name}.csv"
        walls: list[float] = []

        def run():
            t0 = time.perf_counter()
            cmd = [replica_exe, "sweep", str(config), "-o", str(out)]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            walls.append(time.perf_counter() - t0)
            assert proc.returncode == 0, proc.stdout + proc.stderr

        benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=0)
        sidecar = json.loads(out.with_suffix(".json").read_text())
        with open(out, newline="") as fh:
            rows = list(csv.DictReader(fh))
        return walls[-1], rows, sidecar

    return sweep
