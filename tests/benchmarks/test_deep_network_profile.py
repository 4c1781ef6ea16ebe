"""Benchmarks: the deep network's profile (L = 10) and its glass transitions alpha_g(l), l = 1..5, as whole processes.

- ``replica solve`` of one point: L = 10, alpha = 300, kappa = 0, RS per layer, started cold (every
  layer liquid): the solver opens layers 1 and 9, then 2 and 8, 3 and 7, 4 and 6 (the centre stays
  liquid), each from a seed along its instability.
- ``replica transition`` of alpha_g(l) for l = 1..5 at L = 11 (configs/deep_network_glass.yaml):
  every transition a continuation scan of its bracket and brentq to 1e-9.

- ``replica solve`` of one point with RSB per layer: L = 10, alpha = 30, kappa = 0, the fixed ladder
  K = 4 (min over the overlaps of max over the conjugates), cold: layers 1, 2, 8, 9 glassy.

- ``replica transition`` of alpha_g(l) for l = 1..3 with RSB per layer (K = 4, L = 8, tol 1e-6), and
  for l = 1..4 (L = 9): the deepest transition reached; alpha_g(5) is not (the glassy branch of layers
  1..4 on the K = 4 ladder folds at alpha = 94.799 on L = 11, docs/deep_network.md).

Recorded (benchmark.extra_info and a printed summary), never asserted: wall times, quadrature orders,
the estimated error (the quadrature check's). Asserted: the physics (symmetry, liquid centre, the
alpha_g(l) increasing, alpha_g(1) = pi^2/4). The spec recommends full RSB; the alpha_g(l) line runs RS
per layer; with RSB it runs to l = 4.

Run with ``make bench`` (or ``.venv/bin/pytest -q -m benchmark tests/benchmarks/test_deep_network_profile.py -s``).
"""

from __future__ import annotations

import json
import math
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROFILE = """\
model: deep_network
options: {ansatz: rs}
params: {alpha: 300.0, L: 10, kappa: 0.0}
"""
PROFILE_RSB = """\
model: deep_network
options: {ansatz: krsb, steps: 4}
params: {alpha: 30.0, L: 10, kappa: 0.0}
"""


def _profile_process(benchmark, replica_exe, tmp_path: Path, text: str) -> tuple[float, dict, list[float]]:
    """``replica solve --json`` of an L = 10 config once, as a whole process timed by the benchmark:
    (wall time, the JSON point, q_EA(1..9)), the profile checked symmetric and the timings recorded."""
    config = tmp_path / "profile.yaml"
    config.write_text(text)
    walls: list[float] = []
    out: dict = {}

    def run():
        t0 = time.perf_counter()
        proc = subprocess.run([replica_exe, "solve", str(config), "--json"], capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        out.update(json.loads(proc.stdout))

    benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=0)
    assert out["converged"], out["status"]
    q = [out["observables"][f"q_{l}"] for l in range(1, 10)]
    assert all(abs(q[l] - q[8 - l]) < 1e-7 for l in range(9))
    benchmark.extra_info.update(
        wall_s=walls[-1], quad_order=out["quad_order"], quad_error=out["quad_error"], iterations=out["iterations"]
    )
    return walls[-1], out, q


@pytest.mark.benchmark(group="deep_network")
def test_profile_process(benchmark, replica_exe, tmp_path, capsys):
    wall, out, q = _profile_process(benchmark, replica_exe, tmp_path, PROFILE)
    assert q[0] > q[1] > q[2] > q[3] > 0 and q[4] == 0
    with capsys.disabled():
        print(
            f"\nSUMMARY deep network profile, L = 10, alpha = 300, RS, cold start: whole process {wall:.2f} s, "
            f"quadrature order {out['quad_order']} (error {out['quad_error']:.1e}), {out['iterations']} iterations"
        )


@pytest.mark.benchmark(group="deep_network")
def test_profile_rsb_process(benchmark, replica_exe, tmp_path, capsys):
    wall, out, q = _profile_process(benchmark, replica_exe, tmp_path, PROFILE_RSB)
    assert q[0] > q[1] > 0 and q[2] == q[3] == q[4] == 0
    with capsys.disabled():
        print(
            f"\nSUMMARY deep network profile, L = 10, alpha = 30, 4-step RSB per layer, cold start: whole process "
            f"{wall:.1f} s, quadrature order {out['quad_order']} (error {out['quad_error']:.1e}), "
            f"q_EA(1..2) = {q[0]:.5f}, {q[1]:.5f}"
        )


GLASS_RSB = """\
model: deep_network
options: {ansatz: krsb, steps: 4}
params: {alpha: 2.0, L: 8, kappa: 0.0}
transitions:
  - {kind: glass, parameter: alpha, layer: 1, bracket: [2.0, 3.0], scan: 3, tol: 1.0e-6}
  - {kind: glass, parameter: alpha, layer: 2, bracket: [15.5, 16.5], scan: 3, tol: 1.0e-6}
  - {kind: glass, parameter: alpha, layer: 3, bracket: [42.0, 45.0], scan: 3, tol: 1.0e-6}
"""

# l = 1 .. 4 on L = 9 (layer 4 is the first of the middle pair): the longest RSB line reached. alpha_g(5) on
# L = 11 is not: the glassy branch of layers 1 .. 4 folds at alpha = 94.799 (docs/deep_network.md).
GLASS_RSB_FOUR = GLASS_RSB.replace("L: 8", "L: 9") + (
    "  - {kind: glass, parameter: alpha, layer: 4, bracket: [78.0, 84.0], scan: 3, tol: 1.0e-6}\n"
)


def _transitions_process(benchmark, replica_exe, config: Path) -> tuple[float, list[float]]:
    """``replica transition --json`` of a config once, as a whole process: (wall time, alpha_g by layer)."""
    walls: list[float] = []
    out: dict = {}

    def run():
        t0 = time.perf_counter()
        proc = subprocess.run([replica_exe, "transition", str(config), "--json"], capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        out.update(json.loads(proc.stdout))

    benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=0)
    assert all(t["found"] for t in out["transitions"])
    values = [t["value"] for t in sorted(out["transitions"], key=lambda t: t["layer"])]
    benchmark.extra_info.update(wall_s=walls[-1], alpha_g=values)
    return walls[-1], values


@pytest.mark.benchmark(group="deep_network")
def test_glass_line_process(benchmark, replica_exe, capsys):
    wall, values = _transitions_process(benchmark, replica_exe, ROOT / "configs" / "deep_network_glass.yaml")
    assert values[0] == pytest.approx(math.pi**2 / 4, abs=1e-8)
    assert all(b > a for a, b in zip(values, values[1:], strict=False))
    with capsys.disabled():
        print(
            f"\nSUMMARY deep network alpha_g(l), l = 1..5 (L = 11, RS, tol 1e-9): whole process {wall:.2f} s; "
            f"alpha_g = {[round(v, 6) for v in values]}"
        )


@pytest.mark.benchmark(group="deep_network")
def test_glass_line_rsb_process(benchmark, replica_exe, tmp_path, capsys):
    config = tmp_path / "glass_rsb.yaml"
    config.write_text(GLASS_RSB)
    wall, values = _transitions_process(benchmark, replica_exe, config)
    assert values == pytest.approx([math.pi**2 / 4, 15.9808, 43.2877], abs=2e-4)
    with capsys.disabled():
        print(
            f"\nSUMMARY deep network alpha_g(l), l = 1..3 (L = 8, 4-step RSB, tol 1e-6): whole process {wall:.1f} s; "
            f"alpha_g = {[round(v, 5) for v in values]}"
        )


@pytest.mark.benchmark(group="deep_network")
def test_glass_line_rsb_four_layers_process(benchmark, replica_exe, tmp_path, capsys):
    config = tmp_path / "glass_rsb_four.yaml"
    config.write_text(GLASS_RSB_FOUR)
    wall, values = _transitions_process(benchmark, replica_exe, config)
    assert values == pytest.approx([math.pi**2 / 4, 15.9808, 43.2877, 81.2911], abs=2e-4)
    with capsys.disabled():
        print(
            f"\nSUMMARY deep network alpha_g(l), l = 1..4 (L = 9, 4-step RSB, tol 1e-6): whole process {wall:.1f} s; "
            f"alpha_g = {[round(v, 5) for v in values]}"
        )
