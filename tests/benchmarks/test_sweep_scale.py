"""Benchmark: sweeps at scale. `replica sweep --jobs 2` against `--jobs 1`, and the compile cache per process start.

(a) A 2-D grid of binary RS points (kappa in [0, 0.3] x alpha in [0.05, 0.6], 40 chains), as whole
    processes (interpreter start, imports, compilation from a warm cache, solving, writing), with
    ``--jobs 1`` and ``--jobs 2``: 40 x 40 points (the issue's example) and 40 x 200 points. The goal is
    a speed-up of at least 1.8 on 2 cores; the start of the process (about 0.6 s of imports, serial in
    both) bounds what a small grid can gain, so the speed-up of the solving phase alone (the sidecar's
    ``solve_s``) is reported too.
(b) The compile cache: one process start (``replica sweep`` of a one-point config) with an empty cache
    directory and with a warm one, for the binary RS perceptron and for the spherical 1RSB perceptron
    (whose derivation and lowering cost seconds). The saving per process start is the difference.

Numbers are *recorded* (benchmark.extra_info and printed summary lines, with the machine's load
average, since the machine may be shared), never asserted. On a shared machine the wall-clock speed-up
says little: with Linux's autogroup scheduling every session gets an equal share of the cores, so two
workers of one session share what one would get while other sessions are busy. The CPU time of each
run (user + system, workers included) is recorded too; from it, the speed-up on two idle cores is
estimated as CPU(--jobs 1) / (CPU(one-point process) + (CPU(--jobs 2) - CPU(one-point process)) / 2).
What is asserted is equal work: the ``--jobs 2`` table equals the ``--jobs 1`` table cell by cell
(``wall_time`` aside), every point converged, and the cache was cold or warm as intended.

Run with ``make bench`` (or ``.venv/bin/pytest -q -m benchmark tests/benchmarks/test_sweep_scale.py -s``).
"""

from __future__ import annotations

import csv
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

GRIDS = {"40x40": 40, "40x200": 200}  # alpha points per chain; 40 chains (kappa)
ROUNDS = {"40x40": 3, "40x200": 1}
CACHE_ROUNDS = 3

GRID_CONFIG = """\
model: perceptron
options: {{weights: binary, ansatz: rs}}
params: {{alpha: 0.5, kappa: 0.0}}
solver: {{method: hybrid, tol: 1.0e-10}}
sweep:
  kappa: {{start: 0.0, stop: 0.3, num: 40}}
  alpha: {{start: 0.05, stop: 0.6, num: {num}}}
"""
MODELS = {
    "binary_rs": """\
model: perceptron
options: {weights: binary, ansatz: rs}
params: {alpha: 0.5, kappa: 0.0}
sweep: {alpha: {values: [0.5]}}
""",
    "spherical_1rsb": """\
model: perceptron
options: {weights: spherical, ansatz: 1rsb, m: auto}
params: {alpha: 10.0, kappa: -1.0}
solver: {init: {q0: 0.6, q1: 0.9, m: 0.2}, max_quad_order: 256}
sweep: {alpha: {values: [10.0]}}
""",
}

RESULTS: dict[tuple, dict] = {}


def _replica() -> str:
    beside = Path(sys.executable).parent / "replica"
    return str(beside) if beside.exists() else shutil.which("replica")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sweep_scale")
    for name, num in GRIDS.items():
        (path / f"grid_{name}.yaml").write_text(GRID_CONFIG.format(num=num))
    for name, text in MODELS.items():
        (path / f"{name}.yaml").write_text(text)
    return path


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def _cpu() -> float:
    """CPU seconds (user + system) of the finished children, their own finished children included."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(argv: list[str], env: dict, cpu: list[float] | None = None) -> float:
    t0, c0 = time.perf_counter(), _cpu()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - t0
    if cpu is not None:
        cpu.append(_cpu() - c0)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return wall


def _cells(path: Path) -> list[list[str]]:
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    i = rows[0].index("wall_time")
    for row in rows[1:]:
        row[i] = ""
    return rows


def _summary(text: str, capsys) -> None:
    with capsys.disabled():
        print("\n" + text)


@pytest.mark.benchmark(group="sweep_jobs")
@pytest.mark.parametrize("grid", list(GRIDS))
@pytest.mark.parametrize("jobs", [1, 2])
def test_grid_whole_process(benchmark, workdir, grid, jobs, capsys):
    env = dict(os.environ, REPLICA_CACHE_DIR=str(workdir / "cache"))
    config = workdir / f"grid_{grid}.yaml"
    start_cpu: list[float] = []  # a process that solves one point: what does not parallelise
    one_point = ["--set", "sweep.alpha.num=1", "--set", "sweep.kappa.num=1"]
    _run([_replica(), "sweep", str(config), "-o", str(workdir / "one.csv"), *one_point], env, start_cpu)
    walls: list[float] = []
    cpus: list[float] = []
    outputs: list[Path] = []

    def setup():
        out = workdir / f"{grid}_jobs{jobs}_{len(outputs)}.csv"
        outputs.append(out)
        return ([_replica(), "sweep", str(config), "-o", str(out), "--jobs", str(jobs)],), {}

    def run(argv):
        walls.append(_run(argv, env, cpus))

    benchmark.pedantic(run, setup=setup, rounds=ROUNDS[grid], iterations=1, warmup_rounds=0)
    side = json.loads(outputs[-1].with_suffix(".json").read_text())
    assert side["failed"] == 0 and side["points"] == 40 * GRIDS[grid]
    RESULTS[(grid, jobs)] = {
        "wall_s": statistics.fmean(walls),
        "walls": walls,
        "solve_s": side["timings"]["solve_s"],
        "cpu_s": statistics.fmean(cpus),
        "start_cpu_s": start_cpu[0],
        "csv": outputs[-1],
    }
    benchmark.extra_info.update(grid=grid, jobs=jobs, wall_s_rounds=walls, solve_s=side["timings"]["solve_s"])
    line = f"sweep {grid}, --jobs {jobs}: whole process {statistics.fmean(walls):.3f} s (mean of {len(walls)}: "
    line += ", ".join(f"{w:.3f}" for w in walls) + f"), solving {side['timings']['solve_s']:.3f} s, "
    line += f"CPU {statistics.fmean(cpus):.3f} s (a one-point process: {start_cpu[0]:.3f} s); {_load()}"
    other = RESULTS.get((grid, 3 - jobs))
    if other is not None:
        one, two = (RESULTS[(grid, 1)], RESULTS[(grid, 2)])
        assert _cells(one["csv"]) == _cells(two["csv"])  # equal work, identical tables
        speedup = one["wall_s"] / two["wall_s"]
        solve_speedup = one["solve_s"] / two["solve_s"]
        # on two idle cores: the one-point process's CPU stays serial, the rest of --jobs 2's CPU splits in two
        start = min(one["start_cpu_s"], two["start_cpu_s"])
        ideal = one["cpu_s"] / (start + (two["cpu_s"] - start) / 2)
        benchmark.extra_info.update(
            speedup_whole_process=speedup, speedup_solving=solve_speedup, speedup_from_cpu_time=ideal
        )
        line += (
            f"\nSUMMARY sweep {grid} ({40 * GRIDS[grid]} binary RS points, 40 chains): --jobs 2 vs --jobs 1 "
            f"speed-up {speedup:.2f} whole process, {solve_speedup:.2f} solving phase (goal >= 1.8); "
            f"CPU {one['cpu_s']:.2f} -> {two['cpu_s']:.2f} s (pool overhead "
            f"{100 * (two['cpu_s'] / one['cpu_s'] - 1):.0f}%), so {ideal:.2f} on two idle cores; {_load()}"
        )
    _summary(line, capsys)


@pytest.mark.benchmark(group="compile_cache")
@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("state", ["cold", "warm"])
def test_process_start_with_compile_cache(benchmark, workdir, model, state, capsys):
    config = workdir / f"{model}.yaml"
    walls: list[float] = []
    statuses: list[str] = []
    compile_s: list[float] = []
    warm_dir = workdir / f"cache_warm_{model}"
    if state == "warm":
        fill = [_replica(), "sweep", str(config), "-o", str(workdir / "fill.csv")]
        _run(fill, dict(os.environ, REPLICA_CACHE_DIR=str(warm_dir)))

    def setup():
        i = len(walls)
        cache = warm_dir if state == "warm" else workdir / f"cache_cold_{model}_{i}"  # a new, empty one each round
        out = workdir / f"{model}_{state}_{i}.csv"
        env = dict(os.environ, REPLICA_CACHE_DIR=str(cache))
        return ([_replica(), "sweep", str(config), "-o", str(out)], env, out), {}

    def run(argv, env, out):
        walls.append(_run(argv, env))
        side = json.loads(out.with_suffix(".json").read_text())
        statuses.append(side["compile"]["status"])
        compile_s.append(side["timings"]["compile_s"])

    benchmark.pedantic(run, setup=setup, rounds=CACHE_ROUNDS, iterations=1, warmup_rounds=0)
    assert set(statuses) == {"miss" if state == "cold" else "hit"}, statuses
    RESULTS[(model, state)] = {"wall_s": statistics.fmean(walls), "compile_s": statistics.fmean(compile_s)}
    benchmark.extra_info.update(model=model, cache=state, wall_s_rounds=walls, compile_s_rounds=compile_s)
    line = (
        f"{model}, {state} cache: process {statistics.fmean(walls):.3f} s, of which compile "
        f"{statistics.fmean(compile_s):.3f} s (mean of {len(walls)})"
    )
    cold, warm = RESULTS.get((model, "cold")), RESULTS.get((model, "warm"))
    if cold and warm:
        saving = cold["wall_s"] - warm["wall_s"]
        benchmark.extra_info.update(saving_per_process_s=saving)
        line += (
            f"\nSUMMARY compile cache, {model}: saves {saving:.3f} s per process start "
            f"({cold['wall_s']:.3f} -> {warm['wall_s']:.3f} s; compile {cold['compile_s']:.3f} -> "
            f"{warm['compile_s']:.3f} s); {_load()}"
        )
    _summary(line, capsys)
