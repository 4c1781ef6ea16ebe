"""Shared by the benchmarks that time ``replica`` as a whole process."""

import collections
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


@pytest.fixture
def record_curve(benchmark):
    """Record a timed sweep's timings in ``benchmark.extra_info``; returns the summary text of them.

    Whole-process wall time, compile time, solve time per point after compilation (and the
    slowest point), and how many points settled at each quadrature order.
    """

    def record(wall: float, rows: list[dict], sidecar: dict) -> str:
        points = len(rows)
        orders = dict(sorted(collections.Counter(int(r["quad_order"]) for r in rows).items()))
        timings = sidecar["timings"]
        per_point = timings["solve_s"] / points
        benchmark.extra_info.update(
            points=points,
            wall_s=wall,
            compile_s=timings["compile_s"],
            solve_s_per_point=per_point,
            per_point_max_s=timings["per_point_max_s"],
            quadrature_orders=orders,
        )
        return (
            f"whole process {wall:.1f} s, compile {timings['compile_s']:.1f} s, {per_point:.3f} s/point after "
            f"compilation (max {timings['per_point_max_s']:.2f} s); quadrature orders (points): {orders}"
        )

    return record
